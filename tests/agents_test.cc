// Agents end to end: the engine calls each agent's softphone (SIPp, auto-answer, RTP echo) and
// keeps that leg up; agent desktops (`outpace agent --auto`, or the test's own ZeroMQ DEALER)
// log in, take calls, dispose them. The carrier is a SIPp UAS whose callee speaks a greeting.
// An agent-led survey is in survey_test.cc, every agent pausing mid-dial in faults_test.cc.
#include <doctest/doctest.h>

#include "dialer/engine/agent_channel.h"
#include "dialer/engine/control.h"
#include "tests/agent_rig.h"

#include <sndfile.h>

using namespace outpace;
using namespace outpace::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("agent protocol: requests are parsed and checked") {
    std::string error;
    auto login = parse_agent_request(
        R"({"type":"login","agent":"a1","phone":"sip:a1@127.0.0.1:5090","campaigns":["x"]})",
        &error);
    REQUIRE(login);
    CHECK(login->type == AgentRequest::Type::login);
    CHECK(login->phone == "sip:a1@127.0.0.1:5090");
    CHECK(login->campaigns == std::vector<std::string>{"x"});

    auto d = parse_agent_request(
        R"({"type":"disposition","attempt":7,"code":"CALLBACK","callback_at":"2030-01-02T03:04:05+01:00"})",
        &error);
    REQUIRE(d);
    CHECK(d->attempt == 7);
    CHECK(d->callback_at == 1893549845);  // 2030-01-02T02:04:05Z

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"hello", "one JSON object"},
        {"[1]", "one JSON object"},
        {R"({"agent":"a"})", "missing 'type'"},
        {R"({"type":"fly"})", "unknown type 'fly'"},
        {R"({"type":"login","agent":"a","password":7})", "'password' must be a string"},
        {R"({"type":"login","agent":"a","phone":"tel:+1"})", "SIP URI"},
        {R"({"type":"login","agent":"","phone":"sip:a@1.2.3.4"})", "1 to 64"},
        {R"({"type":"login","agent":"a","phone":"sip:a@1.2.3.4","skills":"x"})", "list of strings"},
        {R"({"type":"disposition","code":"SALE"})", "needs 'attempt'"},
        {R"({"type":"disposition","attempt":-1,"code":"SALE"})", "positive integer"},
        {R"({"type":"disposition","attempt":1,"code":"X","callback_at":"tomorrow"})",
         "callback_at"},
        {R"({"type":"disposition","attempt":1,"code":"X","answers":[1]})", "'answers'"},
        {R"({"type":"pause","reason":5})", "'reason' must be a string"},
    };
    for (const auto& [text, why] : bad) {
        error.clear();
        CHECK_MESSAGE(!parse_agent_request(text, &error), text);
        CHECK_MESSAGE(error.find(why) != std::string::npos, text << " -> " << error);
    }
}

TEST_CASE("agents: a live answer goes to the agent's softphone, and the voices flow both ways") {
    Rig rig;
    RtpCapture customer;  // the callee's side of the media: what the engine sends them
    Softphones phones(rig.file("softphones.log"));
    // The callee says a short greeting (it ends 1.3 s into the 4.6 s file), then plays a 1 kHz
    // tone: once connected, the tone goes to the agent's softphone, which echoes it, and comes
    // back to the callee.
    const auto callee = rig.streaming("human-short-000.wav", 300, customer.port(), "0 sine 1000 4");
    rig.campaign("sales", callee, 2, "", 0);
    rig.rtp_extra(", workers: 1, worker_nice: 3, worker_realtime: 0");
    const int status = run_with_agent(rig, phones.uri(), "fixed:6s");
    INFO(rig.log("engine.log"));
    INFO(rig.log("agent.log"));
    REQUIRE(status == 0);

    auto all = rig.attempts();
    REQUIRE(all["sales"].size() == 2);
    for (const auto& a : all["sales"]) {
        CHECK(a.outcome == Outcome::connected);
        CHECK(a.amd_verdict == "human");
        CHECK(a.agent == "agent1");
        CHECK(a.disposition == "SALE");
        CHECK(a.talk_ms >= 5500);
        CHECK(a.talk_ms <= 8000);
        CHECK(a.wrap_ms >= 400);
        auto c = rig.contact("sales", a.phone);
        REQUIRE(c);
        CHECK(c->state == ContactState::done);  // SALE is final
    }
    // The tone came back to each callee: it went through the engine to the agent's softphone and
    // back. Nothing else sends a 1 kHz tone to the callee.
    const auto streams = by_stream(customer.packets());
    REQUIRE(streams.size() == 2);
    for (const auto& [ssrc, packets] : streams) {
        int tone = 0;
        for (const auto& p : packets) tone += p.peak > 2000 && purity(p.pcm, 1000) > 0.8;
        CHECK_MESSAGE(tone >= 75, "stream " << ssrc << ": " << tone << " tone packets echoed");
    }
    // Both conversations were relayed by a media worker (lent after the customer's first packet
    // reached the agent): the tone went through it, not through the engine's loop.
    const auto log = rig.log("engine.log");
    CHECK(log.find("media: 1 worker carries the calls' audio: answers listened to, conversations "
                   "between customers and agents relayed (nice +3)") != std::string::npos);
    // (Each answer was listened to on the worker too: AMD's verdict came from there.)
    CHECK(log.find("media: 2 conversations were relayed by media workers (1); 2 answers were "
                   "listened to there") != std::string::npos);
}

