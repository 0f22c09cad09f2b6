// The engine in-process on a fake clock: a real Engine, store, campaign and pacing, given a
// FakeClock, a scripted SIP stack that plays the carrier (and answers agents' softphone legs), call
// audio that plays a scripted greeting into the engine and records what the engine sends, and a
// desktop channel the test speaks for. Time moves only when the test says, so timing rules are
// checked to the millisecond in milliseconds of wall time. What only the wire shows (SDP, RTP
// timing, Sofia) stays with the SIPp tests.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "answering-detect/audio_file.h"
#include "campaigns/campaign_loader.h"
#include "campaigns/importer.h"
#include "campaigns/store.h"
#include "dialer/engine/engine.h"
#include "tests/fake_dns.h"
#include "tests/test_util.h"

namespace outpace::test {

using namespace std::chrono_literals;

// What the scripted carrier does with one INVITE.
struct CarrierPlan {
    std::chrono::milliseconds ring{300};          // INVITE to the final response
    int final_code = 200;                         // 200: answered; else the failure's code
    bool ringing = true;                          // a 180 at once
    std::vector<std::int16_t> greeting;           // played from the answer, then silence
    std::chrono::milliseconds hang_up_after{-1};  // after the answer; -1: never (BYE from us)
    int q850_cause = 0;                           // with a failure: its Reason header's cause
    // A dark trunk: no response at all, ever (the rest is ignored); the SIP stack's transaction
    // timeout (sip.response_timeout) ends the call with a local 408.
    bool silent = false;
    // A 100 Trying at once: nua keeps it to itself (no progress), but it stops that timeout.
    bool trying = false;
    // Early media: a 183 with SDP at once, then these 20 ms frames while it rings.
    std::vector<std::int16_t> early = {};
    // The SDP of the answer and of early media; empty: kScriptedSdp (plain RTP, PCMU).
    std::string sdp = {};
};

// A trunk at 127.0.0.1:port, besides the Sim's "carrier" (Sim::Options::more_trunks).
inline TrunkConfig loopback_trunk(const std::string& name, int port, int calls_per_second = 50) {
    TrunkConfig t;
    t.name = name;
    t.host = "127.0.0.1";
    t.port = port;
    t.max_calls_per_second = calls_per_second;
    t.max_calls = 100;
    return t;
}

// The scripted far end's SDP (answer and early media): PCMU and telephone-events.
inline const char* const kScriptedSdp =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n";

class Sim;

// One call's audio as the engine sees it: the scripted carrier's frames in, the engine's out.
class FakeAudio final : public media::AudioChannel {
  public:
    // The test tones told apart in what a channel sent (who hears whom): each party of a test
    // speaks one of them.
    static constexpr std::array<double, 5> kTones = {440, 1000, 2000, 2500, 3000};
    struct Sent {
        SteadyTime at;
        int peak = 0;
        char event = 0;  // an RFC 4733 packet for this key (peak 0)
        bool event_end = false;
        std::array<float, kTones.size()> tones{};  // each test tone's amplitude in the frame
    };
    // The amplitude of a `hz` tone in `pcm` (Goertzel).
    static float tone_amplitude(std::span<const std::int16_t> pcm, double hz) {
        const double w = 2 * 3.141592653589793 * hz / 8000, coeff = 2 * std::cos(w);
        double s1 = 0, s2 = 0;
        for (auto x : pcm) {
            const double s0 = x + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
        return pcm.empty() ? 0.f
                           : static_cast<float>(2 * std::sqrt(std::max(0.0, power)) /
                                                static_cast<double>(pcm.size()));
    }
    // What one channel sent, kept after the channel is gone.
    struct Log {
        int port = 0;
        SteadyTime opened;
        std::vector<Sent> sent;
        FakeAudio* live = nullptr;
    };
    FakeAudio(media::RtpPortPool& pool, int port, const Clock& clock, std::shared_ptr<Log> log)
        : pool_(pool), port_(port), clock_(clock), log_(std::move(log)) {
        log_->live = this;
    }
    ~FakeAudio() override {
        log_->live = nullptr;
        pool_.give(port_);
    }
    int port() const override { return port_; }
    bool set_remote(const media::RemoteMedia&) override { return true; }
    bool use_srtp(const media::SrtpKey&, const media::SrtpKey&) override {
        encrypted_ = true;
        return true;
    }
    void use_plain_rtp() override { encrypted_ = false; }
    bool encrypted() const override { return encrypted_; }
    void on_audio(AudioHandler h) override { audio_ = std::move(h); }
    void on_digit(DigitHandler h) override { digit_ = std::move(h); }
    bool sends_events() const override { return events_; }
    void send_event(char digit, std::uint16_t, bool end) override {
        log_->sent.push_back({clock_.now(), 0, digit, end});
        ++stats_.packets_out;
    }
    void send(std::span<const std::int16_t> pcm) override {
        int peak = 0;
        for (auto s : pcm) peak = std::max(peak, std::abs(int(s)));
        Sent sent{clock_.now(), peak};
        if (peak > 0)
            for (std::size_t i = 0; i < kTones.size(); ++i)
                sent.tones[i] = tone_amplitude(pcm, kTones[i]);
        log_->sent.push_back(sent);
        ++stats_.packets_out;
    }
    const media::RtpStats& stats() const override { return stats_; }
    SteadyTime arrived() const override { return std::chrono::steady_clock::now(); }

    // Whether the far end took telephone-events (the scripted answers offer them).
    void set_events(bool on) { events_ = on; }
    // A key pressed at the far end, as an RFC 4733 event.
    void press(char digit) {
        if (digit_) digit_(digit);
    }
    // One 20 ms frame from the far end.
    void feed(std::span<const std::int16_t> pcm) {
        ++stats_.packets_in;
        if (audio_) audio_(pcm, std::chrono::milliseconds(20 * (stats_.packets_in - 1)));
    }

  private:
    media::RtpPortPool& pool_;
    int port_;
    const Clock& clock_;
    AudioHandler audio_;
    DigitHandler digit_;
    bool events_ = true, encrypted_ = false;
    media::RtpStats stats_;
    std::shared_ptr<Log> log_;
};

// The SIP stack, played by the test: INVITEs are recorded and answered by plan as time moves.
class ScriptedSip final : public sip::SipStack {
  public:
    struct Invite {
        sip::CallId id = 0;
        sip::Dial dial;
        SteadyTime at, cancelled_at{}, answered_at{}, ended_at{};
        bool cancelled = false, answered = false, over = false, agent_leg = false;
        CarrierPlan plan;
        std::size_t frame = 0;        // greeting frames played so far
        std::size_t early_frame = 0;  // early media frames played so far
    };
    ScriptedSip(sip::CallObserver& observer, const Clock& clock)
        : observer_(observer), clock_(clock) {}

