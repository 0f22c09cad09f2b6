#include "dialer/engine/engine.h"

#include <event2/event.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <deque>

#include "answering-detect/audio_file.h"
#include "campaigns/campaign_loader.h"
#include "campaigns/report.h"
#include "dialer/engine/amd_settings.h"
#include "dialer/media/recorder.h"
#include "dialer/media/sdp.h"

namespace outpace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

long ms_between(SteadyClock::time_point a, SteadyClock::time_point b) {
    return static_cast<long>(std::chrono::duration_cast<milliseconds>(b - a).count());
}

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

std::string host_port(const std::string& host, int port) {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
}

Timestamp wall_now() {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

void log(const std::string& line) {
    std::fprintf(stderr, "outpace: %s\n", line.c_str());
}

pacing::Mode pacing_mode(DialingMode m) {
    switch (m) {
        case DialingMode::predictive:
            return pacing::Mode::predictive;
        case DialingMode::progressive:
            return pacing::Mode::progressive;
        case DialingMode::power:
            return pacing::Mode::power;
        case DialingMode::preview:
            return pacing::Mode::preview;
    }
    return pacing::Mode::progressive;
}

// Final SIP responses as attempt outcomes. A trunk's own trouble (503, no response, refused
// credentials) is a carrier error: it must not burn the contact's retries.
Outcome outcome_for(int status, bool local, bool cancelled_by_us) {
    if (cancelled_by_us && status == 487) return Outcome::no_answer;
    if (local) return Outcome::carrier_error;
    switch (status) {
        case 486:
        case 600:
            return Outcome::busy;
        case 404:
        case 484:
        case 604:
            return Outcome::invalid;
        case 480:
        case 408:
        case 487:
            return Outcome::no_answer;
        case 401:
        case 407:
        case 503:
            return Outcome::carrier_error;
        default:
            return Outcome::failed;
    }
}

}  // namespace

struct Engine::Trunk {
    const TrunkConfig* config = nullptr;
    int in_progress = 0;
    std::deque<SteadyClock::time_point> recent_dials;  // the last second's
    int consecutive_errors = 0;
    SteadyClock::time_point backoff_until{};
    double tokens = 1;  // calls the rate limit allows now
    SteadyClock::time_point refilled = SteadyClock::now();
};

struct Engine::Run {
    Campaign campaign;
    std::unique_ptr<Hopper> hopper;
    std::unique_ptr<Ledger> ledger;
    pacing::PacingConfig pacing;
    std::unique_ptr<pacing::Policy> policy;
    pacing::Estimator estimator;
    Trunk* trunk = nullptr;
    std::string caller_id;
    int unattended = 0;
    amd::Config amd;
    std::vector<std::int16_t> safe_harbor, machine_message;
    std::vector<Attempt> completed;  // recorded in the ledger at the next tick, in one batch
    CampaignStatus status;
    bool store_error_logged = false;
};

struct Engine::Call {
    enum class State { ringing, analysing, waiting_for_beep, playing, hanging_up };
    sip::CallId sip = 0;
    Run* run = nullptr;
    Attempt attempt;
    int rtp_port = 0;  // reserved for the offer; bound (and owned by `rtp`) once answered
    std::unique_ptr<media::RtpSession> rtp;
    std::unique_ptr<amd::Detector> amd;
    std::unique_ptr<media::Recorder> recorder;
    State state = State::ringing;
    SteadyClock::time_point invited, answered_at;
    std::optional<milliseconds> audio_offset;  // first packet's arrival after the answer
    bool cancelled = false;
    bool rang = false;  // a provisional response (180/183) came
    const std::vector<std::int16_t>* prompt = nullptr;
    std::size_t prompt_pos = 0;
    std::array<std::int16_t, 160> frame{};  // the prompt's next 20 ms
    Outcome outcome = Outcome::none;        // decided; recorded when the call ends
};

Engine::Engine(const EngineConfig& config, Store& store, event_base* loop)
    : config_(config),
      store_(store),
      loop_(loop),
      ports_(config.rtp_first_port, config.rtp_last_port) {}