TEST_CASE(
    "agents: with no agent free the caller hears the safe harbor within 2 s of the greeting") {
    Rig rig;
    RtpCapture customer;
    Softphones phones(rig.file("softphones.log"));
    const auto callee = rig.streaming("human-short-000.wav", 300, customer.port());
    const long greeting_end = label("human-short-000.wav")["greeting_end_ms"].get<long>();
    // Three lines for the one agent: two of the three people who answer find nobody free.
    rig.mode("power, ratio: 3");
    rig.campaign("busy-team", callee, 3, "", 0);
    const int status = run_with_agent(rig, phones.uri(), "fixed:3s");
    INFO(rig.log("engine.log"));
    REQUIRE(status == 0);

    auto all = rig.attempts();
    REQUIRE(all["busy-team"].size() == 3);
    int connected = 0, abandoned = 0;
    for (const auto& a : all["busy-team"]) {
        CHECK(a.amd_verdict == "human");
        if (a.outcome == Outcome::connected) ++connected;
        if (a.outcome == Outcome::abandoned) {
            ++abandoned;
            CHECK(a.notes.find("no agent within the connect grace") != std::string::npos);
        }
    }
    CHECK(connected == 1);
    CHECK(abandoned == 2);
    // For the abandoned calls, the safe-harbor message started within 2 s of the greeting's end
    // (measured from the engine's first packet to that callee, sent at the answer).
    const auto streams = by_stream(customer.packets());
    REQUIRE(streams.size() == 3);
    int heard_message = 0;
    for (const auto& [ssrc, packets] : streams) {
        const auto heard = first_loud_ms(packets);
        if (!heard) continue;  // the connected call: the agent's echo is silence
        const long ms = *heard;
        CHECK_MESSAGE(ms <= greeting_end + 2000, "message after " << ms << " ms");
        CHECK_MESSAGE(ms >= greeting_end + 1000, "message after " << ms << " ms");
        ++heard_message;
    }
    CHECK(heard_message == 2);
}

TEST_CASE("agents: on_machine agent hands a machine to a ready agent and releases the rest") {
    Rig rig;
    Softphones phones(rig.file("softphones.log"));
    const auto machine = rig.streaming("machine-beep-000.wav", 300);
    rig.mode("power, ratio: 3");
    rig.campaign("voicemail-by-hand", machine, 3, "amd: {on_machine: agent}\n", 0);
    const int status = run_with_agent(rig, phones.uri(), "fixed:3s");
    INFO(rig.log("engine.log"));
    REQUIRE(status == 0);

    auto all = rig.attempts();
    REQUIRE(all["voicemail-by-hand"].size() == 3);
    int to_agent = 0, released = 0;
    for (const auto& a : all["voicemail-by-hand"]) {
        CHECK(a.amd_verdict == "machine");
        CHECK(a.outcome != Outcome::abandoned);  // a machine is never an abandon
        if (a.outcome == Outcome::connected) {
            ++to_agent;
            CHECK(a.agent == "agent1");
        }
        released += a.outcome == Outcome::machine;
    }
    // One agent, three machines answering together: at least one reached the agent.
    CHECK(to_agent >= 1);
    CHECK(to_agent + released == 3);
    // Machines are not live answers: the abandon window is empty.
    auto rep = run(std::string(OUTPACE_BINARY) + " report --json --data " + rig.data() +
                   " --campaign voicemail-by-hand");
    REQUIRE(rep.status == 0);
    const auto j = nlohmann::json::parse(rep.out);
    CHECK(j["abandon"]["30d"]["live_answers"] == 0);
    CHECK(j["abandon"]["30d"]["machines"] == released);  // the agent's machine was not released
}

