#include "dialer/engine/engine.h"

#include <event2/event.h>
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "answering-detect/audio_file.h"
#include "campaigns/campaign_loader.h"
#include "dialer/engine/amd_settings.h"
#include "dialer/engine/engine_parts.h"

namespace outpace {
namespace {

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

}  // namespace

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
        tr->m = &metrics_.trunk(t.name);
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
        if (c.ivr_survey()) {
            run->ivr_survey = true;
            for (const auto& q : c.survey_questions) {
                run->survey_prompts.emplace_back();
                prompt(c, q.prompt, "survey prompt", run->survey_prompts.back());
            }
            prompt(c, c.survey_invalid_prompt, "survey invalid-input prompt", run->survey_invalid);
            prompt(c, c.survey_closing_prompt, "survey closing prompt", run->survey_closing);
            if (run->unattended > 0)
                errors->push_back(c.name +
                                  ": an IVR survey's capacity is 'survey.lines' in the campaign "
                                  "file, not unattended_lines");
        }
        run->amd = amd_config(c.amd);
        run->pacing.mode = run->ivr_survey       ? pacing::Mode::survey
                           : run->unattended > 0 ? pacing::Mode::progressive
                                                 : pacing_mode(c.mode);
        run->pacing.survey_lines = c.survey_lines;
        if (run->ivr_survey) run->status.survey_lines = c.survey_lines;
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
            engine_log(
                c.name + ": " + std::to_string(recovered) +
                " attempts left in flight by a stop were recovered (lost, unless a person had "
                "already been abandoned or connected)");
        // The window as the report computes it from the ledger; from here on it rolls.
        run->window = std::make_unique<RollingAbandonWindow>(c.abandon_window <= Millis{86'400'000}
                                                                 ? Millis{86'400'000}
                                                                 : Millis{30LL * 86'400'000});
        run->window->seed(store_, c, unix_ms(std::chrono::system_clock::now()));
        refresh_window(*run);
        run->status.max_abandon_rate = c.max_abandon_rate;
        run->m = &metrics_.campaign(c.name, c.abandon_window <= Millis{86'400'000} ? "24h" : "30d");
        run->m->abandon_cap->Set(c.max_abandon_rate);
        if (run->unattended > 0)
            engine_log(c.name + ": " + std::to_string(run->unattended) +
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
            engine_log("warning: the RTP port range " + std::to_string(config_.rtp_first_port) +
                       "-" + std::to_string(config_.rtp_last_port) +
                       " overlaps the kernel's ephemeral ports " + std::to_string(lo) + "-" +
                       std::to_string(hi) + ": an answered call may find its port taken");
        std::fclose(f);
    }
    std::string error;
    sip::StackConfig sc;
    sc.host = config_.sip_address;
    sc.port = config_.sip_port;
    sc.transport = config_.sip_transport;
    sc.trusted = [this](const std::string& ip) { return trusted_source(ip); };
    sip_ = sip::SipStack::create(loop_, sc, *this, &error);
    if (!sip_) {
        errors->push_back(error);
        return false;
    }
    refresh_sip_peers();
    if (!config_.metrics.empty() && !metrics_.serve(config_.metrics, &error)) {
        errors->push_back(error);
        return false;
    }
    if (!config_.agents.endpoint.empty()) {
        agent_channel_ = AgentChannel::start(
            loop_, config_.agents.endpoint, config_.agents.events, config_.curve,
            [this](const std::string& peer, const std::string& key, const AgentRequest& r) {
                on_agent_request(peer, key, r);
            },
            &error);
        if (!agent_channel_) {
            errors->push_back(error);
            return false;
        }
    }
    // A store that is nearly full will stall dialling soon: say so now.
    if (const auto free = store_.free_bytes(); free > 0 && free < (1ULL << 30))
        engine_log("warning: only " + std::to_string(free >> 20) + " MiB free on " +
                   config_.data_dir + ": dialling stalls when the store cannot write");
    metrics_.store_free_bytes().Set(static_cast<double>(store_.free_bytes()));
    phone_networks_ = config_.agents.phone_networks.empty()
                          ? default_phone_networks(config_.sip_address)
                          : config_.agents.phone_networks;
    for (const auto& t : config_.trunks) trunk_addresses_.push_back({t.host, t.port});
    max_agents_ =
        config_.agents.max_logged_in > 0
            ? static_cast<std::size_t>(config_.agents.max_logged_in)
            : static_cast<std::size_t>(config_.rtp_last_port - config_.rtp_first_port + 1) / 2;
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
    update_gauges();
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
        c->ended_by = "engine";
        sip_->cancel(c->sip);
    }
    for (Call* c : no_audio) {
        if (c->rtp && c->rtp->stats().packets_in == 0) {
            // Answered and not one RTP packet since: the media path is broken (the trunk's or
            // ours), not the callee's doing. Nobody can be heard or connected; the contact keeps
            // its attempt and the trunk's error count moves toward a backoff.
            c->outcome = Outcome::carrier_error;
            c->attempt.notes = "answered, but no RTP came";
            carrier_failed(*c->run->trunk);
            hang_up(*c);
            continue;
        }
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
        engine_log("nothing left to dial now: stopping");
        stop();
    }
    if (stopping_) {
        // Agents in wrap-up may still send their dispositions within the drain timeout.
        const bool wrapping = std::any_of(agents_.begin(), agents_.end(),
                                          [](const auto& a) { return a.second->wrap.has_value(); });
        if (calls_.empty() && (!wrapping || now - stop_at_ >= config_.drain_timeout)) {
            std::vector<Agent*> all;
            for (auto& [id, a] : agents_) all.push_back(a.get());
            for (Agent* a : all) {
                if (a->wrap) {
                    a->want_logout = true;
                    complete_wrapup(*a, "", "engine stopped during wrap-up", 0);
                } else {
                    agent_logout(*a, "engine stopped");
                }
            }
            flush_completed(true);
            if (!store_stall_.ok()) {
                std::size_t held = 0;
                for (const auto& run : runs_) held += run->completed.size();
                engine_log("stopping with " + std::to_string(held) +
                           " outcomes the store could not write (" + store_stall_.error +
                           "): their attempts stay in flight and are recovered at the next start");
            }
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
    for (auto& run : runs_) {
        refresh_window(*run);  // the window rolls: old abandons leave it
        if (run->status.state == "running") launch(*run, wall);
    }
}

void Engine::launch(Run& run, Timestamp now) {
    if (!run.trunk) return;
    if (!store_stall_.ok()) return;  // no call leaves that the ledger cannot record
    Trunk& trunk = *run.trunk;
    const auto steady = SteadyClock::now();
    if (steady < trunk.backoff_until) return;
    while (!trunk.recent_dials.empty() && steady - trunk.recent_dials.front() >= milliseconds(1000))
        trunk.recent_dials.pop_front();

    // Preview: agents dial themselves ('next', then 'dial').
    if (run.campaign.mode == DialingMode::preview && run.unattended == 0) return;
    pacing::Snapshot s;
    // Unattended lines stand in for ready agents; otherwise the agents serving the campaign.
    // IVR surveys need no agents: their lines are the capacity (pacing::Mode::survey).
    if (run.unattended > 0)
        s.agents.assign(static_cast<std::size_t>(run.unattended), {pacing::AgentState::ready, 0});
    else if (!run.ivr_survey)
        fill_agent_view(run, s);
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
            case Call::State::waiting_for_agent:
                ++s.live_waiting;
                break;
            default:
                // Unattended: a line still busy with this call. With agents, a connected call
                // is an agent talking (in the agents' view) and the rest need no agent.
                if (c->in_survey)
                    ++s.sessions;
                else if (run.unattended > 0)
                    ++s.live_waiting;
                break;
        }
    }
    s.window_live = run.status.window_live;
    s.window_abandoned = run.status.window_abandoned;
    s.dials_last_second = static_cast<int>(trunk.recent_dials.size());
    s.trunk_in_flight = trunk.in_progress;
    const auto decision = run.policy->decide(s, run.estimator);
    int n = pacing::apply_caps(decision.calls, s, run.pacing);
    run.last_decision = decision;
    run.m->pacing_target->Set(n);
    int staffed = 0;
    for (const auto& a : s.agents) staffed += a.state != pacing::AgentState::paused;
    run.m->pacing_lines_per_agent->Set(staffed ? double(s.in_flight()) / staffed : 0);
    run.m->pacing_live_rate->Set(run.estimator.live_rate());
    run.m->pacing_expected_free_agents->Set(decision.expected_free_agents);
    run.m->pacing_abandon_target->Set(decision.target_abandon);
    run.m->pacing_calibration->Set(decision.calibration);
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
    // The bucket's burst let one call more than the rate into some one-second windows (9
    // INVITEs within 0.998 s on an 8/s trunk): no second ever holds more than the rate.
    n = std::min(n, static_cast<int>(cps) - static_cast<int>(trunk.recent_dials.size()));
    if (n <= 0) {
        // Nobody to dial for now (no agent free): once a second, see whether anyone is left at
        // all, so that stop_when_done can tell "waiting for agents" from "done".
        if (config_.stop_when_done && steady - run.idle_checked >= milliseconds(1000)) {
            run.idle_checked = steady;
            run.status.idle = run.status.in_progress == 0 && run.hopper->next(now, 1).empty();
        }
        return;
    }
    auto contacts = run.hopper->next(now, static_cast<std::size_t>(n));
    run.status.idle = contacts.empty() && run.status.in_progress == 0;
    if (contacts.empty()) return;
    std::string error;
    const auto write_start = SteadyClock::now();
    auto attempts = run.ledger->begin(contacts, now, trunk.config->name, &error,
                                      unix_ms(std::chrono::system_clock::now()));
    metrics_.store_write(true).Observe(
        std::chrono::duration<double>(SteadyClock::now() - write_start).count());
    if (!error.empty()) {
        // Nothing was claimed and no call may leave: the ledger is the law.
        Status st;
        st.error = error;
        st.io = true;
        st.no_space = error.rfind("no space left", 0) == 0;
        store_failed(st);
        return;
    }
    trunk.tokens -= static_cast<double>(attempts.size());
    for (auto& a : attempts) originate(run, std::move(a));
}

