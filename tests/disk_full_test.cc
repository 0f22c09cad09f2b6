// The store's disk fills up while the engine dials (issue 17, item 5): a real filesystem that
// runs out of space (a small tmpfs), not a simulated error.
#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "dialer/engine/control.h"
#include "tests/engine_rig.h"

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;

namespace {

// A tmpfs of `size` mounted on `dir` for the test's life.
struct SmallDisk {
    std::string dir;
    bool mounted = false;
    SmallDisk(const std::string& d, const std::string& size) : dir(d) {
        std::filesystem::create_directories(dir);
        mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    }
    ~SmallDisk() {
        if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
    }
    // Fills what is left with `file`; returns the bytes written.
    std::size_t fill(const std::string& file) const {
        std::FILE* f = std::fopen(file.c_str(), "wb");
        if (!f) return 0;
        std::vector<char> chunk(1 << 16, 'x');
        std::size_t n = 0;
        while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size()) n += chunk.size();
        std::fclose(f);
        return n;
    }
};

}  // namespace

TEST_CASE(
    "faults: a full disk stalls dialling without losing an outcome, and it resumes on its own") {
    REQUIRE_MESSAGE(::geteuid() == 0,
                    "this test needs root: it mounts a small tmpfs for the store");
    Rig rig;
    SmallDisk disk(rig.data(), "48m");
    REQUIRE(disk.mounted);
    rig.campaign("full", "uas_busy.xml", 400, "", 20);
    const std::string endpoint = "ipc://" + rig.file("control");
    auto engine = rig.start("control: " + endpoint + "\ndrain_timeout: 5s\nstop_when_done: true\n");
    nlohmann::json s = nlohmann::json::object();
    for (int i = 0; i < 100 && s.value("dialled", 0) < 40; ++i) {
        std::this_thread::sleep_for(50ms);
        s = first_campaign_status(endpoint);
    }
    INFO(rig.log("engine.log"));
    REQUIRE(s.value("dialled", 0) >= 40);

    // The disk fills up: within a few seconds the campaign says so, and stops dialling.
    const std::string filler = rig.data() + "/filler";
    CHECK(disk.fill(filler) > 0);
    for (int i = 0; i < 100 && s.value("state", "") != "stalled: disk full"; ++i) {
        std::this_thread::sleep_for(100ms);
        s = first_campaign_status(endpoint);
    }
    REQUIRE(s.value("state", "") == "stalled: disk full");
    std::this_thread::sleep_for(500ms);  // calls placed before the stall finish
    const long stalled_at = first_campaign_status(endpoint).value("dialled", 0L);
    std::this_thread::sleep_for(3s);
    CHECK(first_campaign_status(endpoint).value("dialled", 0L) == stalled_at);  // no new call
    REQUIRE(::kill(engine->pid(), 0) == 0);                                     // no abort

    // Space returns: dialling resumes without a restart.
    const auto freed = std::chrono::steady_clock::now();
    std::filesystem::remove(filler);
    for (int i = 0; i < 100 && s.value("state", "") != "running"; ++i) {
        std::this_thread::sleep_for(100ms);
        s = first_campaign_status(endpoint);
    }
    CHECK(s.value("state", "") == "running");
    const auto resumed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - freed)
                                .count();
    MESSAGE("dialling resumed " << resumed_ms << " ms after space returned");
    CHECK(resumed_ms < 5000);
    REQUIRE(engine->wait(60s) == 0);

    // Every contact was dialled once, and every outcome is the carrier's (busy): none lost or
    // taken for an abandon.
    auto all = rig.attempts();
    REQUIRE(all["full"].size() == 400);
    std::size_t busy = 0;
    for (const auto& a : all["full"]) busy += a.outcome == Outcome::busy;
    CHECK(busy == 400);
    std::string error;
    auto store = Store::open(rig.data(), &error);
    REQUIRE(store);
    CHECK(store->in_flight_attempts().empty());
}

TEST_CASE(
    "faults: on a full disk the CLI still reports, and an import says so and exits non-zero") {
    REQUIRE_MESSAGE(::geteuid() == 0,
                    "this test needs root: it mounts a small tmpfs for the store");
    test::TempDir dir;
    SmallDisk disk(dir.file("data"), "8m");
    REQUIRE(disk.mounted);
    auto list = dir.write("list.csv", "phone\n212 555 0123\n");
    auto r = test::run(std::string(OUTPACE_BINARY) + " contacts import --data " + disk.dir +
                       " --campaign " + test::example("telemarketing.yaml") + " " + list);
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(disk.fill(disk.dir + "/filler") > 0);
    // A report writes nothing in the store: a full disk is no reason to refuse one.
    r = test::run(std::string(OUTPACE_BINARY) + " report --data " + disk.dir);
    CHECK_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("campaign spring-renewals: 1 contacts") != std::string::npos);
    r = test::run(std::string(OUTPACE_BINARY) + " contacts import --data " + disk.dir +
                  " --campaign " + test::example("telemarketing.yaml") + " " + list);
    CHECK(r.status == 1);
    CHECK_MESSAGE(r.out.find("no space left on " + disk.dir) != std::string::npos, r.out);
}
