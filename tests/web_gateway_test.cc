// The web gateway (`outpace web`) on its own terms: foreign origins, floods of logins and hostile
// WebSocket messages, its limits and session lifetime, TLS to an engine that wants CurveZMQ keys,
// its config's errors and its rate buckets. Against a real engine; a real Chromium where a page is
// needed. (The pages themselves: web_desktop_test.cc.)
#include <doctest/doctest.h>

#include "dialer/web/web_config.h"
#include "dialer/web/web_http.h"
#include "tests/web_rig.h"

namespace outpace::test {

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