void Engine::flush_completed(bool retry_now) {
    const auto now = wall_now();
    const auto steady = SteadyClock::now();
    if (!store_stall_.ok()) {
        if (!retry_now && steady < store_retry_at_) return;
        store_retry_at_ = steady + milliseconds(1000);
        if (!store_.resume().ok()) return;
    }
    bool written = true;
    // A batch the store could not write stays for the next try; one the ledger refused (an
    // attempt completed twice) is logged and dropped, as retrying cannot help it.
    auto keep = [&](const Status& st, Run& run, const char* what) {
        if (st.ok()) return false;
        if (st.io) {
            store_failed(st);
            written = false;
            return true;
        }
        engine_log(run.campaign.name + ": " + what + ": " + st.error);
        return false;
    };
    for (auto& run : runs_) {
        if (!run->progress.empty()) {
            // First: an attempt may also be among those completed below.
            if (keep(run->ledger->progress(run->progress), *run, "recording progress")) break;
            run->progress.clear();
        }
        if (run->completed.empty()) continue;
        const auto write_start = SteadyClock::now();
        auto st = run->ledger->complete(run->completed, now);
        metrics_.store_write(false).Observe(
            std::chrono::duration<double>(SteadyClock::now() - write_start).count());
        if (keep(st, *run, "recording outcomes")) break;
        run->completed.clear();
    }
    if (written && !store_stall_.ok()) {
        engine_log("the store writes again after " +
                   std::to_string(ms_between(store_stalled_at_, steady) / 1000) +
                   " s: outcomes held meanwhile are recorded, dialling resumes");
        store_stall_ = {};
        metrics_.store_stalled().Set(0);
    }
}

