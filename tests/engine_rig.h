// The engine's test rig, shared by the engine and agents tests: a temp dir with the example
// prompts, campaigns each dialling its own SIPp carrier, the engine config, and the ledger after.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

extern "C" {
#include <spandsp.h>
}

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "answering-detect/corpus_score.h"
#include "campaigns/store.h"
#include "dialer/engine/control.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace outpace::test {

// A zone where it is now around noon, so that calling hours hold whenever the test runs.
inline std::string noon_zone() {
    const std::time_t t = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&t, &utc);
    const int offset = 12 - utc.tm_hour;  // hours east of UTC
    return offset >= 0 ? "Etc/GMT-" + std::to_string(offset) : "Etc/GMT+" + std::to_string(-offset);
}

inline std::string corpus_dir() {
    const std::string dir = std::string(OUTPACE_BUILD_DIR) + "/amd-corpus-seed11";
    const auto error = amd::ensure_corpus(
        std::string(OUTPACE_SOURCE_DIR) + "/answering-detect/corpus/make_corpus.py", dir, 11, 1);
    REQUIRE_MESSAGE(error.empty(), error);
    return dir;
}

inline nlohmann::json label(const std::string& file) {
    std::ifstream in(corpus_dir() + "/labels.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line);
        if (j["file"] == file) return j;
    }
    FAIL("no label for " << file);
    return {};
}

// Receives the engine's RTP for one call at a time, noting when each packet came and how loud.
class RtpCapture {
  public:
    RtpCapture() : port_(test::free_port()) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<std::uint16_t>(port_));
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        thread_ = std::thread([this] { loop(); });
    }
    ~RtpCapture() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    int port() const { return port_; }
    struct Packet {
        std::chrono::steady_clock::time_point at;
        int peak = 0;
        std::uint32_t ssrc = 0;
        std::vector<std::int16_t> pcm;  // decoded (the engine offers PCMU first)
    };
    std::vector<Packet> packets() {
        std::lock_guard<std::mutex> g(mu_);
        return packets_;
    }

  private:
    void loop() {
        std::uint8_t buf[2048];
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 12) continue;
            Packet got{std::chrono::steady_clock::now(), 0, 0, {}};
            for (int i = 8; i < 12; ++i) got.ssrc = (got.ssrc << 8) | buf[i];
            for (ssize_t i = 12; i < n; ++i) {
                got.pcm.push_back(ulaw_to_linear(buf[i]));
                got.peak = std::max(got.peak, std::abs(int(got.pcm.back())));
            }
            std::lock_guard<std::mutex> g(mu_);
            packets_.push_back(std::move(got));
        }
    }
    int port_, fd_ = -1;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    std::vector<Packet> packets_;
};

// One engine run: campaigns, each dialling its own SIPp carrier.
class Rig {
  public:
    Rig() : zone_(noon_zone()) {
        test::run("cp -r " + std::string(OUTPACE_SOURCE_DIR) + "/deploy/examples/prompts " +
                  tmp_.path());
    }