TEST_CASE("agents: a softphone that drops mid-call leaves no one in silence") {
    Rig rig;
    RtpCapture customer;
    Softphones phones(rig.file("softphones.log"), "softphone_drop.xml");  // hangs up after 6 s
    const auto callee = rig.streaming("human-short-000.wav", 300, customer.port());
    rig.campaign("dropped", callee, 1, "", 0);
    const int status = run_with_agent(rig, phones.uri(), "fixed:60s",
                                      "DNC");  // the person asks not to be called again
    INFO(rig.log("engine.log"));
    INFO(rig.log("agent.log"));
    REQUIRE(status == 0);
    auto all = rig.attempts();
    REQUIRE(all["dropped"].size() == 1);
    const auto& a = all["dropped"][0];
    CHECK(a.outcome == Outcome::connected);
    CHECK(a.notes.find("agent softphone dropped") != std::string::npos);
    CHECK(a.disposition == "DNC");  // the agent still wrapped the conversation up
    auto c = rig.contact("dropped", a.phone);
    REQUIRE(c);
    CHECK(c->state == ContactState::dnc);
    {
        std::string error;
        auto store = Store::open(rig.data(), &error);
        REQUIRE(store);
        CHECK(store->dnc_many("dropped", "", {a.phone}) == std::vector<bool>{true});
    }
    CHECK(a.talk_ms < 8000);  // not the agent's 60 s: the call ended with the phone
    // The callee heard the safe-harbor message after the drop (their greeting was over long
    // before: what is loud now is the message).
    const auto packets = customer.packets();
    int loud = 0;
    for (const auto& p : packets) loud += p.peak > 1000;
    CHECK(loud >= 10);
    CHECK(rig.log("engine.log").find("softphone leg ended") != std::string::npos);
}

TEST_CASE(
    "agents: malformed and out-of-order messages get errors, and silent desktops are logged out") {
    Rig rig;
    Softphones phones(rig.file("softphones.log"));
    const int agents_port = free_port(), events_port = free_port(), control_port = free_port();
    rig.campaign("quiet", "uas_busy.xml", 1, "", 0);
    auto engine = rig.start(agents_section(agents_port, events_port) +
                            "control: \"tcp://127.0.0.1:" + std::to_string(control_port) + "\"\n");
    REQUIRE(wait_tcp_listening(agents_port));
    Events events(events_port);
    Desk desk(agents_port, "desk-a");

    desk.send_text("hello");
    auto e = desk.expect("error");
    REQUIRE(!e.is_null());
    CHECK(e["reason"].get<std::string>().find("JSON object") != std::string::npos);
    desk.send(json{{"type", "ready"}});
    e = desk.expect("error");
    REQUIRE(!e.is_null());
    CHECK(e["reason"] == "log in first");
    desk.send_frames({"{}", "{}"});
    e = desk.expect("error");
    REQUIRE(!e.is_null());
    CHECK(e["reason"] == "one JSON object per message");
    desk.send(json{{"type", "login"},
                   {"agent", "a1"},
                   {"phone", "sip:a1@127.0.0.1:1"},
                   {"campaigns", {"nope"}}});
    e = desk.expect("error");
    REQUIRE(!e.is_null());
    CHECK(e["reason"].get<std::string>().find("no campaign 'nope'") != std::string::npos);

    // A proper login: the engine calls the softphone, which answers.
    const std::string phone = "sip:a1@127.0.0.1:" + std::to_string(phones.port);
    desk.send(json{{"type", "login"}, {"agent", "a1"}, {"phone", phone}});
    auto in = desk.expect("logged_in");
    REQUIRE(!in.is_null());
    CHECK(in["state"] == "connecting");
    auto st = desk.expect("state");
    REQUIRE(!st.is_null());
    CHECK(st["state"] == "paused");
    desk.send(json{{"type", "disposition"}, {"attempt", 1}, {"code", "SALE"}});
    e = desk.expect("error");
    REQUIRE(!e.is_null());
    CHECK(e["reason"] == "no call waiting for a disposition");
    desk.send(json{{"type", "ready"}});
    st = desk.expect("state");
    REQUIRE(!st.is_null());
    CHECK(st["state"] == "ready");
    // Oversized: ZeroMQ drops the message (64 KiB limit) and the engine carries on.
    Desk flood(agents_port, "desk-flood");
    flood.send_text(std::string(200000, 'x'));
    desk.send(json{{"type", "heartbeat"}});
    auto hb = desk.expect("heartbeat");
    REQUIRE(!hb.is_null());
    CHECK(hb["state"] == "ready");

    // A second desktop logs in and then says nothing: logged out after 3 missed heartbeats.
    Desk quiet(agents_port, "desk-b");
    quiet.send(json{{"type", "login"}, {"agent", "b1"}, {"phone", phone}});
    REQUIRE(!quiet.expect("logged_in").is_null());
    const auto t0 = std::chrono::steady_clock::now();
    json out;
    while (out.is_null() && std::chrono::steady_clock::now() - t0 < 12s) {
        desk.send(json{{"type", "heartbeat"}});  // the first desktop keeps its session
        out = events.expect("agent.b1", "state", "logged_out", 500ms);
    }
    REQUIRE(!out.is_null());
    CHECK(std::chrono::steady_clock::now() - t0 >= 2s);

    desk.send(json{{"type", "logout"}});
    REQUIRE(!desk.expect("logged_out").is_null());
    std::string reply, error;
    REQUIRE(control_request("tcp://127.0.0.1:" + std::to_string(control_port),
                            R"({"command":"status"})", 3000, &reply, &error));
    CHECK(json::parse(reply)["ok"] == true);
    CHECK(engine->running());
}

