// The agent desktop and the supervisor console in a real Chromium, through the gateway
// (`outpace web`), against a real engine with a SIPp carrier and a SIPp softphone for the agent.
// Screenshots of each page go to BUILD/web-screenshots/ for a reviewer. (The gateway's own
// limits, origins, TLS and config: web_gateway_test.cc.)
#include <doctest/doctest.h>

#include "tests/web_rig.h"

namespace outpace::test {
namespace {

// The callee zone's offset from UTC in hours (the rig's zones are Etc/GMT±N: POSIX signs).
int zone_offset_hours(const std::string& zone) {
    const auto sign = zone.find_first_of("+-");
    REQUIRE(sign != std::string::npos);
    const int n = std::stoi(zone.substr(sign + 1));
    return zone[sign] == '-' ? n : -n;
}

}  // namespace

TEST_CASE(
    "web desktop: a screen pop in the browser, a hotkey disposition, a callback in the "
    "callee's zone, and the supervisor's wallboard") {
    Rig rig;
    Softphones phones(rig.file("phones.log"));
    const std::string zone = noon_zone();
    const auto callee = rig.streaming("human-short-000.wav", 300);
    rig.campaign("web", callee, 0,
                 "screen_pop: {script: \"Hello {first_name}, this is {agent} about account "
                 "{account}.\"}\n",
                 0);
    const auto list =
        rig.write("web-list.csv",
                  "phone,timezone,first_name,account\n"
                  "+14155550101," +
                      zone + ",Zoë,AC-1001\n+14155550102," + zone + ",Bob <b>,AC-2002\n");
    auto imported = run(std::string(OUTPACE_BINARY) + " contacts import --data " + rig.data() +
                        " --campaign " + rig.file("web.yaml") + " " + list);
    REQUIRE_MESSAGE(imported.status == 0, imported.out);
    const int agents = free_port(), events = free_port(), control = free_port();
    auto engine = rig.start(engine_extra(agents, events, control, web_agents(rig, phones.port)));
    REQUIRE_MESSAGE(wait_tcp_listening(agents), rig.log("engine.log"));
    WebGatewayProcess web(rig, agents, events, control);
    Browser b(rig.file("browser.log"));

    // The supervisor's console first, then the agent's desktop in another tab.
    log_in(b, "supervisor", web.url("supervisor.html"), "sue", "sue-pw");
    b.value({{"op", "wait_js"},
             {"js", "!!document.querySelector('#campaigns tbody tr[data-campaign=web]')"}});
    // The list's two contacts, counted by the engine off its loop.
    CHECK(b.value({{"op", "text"}, {"css", "tr[data-campaign=web] .c-left"}, {"contains", "2"}}) ==
          "2");
    log_in(b, "agent", web.url(), "alice", "alice-pw");
    CHECK(b.value({{"op", "text"}, {"css", "#who"}, {"contains", "Alice Martin"}}) ==
          "Alice Martin (alice)");
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}, {"timeout", 15}});
    b.value({{"op", "keys"}, {"keys", "r"}, {"alt", true}});  // Alt+R: ready

    // The first live answer: the screen pop shows that contact's fields and the filled script.
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Talking"}, {"timeout", 30}});
    const std::string fields = b.value({{"op", "text"}, {"css", "#contact-fields"}});
    const std::string script = b.value({{"op", "text"}, {"css", "#script"}});
    const std::string phone = b.value({{"op", "text"}, {"css", "#call-phone"}});
    const bool first_is_zoe = phone == "+14155550101";
    CHECK(fields.find(first_is_zoe ? "first_name Zoë" : "first_name Bob <b>") != std::string::npos);
    CHECK(fields.find(first_is_zoe ? "account AC-1001" : "account AC-2002") != std::string::npos);
    CHECK(script == (first_is_zoe ? "Hello Zoë, this is Alice Martin about account AC-1001."
                                  : "Hello Bob <b>, this is Alice Martin about account AC-2002."));
    // Text stays text: a list's "<b>" is never markup.
    CHECK(b.value({{"op", "js"},
                   {"js", "document.querySelectorAll('#contact-fields b').length"}}) == 0);
    const double pop_ms = b.value({{"op", "js"}, {"js", "window.outpace.pops[0].shown_ms"}});
    b.value({{"op", "screenshot"}, {"path", screenshot_path("agent-screen-pop")}});

    // The supervisor saw alice talking within 1 s of the pop.
    b.value({{"op", "switch"}, {"window", "supervisor"}});
    const double talking_ms =
        b.value({{"op", "wait_js"},
                 {"js",
                  "(window.outpace.states.find(s => s.agent === 'alice' && s.state === 'talking') "
                  "|| {}).at_ms"}});
    CHECK(talking_ms - pop_ms < 1000);
    CHECK(b.value({{"op", "text"},
                   {"css", "tr[data-agent=alice] .a-state"},
                   {"contains", "Talking"}}) == "Talking");
    b.value({{"op", "screenshot"}, {"path", screenshot_path("supervisor-talking")}});

    // A reload mid-call: the gateway replays the call, the pop is back.
    b.value({{"op", "open"}, {"window", "agent"}, {"url", web.url()}});
    CHECK(b.value({{"op", "text"}, {"css", "#script"}, {"contains", "Hello"}}) == script);
    CHECK(b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Talking"}}) == "Talking");
    // Hang up (Alt+H), then the disposition by its hotkey: 1 is SALE.
    b.value({{"op", "switch"}, {"window", "agent"}});
    b.value({{"op", "keys"}, {"keys", "h"}, {"alt", true}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Wrap-up"}, {"timeout", 15}});
    b.value({{"op", "keys"}, {"keys", "1"}});
    b.value({{"op", "text"}, {"css", "#messages"}, {"contains", "Disposition SALE recorded"}});

    // The second contact: a callback at 10:30 the day after tomorrow in the callee's zone.
    b.value({{"op", "wait_js"}, {"js", "window.outpace.pops.length === 2"}, {"timeout", 30}});
    INFO("the offer: " << b.value({{"op", "js"}, {"js", "JSON.stringify(window.outpace.offer)"}}));
    CHECK(b.value({{"op", "text"}, {"css", "#callback-label"}}).get<std::string>().find(zone) !=
          std::string::npos);
    const int offset = zone_offset_hours(zone);
    std::time_t local = std::time(nullptr) + offset * 3600;
    std::tm day{};
    gmtime_r(&local, &day);
    day.tm_mday += 2;
    day.tm_hour = 10;
    day.tm_min = 30;
    day.tm_sec = 0;
    const std::time_t wall = timegm(&day);  // normalised: the date two days on, 10:30
    gmtime_r(&wall, &day);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M", &day);
    const std::int64_t expected_utc = static_cast<std::int64_t>(wall) - offset * 3600;
    b.value({{"op", "keys"}, {"keys", "h"}, {"alt", true}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Wrap-up"}, {"timeout", 15}});
    b.value({{"op", "js"},
             {"js", std::string("(document.getElementById('callback-at').value = '") + when +
                        "', true)"}});
    b.value({{"op", "type"}, {"css", "#notes"}, {"text", "call her back after the holidays"}});
    b.value({{"op", "click"}, {"css", "#dispositions button[data-code=CALLBACK]"}});
    b.value({{"op", "text"}, {"css", "#messages"}, {"contains", "Disposition CALLBACK recorded"}});
    b.value({{"op", "screenshot"}, {"path", screenshot_path("agent-disposed")}});

    // A message from the supervisor reaches the agent's desktop.
    b.value({{"op", "switch"}, {"window", "supervisor"}});
    b.value({{"op", "wait_js"},
             {"js", "!!document.querySelector('#message-to option[value=\"agent:alice\"]')"}});
    b.value({{"op", "js"},
             {"js", "(document.getElementById('message-to').value = 'agent:alice', true)"}});
    b.value({{"op", "type"}, {"css", "#message-text"}, {"text", "Great call, Alice!"}});
    b.value({{"op", "keys"}, {"keys", "\n"}});
    CHECK(b.value({{"op", "text"}, {"css", "#notice"}, {"contains", "Message sent"}}) ==
          "Message sent to 1 desktop(s).");
    b.value({{"op", "switch"}, {"window", "agent"}});
    CHECK(
        b.value({{"op", "text"}, {"css", "#messages .from-supervisor"}, {"contains", "Great call"}})
            .get<std::string>()
            .find("Message from sue: Great call, Alice!") != std::string::npos);

    // The wallboard's abandon figures are the report's (live answers and abandons, the window).
    b.value({{"op", "switch"}, {"window", "supervisor"}});
    const std::string shown =
        b.value({{"op", "text"}, {"css", "tr[data-campaign=web] .c-abandon"}, {"contains", "/2)"}});
    b.value({{"op", "screenshot"}, {"path", screenshot_path("supervisor-wallboard")}});

    // Logging out from the page ends the agent's session in the engine.
    b.value({{"op", "switch"}, {"window", "agent"}});
    b.value({{"op", "click"}, {"css", "#btn-logout"}});
    b.value({{"op", "wait_js"},
             {"js", "!document.getElementById('login').classList.contains('hidden')"}});
    engine->stop();

    const auto attempts = rig.attempts()["web"];
    REQUIRE(attempts.size() == 2);
    std::map<std::string, Attempt> by_phone;
    for (const auto& a : attempts) by_phone[a.phone] = a;
    const auto& sale = by_phone[first_is_zoe ? "+14155550101" : "+14155550102"];
    const auto& callback = by_phone[first_is_zoe ? "+14155550102" : "+14155550101"];
    CHECK(sale.disposition == "SALE");
    CHECK(sale.agent == "alice");
    CHECK(callback.disposition == "CALLBACK");
    // The engine keeps the AMD's reason before the agent's notes.
    CHECK(callback.notes.find("call her back after the holidays") != std::string::npos);
    const auto contact = rig.contact("web", callback.phone);
    REQUIRE(contact);
    CHECK(contact->next_eligible == expected_utc);

    auto report = run(std::string(OUTPACE_BINARY) + " report --data " + rig.data() +
                      " --campaign web --json");
    REQUIRE_MESSAGE(report.status == 0, report.out);
    const auto r = json::parse(report.out, nullptr, false);
    REQUIRE(r.is_object());
    const auto& w = r["abandon"]["24h"];
    const std::string from_report = std::to_string(w.value("abandoned", -1)) + "/" +
                                    std::to_string(w.value("live_answers", -1)) + ")";
    INFO("report: " << report.out);
    CHECK(shown.find(from_report) != std::string::npos);
}

TEST_CASE(
    "web desktop: a wrong password, a second tab, an expired session, and the engine "
    "restarted under the page") {
    Rig rig;
    Softphones phones(rig.file("phones.log"));
    rig.campaign("quiet", "uas_busy.xml", 1, "", 0);
    const int agents = free_port(), events = free_port(), control = free_port();
    const auto accounts = web_agents(rig, phones.port);
    // The engine keeps a desktop's session 20 s without heartbeats, so the gateway's restart
    // below is resumed however slow a loaded machine is; the gateway's own idle limit (5 s) is
    // what logs an agent out at the end.
    auto engine = rig.start(engine_extra(agents, events, control, accounts, 20));
    REQUIRE_MESSAGE(wait_tcp_listening(agents), rig.log("engine.log"));
    WebGatewayProcess web(rig, agents, events, control,
                          "sessions: {idle: 5s}\nlimits: {login_burst: 20}\n");
    Browser b(rig.file("browser.log"));
    auto status = [&] {
        std::string reply, error;
        if (!control_request("tcp://127.0.0.1:" + std::to_string(control),
                             R"({"command":"status"})", 2000, &reply, &error))
            return json();
        return json::parse(reply, nullptr, false);
    };

    // A wrong password: the engine's answer, nothing about the account.
    log_in(b, "first", web.url(), "alice", "not-her-password");
    CHECK(b.value({{"op", "text"}, {"css", "#login-message"}, {"contains", "wrong password"}}) ==
          "Refused: unknown agent or wrong password");
    // An agent on the supervisors' console is refused by the engine.
    log_in(b, "console", web.url("supervisor.html"), "alice", "alice-pw");
    CHECK(b.value({{"op", "text"}, {"css", "#login-message"}, {"contains", "not a supervisor"}})
              .get<std::string>()
              .find("alice is not a supervisor") != std::string::npos);

    // The supervisor pauses and resumes a campaign from the console (the engine's control).
    log_in(b, "console", web.url("supervisor.html"), "sue", "sue-pw");
    b.value({{"op", "click"}, {"css", "tr[data-campaign=quiet] button[data-action=pause]"}});
    b.value({{"op", "text"}, {"css", "tr[data-campaign=quiet] .c-state"}, {"contains", "paused"}});
    CHECK(first_campaign_status("tcp://127.0.0.1:" + std::to_string(control)).value("state", "") ==
          "paused");
    b.value({{"op", "click"}, {"css", "tr[data-campaign=quiet] button[data-action=resume]"}});
    b.value({{"op", "text"}, {"css", "tr[data-campaign=quiet] .c-state"}, {"contains", "running"}});

    b.value({{"op", "switch"}, {"window", "first"}});
    log_in(b, "first", web.url(), "alice", "alice-pw");
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}, {"timeout", 15}});
    // A second tab: it takes the session over, the first says so.
    b.value({{"op", "open"}, {"window", "second"}, {"url", web.url()}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}});
    b.value({{"op", "switch"}, {"window", "first"}});
    CHECK(b.value({{"op", "text"}, {"css", "#banner"}, {"contains", "another tab"}})
              .get<std::string>()
              .find("opened in another tab") != std::string::npos);
    b.value({{"op", "screenshot"}, {"path", screenshot_path("agent-second-tab")}});

    // The engine killed under the pages: the console says it stopped answering, and that it
    // answers again once restarted; the agent's page says its session ended and asks for the
    // password again.
    engine->signal(SIGKILL);
    engine->wait(5s);
    engine.reset();
    b.value({{"op", "switch"}, {"window", "console"}});
    b.value({{"op", "text"}, {"css", "#banner"}, {"contains", "not answering"}, {"timeout", 20}});
    b.value({{"op", "screenshot"}, {"path", screenshot_path("supervisor-engine-down")}});
    engine = rig.start(engine_extra(agents, events, control, accounts, 20));
    REQUIRE_MESSAGE(wait_tcp_listening(agents), rig.log("engine.log"));
    b.value({{"op", "text"}, {"css", "#banner"}, {"contains", "answering again"}, {"timeout", 20}});
    b.value({{"op", "switch"}, {"window", "second"}});
    CHECK(b.value({{"op", "text"},
                   {"css", "#login-message"},
                   {"contains", "engine restarted"},
                   {"timeout", 20}})
              .get<std::string>()
              .find("Your session has ended") != std::string::npos);
    b.value({{"op", "screenshot"}, {"path", screenshot_path("agent-engine-restarted")}});

    // The gateway restarted under the page: the page reconnects, finds its session gone and
    // asks for the password; the login resumes the agent's session in the engine (the same
    // desktop to the engine: its phone is not called again).
    log_in(b, "second", web.url(), "alice", "alice-pw");
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}, {"timeout", 15}});
    web.restart();
    CHECK(b.value({{"op", "text"},
                   {"css", "#login-message"},
                   {"contains", "session has ended"},
                   {"timeout", 20}})
              .get<std::string>()
              .find("Your session has ended") == 0);
    auto sessions_started = [&] {
        const auto log = rig.log("engine.log");
        std::size_t n = 0;
        for (auto at = log.find("agent alice logged in"); at != std::string::npos;
             at = log.find("agent alice logged in", at + 1))
            ++n;
        return n;
    };
    const auto before = sessions_started();
    CHECK(before == 1);
    log_in(b, "second", web.url(), "alice", "alice-pw");
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}, {"timeout", 15}});
    CHECK(status()["agents"].size() == 1);
    CHECK(sessions_started() == before);  // resumed, not a new session

    // An expired session: no page open for longer than sessions.idle logs the agent out.
    b.value({{"op", "close_window"}, {"window", "second"}});
    b.value({{"op", "open"}, {"window", "first"}, {"url", "about:blank"}});
    bool gone = false;
    for (int i = 0; i < 120 && !gone; ++i) {
        std::this_thread::sleep_for(100ms);
        const auto s = status();
        gone = s.is_object() && s["agents"].is_array() && s["agents"].empty();
    }
    CHECK(gone);
    CHECK(read_file(rig.file("web.log"))
              .find("agent alice: session ended (no page was open for this session)") !=
          std::string::npos);
    CHECK(rig.log("engine.log").find("no heartbeat") == std::string::npos);
    b.value({{"op", "open"}, {"window", "first"}, {"url", web.url()}});
    CHECK(b.value({{"op", "visible"}, {"css", "#login-form"}}) == true);
}