    // A campaign of `contacts` numbers on a trunk served by SIPp with `scenario`.
    void campaign(const std::string& name, const std::string& scenario, int contacts,
                  const std::string& extra_yaml = "", int lines = 2,
                  const std::string& trunk_extra = "") {
        auto sipp = test::start_sipp_uas(scenario, tmp_.file(name + ".sipp.log"));
        REQUIRE_MESSAGE(sipp.child,
                        "SIPp did not start: " << read_file(tmp_.file(name + ".sipp.log")));
        const int port = sipp.port;
        std::ostringstream y;
        y << "name: " << name << "\nkind: " << kind_ << "\n"
          << "dialing: {mode: " << mode_ << ", ring_timeout: 15s, "
          << (trunks_for_next_.empty() ? "trunk: " + name : trunks_for_next_)
          << ", caller_id: \"+12125550100\"}\n"
          << "calling_hours:\n  windows:\n    - {days: [sun, mon, tue, wed, thu, fri, sat], "
             "from: \"09:00\", to: \"20:00\"}\n"
          << "timezone: {policy: column, column: timezone, default: " << zone_ << "}\n"
          << "safe_harbor: {prompt: prompts/safe-harbor.wav}\n"
          << extra_yaml;
        const auto file = tmp_.write(name + ".yaml", y.str());
        std::ostringstream csv;
        csv << "phone,timezone\n";
        for (int i = 0; i < contacts; ++i)
            csv << "+1415555" << 1000 + 100 * static_cast<int>(carriers_.size()) + i << "," << zone_
                << "\n";
        const auto list = tmp_.write(name + ".csv", csv.str());
        auto r = test::run(std::string(OUTPACE_BINARY) + " contacts import --data " + data() +
                           " --campaign " + file + " " + list);
        REQUIRE_MESSAGE(r.status == 0, r.out);
        trunks_ << "  - {name: " << name << ", address: \"127.0.0.1:" << port
                << "\", max_calls_per_second: 50, max_calls: " << trunk_calls_ << trunk_extra
                << "}\n";
        campaigns_ << "  - {file: " << name << ".yaml, unattended_lines: " << lines << "}\n";
        carrier_port_[name] = {port, carriers_.size()};
        carriers_.push_back(std::move(sipp.child));
    }

    // The streaming scenario filled in for this run: the callee's audio from the AMD corpus,
    // how long it rings, and (optionally) a port of the test's to receive the engine's RTP.
    // `then`: sox's synth effect for what the callee sends after it (e.g. "1.5 sine 1000": a tone
    // after 1.5 s of silence), for checking where the audio goes once the call is connected.
    std::string streaming(const std::string& wav, int ring_ms, int media_port = 0,
                          const std::string& then = "") {
        const std::string name = wav + (then.empty() ? "" : "-then") + std::to_string(ring_ms);
        const auto raw = tmp_.file(name + ".ulaw");
        std::string tail;
        if (!then.empty()) {
            std::istringstream t(then);
            double gap = 0, length = 0;
            std::string shape;
            int hz = 0;
            t >> gap >> shape >> hz >> length;
            const auto after = tmp_.file(name + ".after.wav");
            auto s = test::run("sox -n -r 8000 -c 1 -e signed -b 16 " + after + " synth " +
                               std::to_string(gap + length) + " " + shape + " " +
                               std::to_string(hz) + " vol 0.3 pad " + std::to_string(gap) +
                               " trim 0 " + std::to_string(gap + length));
            REQUIRE_MESSAGE(s.status == 0, s.out);
            tail = " " + after;
        }
        auto r = test::run("sox " + corpus_dir() + "/" + wav + tail +
                           " -t raw -e u-law -r 8000 -c 1 " + raw);
        REQUIRE_MESSAGE(r.status == 0, r.out);
        return tmp_.write(
            name + ".xml",
            filled("uas_answer_audio.xml.in",
                   {{"@AUDIO@", raw},
                    {"@RING_MS@", std::to_string(ring_ms)},
                    {"[rtpstream_audio_port]",
                     media_port ? std::to_string(media_port) : "[rtpstream_audio_port]"}}));
    }

    std::string config(const std::string& extra) {
        std::ostringstream e;
        e << "data: data\nsip: {address: 127.0.0.1, port: " << test::free_port() << sip_extra_
          << "}\n"
          << "rtp: {address: 127.0.0.1, ports: " << rtp_ports_.range() << rtp_extra_ << "}\n"
          << "trunks:\n"
          << trunks_.str() << "campaigns:\n"
          << campaigns_.str() << "stop_after: 90s\n"
          << extra;
        return tmp_.write("engine.yaml", e.str());
    }
    // Runs the engine until it has nothing left to dial.
    test::RunResult run(const std::string& extra = "") {
        const auto cfg = config("stop_when_done: true\ndrain_timeout: 10s\n" + extra);
        return test::run("timeout 120 " + std::string(OUTPACE_BINARY) + " run --quiet --config " +
                         cfg);
    }
    // Starts the engine in the background.
    std::unique_ptr<test::Child> start(const std::string& extra) {
        return std::make_unique<test::Child>(
            std::vector<std::string>{OUTPACE_BINARY, "run", "--quiet", "--config", config(extra)},
            tmp_.file("engine.log"));
    }
    std::string file(const std::string& name) const { return tmp_.file(name); }
    std::string write(const std::string& name, const std::string& text) {
        return tmp_.write(name, text);
    }
    // Stops a campaign's carrier (its trunk then refuses with ICMP port unreachable) and, when
    // `scenario` is given, starts that one in its place on the same port.
    void swap_carrier(const std::string& name, const std::string& scenario) {
        const auto [port, index] = carrier_port_.at(name);
        carriers_[index].reset();
        if (scenario.empty()) return;
        auto sipp = test::start_sipp_uas(scenario, tmp_.file(name + ".sipp2.log"), port);
        REQUIRE_MESSAGE(sipp.child, read_file(tmp_.file(name + ".sipp2.log")));
        carriers_[index] = std::move(sipp.child);
    }