void Engine::store_failed(const Status& st) {
    if (!store_stall_.ok()) {
        store_stall_ = st;
        return;
    }
    store_stall_ = st;
    store_stalled_at_ = SteadyClock::now();
    store_retry_at_ = store_stalled_at_ + milliseconds(1000);
    metrics_.store_stalled().Set(1);
    engine_log("dialling stalled: " + st.error +
               ". Outcomes are held in memory and written when the store can write again; "
               "no call is placed until then");
}

void Engine::stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_at_ = SteadyClock::now();
    for (auto& run : runs_)
        if (run->status.state == "running") run->status.state = "stopping";
}

// The SIP peers the engine talks to: its trunks, and the softphones of the agents logged in.
std::vector<std::string> Engine::sip_peers() const {
    std::vector<std::string> out;
    for (const auto& t : config_.trunks) out.push_back(t.host);
    for (const auto& [id, a] : agents_)
        if (auto host = sip_uri_host(a->phone)) out.push_back(*host);
    return out;
}

bool Engine::trusted_source(const std::string& ip) const {
    const auto peers = sip_peers();
    return std::find(peers.begin(), peers.end(), ip) != peers.end();
}

void Engine::refresh_sip_peers() {
    if (sip_ && !sip_->set_peers(sip_peers()) && !sip_filter_warned_) {
        sip_filter_warned_ = true;
        engine_log(
            "warning: no socket filter on the SIP port (IPv6 or TCP): requests from "
            "strangers reach the SIP stack");
    }
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

// Gauges: twice a second for what moves with calls; contacts every 15 s, counted up to a bound so
// that a huge list never stalls the loop.
void Engine::update_gauges() {
    const auto now = SteadyClock::now();
    if (now - gauges_at_ < milliseconds(500)) return;
    gauges_at_ = now;
    const bool contacts = now - contacts_at_ >= std::chrono::seconds(15);
    if (contacts) {
        contacts_at_ = now;
        // A burst of SIP from strangers (each request a Sofia transaction kept 32 s) leaves
        // hundreds of MB free in malloc's arenas but held by the process: give it back.
        ::malloc_trim(0);
        metrics_.store_free_bytes().Set(static_cast<double>(store_.free_bytes()));
    }
    const auto wall = wall_now();
    for (const auto& run : runs_) {
        const CampaignStatus& s = run->status;
        auto& m = *run->m;
        m.in_progress->Set(static_cast<double>(s.in_progress));
        m.survey_sessions->Set(static_cast<double>(s.surveys));
        m.waiting->Set(static_cast<double>(s.waiting));
        m.abandon_rate->Set(s.window_abandon_rate());
        const auto agents = agent_counts(*run);
        for (std::size_t i = 0; i < agents.size(); ++i)
            m.agents[i]->Set(static_cast<double>(agents[i]));
        if (contacts) {
            m.hopper_dialable->Set(static_cast<double>(run->hopper->next(wall, 1000).size()));
            // Pending contacts from the due index, counted up to 100,000.
            std::size_t pending = 0;
            for (const auto& zones : store_.zone_groups(run->campaign.name))
                for (auto c = store_.due_cursor(run->campaign.name, zones,
                                                std::numeric_limits<std::int64_t>::max());
                     c->valid() && pending < 100'000; c->next())
                    ++pending;
            m.contacts_pending->Set(static_cast<double>(pending + s.in_progress));
        }
    }
    if (contacts) {
        const auto mem = store_.memory();
        metrics_.store_memory()[0]->Set(static_cast<double>(mem.memtables));
        metrics_.store_memory()[1]->Set(static_cast<double>(mem.block_cache));
        metrics_.store_memory()[2]->Set(static_cast<double>(mem.table_readers));
    }
    for (auto& [name, trunk] : trunks_) {
        trunk->m->up->Set(now < trunk->backoff_until ? 0 : 1);
        trunk->m->calls->Set(trunk->in_progress);
    }
    metrics_.agents_logged_in().Set(static_cast<double>(agents_.size()));
}

void Engine::count_live(Run& run) {
    run.window->add(unix_ms(std::chrono::system_clock::now()), {.live = true});
    refresh_window(run);
    run.m->live_answers->Increment();
}

void Engine::count_abandoned(Run& run) {
    run.window->add(unix_ms(std::chrono::system_clock::now()), {.abandoned = true});
    refresh_window(run);
    run.m->abandoned->Increment();
}

void Engine::count_machine_release(Run& run) {
    run.window->add(unix_ms(std::chrono::system_clock::now()), {.machine = true});
    refresh_window(run);
}

void Engine::refresh_window(Run& run) {
    RollingAbandonWindow& w = *run.window;
    w.roll(unix_ms(std::chrono::system_clock::now()));
    // Ofcom: the estimated false positives among the window's machine releases, in whole calls.
    const auto estimated = run.campaign.count_amd_false_positives
                               ? static_cast<std::int64_t>(static_cast<double>(w.machines()) *
                                                           run.campaign.amd_false_positive_rate)
                               : 0;
    run.status.window_live = static_cast<long>(w.live_answers() + estimated);
    run.status.window_abandoned = static_cast<long>(w.abandoned() + estimated);
}

}  // namespace outpace
