// The agent desktop and the supervisor console in a real Chromium, through the gateway
// (`outpace web`), against a real engine with a SIPp carrier and a SIPp softphone for the agent.
// Screenshots of each page go to BUILD/web-screenshots/ for a reviewer.
#include <doctest/doctest.h>

#include "dialer/web/web_config.h"
#include "dialer/web/web_http.h"
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

// An agents file: alice and bob (agents; bob has the skill `closing`) and sue (a supervisor),
// whose phones are the SIPp softphones.
std::string web_agents(Rig& rig, int phones_port) {
    return rig.write("agents.yaml",
                     "agents:\n  - id: alice\n    name: Alice Martin\n"
                     "    desktop_password: \"" +
                         quick_hash("alice-pw") +
                         "\"\n    phone: sip:alice@127.0.0.1:" + std::to_string(phones_port) +
                         "\n  - id: sue\n    role: supervisor\n"
                         "    desktop_password: \"" +
                         quick_hash("sue-pw") +
                         "\"\n    phone: sip:sue@127.0.0.1:" + std::to_string(phones_port) +
                         "\n  - id: bob\n    name: Bob Closer\n    skills: [closing]\n"
                         "    desktop_password: \"" +
                         quick_hash("bob-pw") +
                         "\"\n    phone: sip:bob@127.0.0.1:" + std::to_string(phones_port) + "\n");
}

std::string engine_extra(int agents, int events, int control, const std::string& accounts,
                         int missed_heartbeats = 3) {
    return "agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(agents) +
           "\", events: \"tcp://127.0.0.1:" + std::to_string(events) +
           "\", heartbeat: 1s, missed_heartbeats: " + std::to_string(missed_heartbeats) +
           ", accounts: " + accounts + "}\ncontrol: \"tcp://127.0.0.1:" + std::to_string(control) +
           "\"\n";
}