    // The dialing mode of the campaigns added from here on ("progressive", "power, ratio: 3").
    void mode(const std::string& m) { mode_ = m; }
    // More of the engine config's `sip` section (", response_timeout: 1s").
    void sip_extra(const std::string& s) { sip_extra_ = s; }
    // More keys of the rtp section (", workers: 0").
    void rtp_extra(const std::string& s) { rtp_extra_ = s; }
    // Their trunks, as the `dialing` entry ("trunks: [a, b]"); empty: their own carrier's.
    void trunks_for_next(const std::string& t) { trunks_for_next_ = t; }
    // A trunk served by SIPp with `scenario` that no campaign dials by itself (for
    // trunks_for_next); `extra` is added to its entry in the engine config.
    void trunk(const std::string& name, const std::string& scenario,
               const std::string& extra = "") {
        auto sipp = test::start_sipp_uas(scenario, tmp_.file(name + ".sipp.log"));
        REQUIRE_MESSAGE(sipp.child,
                        "SIPp did not start: " << read_file(tmp_.file(name + ".sipp.log")));
        trunks_ << "  - {name: " << name << ", address: \"127.0.0.1:" << sipp.port
                << "\", max_calls_per_second: 50, max_calls: 50" << extra << "}\n";
        carrier_port_[name] = {sipp.port, carriers_.size()};
        carriers_.push_back(std::move(sipp.child));
    }
    // A trunk entry of the engine config as written (a trunk named by host name).
    void trunk_entry(const std::string& flow_map) { trunks_ << "  - " << flow_map << "\n"; }
    // Their kind (telemarketing, collections, survey).
    void kind(const std::string& k) { kind_ = k; }
    // How many calls at once the trunks of the campaigns added from here on take (50).
    void trunk_calls(int n) { trunk_calls_ = n; }

