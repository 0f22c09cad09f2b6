// The agents' side of the engine tests: one SIPp echoing every agent's softphone, the agents
// config section, a run with a simulated agent (`outpace agent --auto`), a desktop the test drives
// by hand (ZeroMQ DEALER), a supervisor's view (SUB), and helpers to read what a callee heard.
#pragma once

#include <sndfile.h>
#include <cmath>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <thread>
#include <zmq.hpp>

#include "dialer/engine/curve.h"
#include "dialer/sip/digest.h"
#include "tests/engine_rig.h"
#include "tests/test_util.h"

namespace outpace::test {

using nlohmann::json;
using namespace std::chrono_literals;

// Share of a frame's power at `hz` (1 = a pure tone at that frequency).
inline double purity(const std::vector<std::int16_t>& pcm, double hz, double rate = 8000) {
    if (pcm.empty()) return 0;
    const double w = 2 * M_PI * hz / rate, coeff = 2 * std::cos(w);
    double s1 = 0, s2 = 0, total = 0;
    for (auto x : pcm) {
        const double s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
        total += double(x) * x;
    }
    const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return total > 0 ? 2 * power / (total * static_cast<double>(pcm.size())) : 0;
}

// The agents' softphones: one SIPp UAS answers every agent's URI and echoes their RTP.
struct Softphones {
    explicit Softphones(const std::string& log, const std::string& scenario = "uas") {
        auto sipp = start_sipp_uas(scenario, log, 0, {"-rtp_echo"});
        REQUIRE_MESSAGE(sipp.child, "SIPp did not start: " << read_file(log));
        port = sipp.port;
        child = std::move(sipp.child);
    }
    std::string uri() const { return "sip:%a@127.0.0.1:" + std::to_string(port); }
    int port = 0;
    std::unique_ptr<Child> child;
};

inline std::string agents_section(int port, int events_port = 0,
                                  const std::string& heartbeat = "1s") {
    std::string s = "agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(port) + "\"";
    if (events_port) s += ", events: \"tcp://127.0.0.1:" + std::to_string(events_port) + "\"";
    return s + ", heartbeat: " + heartbeat + ", missed_heartbeats: 3}\n";
}

// Runs the engine until nobody is left to dial, with one simulated agent (`outpace agent --auto`)
// whose softphone is `phone` (%a: the agent's id). Returns the engine's exit status.
inline int run_with_agent(Rig& rig, const std::string& phone, const std::string& talk,
                          const std::string& code = "SALE", const std::string& id = "agent1") {
    const int agents_port = free_port();
    auto engine =
        rig.start(agents_section(agents_port) + "stop_when_done: true\ndrain_timeout: 20s\n");
    REQUIRE(wait_tcp_listening(agents_port));
    Child agent({OUTPACE_BINARY, "agent", "--auto", "--endpoint",
                 "tcp://127.0.0.1:" + std::to_string(agents_port), "--agent", id, "--phone", phone,
                 "--talk", talk, "--wrap", "fixed:500ms", "--code", code, "--for", "120"},
                rig.file("agent.log"));
    return engine->wait(90s);
}

// baresip as an agent's softphone, in its own folder under the rig: listens on `listen`
// (IP:PORT), plays a 600 Hz tone as the agent's voice and writes what it hears to WAV files
// (its sndfile module). `account`: its accounts line (auto-answer, or registering to the engine).
// Packets a capture received that are a loud, pure tone at `hz` (an agent's 600 Hz voice).
inline int tone_packets(RtpCapture& capture, double hz) {
    int n = 0;
    for (const auto& p : capture.packets()) n += p.peak > 2000 && purity(p.pcm, hz) > 0.8;
    return n;
}

// Calls `each` with every whole 20 ms frame of channel `channel` of a WAV (any rate), its peak
// and the rate; returns the file's number of channels.
inline int for_each_wav_frame(
    const std::string& wav, int channel,
    const std::function<void(const std::vector<std::int16_t>&, int peak, int rate)>& each) {
    SF_INFO info{};
    SNDFILE* f = sf_open(wav.c_str(), SFM_READ, &info);
    REQUIRE_MESSAGE(f, wav);
    std::vector<std::int16_t> all(static_cast<std::size_t>(info.frames * info.channels));
    sf_readf_short(f, all.data(), info.frames);
    sf_close(f);
    REQUIRE(channel < info.channels);
    const auto n = static_cast<std::size_t>(info.samplerate / 50);
    const auto channels = static_cast<std::size_t>(info.channels);
    std::vector<std::int16_t> frame(n);
    for (std::size_t i = 0; (i + n) * channels <= all.size(); i += n) {
        int peak = 0;
        for (std::size_t k = 0; k < n; ++k) {
            frame[k] = all[(i + k) * channels + static_cast<std::size_t>(channel)];
            peak = std::max(peak, std::abs(int(frame[k])));
        }
        each(frame, peak, info.samplerate);
    }
    return info.channels;
}

// 20 ms frames of a WAV (first channel, any rate) that are a loud, pure tone at `hz`.
inline int tone_frames(const std::string& wav, double hz) {
    int frames = 0;
    for_each_wav_frame(wav, 0, [&](const std::vector<std::int16_t>& frame, int peak, int rate) {
        frames += peak > 2000 && purity(frame, hz, rate) > 0.8;
    });
    return frames;
}

// 20 ms frames of a WAV (first channel) in which each of `tones` carries at least `share` of the
// frame's energy (a mix of two tones: about half each), of those louder than 1000.
inline int mixed_frames(const std::string& wav, const std::vector<double>& tones,
                        double share = 0.2) {
    int frames = 0;
    for_each_wav_frame(wav, 0, [&](const std::vector<std::int16_t>& frame, int peak, int rate) {
        if (peak <= 1000) return;
        bool all_there = true;
        for (double hz : tones) all_there &= purity(frame, hz, rate) >= share;
        frames += all_there;
    });
    return frames;
}

class Baresip {
  public:
    // `extra`: more lines of its config (TLS's CA file, the srtp module). `hz`: its voice's tone;
    // `name`: its folder under the rig (several softphones on one test). `listen`: IP:PORT, the
    // IP its RTP uses too.
    Baresip(Rig& rig, const std::string& listen, const std::string& account,
            const std::string& extra = "", int hz = 600, const std::string& name = "baresip")
        : dir_(rig.file(name)) {
        int rtp = free_port();
        rtp -= rtp % 2;
        test::run("mkdir -p " + dir_);
        REQUIRE(test::run("sox -n -r 8000 -c 1 -b 16 -e signed " + dir_ +
                          "/voice.wav synth 60 sine " + std::to_string(hz) + " vol 0.3")
                    .status == 0);
        rig.write(name + "/config",
                  "sip_listen " + listen + "\nnet_interface " +
                      listen.substr(0, listen.rfind(':')) + "\naudio_player aufile," + dir_ +
                      "/played.wav\naudio_source aufile," + dir_ +
                      "/voice.wav\naudio_alert aufile,/dev/null\nrtp_ports " + std::to_string(rtp) +
                      "-" + std::to_string(rtp + 20) +
                      "\nmodule_path /usr/lib/baresip/modules\n"
                      "module g711.so\nmodule aufile.so\nmodule sndfile.so\nsnd_path " +
                      dir_ + "\nmodule_app account.so\nmodule_app menu.so\n" + extra);
        rig.write(name + "/accounts", account + "\n");
        child_ = std::make_unique<Child>(std::vector<std::string>{"baresip", "-f", dir_},
                                         dir_ + "/baresip.log");
    }
    // 20 ms frames of what the softphone heard that are a loud, pure tone at `hz`.
    int heard_frames(double hz) const {
        const auto heard = test::run("ls " + dir_ + "/ | grep -- '-dec.wav$' | head -1").out;
        REQUIRE(!heard.empty());
        return tone_frames(dir_ + "/" + heard.substr(0, heard.find('\n')), hz);
    }
    // 20 ms frames of what it heard with a peak above `level` (speech, a prompt).
    int loud_frames(int level = 2000) const {
        const auto heard = test::run("ls " + dir_ + "/ | grep -- '-dec.wav$' | head -1").out;
        REQUIRE(!heard.empty());
        SF_INFO info{};
        SNDFILE* f =
            sf_open((dir_ + "/" + heard.substr(0, heard.find('\n'))).c_str(), SFM_READ, &info);
        REQUIRE(f);
        std::vector<std::int16_t> all(static_cast<std::size_t>(info.frames * info.channels));
        sf_readf_short(f, all.data(), info.frames);
        sf_close(f);
        const auto n = static_cast<std::size_t>(info.samplerate / 50 * info.channels);
        int frames = 0;
        for (std::size_t i = 0; i + n <= all.size(); i += n) {
            int peak = 0;
            for (std::size_t k = 0; k < n; ++k) peak = std::max(peak, std::abs(int(all[i + k])));
            frames += peak > level;
        }
        return frames;
    }
    std::string log() const { return test::run("cat " + dir_ + "/baresip.log").out; }
    // What it heard (the decoded stream's WAV).
    std::string heard_wav() const {
        const auto heard = test::run("ls " + dir_ + "/ | grep -- '-dec.wav$' | head -1").out;
        REQUIRE(!heard.empty());
        return dir_ + "/" + heard.substr(0, heard.find('\n'));
    }