TEST_CASE("agents: preview — the agent asks for a contact, skips one, dials the next") {
    Rig rig;
    Softphones phones(rig.file("softphones.log"));
    const int agents_port = free_port();
    rig.mode("preview");
    rig.campaign("look-first", "uas", 2, "", 0);
    auto engine = rig.start(agents_section(agents_port, 0, "5s"));
    REQUIRE(wait_tcp_listening(agents_port));
    Desk desk(agents_port, "desk-p");
    desk.send(json{{"type", "login"},
                   {"agent", "p1"},
                   {"phone", "sip:p1@127.0.0.1:" + std::to_string(phones.port)}});
    REQUIRE(!desk.expect("logged_in").is_null());
    REQUIRE(!desk.expect("state").is_null());  // paused: the softphone answered
    desk.send(json{{"type", "dial"}});
    auto e = desk.expect("error");
    REQUIRE(!e.is_null());
    CHECK(e["reason"] == "ask for a contact ('next') first");
    desk.send(json{{"type", "ready"}});
    REQUIRE(desk.expect("state")["state"] == "ready");

    desk.send(json{{"type", "next"}});
    auto first = desk.expect("preview");
    REQUIRE(!first.is_null());
    const std::string skipped = first["phone"];
    desk.send(json{{"type", "skip"}});
    desk.send(json{{"type", "next"}});
    auto second = desk.expect("preview");
    REQUIRE(!second.is_null());
    const std::string dialled = second["phone"];
    CHECK(dialled != skipped);
    auto offer = desk.dial_previewed();
    const auto attempt = offer["attempt"].get<std::uint64_t>();
    CHECK(offer["phone"] == dialled);
    REQUIRE(!desk.expect("connected").is_null());
    desk.send(json{{"type", "hangup"}});
    auto ended = desk.expect("hangup");
    REQUIRE(!ended.is_null());
    CHECK(ended["by"] == "agent");  // the desktop can tell who hung up
    CHECK(ended["attempt"].get<std::uint64_t>() == attempt);
    auto wrap = desk.expect("wrapup");
    REQUIRE(!wrap.is_null());
    CHECK(wrap["attempt"].get<std::uint64_t>() == attempt);
    // A callback without its time is refused; with a time in the past too.
    desk.send(json{{"type", "disposition"}, {"attempt", attempt}, {"code", "CALLBACK"}});
    e = desk.expect("error");
    REQUIRE(!e.is_null());
    CHECK(e["reason"] == "'CALLBACK' needs 'callback_at'");
    desk.send(json{{"type", "disposition"}, {"attempt", attempt}, {"code", "NOPE"}});
    e = desk.expect("error");
    REQUIRE(!e.is_null());
    CHECK(e["reason"].get<std::string>().find("is not a disposition") != std::string::npos);
    const auto callback = std::time(nullptr) + 2 * 86400;
    desk.send(json{{"type", "disposition"},
                   {"attempt", attempt},
                   {"code", "CALLBACK"},
                   {"callback_at", callback},
                   {"notes", "after the holidays"}});
    REQUIRE(!desk.expect("disposed").is_null());
    REQUIRE(desk.expect("state")["state"] == "ready");
    // Nobody else: the skipped one is not offered again in this run.
    desk.send(json{{"type", "next"}});
    e = desk.expect("error");
    REQUIRE(!e.is_null());
    CHECK(e["reason"].get<std::string>().find("nobody to call now") != std::string::npos);
    engine->signal(SIGTERM);
    REQUIRE(engine->wait(30s) == 0);

    auto all = rig.attempts();
    REQUIRE(all["look-first"].size() == 1);
    const auto& a = all["look-first"][0];
    CHECK(a.phone == dialled);
    CHECK(a.outcome == Outcome::connected);
    CHECK(a.agent == "p1");
    CHECK(a.disposition == "CALLBACK");
    CHECK(a.callback_at == callback);
    CHECK(a.amd_verdict.empty());  // the agent listened: no detection
    CHECK(a.notes.find("after the holidays") != std::string::npos);
    auto c = rig.contact("look-first", dialled);
    REQUIRE(c);
    CHECK(c->state == ContactState::pending);
    CHECK(c->next_eligible >= callback);
    auto s = rig.contact("look-first", skipped);
    REQUIRE(s);
    CHECK(s->attempts == 0);
    CHECK(s->state == ContactState::pending);
}