    sip::CallId invite(const sip::Dial& dial) override {
        Invite i;
        i.id = next_++;
        i.dial = dial;
        i.at = clock_.now();
        invites_.push_back(i);
        return i.id;
    }
    void cancel(sip::CallId id) override {
        Invite* i = find(id);
        if (!i || i->over || i->cancelled) return;
        i->cancelled = true;
        i->cancelled_at = clock_.now();
        // A silent trunk answers no CANCEL either (nor may one be sent before a provisional
        // response): the transaction times out.
        if (!i->answered && !i->plan.silent)
            queue_.push_back([this, id] { finish_failed(id, 487, "Request Terminated"); });
    }
    void hangup(sip::CallId id) override {
        Invite* i = find(id);
        if (!i || i->over || !i->answered) return;
        queue_.push_back([this, id] { finish_ended(id, false); });
    }
    std::size_t calls() const override { return invites_.size(); }
    std::uint64_t forged_requests() const override { return 0; }
    // Registrations: recorded; the test answers them with answer_registration().
    struct Registration {
        sip::RegistrationId id = 0;
        sip::TrunkRegistration request;
        sip::RegistrationReport report;
        SteadyTime at;
        bool over = false, unregistered = false;
    };
    sip::RegistrationId register_at(const sip::TrunkRegistration& r,
                                    sip::RegistrationReport report) override {
        registrations_.push_back({next_registration_++, r, std::move(report), clock_.now()});
        return registrations_.back().id;
    }
    void unregister(sip::RegistrationId id) override {
        for (auto& g : registrations_)
            if (g.id == id) g.unregistered = true, g.over = true;
    }
    std::deque<Registration>& registrations() { return registrations_; }
    // The registrar's final answer to registration `id` (a refusal ends it, as nua's does).
    void answer_registration(sip::RegistrationId id, int status, std::chrono::seconds granted) {
        for (auto& g : registrations_)
            if (g.id == id && !g.over) {
                if (status >= 300) g.over = true;
                g.report(status, granted);
                return;
            }
    }
    bool set_peers(const std::vector<std::string>& ips, const std::vector<std::string>&,
                   const std::vector<std::string>& banned) override {
        peers_ = ips;
        banned_ = banned;
        return true;
    }
    void shutdown(std::chrono::milliseconds) override {}
    // Keep-alive OPTIONS: recorded; the test answers them (or not) with answer_pings().
    void ping(const std::string& uri, const std::string&, std::function<void(int)> done) override {
        pings_.emplace_back(uri, std::move(done));
    }
    std::size_t answer_pings(int status) {
        auto pending = std::move(pings_);
        pings_.clear();
        for (auto& [uri, done] : pending) done(status);
        return pending.size();
    }
    const std::vector<std::string>& peers() const { return peers_; }
    std::chrono::milliseconds response_timeout{32'000};  // the stack's config
    // The engine's registrar, as the SIP stack would call it for a REGISTER.
    std::function<sip::RegisterReply(const sip::RegisterRequest&)> on_register;
    const std::vector<std::string>& banned() const { return banned_; }

    Invite* find(sip::CallId id) {
        for (auto& i : invites_)
            if (i.id == id) return &i;
        return nullptr;
    }
    std::deque<Invite>& invites() { return invites_; }
    // Responses queued by cancel/hangup, delivered outside the engine's own calls (as Sofia's
    // come from the loop, never from inside invite/cancel/hangup).
    void deliver() {
        while (!queue_.empty()) {
            auto f = std::move(queue_.front());
            queue_.pop_front();
            f();
        }
    }
    void finish_failed(sip::CallId id, int code, const std::string& phrase, int cause = 0,
                       bool local = false) {
        Invite* i = find(id);
        if (!i || i->over) return;
        i->over = true;
        i->ended_at = clock_.now();
        observer_.on_failed(id, {code, phrase, local, cause});
    }
    void finish_ended(sip::CallId id, bool by_remote) {
        Invite* i = find(id);
        if (!i || i->over) return;
        i->over = true;
        i->ended_at = clock_.now();
        observer_.on_ended(id, by_remote);
    }
    sip::CallObserver& observer() { return observer_; }

  private:
    sip::CallObserver& observer_;
    const Clock& clock_;
    std::deque<Invite> invites_;
    std::deque<std::function<void()>> queue_;
    std::vector<std::pair<std::string, std::function<void(int)>>> pings_;
    std::vector<std::string> peers_, banned_;
    sip::CallId next_ = 1;
    std::deque<Registration> registrations_;
    sip::RegistrationId next_registration_ = 1;
};

// The desktops' channel, spoken for by the test: requests go in, the engine's messages are kept
// per desktop with the time they were sent.
class FakeChannel final : public AgentChannel {
  public:
    struct Message {
        SteadyTime at;
        nlohmann::json body;
    };
    FakeChannel(Handler handler, const Clock& clock)
        : handler_(std::move(handler)), clock_(clock) {}
    void send(const std::string& peer, const nlohmann::json& m) override {
        to_[peer].push_back({clock_.now(), m});
    }
    void publish(const std::string& topic, const nlohmann::json& e) override {
        events_.push_back({clock_.now(), {{"topic", topic}, {"event", e}}});
    }
    // A desktop's request, as its JSON text.
    void request(const std::string& peer, const std::string& text) {
        std::string error;
        auto r = parse_agent_request(text, &error);
        REQUIRE_MESSAGE(r, error);
        handler_(peer, "", *r);
    }
    std::vector<Message>& to(const std::string& peer) { return to_[peer]; }
    // The first message of `type` to `peer` (none yet: nullopt).
    std::optional<Message> first(const std::string& peer, const std::string& type) {
        for (const auto& m : to_[peer])
            if (m.body.value("type", "") == type) return m;
        return std::nullopt;
    }