    // A survey respondent's scenario: rings, answers offering telephone-events, streams `wav`
    // from the AMD corpus followed by `tail` (linear PCM: in-band keys), replays the RFC 4733
    // packets of `pcap` from `pcap_at_ms` after the answer (SIPp times a replay from its first
    // packet), and hangs up `bye_after_ms` after that (0: waits for the engine's BYE).
    std::string survey_callee(const std::string& name, const std::string& wav, int ring_ms,
                              const std::vector<std::int16_t>& tail, const std::string& pcap,
                              int pcap_at_ms, int bye_after_ms) {
        const auto raw = tmp_.file(name + ".ulaw");
        auto r =
            test::run("sox " + corpus_dir() + "/" + wav + " -t raw -e u-law -r 8000 -c 1 " + raw);
        REQUIRE_MESSAGE(r.status == 0, r.out);
        {
            std::ofstream out(raw, std::ios::binary | std::ios::app);
            for (auto sample : tail) out.put(static_cast<char>(linear_to_ulaw(sample)));
        }
        const std::string ok =
            "<send><![CDATA[\n      SIP/2.0 200 OK\n      [last_Via:]\n      [last_From:]\n"
            "      [last_To:]\n      [last_Call-ID:]\n      [last_CSeq:]\n"
            "      Content-Length: 0\n    ]]></send>";
        const std::string bye =
            "<pause milliseconds=\"" + std::to_string(bye_after_ms) +
            "\" />\n  <send retrans=\"500\"><![CDATA[\n      BYE [$contact] SIP/2.0\n"
            "      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            "      From: [$to];tag=[pid]SIPpTag01[call_number]\n      To: [$from]\n"
            "      [last_Call-ID:]\n      CSeq: 2 BYE\n"
            "      Contact: <sip:[local_ip]:[local_port]>\n      Max-Forwards: 70\n"
            "      Content-Length: 0\n    ]]></send>\n  <recv response=\"200\" />";
        const std::string remember =
            "<action>\n      <ereg regexp=\".*\" search_in=\"hdr\" header=\"From:\" "
            "assign_to=\"from\" />\n      <ereg regexp=\".*\" search_in=\"hdr\" "
            "header=\"To:\" assign_to=\"to\" />\n      <ereg regexp=\"sip:[^>;]*\" "
            "search_in=\"hdr\" header=\"Contact:\" assign_to=\"contact\" />\n    </action>";
        const std::string replay = pcap.empty()
                                       ? ""
                                       : "<pause milliseconds=\"" + std::to_string(pcap_at_ms) +
                                             "\" />\n  <nop><action><exec play_pcap_audio=\"" +
                                             pcap + "\" /></action></nop>";
        return tmp_.write(
            name + ".xml",
            filled("uas_survey.xml.in",
                   {{"@REMEMBER@", bye_after_ms > 0 ? remember : ""},
                    {"@END@", bye_after_ms > 0 ? bye : "<recv request=\"BYE\" />\n  " + ok},
                    {"@AUDIO@", raw},
                    {"@RING_MS@", std::to_string(ring_ms)},
                    {"@PCAP@", replay}}));
    }

    std::map<std::string, std::vector<Attempt>> attempts() {
        std::string error;
        auto store = Store::open(data(), &error);
        REQUIRE_MESSAGE(store, error);
        std::map<std::string, std::vector<Attempt>> out;
        for (const auto& name : store->campaigns())
            store->for_each_attempt(name, [&](const Attempt& a) { out[name].push_back(a); });
        return out;
    }
    std::optional<Contact> contact(const std::string& campaign, const std::string& phone) {
        std::string error;
        auto store = Store::open(data(), &error);
        REQUIRE(store);
        return store->contact(campaign, phone);
    }
    std::string data() const { return tmp_.file("data"); }
    // The first of the engine's 100 RTP ports.
    int rtp_first() const { return rtp_ports_.first(); }
    std::string log(const std::string& name) { return read_file(tmp_.file(name)); }

  private:
    // A SIPp scenario template from tests/sipp with its placeholders replaced, in order.
    static std::string filled(const std::string& name,
                              const std::vector<std::pair<std::string, std::string>>& values) {
        std::string xml = read_file(std::string(OUTPACE_SOURCE_DIR) + "/tests/sipp/" + name);
        for (const auto& [from, to] : values)
            for (auto i = xml.find(from); i != std::string::npos; i = xml.find(from, i + to.size()))
                xml.replace(i, from.size(), to);
        return xml;
    }

    test::TempDir tmp_;
    test::RtpPortBlock rtp_ports_;
    std::string zone_;
    std::string mode_ = "progressive", kind_ = "telemarketing";
    int trunk_calls_ = 50;
    std::string trunks_for_next_;
    std::string sip_extra_, rtp_extra_;
    std::ostringstream trunks_, campaigns_;
    std::vector<std::unique_ptr<test::Child>> carriers_;
    std::map<std::string, std::pair<int, std::size_t>> carrier_port_;  // campaign -> port, index
};

// The first campaign's status from a running engine's control socket (an empty object when it
// does not answer within 2 s, or answers nonsense).
inline nlohmann::json first_campaign_status(const std::string& endpoint) {
    std::string reply, error;
    if (!control_request(endpoint, R"({"command":"status"})", 2000, &reply, &error))
        return nlohmann::json::object();
    auto j = nlohmann::json::parse(reply, nullptr, false);
    if (j.is_discarded() || !j.contains("campaigns") || j["campaigns"].empty())
        return nlohmann::json::object();
    return j["campaigns"][0];
}

}  // namespace outpace::test