Engine::~Engine() {
    if (tick_ev_) event_free(tick_ev_);
    if (media_ev_) event_free(media_ev_);
    calls_.clear();
    sip_.reset();
}

bool Engine::start(std::vector<std::string>* errors) {
    const auto now = wall_now();
    for (const auto& t : config_.trunks) {
        auto tr = std::make_unique<Trunk>();
        tr->config = &t;
        trunks_[t.name] = std::move(tr);
    }
    auto prompt = [&](const Campaign& c, const std::string& file, const char* what,
                      std::vector<std::int16_t>& out) {
        if (file.empty()) return;
        auto audio = amd::read_audio(c.resolve_path(file));
        if (!audio.error.empty())
            errors->push_back(c.name + ": " + what + " " + file + ": " + audio.error);
        out = std::move(audio.pcm);
    };
    for (const auto& entry : config_.campaigns) {
        auto load = load_campaign_file(entry.file);
        for (const auto& e : load.errors) errors->push_back(e.to_string());
        if (!load.campaign) continue;
        auto run = std::make_unique<Run>();
        run->campaign = std::move(*load.campaign);
        const Campaign& c = run->campaign;
        run->status.name = c.name;
        run->status.state = "running";
        run->unattended = entry.unattended_lines;
        if (!c.trunk.empty()) {
            auto it = trunks_.find(c.trunk);
            if (it == trunks_.end())
                errors->push_back(c.name + ": trunk '" + c.trunk + "' is not in " +
                                  config_.source_path);
            else
                run->trunk = it->second.get();
        } else if (trunks_.size() == 1) {
            run->trunk = trunks_.begin()->second.get();
        } else {
            errors->push_back(c.name + ": the campaign names no trunk and the config has " +
                              std::to_string(trunks_.size()));
        }
        run->caller_id = !c.caller_id.empty() ? c.caller_id
                         : run->trunk         ? run->trunk->config->caller_id
                                              : "";
        if (run->caller_id.empty())
            errors->push_back(c.name +
                              ": no caller ID (campaign 'caller_id' or the trunk's): "
                              "telemarketing rules require one on every call");
        prompt(c, c.safe_harbor_prompt, "safe-harbor prompt", run->safe_harbor);
        prompt(c, c.machine_message, "voicemail message", run->machine_message);
        run->amd = amd_config(c.amd);
        run->pacing.mode = run->unattended > 0 ? pacing::Mode::progressive : pacing_mode(c.mode);
        run->pacing.power_ratio = c.power_ratio;
        run->pacing.max_abandon_rate = c.max_abandon_rate;
        run->pacing.ring_timeout_s = std::chrono::duration<double>(c.ring_timeout).count();
        run->pacing.connect_grace_s = std::chrono::duration<double>(c.connect_grace).count();
        run->pacing.min_agents_predictive = c.min_agents_predictive;
        run->pacing.max_lines_per_agent = c.max_lines_per_agent;
        if (run->trunk) {
            // The trunk's own token bucket holds its calls per second (launch()); the pacer's
            // one-second window is only a backstop against a runaway policy.
            run->pacing.max_calls_per_second = 2 * run->trunk->config->max_calls_per_second;
            run->pacing.max_trunk_calls = run->trunk->config->max_calls;
        }
        run->policy = pacing::make_policy(run->pacing);
        run->hopper = std::make_unique<Hopper>(store_, run->campaign);
        run->ledger = std::make_unique<Ledger>(store_, run->campaign);
        std::string error;
        const auto recovered = run->ledger->recover(now, &error);
        if (!error.empty()) errors->push_back(c.name + ": recovering attempts: " + error);
        if (recovered)
            log(c.name + ": " + std::to_string(recovered) +
                " attempts left in flight by a stop were recorded as lost");
        const auto report = build_report(store_, c, now);
        const auto& window =
            c.abandon_window <= Millis{86'400'000} ? report.last_24h : report.last_30d;
        run->status.window_live = static_cast<long>(window.live_answers);
        run->status.window_abandoned = static_cast<long>(window.abandoned);
        run->status.max_abandon_rate = c.max_abandon_rate;
        if (run->unattended > 0)
            log(c.name + ": " + std::to_string(run->unattended) +
                " unattended lines: live answers get the safe-harbor message and count as "
                "abandoned");
        runs_.push_back(std::move(run));
    }
    if (!errors->empty()) return false;

    // Ports of the RTP range are reserved when the INVITE leaves and bound on answer: another
    // program's outgoing socket may take one in between if the range overlaps the kernel's.
    if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
        int lo = 0, hi = 0;
        if (std::fscanf(f, "%d %d", &lo, &hi) == 2 && config_.rtp_first_port <= hi &&
            config_.rtp_last_port >= lo)
            log("warning: the RTP port range " + std::to_string(config_.rtp_first_port) + "-" +
                std::to_string(config_.rtp_last_port) + " overlaps the kernel's ephemeral ports " +
                std::to_string(lo) + "-" + std::to_string(hi) +
                ": an answered call may find its port taken");
        std::fclose(f);
    }
    std::string error;
    sip::StackConfig sc;
    sc.host = config_.sip_address;
    sc.port = config_.sip_port;
    sc.transport = config_.sip_transport;
    sip_ = sip::SipStack::create(loop_, sc, *this, &error);
    if (!sip_) {
        errors->push_back(error);
        return false;
    }
    started_ = SteadyClock::now();
    stop_at_ = started_ + config_.stop_after;
    tick_ev_ = event_new(loop_, -1, EV_PERSIST, &Engine::on_tick, this);
    const timeval tick{static_cast<time_t>(config_.tick.count() / 1000),
                       static_cast<suseconds_t>(config_.tick.count() % 1000 * 1000)};
    event_add(tick_ev_, &tick);
    media_ev_ = event_new(loop_, -1, EV_PERSIST, &Engine::on_media_tick, this);
    const timeval frame{0, 20'000};
    event_add(media_ev_, &frame);
    return true;
}