    // Everything published: {"topic", "event"}.
    const std::vector<Message>& events() const { return events_; }
    // The first event published on `topic` whose `field` is `value`.
    std::optional<Message> event(const std::string& topic, const std::string& field,
                                 const std::string& value) {
        for (const auto& m : events_)
            if (m.body["topic"] == topic && m.body["event"].value(field, "") == value) return m;
        return std::nullopt;
    }

  private:
    Handler handler_;
    const Clock& clock_;
    std::map<std::string, std::vector<Message>> to_;
    std::vector<Message> events_;
};

class SimEnv final : public EngineEnv {
  public:
    explicit SimEnv(WallTime start) : clock_(start) {}
    Clock& clock() override { return clock_; }
    FakeClock& fake_clock() { return clock_; }
    std::unique_ptr<sip::SipStack> open_sip(const sip::StackConfig& config,
                                            sip::CallObserver& observer, std::string*) override {
        auto s = std::make_unique<ScriptedSip>(observer, clock_);
        s->on_register = config.on_register;
        s->response_timeout = config.response_timeout;
        sip_ = s.get();
        return s;
    }
    std::unique_ptr<media::AudioChannel> open_audio(const std::string&, media::RtpPortPool& ports,
                                                    std::string* error, int port) override {
        if (port == 0) {
            auto p = ports.take();
            if (!p) {
                *error = "no free RTP port";
                return nullptr;
            }
            port = *p;
        }
        auto log = std::make_shared<FakeAudio::Log>();
        log->port = port;
        log->opened = clock_.now();
        logs_.push_back(log);
        return std::make_unique<FakeAudio>(ports, port, clock_, log);
    }
    std::unique_ptr<sip::Dns> open_dns(const sip::DnsConfig&, std::string*) override {
        return std::make_unique<FakeDns>(dns);
    }
    std::shared_ptr<FakeDns::Zone> dns = std::make_shared<FakeDns::Zone>();
    bool port_bindable(const std::string&, int) override { return true; }
    std::unique_ptr<AgentChannel> open_agent_channel(const std::string&, const std::string&,
                                                     const CurveConfig&,
                                                     AgentChannel::Handler handler,
                                                     std::string*) override {
        auto c = std::make_unique<FakeChannel>(std::move(handler), clock_);
        channel_ = c.get();
        return c;
    }
    void finished() override {}  // the test decides when time stops
    // Slow work runs at once: the fake clock does not move meanwhile.
    bool off_loop(std::function<bool()> work, std::function<void(bool)> done) override {
        if (off_loop_full) return false;
        done(work());
        return true;
    }
    bool off_loop_full = false;  // a test's way of filling the queue
    // The ledger's writes at once too, or (with `hold_ledger`) kept until release_ledger(): a
    // test's way of seeing what the engine does while a synced write takes its time.
    void write_ledger(std::function<void()> work, std::function<void()> done) override {
        if (hold_ledger) {
            held_ledger.emplace_back(std::move(work), std::move(done));
            return;
        }
        work();
        done();
    }
    // (Ahead of held writes: a test that holds them does not click for a dial meanwhile.)
    void write_ledger_now(const std::function<void()>& work) override { work(); }
    void release_ledger() {
        auto held = std::move(held_ledger);
        held_ledger.clear();
        for (auto& [work, done] : held) {
            work();
            done();
        }
    }
    bool hold_ledger = false;
    std::vector<std::pair<std::function<void()>, std::function<void()>>> held_ledger;

