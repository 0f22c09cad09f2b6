// The engine end to end: `outpace run` against SIPp carriers on loopback, one campaign per
// carrier behaviour, and then the ledger: every attempt's outcome, timings and AMD verdict.
#include <doctest/doctest.h>

#include <sndfile.h>
#include <sys/stat.h>

#include "dialer/engine/control.h"
#include "tests/engine_rig.h"

using namespace outpace;
using namespace std::chrono_literals;

using namespace outpace::test;

TEST_CASE("engine: each carrier behaviour ends as its outcome in the ledger") {
    Rig rig;
    const auto human = rig.streaming("human-short-000.wav", 300);
    rig.campaign("people", human, 3);
    rig.campaign("busy", "uas_busy.xml", 2);
    rig.campaign("hangs-up", "uas_answer_bye.xml", 2);
    rig.campaign("refused", "uas_503.xml", 2);
    rig.campaign("nobody", "uas_404.xml", 2);
    rig.campaign("unavailable", "uas_480.xml", 2);
    rig.campaign("network-busy", "uas_q850.xml", 1);
    rig.campaign("signed-in", "uas_auth.xml", 1, "", 1, ", username: acme, password: secret");
    rig.campaign("bad-password", "uas_auth.xml", 1, "", 1, ", username: acme, password: wrong");
    // With the final status as JSON on stdout (what `ctl status` returns).
    auto r =
        test::run("timeout 120 " + std::string(OUTPACE_BINARY) + " run --quiet --json --config " +
                  rig.config("stop_when_done: true\ndrain_timeout: 10s\n"));
    INFO(r.out);
    REQUIRE(r.status == 0);
    auto all = rig.attempts();
    // The status counts outcomes as the ledger does: a 404 is invalid, not a failure.
    const auto final_status = nlohmann::json::parse(r.out.substr(r.out.find('{')), nullptr, false);
    REQUIRE(final_status.is_object());
    std::map<std::string, nlohmann::json> status_of;
    for (const auto& c : final_status["campaigns"]) status_of[c["campaign"]] = c;
    CHECK(status_of["nobody"]["invalid"] == 2);
    CHECK(status_of["nobody"]["failed"] == 0);
    CHECK(status_of["hangs-up"]["failed"] == 2);
    CHECK(status_of["hangs-up"]["invalid"] == 0);
    // Attempts start to the millisecond, not the second.
    std::size_t whole_seconds = 0, attempts = 0;
    for (const auto& [name, list] : all)
        for (const auto& a : list) ++attempts, whole_seconds += a.started_ms % 1000 == 0;
    CHECK(attempts >= 15);
    CHECK(whole_seconds < attempts / 2);

    // Each contact dialled once: the retry delays are hours away.
    for (const auto& [name, attempts] : all) {
        std::map<std::string, int> per_phone;
        for (const auto& a : attempts) ++per_phone[a.phone];
        for (const auto& [phone, n] : per_phone) CHECK_MESSAGE(n == 1, name << " " << phone);
        for (const auto& a : attempts) CHECK(a.outcome != Outcome::none);
    }

    const auto greeting_end = label("human-short-000.wav")["greeting_end_ms"].get<long>();
    REQUIRE(all["people"].size() == 3);
    for (const auto& a : all["people"]) {
        CHECK(a.outcome == Outcome::abandoned);  // no agents yet: safe harbor, counted
        CHECK(a.amd_verdict == "human");
        CHECK(a.sip_code == 200);
        CHECK(a.ring_ms >= 300);
        // The verdict came soon after the person stopped speaking (plus network and jitter).
        CHECK(a.amd_ms >= greeting_end);
        CHECK(a.amd_ms <= greeting_end + 1500);
    }
    REQUIRE(all["busy"].size() == 2);
    for (const auto& a : all["busy"]) {
        CHECK(a.outcome == Outcome::busy);
        CHECK(a.sip_code == 486);
    }
    REQUIRE(all["hangs-up"].size() == 2);
    for (const auto& a : all["hangs-up"]) {
        CHECK(a.outcome == Outcome::failed);  // nobody spoke before hanging up
        CHECK(a.notes == "callee hung up during analysis");
    }
    REQUIRE(all["refused"].size() == 2);
    for (const auto& a : all["refused"]) {
        CHECK(a.outcome == Outcome::carrier_error);
        CHECK(a.sip_code == 503);
        // The trunk's fault: the contact keeps its attempts and is retried soon.
        auto c = rig.contact("refused", a.phone);
        REQUIRE(c);
        CHECK(c->attempts == 0);
        CHECK(c->state == ContactState::pending);
    }
    REQUIRE(all["unavailable"].size() == 2);
    for (const auto& a : all["unavailable"]) {
        CHECK(a.outcome == Outcome::no_answer);
        CHECK(a.sip_code == 480);
        CHECK(a.ring_ms >= 1500);
    }
    // The Reason header's Q.850 cause, read off the wire, outranks the carrier's 503.
    REQUIRE(all["network-busy"].size() == 1);
    CHECK(all["network-busy"][0].outcome == Outcome::busy);
    CHECK(all["network-busy"][0].sip_code == 503);
    CHECK(all["network-busy"][0].notes == "Service Unavailable (Q.850 cause 17)");
    // Digest credentials: the right ones get through the challenge, wrong ones are the trunk's
    // refusal (403): a carrier error that costs the contact nothing, not a crash or a loop.
    REQUIRE(all["signed-in"].size() == 1);
    CHECK(all["signed-in"][0].sip_code == 486);
    REQUIRE(all["bad-password"].size() == 1);
    CHECK(all["bad-password"][0].sip_code == 403);
    CHECK(all["bad-password"][0].outcome == Outcome::carrier_error);
    REQUIRE(all["nobody"].size() == 2);
    for (const auto& a : all["nobody"]) {
        CHECK(a.outcome == Outcome::invalid);
        auto c = rig.contact("nobody", a.phone);
        REQUIRE(c);
        CHECK(c->state == ContactState::invalid);
    }
}