void Engine::on_tick(int, short, void* self) {
    static_cast<Engine*>(self)->tick();
}

void Engine::tick() {
    const auto now = SteadyClock::now();
    flush_completed();
    // Ring timeouts (never under 15 s: the campaign loader refuses less), and calls whose
    // analysis never ended because no audio came.
    std::vector<Call*> give_up, no_audio, hang_up_now;
    for (auto& [id, c] : calls_) {
        if (c->state == Call::State::ringing && !c->cancelled &&
            now - c->invited >= c->run->campaign.ring_timeout)
            give_up.push_back(c.get());
        if (c->state == Call::State::analysing &&
            now - c->answered_at >= c->run->amd.total_analysis_time + milliseconds(1000))
            no_audio.push_back(c.get());
        if (c->state == Call::State::waiting_for_beep &&
            now - c->answered_at >= c->run->amd.beep_timeout + milliseconds(1000))
            hang_up_now.push_back(c.get());
    }
    for (Call* c : hang_up_now) hang_up(*c);
    for (Call* c : give_up) {
        c->cancelled = true;
        sip_->cancel(c->sip);
    }
    for (Call* c : no_audio) {
        amd::Event e;
        e.verdict = amd::Verdict::unknown;
        e.cause = "no-audio";
        e.at = milliseconds(ms_between(c->answered_at, now));
        on_verdict(*c, e);
    }
    if (!stopping_ && config_.stop_after.count() > 0 && now >= stop_at_) stop();
    if (!stopping_ && config_.stop_when_done && calls_.empty() &&
        std::all_of(runs_.begin(), runs_.end(),
                    [](const auto& r) { return r->status.idle || r->status.state != "running"; })) {
        log("nothing left to dial now: stopping");
        stop();
    }
    if (stopping_) {
        if (calls_.empty()) {
            flush_completed();
            event_base_loopexit(loop_, nullptr);
        } else if (now - stop_at_ >= config_.drain_timeout) {
            std::vector<Call*> all;
            for (auto& [id, c] : calls_) all.push_back(c.get());
            for (Call* c : all) {
                if (c->state == Call::State::ringing && !c->cancelled) {
                    c->cancelled = true;
                    sip_->cancel(c->sip);
                } else if (c->state != Call::State::ringing) {
                    hang_up(*c);
                }
            }
        }
        return;
    }
    const auto wall = wall_now();
    for (auto& run : runs_)
        if (run->status.state == "running") launch(*run, wall);
}