    ScriptedSip* sip() { return sip_; }
    FakeChannel* channel() { return channel_; }
    // What was sent on `port` by the channel opened there last at or after `since` (null: none).
    const FakeAudio::Log* log(int port, SteadyTime since) const {
        for (auto it = logs_.rbegin(); it != logs_.rend(); ++it)
            if ((*it)->port == port && (*it)->opened >= since) return it->get();
        return nullptr;
    }
    // The channel open on `port` now (null: none).
    FakeAudio* audio(int port, SteadyTime since) {
        const auto* l = log(port, since);
        return l ? l->live : nullptr;
    }

  private:
    FakeClock clock_;
    ScriptedSip* sip_ = nullptr;
    FakeChannel* channel_ = nullptr;
    std::vector<std::shared_ptr<FakeAudio::Log>> logs_;
};

// A wall time from "YYYY-MM-DDTHH:MM:SSZ" (whole seconds) plus `ms`.
inline WallTime wall_at(const std::string& iso, int ms = 0) {
    return WallTime(std::chrono::duration_cast<WallTime::duration>(
               test::at(iso.c_str()).time_since_epoch())) +
           std::chrono::milliseconds(ms);
}

// One engine on a fake clock: one campaign, its contacts, one trunk played by ScriptedSip.
class Sim {
  public:
    struct Options {
        std::string campaign_yaml;  // after name/kind/dialing; may override calling hours etc.
        std::string mode = "progressive";
        int contacts = 1;
        std::string zone = "America/New_York";
        int unattended_lines = 0;
        int max_calls_per_second = 50;
        WallTime start = wall_at("2026-12-02T17:00:00Z");  // noon in New York, a Wednesday
        bool agents = false;
        // The list, when not `contacts` numbers with a time-zone column (`contacts` still says
        // how many it holds).
        std::string list_csv;
        // A second campaign, "sim2", on the same trunk (its own `contacts` numbers), when not
        // empty: these lines after its name and dialing mode (`mode`).
        std::optional<std::string> second_campaign_yaml;
        // More trunks in the engine's config besides "carrier" (127.0.0.1:5999), and the
        // campaigns' `dialing` trunk entry when not "trunk: carrier".
        std::vector<TrunkConfig> more_trunks;
        std::string dialing_trunks = "trunk: carrier";
        // The campaigns' caller-ID entry in `dialing`.
        std::string caller_id_entry = "caller_id: \"+12125550100\"";
    };