TEST_CASE("agents: baresip as the agent's softphone — each side hears the other") {
    Rig rig;
    RtpCapture customer;
    const int sip_port = free_port();
    // baresip answers by itself, sends a 600 Hz tone as the agent's voice and dumps what it
    // hears to a WAV file (its sndfile module).
    Baresip baresip(rig, "127.0.0.1:" + std::to_string(sip_port),
                    "<sip:alice@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU");
    REQUIRE(wait_udp_bound(sip_port));

    const auto callee = rig.streaming("human-short-000.wav", 300, customer.port(), "0 sine 1000 4");
    rig.campaign("softphone", callee, 1, "", 0);
    // Media on the engine's loop (rtp.workers: 0): the same conversation as through a worker.
    rig.rtp_extra(", workers: 0");
    const int status = run_with_agent(rig, "sip:%a@127.0.0.1:" + std::to_string(sip_port),
                                      "fixed:6s", "SALE", "alice");
    INFO(rig.log("engine.log"));
    INFO(rig.log("baresip/baresip.log"));
    REQUIRE(status == 0);
    auto all = rig.attempts();
    REQUIRE(all["softphone"].size() == 1);
    CHECK(all["softphone"][0].outcome == Outcome::connected);
    CHECK(all["softphone"][0].agent == "alice");

    // The agent's voice (600 Hz) reached the customer...
    const int agent_voice = tone_packets(customer, 600);
    CHECK_MESSAGE(agent_voice >= 100, agent_voice << " packets of the agent's voice");
    // ...and the customer's tone (1 kHz) reached the agent's softphone.
    const int tone_frames = baresip.heard_frames(1000);
    CHECK_MESSAGE(tone_frames >= 100, tone_frames << " frames of the customer's tone");
    CHECK(rig.log("engine.log")
              .find("media: 0 conversations were relayed by media workers (0); 0 "
                    "answers were listened to there") != std::string::npos);
}