void Engine::launch(Run& run, Timestamp now) {
    if (!run.trunk) return;
    Trunk& trunk = *run.trunk;
    const auto steady = SteadyClock::now();
    if (steady < trunk.backoff_until) return;
    while (!trunk.recent_dials.empty() && steady - trunk.recent_dials.front() >= milliseconds(1000))
        trunk.recent_dials.pop_front();

    pacing::Snapshot s;
    // Agents arrive with the agents issue; unattended lines stand in for ready agents.
    s.agents.assign(static_cast<std::size_t>(run.unattended), {pacing::AgentState::ready, 0});
    for (const auto& [id, c] : calls_) {
        if (c->run != &run) continue;
        switch (c->state) {
            case Call::State::ringing:
                s.ringing_age_s.push_back(
                    std::chrono::duration<double>(steady - c->invited).count());
                break;
            case Call::State::analysing:
                ++s.answered_pending;
                break;
            default:
                ++s.live_waiting;  // a line still busy with this call
                break;
        }
    }
    s.window_live = run.status.window_live;
    s.window_abandoned = run.status.window_abandoned;
    s.dials_last_second = static_cast<int>(trunk.recent_dials.size());
    s.trunk_in_flight = trunk.in_progress;
    const auto decision = run.policy->decide(s, run.estimator);
    int n = pacing::apply_caps(decision.calls, s, run.pacing);
    // A token bucket spreads the trunk's calls per second over the ticks instead of sending a
    // second's worth in one burst (past saturation, bursts of INVITEs turn into UDP
    // retransmissions), and holds the configured rate on average whatever the ticks' jitter.
    const double cps = trunk.config->max_calls_per_second;
    const double elapsed = std::chrono::duration<double>(steady - trunk.refilled).count();
    trunk.refilled = steady;
    const double burst =
        std::max(1.0, cps * std::chrono::duration<double>(config_.tick).count() * 2);
    trunk.tokens = std::min(burst, trunk.tokens + cps * elapsed);
    n = std::min(n, static_cast<int>(trunk.tokens));
    if (n <= 0) return;
    auto contacts = run.hopper->next(now, static_cast<std::size_t>(n));
    run.status.idle = contacts.empty() && run.status.in_progress == 0;
    if (contacts.empty()) return;
    std::string error;
    auto attempts = run.ledger->begin(contacts, now, trunk.config->name, &error);
    if (!error.empty()) {
        // Nothing was claimed and no call may leave: the ledger is the law.
        if (!run.store_error_logged) log(run.campaign.name + ": cannot record attempts: " + error);
        run.store_error_logged = true;
        return;
    }
    run.store_error_logged = false;
    trunk.tokens -= static_cast<double>(attempts.size());
    for (auto& a : attempts) originate(run, std::move(a));
}