    explicit Sim(Options o) : o_(std::move(o)), env_(o_.start) {
        test::run("cp -r " + std::string(OUTPACE_SOURCE_DIR) + "/deploy/examples/prompts " +
                  dir_.path());
        yaml_ = campaign_text("sim", o_.campaign_yaml);
        const auto file = dir_.write("sim.yaml", yaml_);
        const auto list =
            dir_.write("sim.csv", o_.list_csv.empty() ? list_text("+1415555") : o_.list_csv);
        std::string error;
        store_ = Store::open(dir_.file("data"), &error);
        REQUIRE_MESSAGE(store_, error);
        auto load = load_campaign_text(yaml_, file, dir_.path());
        for (const auto& e : load.errors) FAIL(e.to_string());
        campaign_ = *load.campaign;
        ImportSummary summary;
        REQUIRE_MESSAGE(import_contacts(*store_, campaign_, yaml_, list, {}, summary, &error),
                        error);
        REQUIRE(summary.imported == static_cast<std::size_t>(o_.contacts));

        config_.data_dir = dir_.file("data");
        config_.source_path = dir_.file("engine.yaml");
        config_.rtp_first_port = 40000;
        config_.rtp_last_port = 40999;
        TrunkConfig t;
        t.name = "carrier";
        t.host = "127.0.0.1";
        t.port = 5999;
        t.max_calls_per_second = o_.max_calls_per_second;
        t.max_calls = 100;
        config_.trunks.push_back(t);
        for (const auto& more : o_.more_trunks) config_.trunks.push_back(more);
        config_.campaigns.push_back({file, o_.unattended_lines});
        if (o_.second_campaign_yaml) {
            const auto y2 = campaign_text("sim2", *o_.second_campaign_yaml);
            const auto file2 = dir_.write("sim2.yaml", y2);
            const auto list2 = dir_.write("sim2.csv", list_text("+1415666"));
            auto load2 = load_campaign_text(y2, file2, dir_.path());
            for (const auto& e : load2.errors) FAIL(e.to_string());
            ImportSummary s2;
            REQUIRE_MESSAGE(import_contacts(*store_, *load2.campaign, y2, list2, {}, s2, &error),
                            error);
            config_.campaigns.push_back({file2, 0});
        }
        if (o_.agents) config_.agents.endpoint = "inproc://desktops";
        config_.tick = 100ms;
        config_.drain_timeout = 5s;
    }