  private:
    std::string dir_;
    std::unique_ptr<Child> child_;
};

// linphonec (Debian's linphone-cli) as an agent sets it up: a SIP account that registers with
// its password, not answering by itself. Commands go to its stdin (a FIFO): `answer` when the
// engine's leg rings. Audio from and to WAV files (its "files" sound card): it says 600 Hz.
class Linphone {
  public:
    Linphone(Rig& rig, int sip_port, const std::string& user, const std::string& password,
             int registrar_port)
        : dir_(rig.file("linphone")) {
        int rtp = free_port();
        rtp -= rtp % 2;
        test::run("mkdir -p " + dir_ + "/.local/share/linphone && mkfifo " + dir_ + "/in");
        REQUIRE(test::run("sox -n -r 8000 -c 1 -b 16 -e signed " + dir_ +
                          "/voice.wav synth 60 sine 600 vol 0.3")
                    .status == 0);
        rig.write("linphone/rc", "[sip]\nsip_port=" + std::to_string(sip_port) +
                                     "\nsip_tcp_port=-1\nsip_tls_port=-1\ndefault_proxy=0\n"
                                     "[rtp]\naudio_rtp_port=" +
                                     std::to_string(rtp) +
                                     "\n[sound]\nechocancellation=0\n"
                                     "[proxy_0]\nreg_proxy=sip:127.0.0.1:" +
                                     std::to_string(registrar_port) + "\nreg_identity=sip:" + user +
                                     "@127.0.0.1\nreg_expires=120\nreg_sendregister=1\npublish=0\n"
                                     "[auth_info_0]\nusername=" +
                                     user + "\npasswd=" + password + "\nrealm=outpace\n");
        // linphonec needs a writable home for its databases, else it never registers.
        child_ = std::make_unique<Child>(
            std::vector<std::string>{"sh", "-c",
                                     "HOME=" + dir_ + " exec linphonec -c " + dir_ +
                                         "/rc -d 5 -l " + dir_ + "/linphone.log < " + dir_ + "/in"},
            dir_ + "/out.log");
        fifo_ = ::open((dir_ + "/in").c_str(), O_WRONLY);  // once the shell opened it to read
        REQUIRE(fifo_ >= 0);
        command("soundcard use files");
        command("play " + dir_ + "/voice.wav");
        command("record " + dir_ + "/heard.wav");
    }
    ~Linphone() {
        command("quit");
        ::close(fifo_);
        child_->wait(std::chrono::seconds(5));
    }
    Linphone(const Linphone&) = delete;
    Linphone& operator=(const Linphone&) = delete;