void Engine::originate(Run& run, Attempt attempt) {
    const auto now = SteadyClock::now();
    Trunk& trunk = *run.trunk;
    auto call = std::make_unique<Call>();
    call->run = &run;
    call->attempt = std::move(attempt);
    call->invited = now;
    std::string error;
    // The port is only reserved now and bound when the call is answered: a ringing call holds
    // no socket, so tens of thousands can ring at once within the process's file limit.
    const auto port = ports_.take();
    sip::CallId id = 0;
    if (!port) {
        error = "no free RTP port in the configured range";
    } else {
        call->rtp_port = *port;
        sip::Dial d;
        d.to = "sip:" + call->attempt.phone + "@" +
               host_port(trunk.config->host, trunk.config->port) +
               (trunk.config->transport == "tcp" ? ";transport=tcp" : "");
        d.from = "sip:" + run.caller_id + "@" + host_port(config_.sip_address, config_.sip_port);
        d.sdp = media::make_offer(config_.rtp_address, *port, call->attempt.id);
        d.user = trunk.config->username;
        d.password = trunk.config->password;
        id = sip_->invite(d);
        if (!id) error = "the SIP stack refused the call";
    }
    if (!id) {
        // Our own trouble, not the contact's: completed as a carrier error, retried later.
        log(run.campaign.name + ": cannot place a call: " + error);
        call->attempt.outcome = Outcome::carrier_error;
        call->attempt.notes = error;
        call->attempt.ended_ms = unix_ms(std::chrono::system_clock::now());
        run.completed.push_back(call->attempt);
        ++run.status.carrier_errors;
        if (call->rtp_port) ports_.give(call->rtp_port);
        return;
    }
    call->sip = id;
    ++trunk.in_progress;
    trunk.recent_dials.push_back(now);
    ++run.status.dialled;
    ++run.status.in_progress;
    calls_.emplace(id, std::move(call));
}

void Engine::on_progress(sip::CallId id, int) {
    if (auto it = calls_.find(id); it != calls_.end()) it->second->rang = true;
}

void Engine::on_answered(sip::CallId id, const std::string& sdp) {
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    c.answered_at = SteadyClock::now();
    c.attempt.ring_ms = ms_between(c.invited, c.answered_at);
    ++c.run->status.answered;
    const auto remote = media::parse_answer(sdp);
    std::string error;
    c.rtp = media::RtpSession::open(loop_, config_.rtp_address, ports_, &error, c.rtp_port);
    c.rtp_port = 0;  // the session owns it now
    if (!c.rtp) {
        c.outcome = Outcome::failed;
        c.attempt.notes = "cannot open the offered RTP port: " + error;
        hang_up(c);
        return;
    }
    Call* raw = &c;
    c.rtp->on_audio([this, raw](std::span<const std::int16_t> pcm, milliseconds at) {
        on_audio(*raw, pcm, at);
    });
    if (!remote.ok() || !c.rtp->set_remote(remote)) {
        c.outcome = Outcome::failed;
        c.attempt.notes = "unusable SDP answer: " + remote.error;
        hang_up(c);
        return;
    }
    if (c.run->campaign.record_calls) {
        const auto path = c.run->campaign.resolve_path(c.run->campaign.recording_folder) + "/" +
                          c.run->campaign.name + "/" + std::to_string(c.attempt.id) + ".wav";
        c.recorder = media::Recorder::create(path, &error);
        if (!c.recorder) log(c.run->campaign.name + ": not recording: " + error);
    }
    if (c.run->campaign.amd_enabled) {
        c.amd = std::make_unique<amd::Detector>(c.run->amd);
        c.state = Call::State::analysing;
    } else {
        c.attempt.amd_verdict = "";
        connect_or_abandon(c, "human");
    }
}

void Engine::on_audio(Call& c, std::span<const std::int16_t> pcm, milliseconds at) {
    if (c.recorder && c.state != Call::State::hanging_up) c.recorder->heard(pcm);
    if (!c.amd || (c.state != Call::State::analysing && c.state != Call::State::waiting_for_beep))
        return;
    if (!c.audio_offset)
        c.audio_offset = milliseconds(ms_between(c.answered_at, SteadyClock::now()));
    const auto events = c.amd->feed(pcm, at + *c.audio_offset);
    for (const auto& e : events) {
        if (e.kind == amd::Event::Kind::verdict) {
            on_verdict(c, e);
        } else if (c.state == Call::State::waiting_for_beep) {
            // The beep ended (or the greeting did, without one): the message starts now.
            play(c, &c.run->machine_message);
        }
    }
}

