// The fakes the in-process engine runs on (tests/engine_sim.h puts them together as a Sim): a
// scripted SIP stack that plays the carrier and answers agents' softphone legs, call audio that
// plays a scripted greeting into the engine and records what it sends, a desktop channel the test
// speaks for, and the environment (clock, DNS, ports, the ledger's writer) that hands them out.
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

}  // namespace outpace::test