    // A campaign on the scripted carrier in the options' mode and zone, then `extra` lines.
    std::string campaign_text(const std::string& name, const std::string& extra) const {
        std::ostringstream y;
        y << "name: " << name << "\n"
          << "dialing: {mode: " << o_.mode << ", ring_timeout: 15s, " << o_.dialing_trunks << ", "
          << o_.caller_id_entry << "}\n"
          << "timezone: {policy: column, column: timezone, default: " << o_.zone << "}\n"
          << "safe_harbor: {prompt: prompts/safe-harbor.wav}\n"
          << extra;
        return y.str();
    }
    // The options' `contacts` numbers from `prefix` + 1000, with the zone column.
    std::string list_text(const std::string& prefix) const {
        std::ostringstream csv;
        csv << "phone,timezone\n";
        for (int i = 0; i < o_.contacts; ++i) csv << prefix << 1000 + i << "," << o_.zone << "\n";
        return csv.str();
    }

    EngineConfig& config() { return config_; }
    // The carrier's plan for each customer INVITE (agent legs are answered at once).
    void carrier(std::function<CarrierPlan(const ScriptedSip::Invite&)> plan) {
        plan_ = std::move(plan);
    }
    // Every callee answers after 400 ms with `greeting`, then stays on the line (or hangs up
    // `hang_up_after` the answer).
    void answer_all(std::vector<std::int16_t> greeting,
                    std::chrono::milliseconds hang_up_after = std::chrono::milliseconds(-1)) {
        plan_ = [greeting = std::move(greeting), hang_up_after](const ScriptedSip::Invite&) {
            return CarrierPlan{std::chrono::milliseconds(400), 200, true, greeting, hang_up_after};
        };
    }

    void start() {
        planned_.clear();  // a restarted engine's SIP stack numbers its calls from 1 again
        engine_ = std::make_unique<Engine>(config_, *store_, env_);
        std::vector<std::string> errors;
        const bool ok = engine_->start(&errors);
        std::string all;
        for (const auto& e : errors) all += e + "\n";
        REQUIRE_MESSAGE(ok, all);
    }

    // Stops the engine as `ctl stop` does (its drain runs on the fake clock) and ends it; start()
    // then starts a new one on the same store and clock: a restart.
    void stop_engine() {
        engine_->stop();
        run_for(config_.drain_timeout + 1s, 10ms);
        engine_.reset();
    }
    void restart() {
        stop_engine();
        start();
    }