void Engine::on_verdict(Call& c, const amd::Event& e) {
    if (c.state != Call::State::analysing) return;
    Run& run = *c.run;
    c.attempt.amd_verdict = amd::to_string(e.verdict);
    c.attempt.amd_ms = e.at.count();
    c.attempt.notes = e.cause;
    const double ring_s = c.attempt.ring_ms / 1000.0;
    run.estimator.amd_decided(std::chrono::duration<double>(e.at).count());
    switch (e.verdict) {
        case amd::Verdict::human:
            ++run.status.humans;
            run.estimator.dial_resolved(pacing::DialResult::live, ring_s);
            connect_or_abandon(c, "human");
            return;
        case amd::Verdict::machine:
            ++run.status.machines;
            run.estimator.dial_resolved(pacing::DialResult::machine, ring_s);
            c.outcome = Outcome::machine;
            if (run.campaign.on_machine == MachineAction::leave_message &&
                !run.machine_message.empty()) {
                c.state = Call::State::waiting_for_beep;
                if (c.amd->finished()) play(c, &run.machine_message);
            } else {
                hang_up(c);
            }
            return;
        case amd::Verdict::fax:
            ++run.status.fax;
            run.estimator.dial_resolved(pacing::DialResult::fail, ring_s);
            c.outcome = Outcome::fax;
            hang_up(c);
            return;
        case amd::Verdict::unknown:
            ++run.status.unknown;
            run.estimator.dial_resolved(pacing::DialResult::live, ring_s);
            if (run.campaign.on_unknown == AmdAction::agent) {
                connect_or_abandon(c, "unknown");
            } else {
                c.outcome = Outcome::machine;
                hang_up(c);
            }
            return;
    }
}

void Engine::connect_or_abandon(Call& c, const char*) {
    // No agents yet (the agents issue): the person hears the safe-harbor message at once, well
    // within the 2 seconds, and the call counts as abandoned.
    Run& run = *c.run;
    c.outcome = Outcome::abandoned;
    ++run.status.window_live;
    ++run.status.window_abandoned;
    if (run.safe_harbor.empty())
        hang_up(c);
    else
        play(c, &run.safe_harbor);
}

void Engine::play(Call& c, const std::vector<std::int16_t>* prompt) {
    c.prompt = prompt;
    c.prompt_pos = 0;
    c.state = Call::State::playing;
}

void Engine::on_media_tick(int, short, void* self) {
    auto* e = static_cast<Engine*>(self);
    static const std::int16_t kSilence[160] = {};
    std::vector<Call*> done;
    for (auto& [id, cp] : e->calls_) {
        Call& c = *cp;
        std::span<const std::int16_t> sent;
        if (c.state == Call::State::analysing || c.state == Call::State::waiting_for_beep) {
            sent = kSilence;  // keeps NAT bindings open while we listen
        } else if (c.state == Call::State::playing) {
            const auto& p = *c.prompt;
            if (c.prompt_pos >= p.size()) {
                done.push_back(&c);
                continue;
            }
            const std::size_t n = std::min<std::size_t>(160, p.size() - c.prompt_pos);
            std::copy_n(p.data() + c.prompt_pos, n, c.frame.begin());
            std::fill(c.frame.begin() + static_cast<std::ptrdiff_t>(n), c.frame.end(), 0);
            c.prompt_pos += n;
            sent = c.frame;
        } else {
            continue;
        }
        c.rtp->send(sent);
        if (c.recorder) c.recorder->tick(sent);
    }
    for (Call* c : done) e->hang_up(*c);
}

void Engine::hang_up(Call& c) {
    if (c.state == Call::State::hanging_up) return;
    c.state = Call::State::hanging_up;
    sip_->hangup(c.sip);
}

