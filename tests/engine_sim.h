// The engine in-process on a fake clock: a real Engine, store, campaign and pacing, given a
// FakeClock, a scripted SIP stack that plays the carrier (and answers agents' softphone legs), call
// audio that plays a scripted greeting into the engine and records what the engine sends, and a
// desktop channel the test speaks for. Time moves only when the test says, so timing rules are
// checked to the millisecond in milliseconds of wall time. What only the wire shows (SDP, RTP
// timing, Sofia) stays with the SIPp tests.
// (The fakes themselves: tests/engine_fakes.h.)
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/engine_fakes.h"

namespace outpace::test {

using namespace std::chrono_literals;

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