TEST_CASE(
    "web desktop: preview dialling of an agent-led survey - skip, dial, hold, answers "
    "and a disposition by mouse") {
    Rig rig;
    Softphones phones(rig.file("phones.log"));
    rig.mode("preview");
    rig.kind("survey");
    rig.campaign("poll", "uas", 3, R"(survey:
  handled_by: agents
  questions:
    - {id: vote, text: "Will you vote?", digits: "12", next: {"2": end}}
    - {id: issue, text: "Which issue matters most?", digits: "123"}
)",
                 0);
    const int agents = free_port(), events = free_port(), control = free_port();
    auto engine = rig.start(engine_extra(agents, events, control, web_agents(rig, phones.port)));
    REQUIRE_MESSAGE(wait_tcp_listening(agents), rig.log("engine.log"));
    WebGatewayProcess web(rig, agents, events, control);
    Browser b(rig.file("browser.log"));
    log_in(b, "agent", web.url(), "alice", "alice-pw");
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}, {"timeout", 15}});
    b.value({{"op", "click"}, {"css", "#btn-ready"}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Ready"}});
    // The first contact shown is skipped, the second dialled.
    b.value({{"op", "click"}, {"css", "#btn-next"}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Preview"}});
    const std::string skipped = b.value({{"op", "text"}, {"css", "#call-phone"}});
    b.value({{"op", "click"}, {"css", "#btn-skip"}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Ready"}});
    b.value({{"op", "click"}, {"css", "#btn-next"}});
    b.value({{"op", "wait_js"},
             {"js", "document.getElementById('call-phone').textContent !== '" + skipped + "'"}});
    b.value({{"op", "click"}, {"css", "#btn-dial"}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Talking"}, {"timeout", 20}});
    // The questions are on the screen; the customer is put on hold and back.
    CHECK(b.value({{"op", "text"}, {"css", "#survey"}, {"contains", "Will you vote?"}})
              .get<std::string>()
              .find("Which issue matters most?") != std::string::npos);
    b.value({{"op", "click"}, {"css", "#btn-hold"}});
    b.value({{"op", "text"}, {"css", "#btn-hold"}, {"contains", "Resume"}});
    b.value({{"op", "click"}, {"css", "#btn-hold"}});
    b.value({{"op", "text"}, {"css", "#btn-hold"}, {"contains", "Hold"}});
    b.value({{"op", "js"},
             {"js",
              "(document.querySelector('select[data-question=vote]').value = '1', "
              "document.querySelector('select[data-question=issue]').value = '3', true)"}});
    b.value({{"op", "screenshot"}, {"path", screenshot_path("agent-survey-call")}});
    b.value({{"op", "click"}, {"css", "#btn-hangup"}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Wrap-up"}, {"timeout", 15}});
    b.value({{"op", "click"}, {"css", "#dispositions button[data-code=NOT_INTERESTED]"}});
    b.value({{"op", "text"},
             {"css", "#messages"},
             {"contains", "Disposition NOT_INTERESTED recorded"}});
    engine->signal(SIGTERM);
    REQUIRE(engine->wait(30s) == 0);
    const auto all = rig.attempts()["poll"];
    REQUIRE(all.size() == 1);  // the skipped contact was never dialled
    CHECK(all[0].phone != skipped);
    using Answers = std::vector<std::pair<std::string, std::string>>;
    CHECK(all[0].answers == Answers{{"vote", "1"}, {"issue", "3"}});
    CHECK(all[0].survey == "complete");
    CHECK(all[0].holds == 1);
    CHECK(all[0].agent == "alice");
}

TEST_CASE(
    "web desktop: a consult, a conference and the hand-over between two agents' pages, and a "
    "supervisor listening in from hers") {
    Rig rig;
    Softphones phones(rig.file("phones.log"));
    const auto callee = rig.streaming("human-short-000.wav", 300);
    rig.campaign("web", callee, 1, "", 0);
    const int agents = free_port(), events = free_port(), control = free_port();
    auto engine = rig.start(engine_extra(agents, events, control, web_agents(rig, phones.port)));
    REQUIRE_MESSAGE(wait_tcp_listening(agents), rig.log("engine.log"));
    WebGatewayProcess web(rig, agents, events, control);
    // One browser per person: a browser holds one agent session (its cookie).
    Browser b(rig.file("browser.log")), bob(rig.file("browser-bob.log")),
        sue(rig.file("browser-sue.log"));

    // alice takes the campaign's one call; bob comes in after it and waits, ready.
    log_in(b, "alice", web.url(), "alice", "alice-pw");
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}, {"timeout", 15}});
    CHECK(b.value({{"op", "visible"}, {"css", "#live-box"}}) == false);  // no supervisor
    b.value({{"op", "click"}, {"css", "#btn-ready"}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Talking"}, {"timeout", 30}});
    const std::string phone = b.value({{"op", "text"}, {"css", "#call-phone"}});
    log_in(bob, "bob", web.url(), "bob", "bob-pw");
    bob.value({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}, {"timeout", 15}});
    bob.value({{"op", "click"}, {"css", "#btn-ready"}});
    bob.value({{"op", "text"}, {"css", "#state"}, {"contains", "Ready"}});

    // alice consults the `closing` queue: bob, with the contact's card on his screen.
    b.value(
        {{"op", "js"}, {"js", "(document.getElementById('transfer-to').value = 'queue', true)"}});
    b.value({{"op", "type"}, {"css", "#transfer-target"}, {"text", "closing"}});
    b.value({{"op", "click"}, {"css", "#btn-consult"}});
    b.value({{"op", "text"}, {"css", "#transfer-state"}, {"contains", "Consulting bob"}});
    CHECK(b.value({{"op", "js"}, {"js", "document.getElementById('btn-transfer').disabled"}}) ==
          true);
    bob.value({{"op", "text"}, {"css", "#state"}, {"contains", "Talking"}});
    CHECK(bob.value({{"op", "text"}, {"css", "#call-phone"}}) == phone);
    CHECK(bob.value({{"op", "text"}, {"css", "#notice"}, {"contains", "Sent to you by alice"}})
              .get<std::string>()
              .find("consult") != std::string::npos);
    // The consult's target does not transfer the call it was shown.
    CHECK(bob.value({{"op", "js"}, {"js", "document.getElementById('btn-transfer').disabled"}}) ==
          true);

    // The conference, then alice leaves the customer with bob.
    b.value({{"op", "click"}, {"css", "#btn-conference"}});
    b.value({{"op", "text"}, {"css", "#transfer-state"}, {"contains", "Conference with bob"}});
    b.value({{"op", "screenshot"}, {"path", screenshot_path("agent-conference")}});
    b.value({{"op", "click"}, {"css", "#btn-complete"}});
    b.value({{"op", "text"}, {"css", "#state"}, {"contains", "Wrap-up"}});
    b.value({{"op", "text"}, {"css", "#transfer-state"}, {"contains", "Call transferred to bob"}});
    b.value({{"op", "keys"}, {"keys", "3"}});  // NOT_INTERESTED for alice's part
    b.value({{"op", "text"}, {"css", "#messages"}, {"contains", "NOT_INTERESTED recorded"}});

    // sue, a supervisor, on her own desktop: the live call (bob's now), listen, barge, leave.
    log_in(sue, "sue", web.url(), "sue", "sue-pw");
    sue.value({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}, {"timeout", 15}});
    sue.value({{"op", "wait_js"},
               {"js", "!!document.querySelector('#live-calls tr[data-attempt] button')"}});
    CHECK(sue.value({{"op", "text"}, {"css", "#live-calls"}}).get<std::string>().find("bob") !=
          std::string::npos);
    sue.value({{"op", "click"}, {"css", "#live-calls button[data-mode=listen]"}});
    sue.value({{"op", "text"}, {"css", "#monitor-state"}, {"contains", "Listen"}});
    sue.value({{"op", "text"}, {"css", "#live-calls"}, {"contains", "sue: listen"}});
    sue.value({{"op", "click"}, {"css", "#live-calls button[data-mode=barge]"}});
    sue.value({{"op", "text"}, {"css", "#monitor-state"}, {"contains", "Barge"}});
    sue.value({{"op", "screenshot"}, {"path", screenshot_path("supervisor-barge")}});
    sue.value({{"op", "click"}, {"css", "#btn-leave"}});
    sue.value({{"op", "text"}, {"css", "#monitor-state"}, {"contains", "Monitoring ended: left"}});

    // bob ends the call and disposes it: the ledger has both parts and sue's stretches.
    bob.value({{"op", "click"}, {"css", "#btn-hangup"}});
    bob.value({{"op", "text"}, {"css", "#state"}, {"contains", "Wrap-up"}, {"timeout", 15}});
    bob.value({{"op", "click"}, {"css", "#dispositions button[data-code=SALE]"}});
    bob.value({{"op", "text"}, {"css", "#messages"}, {"contains", "SALE recorded"}});
    engine->signal(SIGTERM);
    REQUIRE(engine->wait(30s) == 0);
    const auto all = rig.attempts()["web"];
    REQUIRE(all.size() == 1);
    const Attempt& a = all[0];
    CHECK(a.agent == "bob");
    CHECK(a.disposition == "SALE");
    REQUIRE(a.legs.size() == 4);  // bob's consult, alice's talk, bob's conference, bob's talk
    CHECK(a.legs[1].agent == "alice");
    CHECK(a.legs[1].disposition == "NOT_INTERESTED");
    REQUIRE(a.monitors.size() == 2);
    CHECK(a.monitors[0].supervisor == "sue");
    CHECK(a.monitors[0].mode == "listen");
    CHECK(a.monitors[1].mode == "barge");
}

}  // namespace outpace::test