TEST_CASE("engine: a voicemail's message starts after its beep") {
    Rig rig;
    RtpCapture capture;
    const auto j = label("machine-beep-000.wav");
    const auto machine = rig.streaming("machine-beep-000.wav", 200, capture.port());
    rig.campaign("voicemail", machine, 1,
                 "amd: {on_machine: leave_message, message: prompts/voicemail.wav}\n"
                 "recording: {enabled: true, folder: rec}\n",
                 1);
    auto r = rig.run();
    INFO(r.out);
    REQUIRE(r.status == 0);
    auto all = rig.attempts();
    REQUIRE(all["voicemail"].size() == 1);
    const auto& a = all["voicemail"][0];
    CHECK(a.outcome == Outcome::machine);
    CHECK(a.amd_verdict == "machine");
    // Listened to on a media worker (the default: one on this 2-core machine), then home for
    // the beep and the message.
    CHECK(r.out.find("; 1 answer was listened to there") != std::string::npos);
    // What the engine sent: silence while it listened, then the message. The first packet left
    // at the answer; the message must start after the beep ended, and soon after.
    const auto packets = capture.packets();
    REQUIRE(packets.size() > 10);
    std::size_t first_loud = 0;
    while (first_loud < packets.size() && packets[first_loud].peak < 200) ++first_loud;
    REQUIRE(first_loud < packets.size());
    const auto started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                packets[first_loud].at - packets[0].at)
                                .count();
    const long beep_end = j["beep_end_ms"].get<long>();
    INFO("message started " << started_ms << " ms after answer; beep ended at " << beep_end);
    // Times here count from the engine's first packet, which leaves up to one 20 ms media tick
    // after the answer while SIPp starts its stream on our ACK: allow 100 ms of base skew.
    CHECK(started_ms >= beep_end - 100);
    CHECK(started_ms <= beep_end + 600);

    // The recording: the machine's greeting on the left, our silence then the message on the
    // right.
    SF_INFO info{};
    SNDFILE* f = sf_open(rig.file("rec/voicemail/" + std::to_string(a.id) + ".wav").c_str(),
                         SFM_READ, &info);
    REQUIRE(f);
    CHECK(info.channels == 2);
    CHECK(info.samplerate == 8000);
    std::vector<std::int16_t> pcm(static_cast<std::size_t>(info.frames) * 2);
    sf_readf_short(f, pcm.data(), info.frames);
    sf_close(f);
    auto peak = [&](int channel, long from_ms, long to_ms) {
        int p = 0;
        for (long i = from_ms * 8; i < std::min<long>(to_ms * 8, info.frames); ++i)
            p = std::max(p, std::abs(int(pcm[static_cast<std::size_t>(2 * i + channel)])));
        return p;
    };
    CHECK(info.frames > 8 * (beep_end + 200));        // through the message (a short tone)
    CHECK(peak(0, 0, beep_end) > 500);                // the greeting and the beep, heard
    CHECK(peak(1, 0, beep_end - 200) == 0);           // we listened in silence
    CHECK(peak(1, beep_end, beep_end + 2000) > 500);  // then spoke the message
}

TEST_CASE("engine: Ofcom counting takes machine releases into the abandon window at its estimate") {
    Rig rig;
    const auto machine = rig.streaming("machine-beep-000.wav", 200);
    rig.campaign("ofcom", machine, 4,
                 "pacing: {abandon_window: 24h, count_amd_false_positives: true, "
                 "amd_false_positive_rate: 50%}\n",
                 2);
    auto r = rig.run();
    INFO(r.out);
    REQUIRE(r.status == 0);
    auto all = rig.attempts();
    REQUIRE(all["ofcom"].size() == 4);
    for (const auto& a : all["ofcom"]) CHECK(a.amd_verdict == "machine");
    // Four machine releases at 50%: two people taken for machines, counted abandoned of two
    // live answers. Nobody was really abandoned.
    CHECK(r.out.find("abandoned 0 (window 100.0% of 2, cap 3.0%)  OVER CAP") != std::string::npos);
}