TEST_CASE(
    "agents: with CurveZMQ keys configured, only authorized desktops and controllers get in") {
    Rig rig;
    Softphones phones(rig.file("softphones.log"));
    for (const char* who : {"engine", "desk", "intruder"}) {
        auto r = test::run(std::string(OUTPACE_BINARY) + " keygen " + rig.file(who));
        REQUIRE_MESSAGE(r.status == 0, r.out);
    }
    // keygen refuses to overwrite a key.
    CHECK(test::run(std::string(OUTPACE_BINARY) + " keygen " + rig.file("desk")).status != 0);
    // The desk's key may log in as k1 only; the controller's key as no agent.
    for (const char* who : {"ctl"}) {
        auto r = test::run(std::string(OUTPACE_BINARY) + " keygen " + rig.file(who));
        REQUIRE_MESSAGE(r.status == 0, r.out);
    }
    rig.write("authorized_keys", test::read_file(rig.file("desk.pub")).substr(0, 40) +
                                     " agents=k1  # the k1 desk\n" +
                                     test::read_file(rig.file("ctl.pub")));
    const int agents_port = free_port(), control_port = free_port();
    rig.campaign("guarded", "uas_busy.xml", 1, "", 0);
    const std::string control = "tcp://127.0.0.1:" + std::to_string(control_port);
    auto engine = rig.start(agents_section(agents_port, 0, "5s") + "control: \"" + control +
                            "\"\ncurve: {secret_key: engine.key, authorized_keys: "
                            "authorized_keys}\n");
    REQUIRE(wait_tcp_listening(agents_port));
    ClientKeys desk_keys, intruder_keys, ctl_keys;
    std::string error;
    REQUIRE(read_client_keys(rig.file("engine.pub"), rig.file("ctl.key"), &ctl_keys, &error));
    REQUIRE(read_client_keys(rig.file("engine.pub"), rig.file("desk.key"), &desk_keys, &error));
    REQUIRE(
        read_client_keys(rig.file("engine.pub"), rig.file("intruder.key"), &intruder_keys, &error));
    const json login = {{"type", "login"},
                        {"agent", "k1"},
                        {"phone", "sip:k1@127.0.0.1:" + std::to_string(phones.port)}};

    Desk plain(agents_port, "desk-plain");
    plain.send(login);
    CHECK(plain.expect("logged_in", 1500ms).is_null());
    Desk intruder(agents_port, "desk-intruder", intruder_keys);
    intruder.send(login);
    CHECK(intruder.expect("logged_in", 1500ms).is_null());
    // An authorized key logs in only as the agents its line names.
    Desk ctl_desk(agents_port, "desk-ctl", ctl_keys);
    ctl_desk.send(login);
    auto refused = ctl_desk.expect("error");
    REQUIRE(!refused.is_null());
    CHECK(refused["reason"] == "this desktop's key may not log in as agent k1");
    Desk desk(agents_port, "desk-keyed", desk_keys);
    json as_k2 = login;
    as_k2["agent"] = "k2";
    desk.send(as_k2);
    refused = desk.expect("error");
    REQUIRE(!refused.is_null());
    CHECK(refused["reason"] == "this desktop's key may not log in as agent k2");
    desk.send(login);
    CHECK(!desk.expect("logged_in").is_null());

    std::string reply;
    CHECK(!control_request(control, R"({"command":"status"})", 1000, &reply, &error));
    CHECK(
        !control_request(control, R"({"command":"status"})", 1000, &reply, &error, intruder_keys));
    REQUIRE(control_request(control, R"({"command":"status"})", 3000, &reply, &error, desk_keys));
    CHECK(json::parse(reply)["ok"] == true);
    CHECK(json::parse(reply)["agents_logged_in"] == 1);
    auto ctl =
        test::run(std::string(OUTPACE_BINARY) + " ctl --endpoint " + control + " --server-key " +
                  rig.file("engine.pub") + " --key " + rig.file("desk.key") + " status --json");
    CHECK_MESSAGE(ctl.status == 0, ctl.out);

    // A key file that is not a key is refused with its place in the config.
    rig.write("bad.key", "not a key\n");
    const auto dir = rig.file("");
    auto load = load_engine_config_text(
        "data: d\ntrunks: [{name: t, address: \"127.0.0.1:5060\"}]\ncampaigns: [guarded.yaml]\n"
        "curve: {secret_key: bad.key, authorized_keys: authorized_keys}\n",
        "engine.yaml", dir);
    REQUIRE(!load.config);
    REQUIRE(load.errors.size() == 1);
    CHECK(load.errors[0].line == 4);
    CHECK(load.errors[0].message.find("not a CURVE key") != std::string::npos);
}