    void command(const std::string& c) {
        const std::string line = c + "\n";
        REQUIRE(::write(fifo_, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    }
    std::string output() const { return test::run("cat " + dir_ + "/out.log").out; }
    std::string log() const { return test::run("tail -c 20000 " + dir_ + "/linphone.log").out; }
    // Frames of what it heard that are a loud, pure tone at `hz`.
    int heard_frames(double hz) const { return tone_frames(dir_ + "/heard.wav", hz); }

  private:
    std::string dir_;
    std::unique_ptr<Child> child_;
    int fifo_ = -1;
};

// A desktop the test drives by hand: one DEALER.
class Desk {
  public:
    explicit Desk(int port, const std::string& id = "", const ClientKeys& keys = {})
        : socket_(ctx_, zmq::socket_type::dealer) {
        socket_.set(zmq::sockopt::linger, 0);
        if (!id.empty()) socket_.set(zmq::sockopt::routing_id, id);
        std::string error;
        if (keys.enabled()) REQUIRE_MESSAGE(curve_client(socket_, keys, &error), error);
        socket_.connect("tcp://127.0.0.1:" + std::to_string(port));
    }
    void send_text(const std::string& text) {
        socket_.send(zmq::buffer(text), zmq::send_flags::none);
    }
    void send(const json& m) { send_text(m.dump()); }
    // Logs agent `id` in with its softphone on the SIPp at `phones_port`, and makes it ready.
    void log_in_ready(const std::string& id, int phones_port) {
        send(json{{"type", "login"},
                  {"agent", id},
                  {"phone", "sip:" + id + "@127.0.0.1:" + std::to_string(phones_port)}});
        // As long as the state below: under the sanitizers, beside another engine test on a
        // loaded machine, the first reply once took more than 5 s (the full run of 2026-12-06).
        REQUIRE(!expect("logged_in", std::chrono::seconds(10)).is_null());
        send(json{{"type", "ready"}});
        // "paused" may come first (the softphone answered before the request was seen).
        auto state = expect("state", std::chrono::seconds(10));
        if (!state.is_null() && state["state"] == "paused")
            state = expect("state", std::chrono::seconds(10));
        REQUIRE(!state.is_null());
        REQUIRE(state["state"] == "ready");
    }
    void send_frames(const std::vector<std::string>& frames) {
        for (std::size_t i = 0; i < frames.size(); ++i)
            socket_.send(zmq::buffer(frames[i]),
                         i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    // Preview mode: dials the contact previewed, and returns the offer that follows (within
    // 10 s), whose "attempt" is the one the dialing announced.
    json dial_previewed() {
        send(json{{"type", "dial"}});
        auto dialing = expect("dialing");
        REQUIRE(!dialing.is_null());
        auto offer = expect("offer", 10s);
        REQUIRE(!offer.is_null());
        REQUIRE(offer["attempt"] == dialing["attempt"]);
        return offer;
    }
    // The next message of `type` within `limit` (others are skipped); null when none came.
    json expect(const std::string& type, std::chrono::milliseconds limit = 5s) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, 50ms);
            if (!(item.revents & ZMQ_POLLIN)) continue;
            zmq::message_t m;
            if (!socket_.recv(m, zmq::recv_flags::dontwait)) continue;
            auto j = json::parse(m.to_string(), nullptr, false);
            if (!j.is_discarded()) received_.push_back(j);
            if (!j.is_discarded() && j.value("type", "") == type) return j;
        }
        return nullptr;
    }
    // Every message this desk has read so far, in order (those `expect` skipped included).
    const std::vector<json>& received() const { return received_; }

  private:
    zmq::context_t ctx_;
    zmq::socket_t socket_;
    std::vector<json> received_;
};

// A supervisor's view: the engine's PUB socket.
class Events {
  public:
    explicit Events(int port) : socket_(ctx_, zmq::socket_type::sub) {
        socket_.set(zmq::sockopt::linger, 0);
        socket_.set(zmq::sockopt::subscribe, "");
        socket_.connect("tcp://127.0.0.1:" + std::to_string(port));
    }
    // The next event on `topic` whose fields include `field`=`value`.
    json expect(const std::string& topic, const std::string& field, const std::string& value,
                std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, 50ms);
            if (!(item.revents & ZMQ_POLLIN)) continue;
            zmq::message_t t, m;
            if (!socket_.recv(t, zmq::recv_flags::dontwait)) continue;
            if (!socket_.recv(m, zmq::recv_flags::dontwait)) continue;
            auto j = json::parse(m.to_string(), nullptr, false);
            if (t.to_string() == topic && !j.is_discarded() && j.value(field, "") == value)
                return j;
        }
        return nullptr;
    }