TEST_CASE("engine: a bad config is refused with its place, and nothing is dialled") {
    test::TempDir tmp;
    const auto cfg = tmp.write("engine.yaml",
                               "data: d\nsip: {address: localhost, port: 5060}\ntrunks:\n"
                               "  - {name: t, address: \"carrier..example.com:5060\"}\n"
                               "campaigns: [missing.yaml]\nbogus: 1\n");
    auto r = test::run(std::string(OUTPACE_BINARY) + " run --config " + cfg);
    CHECK(r.status == 2);
    CHECK(r.out.find("engine.yaml:2:") != std::string::npos);  // sip.address
    CHECK(r.out.find("engine.yaml:4:") != std::string::npos);  // not an address nor a name
    CHECK(r.out.find("file not found") != std::string::npos);
    CHECK(r.out.find("unknown key 'bogus'") != std::string::npos);

    // Found by fuzzing: a mapping as a key inside a trunk ended the process with an uncaught
    // yaml-cpp exception.
    // A control socket others can reach needs CurveZMQ.
    const auto open_control =
        tmp.write("open.yaml",
                  "data: d\ntrunks: [{name: t, address: \"127.0.0.1:5060\"}]\n"
                  "campaigns: [" +
                      test::example("telemarketing.yaml") + "]\ncontrol: \"tcp://0.0.0.0:5999\"\n");
    r = test::run(std::string(OUTPACE_BINARY) + " run --config " + open_control);
    CHECK(r.status == 2);
    CHECK_MESSAGE(r.out.find("open.yaml:4:10: 'control' tcp://0.0.0.0:5999 is reachable from "
                             "other machines") != std::string::npos,
                  r.out);
    const auto odd = tmp.write("odd.yaml", "data: d\ntrunks:\n  - {name: t, {a: b}: 1}\n");
    r = test::run(std::string(OUTPACE_BINARY) + " run --config " + odd);
    CHECK(r.status == 2);
    CHECK(r.out.find("odd.yaml:3:15: a key must be a plain word") != std::string::npos);
}

TEST_CASE("engine: ctl pauses a campaign, and SIGTERM ends every call and records every outcome") {
    Rig rig;
    rig.campaign("ringing", "uas_ring.xml", 6, "", 3);
    const std::string endpoint = "ipc://" + rig.file("control");
    // Started under umask 000, the control socket is still 0660: nobody else can stop campaigns.
    const mode_t umask_before = ::umask(0);
    auto engine = rig.start("control: " + endpoint + "\ndrain_timeout: 1s\n");
    ::umask(umask_before);
    auto ctl = [&](const std::string& args) {
        return test::run(std::string(OUTPACE_BINARY) + " ctl --endpoint " + endpoint + " " + args);
    };
    auto status = [&] { return first_campaign_status(endpoint); };
    // Three lines: three calls ringing.
    nlohmann::json s;
    for (int i = 0; i < 100 && (s.empty() || s.value("in_progress", 0) < 3); ++i) {
        std::this_thread::sleep_for(100ms);
        s = status();
    }
    INFO(rig.log("engine.log"));
    REQUIRE(s.value("in_progress", 0) == 3);
    struct stat socket_stat {};
    REQUIRE(::stat(rig.file("control").c_str(), &socket_stat) == 0);
    CHECK((socket_stat.st_mode & 0777) == 0660);
    auto paused = ctl("pause ringing");
    CHECK(paused.status == 0);
    CHECK(status()["state"] == "paused");
    auto wrong = ctl("pause no-such-campaign");
    CHECK(wrong.status == 1);
    CHECK(wrong.out.find("no campaign 'no-such-campaign'") != std::string::npos);
    std::string reply, error;
    REQUIRE(control_request(endpoint, "not json at all", 2000, &reply, &error));
    CHECK(nlohmann::json::parse(reply)["ok"] == false);
    CHECK(ctl("resume ringing").status == 0);
    CHECK(status()["state"] == "running");

    engine->signal(SIGTERM);
    CHECK(engine->wait(15s) == 0);
    auto all = rig.attempts();
    REQUIRE(all["ringing"].size() == 3);  // no new calls after the signal
    for (const auto& a : all["ringing"]) {
        CHECK(a.outcome == Outcome::no_answer);  // cancelled at the drain limit
        CHECK(a.sip_code == 487);
    }
    std::string e2;
    auto store = Store::open(rig.data(), &e2);
    REQUIRE(store);
    CHECK(store->in_flight_attempts().empty());
}