    // Moves time by `d` in steps of `step`: the carrier answers, plays and hangs up on plan, the
    // engine's timers fire.
    void run_for(std::chrono::milliseconds d, std::chrono::milliseconds step = 1ms) {
        const auto until = clock().now() + d;
        while (clock().now() < until) {
            play_carrier();
            env_.sip()->deliver();
            deliver_dns(*env_.dns);
            const auto left =
                std::chrono::duration_cast<std::chrono::microseconds>(until - clock().now());
            clock().advance(std::min<std::chrono::microseconds>(step, left));
        }
        play_carrier();
        env_.sip()->deliver();
        deliver_dns(*env_.dns);
    }
    // Jumps the clock (as a machine that slept): each timer fires once at the new time.
    void jump(std::chrono::milliseconds d) {
        clock().jump(d);
        env_.sip()->deliver();
    }

    Engine& engine() { return *engine_; }
    FakeClock& clock() { return env_.fake_clock(); }
    SimEnv& env() { return env_; }
    ScriptedSip& sip() { return *env_.sip(); }
    FakeChannel& desk() { return *env_.channel(); }
    // Desk `desk` logs in as `agent` with a fixed phone and goes ready; the loop then runs in
    // `step`s, with a heartbeat a second, until the desk has its screen pop (or `max_s` pass).
    std::optional<FakeChannel::Message> first_offer(const std::string& desk,
                                                    const std::string& agent, int max_s = 20,
                                                    std::chrono::milliseconds step = 10ms) {
        this->desk().request(desk, R"({"type":"login","agent":")" + agent + R"(","phone":"sip:)" +
                                       agent + R"(@127.0.0.1:5998"})");
        run_for(100ms);
        this->desk().request(desk, R"({"type":"ready"})");
        for (int i = 0; i < max_s && !this->desk().first(desk, "offer"); ++i) {
            run_for(1s, step);
            this->desk().request(desk, R"({"type":"heartbeat"})");
        }
        return this->desk().first(desk, "offer");
    }
    Store& store() { return *store_; }
    const Campaign& campaign() const { return campaign_; }
    // The campaign file as written, and a new text for it (for `ctl reload`).
    const std::string& campaign_yaml() const { return yaml_; }
    void rewrite_campaign(const std::string& yaml) { dir_.write("sim.yaml", yaml); }
    CampaignStatus status(std::size_t campaign = 0) { return engine_->status().at(campaign); }
    std::vector<Attempt> attempts() {
        std::vector<Attempt> out;
        store_->for_each_attempt("sim", [&](const Attempt& a) { out.push_back(a); });
        return out;
    }
    // The customer INVITEs (not agents' legs), in order.
    std::vector<ScriptedSip::Invite*> calls() {
        std::vector<ScriptedSip::Invite*> out;
        for (auto& i : sip().invites())
            if (!i.agent_leg) out.push_back(&i);
        return out;
    }
    // The audio of a call, by its INVITE (the port of its offer): open now, and what it sent.
    FakeAudio* audio(const ScriptedSip::Invite& i) {
        return env_.audio(offer_port(i.dial.sdp), i.at);
    }
    const FakeAudio::Log* sent(const ScriptedSip::Invite& i) {
        return env_.log(offer_port(i.dial.sdp), i.at);
    }

    static int offer_port(const std::string& sdp) {
        std::smatch m;
        static const std::regex re("m=audio (\\d+)");
        return std::regex_search(sdp, m, re) ? std::stoi(m[1]) : 0;
    }