  private:
    zmq::context_t ctx_;
    zmq::socket_t socket_;
};

inline std::map<std::uint32_t, std::vector<RtpCapture::Packet>> by_stream(
    const std::vector<RtpCapture::Packet>& packets) {
    std::map<std::uint32_t, std::vector<RtpCapture::Packet>> out;
    for (const auto& p : packets) out[p.ssrc].push_back(p);
    return out;
}

// Milliseconds from a stream's first packet (the engine starts sending at the answer) to its
// first loud one (a prompt); nullopt when it only ever heard silence.
inline std::optional<long> first_loud_ms(const std::vector<RtpCapture::Packet>& packets) {
    for (const auto& p : packets)
        if (p.peak >= 200)
            return static_cast<long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(p.at - packets.front().at)
                    .count());
    return std::nullopt;
}

// ---- Softphones that register (tests/softphones_test.cc, tests/tls_srtp_test.cc) ----

// An agents file with `ids`, each with SIP password "<id>-sip-pw" and desktop "<id>-desk-pw".
inline std::string write_agents(Rig& rig, const std::vector<std::string>& ids) {
    std::string y = "agents:\n";
    for (const auto& id : ids)
        y += "  - id: " + id + "\n    sip_ha1: " + sip::digest_ha1(id, "outpace", id + "-sip-pw") +
             "\n    desktop_password: \"" + quick_hash(id + "-desk-pw") + "\"\n";
    rig.write(ids[0] + "-password", ids[0] + "-desk-pw\n");
    return rig.write("agents.yaml", y);
}