void log_in(Browser& b, const std::string& window, const std::string& url, const std::string& who,
            const std::string& password) {
    b.value({{"op", "open"}, {"window", window}, {"url", url}});
    b.value({{"op", "type"}, {"css", "#login-agent"}, {"text", who}});
    // Enter in the password field, as a person at the keyboard does.
    b.value({{"op", "type"}, {"css", "#login-password"}, {"text", password + "\n"}});
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

TEST_CASE("web gateway: foreign origins, a flood of logins and hostile WebSocket messages") {
    Rig rig;
    Softphones phones(rig.file("phones.log"));
    rig.campaign("quiet", "uas_busy.xml", 1, "", 0);
    const int agents = free_port(), events = free_port(), control = free_port();
    auto engine = rig.start(engine_extra(agents, events, control, web_agents(rig, phones.port)));
    REQUIRE_MESSAGE(wait_tcp_listening(agents), rig.log("engine.log"));
    WebGatewayProcess web(rig, agents, events, control);
    const std::string login = R"({"agent":"alice","password":"alice-pw"})";
    const std::string site = "Origin: http://127.0.0.1:" + std::to_string(web.port) + "\r\n";

    // A page of another site (or no page at all) cannot log in with a person's browser.
    for (const std::string& origin :
         {std::string("Origin: http://evil.example\r\n"), std::string()}) {
        RawHttp h(web.port);
        const auto r = h.post("/api/login", login, origin);
        CHECK_MESSAGE(r.first.rfind("HTTP/1.1 403", 0) == 0, "[" << r.first << "]" << r.second);
    }
    RawHttp h(web.port);
    const auto [head, body] = h.post("/api/login", login, site);
    REQUIRE_MESSAGE(head.rfind("HTTP/1.1 200", 0) == 0, head << body);
    std::smatch m;
    REQUIRE(std::regex_search(head, m, std::regex("outpace_agent=([0-9a-f]{64})")));
    const std::string cookie = "Cookie: outpace_agent=" + m[1].str() + "\r\n";
    CHECK(head.find("HttpOnly") != std::string::npos);
    CHECK(head.find("SameSite=Strict") != std::string::npos);
    CHECK(json::parse(body)["agent"] == "alice");

    // The WebSocket: refused from another site, without the cookie, or with a made-up one.
    for (const std::string& headers :
         {"Origin: http://evil.example\r\n" + cookie, site,
          site + "Cookie: outpace_agent=" + std::string(64, 'a') + "\r\n"}) {
        RawHttp w(web.port);
        CHECK(w.upgrade(headers).find(" 101 ") == std::string::npos);
    }
    {
        RawHttp w(web.port);  // an agent's cookie is no supervisor's
        w.send_raw("GET /ws?role=supervisor HTTP/1.1\r\nHost: " + w.host() +
                   "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                   "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                   site + cookie + "\r\n");
        CHECK(w.response().first.find(" 101 ") == std::string::npos);
    }
    RawHttp ws(web.port);
    REQUIRE(ws.upgrade(site + cookie).find(" 101 ") != std::string::npos);
    // What the gateway answers to `frame`: the next error it sends (other messages skipped).
    auto error_for = [&](int opcode, const std::string& payload, bool fin = true) {
        ws.frame(opcode, payload, fin);
        for (int i = 0; i < 20; ++i) {
            const auto text = ws.text_frame();
            if (text.empty()) return std::string("(nothing)");
            const auto j = json::parse(text, nullptr, false);
            if (j.is_object() && j.value("type", "") == "error") return j.value("reason", "");
        }
        return std::string("(no error)");
    };
    CHECK(error_for(1, "not json") == "a message is one JSON object");
    CHECK(error_for(1, R"({"type":"login","agent":"sue","password":"sue-pw"})") ==
          "log in on the page's form");
    CHECK(error_for(1, R"({"type":"supervise","agent":"sue","password":"sue-pw"})") ==
          "log in on the page's form");
    CHECK(error_for(1, std::string(20000, 'x')).find("at most 16 KiB") != std::string::npos);
    CHECK(error_for(1, "{", false).find("in one frame") != std::string::npos);
    CHECK(error_for(1, R"({"type":"disposition"})") == "'disposition' needs 'attempt'");
    CHECK(error_for(1, "{\"type\":\"pause\",\"reason\":\"\xff\xfe\"}") ==
          "a message is one JSON object");
    // A binary frame is not a request; the page's requests still reach the engine after all that.
    ws.frame(2, std::string("\x00\x01", 2));
    ws.frame(1, R"({"type":"pause","reason":"lunch"})");
    bool state = false;
    for (int i = 0; i < 20 && !state; ++i) {
        const auto j = json::parse(ws.text_frame(), nullptr, false);
        state = j.is_object() && j.value("type", "") == "state";
    }
    CHECK(state);
    // A flood of messages from one page is cut down to its rate.
    for (int i = 0; i < 200; ++i) ws.frame(1, R"({"type":"heartbeat"})");
    bool slowed = false;
    for (int i = 0; i < 400 && !slowed; ++i) {
        const auto text = ws.text_frame();
        if (text.empty()) break;
        slowed = text.find("too many messages") != std::string::npos;
    }
    CHECK(slowed);

    // A flood of logins from one address: refused with 429 once its burst is spent.
    int refused = 0, limited = 0;
    for (int i = 0; i < 8; ++i) {
        RawHttp f(web.port);
        const auto r = f.post(
            "/api/login", R"({"agent":"nobody)" + std::to_string(i) + R"(","password":"x"})", site);
        if (r.first.rfind("HTTP/1.1 401", 0) == 0) ++refused;
        if (r.first.rfind("HTTP/1.1 429", 0) == 0) {
            ++limited;
            CHECK(r.second.find("too many logins from this address") != std::string::npos);
        }
    }
    CHECK(refused >= 1);
    CHECK(limited >= 3);
    // The gateway still serves the session.
    RawHttp again(web.port);
    CHECK(again.get("/api/session", cookie).first.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(web.child->running());
}

TEST_CASE("web config: errors name the file, line and column, and the packaged config loads") {
    TempDir dir;
    const std::string site = std::string(OUTPACE_SOURCE_DIR) + "/dialer/web/site";
    auto load = load_web_config_text(
        "listen: 127.0.0.1\nroot: " + site +
            "\nengine: {agents: \"udp://x\"}\nsessions: {idle: 5}\nlimits: {pagez: 3}\n"
            "certificate: missing.pem\n",
        "web.yaml", dir.path());
    REQUIRE(!load.config);
    std::string all;
    for (const auto& e : load.errors) all += e.to_string() + "\n";
    INFO(all);
    CHECK(all.find("web.yaml:1:9: 'listen' must be IP:PORT") != std::string::npos);
    CHECK(all.find("web.yaml:3:18: 'engine.agents' must be a ZeroMQ endpoint") !=
          std::string::npos);
    CHECK(all.find("web.yaml:4:18: 'sessions.idle' must be a duration with a unit") !=
          std::string::npos);
    CHECK(all.find("web.yaml:5:10: unknown key 'pagez' in 'limits' (did you mean 'pages'?)") !=
          std::string::npos);
    CHECK(all.find("web.yaml:6:14: 'certificate': ") != std::string::npos);
    // A folder without the pages.
    load = load_web_config_text("root: " + dir.path() + "\n", "web.yaml", dir.path());
    REQUIRE(!load.config);
    CHECK(load.errors.at(0).to_string().find("holds no index.html") != std::string::npos);
    // The packaged config, with the pages where the source tree has them.
    std::string text = read_file(std::string(OUTPACE_SOURCE_DIR) + "/deploy/etc/web.yaml");
    const std::string installed = "/usr/share/outpace/web";
    REQUIRE(text.find(installed) != std::string::npos);
    text.replace(text.find(installed), installed.size(), site);
    load = load_web_config_text(text, "web.yaml", dir.path());
    all.clear();
    for (const auto& e : load.errors) all += e.to_string() + "\n";
    REQUIRE_MESSAGE(load.config, all);
    CHECK(load.config->listen == "127.0.0.1:8080");
    CHECK(load.config->control == "ipc:///run/outpace/control");
    CHECK(load.config->idle == std::chrono::seconds(60));
    CHECK(load.config->lifetime == std::chrono::hours(12));
    CHECK(load.config->max_pages == 600);
    CHECK(load.config->certificate.empty());
}

TEST_CASE("web gateway: its limits and session lifetime are the config's") {
    Rig rig;
    Softphones phones(rig.file("phones.log"));
    rig.campaign("quiet", "uas_busy.xml", 1, "", 0);
    const int agents = free_port(), events = free_port(), control = free_port();
    auto engine = rig.start(engine_extra(agents, events, control, web_agents(rig, phones.port)));
    REQUIRE_MESSAGE(wait_tcp_listening(agents), rig.log("engine.log"));
    const std::string good = R"({"agent":"alice","password":"alice-pw"})";
    {
        // logins: a burst of 2, then one a minute.
        WebGatewayProcess web(rig, agents, events, control,
                              "limits: {login_burst: 2, logins_per_minute: 1}\n");
        const std::string site = "Origin: http://127.0.0.1:" + std::to_string(web.port) + "\r\n";
        std::vector<std::string> status;
        for (int i = 0; i < 3; ++i) {
            RawHttp h(web.port);
            status.push_back(
                h.post("/api/login", R"({"agent":"x","password":"y"})", site).first.substr(9, 3));
        }
        CHECK(status == std::vector<std::string>{"401", "401", "429"});
    }
    // One session, one page, 3 messages at once then one each 2 s, sessions of 5 s.
    WebGatewayProcess web(rig, agents, events, control,
                          "sessions: {max: 1, lifetime: 5s}\nlimits: {pages: 1, message_burst: "
                          "3, messages_per_second: 0.5}\n");
    const std::string site = "Origin: http://127.0.0.1:" + std::to_string(web.port) + "\r\n";
    RawHttp h(web.port);
    const auto [head, body] = h.post("/api/login", good, site);
    REQUIRE_MESSAGE(head.rfind("HTTP/1.1 200", 0) == 0, head << body);
    const auto at = std::chrono::steady_clock::now();
    std::smatch m;
    REQUIRE(std::regex_search(head, m, std::regex("outpace_agent=([0-9a-f]{64})")));
    const std::string cookie = "Cookie: outpace_agent=" + m[1].str() + "\r\n";
    RawHttp ws(web.port);
    REQUIRE(ws.upgrade(site + cookie).find(" 101 ") != std::string::npos);
    // With alice's page open there is no idle session to make room with.
    {
        RawHttp second(web.port);
        const auto r = second.post("/api/login",
                                   R"({"agent":"sue","password":"sue-pw",)"
                                   R"("role":"supervisor"})",
                                   site);
        CHECK(r.first.rfind("HTTP/1.1 503", 0) == 0);
        CHECK(r.second.find("no room for more sessions") != std::string::npos);
    }
    {
        RawHttp another(web.port);  // a second page: over limits.pages
        CHECK(another.upgrade(site + cookie).find(" 101 ") == std::string::npos);
    }
    for (int i = 0; i < 5; ++i) ws.frame(1, R"({"type":"heartbeat"})");
    int slowed = 0;
    std::string ended;
    while (ended.empty()) {
        const auto text = ws.text_frame();
        if (text.empty()) break;
        if (text.find("too many messages") != std::string::npos) ++slowed;
        if (text.find("session_ended") != std::string::npos) ended = text;
    }
    CHECK(slowed == 2);
    CHECK(ended.find("the session reached its time limit") != std::string::npos);
    const auto lived = std::chrono::steady_clock::now() - at;
    CHECK(lived >= 4900ms);
    CHECK(lived < 8s);
}

TEST_CASE("web gateway: over TLS with a certificate, to an engine that wants CurveZMQ keys") {
    Rig rig;
    Softphones phones(rig.file("phones.log"));
    rig.campaign("quiet", "uas_busy.xml", 1, "", 0);
    for (const char* who : {"engine", "web"})
        REQUIRE(run(std::string(OUTPACE_BINARY) + " keygen " + rig.file(who)).status == 0);
    rig.write("authorized_keys",
              read_file(rig.file("web.pub")).substr(0, 40) + " agents=*  # the web gateway\n");
    // A self-signed certificate, as docs/web.md makes one for a lab.
    const auto made =
        run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
            "-keyout " +
            rig.file("key.pem") + " -out " + rig.file("cert.pem") + " 2>&1 && cat " +
            rig.file("key.pem") + " " + rig.file("cert.pem") + " > " + rig.file("web.pem"));
    REQUIRE_MESSAGE(made.status == 0, made.out);
    const int agents = free_port(), events = free_port(), control = free_port();
    auto engine = rig.start(engine_extra(agents, events, control, web_agents(rig, phones.port)) +
                            "curve: {secret_key: engine.key, authorized_keys: authorized_keys}\n");
    REQUIRE_MESSAGE(wait_tcp_listening(agents), rig.log("engine.log"));
    WebGatewayProcess web(
        rig, agents, events, control, "certificate: " + rig.file("web.pem") + "\n", true,
        "  server_key: " + rig.file("engine.pub") + "\n  key: " + rig.file("web.key") + "\n");
    Browser b(rig.file("browser.log"));
    log_in(b, "first", web.url(), "alice", "alice-pw");
    const auto paused =
        b.call({{"op", "text"}, {"css", "#state"}, {"contains", "Paused"}, {"timeout", 15}});
    REQUIRE_MESSAGE(paused.value("ok", false),
                    b.call({{"op", "js"}, {"js", "document.body.innerText"}}).dump()
                        << rig.log("web.log") << rig.log("engine.log"));
    CHECK(b.value({{"op", "js"}, {"js", "location.protocol"}}) == "https:");
    // The cookie is HttpOnly (no script sees it) and Secure.
    CHECK(b.value({{"op", "js"}, {"js", "document.cookie"}}) == "");
    b.value({{"op", "screenshot"}, {"path", screenshot_path("agent-over-tls")}});
    // The console's floor comes over the control socket, with the gateway's key too.
    log_in(b, "console", web.url("supervisor.html"), "sue", "sue-pw");
    CHECK(
        b.value({{"op", "text"}, {"css", "tr[data-agent=alice] .a-state"}, {"contains", "Paused"}})
            .get<std::string>()
            .find("Paused") == 0);
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

TEST_CASE("web gateway: a rate bucket gives its burst, then its rate, on a clock the test holds") {
    web::Bucket b;
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    for (int i = 0; i < 5; ++i) CHECK(b.take(0.5, 5, t0));  // the burst
    CHECK(!b.take(0.5, 5, t0));
    CHECK(b.wait_s(0.5) == doctest::Approx(2.0));
    CHECK(!b.take(0.5, 5, t0 + 1900ms));  // 0.95 of a token
    CHECK(b.take(0.5, 5, t0 + 2s));       // one token after 2 s at 0.5/s
    CHECK(!b.take(0.5, 5, t0 + 2s));
    // Idle for an hour: never more than the burst.
    int taken = 0;
    while (b.take(0.5, 5, t0 + 1h)) ++taken;
    CHECK(taken == 5);
}

}  // namespace outpace::test