void Engine::on_failed(sip::CallId id, int status, const std::string& phrase, bool local) {
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    Run& run = *c.run;
    Trunk& trunk = *run.trunk;
    // nua answers an INVITE nobody responded to with a 408 of its own: without even a ringing
    // response before it, that is the trunk's silence, not the callee's.
    if (!c.rang && status == 408) local = true;
    const Outcome o = outcome_for(status, local, c.cancelled);
    if (o == Outcome::carrier_error) {
        // Back off the trunk, doubling up to a minute, instead of burning the list against it.
        if (++trunk.consecutive_errors >= 3) {
            const int doubling = std::min(6, trunk.consecutive_errors - 3);
            trunk.backoff_until = SteadyClock::now() + milliseconds(1000LL << doubling);
        }
    } else {
        trunk.consecutive_errors = 0;
    }
    const double ring_s = ms_between(c.invited, SteadyClock::now()) / 1000.0;
    if (o == Outcome::no_answer)
        run.estimator.dial_resolved(pacing::DialResult::no_answer, ring_s);
    else if (o != Outcome::carrier_error)
        run.estimator.dial_resolved(pacing::DialResult::fail, ring_s);
    c.attempt.ring_ms = ms_between(c.invited, SteadyClock::now());
    c.attempt.notes = c.rang ? phrase : phrase + " (no ringing response before it)";
    finish(c, o, status);
}

void Engine::on_ended(sip::CallId id, bool by_remote) {
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    Outcome o = c.outcome;
    if (o == Outcome::none) {
        // Hung up before a verdict: if someone spoke, they were not connected (count it).
        const bool spoke = c.amd && c.amd->heard_speech();
        o = spoke ? Outcome::abandoned : Outcome::failed;
        if (spoke) {
            ++c.run->status.window_live;
            ++c.run->status.window_abandoned;
        }
        c.attempt.notes = by_remote ? "callee hung up during analysis" : "ended during analysis";
    }
    finish(c, o, 200);
}

void Engine::finish(Call& c, Outcome o, int sip_code) {
    Run& run = *c.run;
    c.attempt.outcome = o;
    c.attempt.sip_code = sip_code;
    c.attempt.ended_ms = unix_ms(std::chrono::system_clock::now());
    run.completed.push_back(c.attempt);
    switch (o) {
        case Outcome::abandoned:
            ++run.status.abandoned;
            break;
        case Outcome::busy:
            ++run.status.busy;
            break;
        case Outcome::no_answer:
            ++run.status.no_answer;
            break;
        case Outcome::carrier_error:
            ++run.status.carrier_errors;
            break;
        case Outcome::failed:
        case Outcome::invalid:
            ++run.status.failed;
            break;
        default:
            break;
    }
    if (c.rtp_port) ports_.give(c.rtp_port);
    if (c.rtp) {
        run.status.rtp_packets += static_cast<long>(c.rtp->stats().packets_in);
        run.status.rtp_lost += static_cast<long>(c.rtp->stats().lost);
    }
    --run.status.in_progress;
    --run.trunk->in_progress;
    calls_.erase(c.sip);
}

void Engine::flush_completed() {
    const auto now = wall_now();
    for (auto& run : runs_) {
        if (run->completed.empty()) continue;
        auto st = run->ledger->complete(run->completed, now);
        if (!st.ok()) log(run->campaign.name + ": recording outcomes: " + st.error);
        run->completed.clear();
    }
}

void Engine::stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_at_ = SteadyClock::now();
    for (auto& run : runs_)
        if (run->status.state == "running") run->status.state = "stopping";
}

Engine::Run* Engine::find_run(const std::string& name) {
    for (auto& run : runs_)
        if (run->campaign.name == name) return run.get();
    return nullptr;
}

bool Engine::pause(const std::string& name) {
    Run* run = find_run(name);
    if (run && run->status.state == "running") run->status.state = "paused";
    return run != nullptr;
}

bool Engine::resume(const std::string& name) {
    Run* run = find_run(name);
    if (run && run->status.state == "paused" && !stopping_) run->status.state = "running";
    return run != nullptr;
}

bool Engine::stop_campaign(const std::string& name) {
    Run* run = find_run(name);
    if (run) run->status.state = "stopped";
    return run != nullptr;
}

std::vector<CampaignStatus> Engine::status() const {
    std::vector<CampaignStatus> out;
    for (const auto& run : runs_) out.push_back(run->status);
    return out;
}

}  // namespace outpace