// The engine's SIP port, from the config the rig wrote.
inline int engine_sip_port(Rig& rig) {
    std::ifstream in(rig.file("engine.yaml"));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex("sip: \\{address: 127.0.0.1, port: (\\d+)")));
    return std::stoi(m[1]);
}

// The engine with an agents file, stopping when the list is done.
inline std::unique_ptr<Child> start_engine(Rig& rig, int agents_port, const std::string& accounts,
                                           int control_port = 0) {
    std::string extra = "agents: {endpoint: \"tcp://127.0.0.1:" + std::to_string(agents_port) +
                        "\", heartbeat: 1s, missed_heartbeats: 3, accounts: " + accounts +
                        "}\nstop_when_done: true\ndrain_timeout: 20s\n";
    if (control_port)
        extra += "control: \"tcp://127.0.0.1:" + std::to_string(control_port) + "\"\n";
    auto engine = rig.start(extra);
    REQUIRE(wait_tcp_listening(agents_port));
    return engine;
}

// `outpace agent --auto` for agent `id`, logging in with the password file, no phone.
inline std::unique_ptr<Child> start_agent(Rig& rig, int agents_port, const std::string& id) {
    return std::make_unique<Child>(
        std::vector<std::string>{OUTPACE_BINARY, "agent", "--auto", "--endpoint",
                                 "tcp://127.0.0.1:" + std::to_string(agents_port), "--agent", id,
                                 "--password-file", rig.file(id + "-password"), "--talk",
                                 "fixed:6s", "--wrap", "fixed:500ms", "--code", "SALE", "--for",
                                 "120"},
        rig.file("agent.log"));
}

// Whether the desktop started by start_agent says it logged in as `id` within 10 s.
inline bool wait_logged_in(Rig& rig, const std::string& id) {
    for (int i = 0; i < 200; ++i) {
        if (rig.log("agent.log").find("logged in as " + id) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace outpace::test
