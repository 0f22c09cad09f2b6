// The ledger survives a process killed with SIGKILL between (and during) its batches: every
// write the child reported as done is there after reopening, and no batch is half applied.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>

#include "campaigns/campaign_loader.h"
#include "campaigns/hopper.h"
#include "campaigns/importer.h"
#include "campaigns/ledger.h"
#include "test_util.h"

using namespace outpace;

namespace {

Campaign crash_campaign(const std::string& dir) {
    auto r = load_campaign_text(
        "name: crash\ntimezone: {default: America/New_York}\n"
        "retry:\n  busy: {delay: 1m, max: 100}\nlimits: {max_attempts: 1000}\n",
        "crash.yaml", dir);
    REQUIRE(r.campaign);
    return *r.campaign;
}

// The child: dials in ticks of 25, completes them as busy, and reports each durable step on the
// pipe ("B id" after begin, "C id" after complete) until it is killed.
[[noreturn]] void dial_forever(const std::string& db, const Campaign& c, int out) {
    std::string err;
    auto store = Store::open(db, &err);
    if (!store) _exit(3);
    Hopper hopper(*store, c);
    Ledger ledger(*store, c);
    auto t = test::at("2026-11-24T16:00:00Z");
    for (;;) {
        auto attempts = ledger.begin(hopper.next(t, 25), t, "main").value;
        std::string msg;
        for (const auto& a : attempts) msg += "B " + std::to_string(a.id) + "\n";
        if (!msg.empty() && write(out, msg.data(), msg.size()) < 0) _exit(4);
        for (auto& a : attempts) a.outcome = Outcome::busy;
        if (!ledger.complete(attempts, t).ok()) _exit(5);
        msg.clear();
        for (const auto& a : attempts) msg += "C " + std::to_string(a.id) + "\n";
        if (!msg.empty() && write(out, msg.data(), msg.size()) < 0) _exit(4);
        t += std::chrono::seconds(61);
    }
}

}  // namespace

TEST_CASE("a process killed with SIGKILL loses no acknowledged attempt and tears no batch") {
    test::TempDir dir;
    const std::string db = dir.file("db");
    const Campaign c = crash_campaign(dir.path());
    {
        std::string csv = "phone\n";
        for (int i = 0; i < 200; ++i) csv += "212555" + std::to_string(1000 + i) + "\n";
        auto list = dir.write("list.csv", csv);
        std::string err;
        auto store = Store::open(db, &err);
        REQUIRE(store);
        ImportSummary s;
        REQUIRE(import_contacts(*store, c, "name: crash\n", list, {}, s, &err));
        REQUIRE(s.imported == 200);
    }

    std::set<std::uint64_t> begun, completed;
    for (int round = 0; round < 4; ++round) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            dial_forever(db, c, fds[1]);
        }
        close(fds[1]);
        // Let the child get a different distance each round, then kill it mid-stride.
        const std::size_t target = 40 + 170 * round;
        std::string buf;
        char chunk[4096];
        std::size_t lines = 0;
        while (lines < target) {
            ssize_t n = read(fds[0], chunk, sizeof chunk);
            if (n <= 0) break;
            buf.append(chunk, static_cast<std::size_t>(n));
            lines = static_cast<std::size_t>(std::count(buf.begin(), buf.end(), '\n'));
        }
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        REQUIRE(WIFSIGNALED(status));
        close(fds[0]);
        std::size_t pos = 0;
        while ((pos = buf.find('\n')) != std::string::npos) {
            std::string line = buf.substr(0, pos);
            buf.erase(0, pos + 1);
            (line[0] == 'B' ? begun : completed).insert(std::stoull(line.substr(2)));
        }

        std::string err;
        auto store = Store::open(db, &err);
        REQUIRE_MESSAGE(store, err);
        std::map<std::uint64_t, Attempt> ledger;
        store->for_each_attempt("crash", [&](const Attempt& a) { ledger[a.id] = a; });
        for (auto id : begun)
            CHECK_MESSAGE(ledger.count(id), "acknowledged attempt " << id << " lost");
        for (auto id : completed) {
            REQUIRE(ledger.count(id));
            CHECK_MESSAGE(!ledger[id].in_flight(), "acknowledged outcome of " << id << " lost");
        }
        // No torn batch: the contacts agree with the ledger exactly.
        std::map<std::string, std::uint32_t> completed_per_phone;
        std::map<std::string, int> in_flight_per_phone;
        for (const auto& [id, a] : ledger)
            (a.in_flight() ? in_flight_per_phone[a.phone]++ : completed_per_phone[a.phone]++);
        std::size_t contacts = 0;
        store->for_each_contact("crash", [&](const Contact& k) {
            ++contacts;
            CHECK(k.attempts == completed_per_phone[k.phone]);
            CHECK(in_flight_per_phone[k.phone] <= 1);
            CHECK((k.state == ContactState::in_flight) == (in_flight_per_phone[k.phone] == 1));
        });
        CHECK(contacts == 200);
        // Recovery completes whatever the kill left in flight, then the next round goes on.
        Ledger recovery(*store, c);
        const std::size_t stuck = store->in_flight_attempts().size();
        CHECK(recovery.recover(test::at("2026-11-24T16:00:00Z")).value == stuck);
        CHECK(store->in_flight_attempts().empty());
        for (const auto& [id, a] : ledger) completed.insert(id);
    }
    CHECK(begun.size() > 200);  // the child really did get through several ticks
}