  private:
    void play_carrier() {
        const auto now = clock().now();
        auto& invites = sip().invites();
        for (std::size_t k = 0; k < invites.size(); ++k) {  // by index: an answer may add some
            auto& i = invites[k];
            if (i.over) continue;
            if (!planned_.count(i.id)) {  // first sight: the plan for this INVITE
                planned_.insert(i.id);
                i.agent_leg = std::none_of(
                    config_.trunks.begin(), config_.trunks.end(), [&](const TrunkConfig& t) {
                        // A trunk named without a port: its name ends the URI's host.
                        const std::string host =
                            "@" + t.host + (t.port ? ":" + std::to_string(t.port) : "");
                        const auto at = i.dial.to.find(host);
                        return at != std::string::npos &&
                               (at + host.size() == i.dial.to.size() ||
                                std::string(":;").find(i.dial.to[at + host.size()]) !=
                                    std::string::npos);
                    });
                i.plan = i.agent_leg ? CarrierPlan{20ms, 200, false, {}, -1ms}
                         : plan_     ? plan_(i)
                                     : CarrierPlan{};
                if (i.plan.ringing && !i.plan.silent) sip().observer().on_progress(i.id, 180);
                if (!i.plan.early.empty() && !i.plan.silent) {
                    sip().observer().on_progress(i.id, 183);
                    sip().observer().on_early_media(i.id,
                                                    i.plan.sdp.empty() ? kScriptedSdp : i.plan.sdp);
                }
                if (i.over) continue;
            }
            if (i.plan.silent) {
                if (now - i.at >= sip().response_timeout)
                    sip().finish_failed(i.id, 408, "Request Timeout", 0, true);
                continue;
            }
            if (!i.answered && !i.cancelled && now - i.at >= i.plan.ring) {
                if (i.plan.final_code != 200) {
                    sip().finish_failed(i.id, i.plan.final_code, "scripted", i.plan.q850_cause);
                    continue;
                }
                i.answered = true;
                i.answered_at = now;
                sip().observer().on_answered(i.id, i.plan.sdp.empty() ? kScriptedSdp : i.plan.sdp);
                continue;
            }
            // Early media while it rings: 20 ms frames from the INVITE on.
            if (!i.answered && !i.over && !i.cancelled && !i.plan.early.empty()) {
                const auto due = static_cast<std::size_t>((now - i.at) / 20ms);
                FakeAudio* a = audio(i);
                while (a && i.early_frame < due && !i.over && !i.cancelled) {
                    std::array<std::int16_t, 160> frame{};
                    const std::size_t from = i.early_frame * 160;
                    if (from < i.plan.early.size())
                        std::copy_n(i.plan.early.begin() + static_cast<std::ptrdiff_t>(from),
                                    std::min<std::size_t>(160, i.plan.early.size() - from),
                                    frame.begin());
                    ++i.early_frame;
                    a->feed(frame);
                    a = audio(i);
                }
                continue;
            }
            // Agents' phones send nothing unless a test speaks for them.
            if (!i.answered || i.over || i.agent_leg) continue;
            // 20 ms frames from the answer on: the greeting, then silence.
            const auto due = static_cast<std::size_t>((now - i.answered_at) / 20ms);
            FakeAudio* a = audio(i);
            while (a && i.frame < due && !i.over) {
                std::array<std::int16_t, 160> frame{};
                const std::size_t from = i.frame * 160;
                if (from < i.plan.greeting.size())
                    std::copy_n(i.plan.greeting.begin() + static_cast<std::ptrdiff_t>(from),
                                std::min<std::size_t>(160, i.plan.greeting.size() - from),
                                frame.begin());
                ++i.frame;
                a->feed(frame);
                a = audio(i);  // the engine may have ended the call meanwhile
            }
            if (!i.over && i.plan.hang_up_after.count() >= 0 &&
                now - i.answered_at >= i.plan.hang_up_after)
                sip().finish_ended(i.id, true);
        }
    }

    Options o_;
    TempDir dir_;
    SimEnv env_;
    std::string yaml_;
    Campaign campaign_;
    std::unique_ptr<Store> store_;
    EngineConfig config_;
    std::unique_ptr<Engine> engine_;
    std::function<CarrierPlan(const ScriptedSip::Invite&)> plan_;
    std::set<sip::CallId> planned_;
};

// The last message of `type` the engine sent to desktop `desk` (null when none).
inline nlohmann::json last_to(Sim& sim, const std::string& desk, const std::string& type) {
    nlohmann::json out;
    for (const auto& m : sim.desk().to(desk))
        if (m.body.value("type", "") == type) out = m.body;
    return out;
}

}  // namespace outpace::test
