// The engine: its start (SIP, trunks, the agents' channel, the media workers, calls fitted to the
// open-file limit), the tick that decides what each campaign dials, the calls' SIP events, drain
// and status. (Its other parts: engine_manage.cc, the manager's operations while it dials;
// engine_store.cc, outcomes to the store; engine_media.cc, its media; engine_trunks.cc, trunks.)
#include "dialer/engine/engine.h"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <unordered_set>

#include "campaigns/campaign_loader.h"
#include "dialer/engine/engine_util.h"
#include "dialer/engine/tls_folder.h"

namespace outpace {

Engine::Engine(const EngineConfig& config, Store& store, EngineEnv& env)
    : config_(config),
      store_(store),
      env_(env),
      ports_(config.rtp_first_port, config.rtp_last_port),
      recordings_(media::RecordingWriter::kDefaultMaxFrames, [this] { recording_dropped(); }),
      agents_(config_, *this, env, store, ports_, metrics_) {}

Engine::~Engine() {
    // Whatever the ledger's writer still has of ours is written before any of it goes.
    env_.write_ledger_now([] {});
    tick_timer_.reset();
    media_timer_.reset();
    calls_.clear();
    // The SIP stack's shutdown may still report on softphone legs: it goes while the agents
    // (declared after it) are alive.
    sip_.reset();
    agents_.attach(nullptr, channel_.get());
}

bool Engine::start(std::vector<std::string>* errors) {
    const auto t = now();
    for (const auto& tc : config_.trunks)
        trunks_[tc.name] = std::make_unique<Trunk>(tc, metrics_.trunk(tc.name), t);
    for (const auto& entry : config_.campaigns) {
        // In a cluster, a campaign of another engine's client is refused before it is loaded
        // (loading recovers its attempts in flight).
        if (!config_.cluster_engine.empty())
            if (const auto peek = load_campaign_file(entry.file); peek.campaign) {
                const auto why =
                    cluster_refusal(config_, peek.campaign->name, peek.campaign->client);
                if (!why.empty()) {
                    errors->push_back(entry.file + ": " + why);
                    continue;
                }
            }
        if (auto run =
                CampaignRun::load(entry, config_, trunks_, store_, metrics_, env_.clock(), errors))
            runs_.push_back(std::move(run));
    }
    if (!errors->empty()) return false;
    seed_caller_id_usage();
    if (std::any_of(config_.trunks.begin(), config_.trunks.end(), EngineConfig::by_name)) {
        std::string error;
        dns_ = env_.open_dns(config_.dns, &error);
        if (!dns_) {
            errors->push_back(error);
            return false;
        }
    }

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
    if (!load_agents(errors)) return false;
    std::string error;
    sip::StackConfig sc;
    sc.host = config_.sip_address;
    sc.port = config_.sip_port;
    sc.transport = config_.sip_transport;
    sc.tcp_too = std::any_of(config_.trunks.begin(), config_.trunks.end(),
                             [](const TrunkConfig& t) { return t.transport == "tcp"; });
    sc.response_timeout = config_.sip_response_timeout;
    // Sofia reads TLS's key, certificate and CAs from a folder under fixed names, once, when it
    // binds: a private folder of links to the configured files, gone once the stack is up.
    std::optional<TlsFolder> tls_folder;
    if (config_.sip_tls.port) {
        tls_folder.emplace(config_.sip_tls.certificate, config_.sip_tls.ca_file, &error);
        if (!error.empty()) {
            errors->push_back("sip.tls: " + error);
            return false;
        }
        sc.tls.port = config_.sip_tls.port;
        sc.tls.folder = tls_folder->path();
        sc.tls.verify = config_.sip_tls.verify;
    }
    sc.trusted = [this](const std::string& ip) { return trusted_source(ip); };
    if (!config_.sip_proxies.empty())
        sc.proxy = [this](const std::string& ip, int port) {
            return std::any_of(config_.sip_proxies.begin(), config_.sip_proxies.end(),
                               [&](const auto& p) { return p.ip == ip && p.port == port; });
        };
    if (registrar_)
        sc.on_register = [this](const sip::RegisterRequest& r) { return registrar_->handle(r); };
    sip_ = env_.open_sip(sc, *this, &error);
    tls_folder.reset();
    if (!sip_) {
        errors->push_back(error);
        return false;
    }
    call_context_.reset(
        new CallContext{config_, env_, *sip_, ports_, recordings_, metrics_, *this});
    refresh_sip_peers();
    look_up_trunks();
    register_trunks();
    if (!config_.metrics.empty() && !metrics_.serve(config_.metrics, &error)) {
        errors->push_back(error);
        return false;
    }
    if (!config_.agents.endpoint.empty()) {
        channel_ = env_.open_agent_channel(
            config_.agents.endpoint, config_.agents.events, config_.curve,
            [this](const std::string& peer, const std::string& key, const AgentRequest& r) {
                agents_.request(peer, key, r);
            },
            &error);
        if (!channel_) {
            errors->push_back(error);
            return false;
        }
    }
    agents_.attach(sip_.get(), channel_.get());
    start_media();
    // What the process has open now (SIP, ZeroMQ, the store, the workers) stays open; calls'
    // sockets and recordings share what is left of the open-file limit.
    file_limit_ = media::raise_open_file_limit();
    other_files_ = media::open_files();
    if (!fit_calls_to_files(errors)) return false;
    // A store that is nearly full will stall dialling soon: say so now.
    if (const auto free = store_.free_bytes(); free > 0 && free < (1ULL << 30))
        engine_log("warning: only " + std::to_string(free >> 20) + " MiB free on " +
                   config_.data_dir + ": dialling stalls when the store cannot write");
    metrics_.store_free_bytes().Set(static_cast<double>(store_.free_bytes()));
    started_ = now();
    stop_at_ = started_ + config_.stop_after;
    tick_timer_ = env_.clock().every(config_.tick, [this] { tick(); });
    media_timer_ = env_.clock().every(std::chrono::milliseconds(20), [this] { media_tick(); });
    if (!tick_timer_ || !media_timer_) {
        errors->push_back("cannot arm the engine's timers on the event loop");
        return false;
    }
    return true;
}

// Every RTP port in use may be a socket (an answered call, early media, an agent's leg) and a
// recorded call holds its WAV open too: no more calls than the open-file limit leaves room for,
// with a margin for connections (control, desktops, SIP over TCP), so that the store, SIP and
// ZeroMQ always find a file (libzmq aborts when it cannot accept a connection for want of one).
// Dialling waits for a free port (launch()); with the systemd unit's LimitNOFILE the range is
// the only limit.
bool Engine::fit_calls_to_files(std::vector<std::string>* errors) {
    if (file_limit_ == 0) return true;
    const std::size_t margin = std::clamp<std::size_t>(file_limit_ / 8, 64, 1024);
    const bool records = std::any_of(runs_.begin(), runs_.end(),
                                     [](const auto& r) { return r->campaign().record_calls; });
    const std::size_t room =
        file_limit_ > other_files_ + margin ? file_limit_ - other_files_ - margin : 0;
    const std::size_t calls = room / (records ? 2 : 1);
    if (calls >= ports_.size()) {
        ports_.limit(SIZE_MAX);
        return true;
    }
    const std::string why = "the open-file limit (" + std::to_string(file_limit_) + ", " +
                            std::to_string(other_files_) + " open at start" +
                            (records ? ", a recorded call takes two" : "") + ")";
    if (calls == 0) {
        const std::string no_room =
            why + " leaves no room for calls: raise LimitNOFILE (ulimit -n)";
        if (errors)
            errors->push_back(no_room);
        else
            engine_log("warning: " + no_room + "; the limit stays as it was");
        return false;
    }
    ports_.limit(calls);
    engine_log("warning: " + why + " allows " + std::to_string(calls) +
               " calls at once, fewer than the " + std::to_string(ports_.size()) +
               " ports of rtp.ports: dialling waits for room; raise LimitNOFILE (ulimit -n) "
               "for more");
    return true;
}

// The agents file: accounts for desktop logins and, for softphones that register, the
// registrar. Without one the engine runs in lab mode, and says so.
bool Engine::load_agents(std::vector<std::string>* errors) {
    if (config_.agents.accounts.empty()) {
        if (!config_.agents.endpoint.empty())
            engine_log(
                "warning: no agents file (agents.accounts): any desktop may log in as any agent "
                "with any phone (lab mode; docs/agents.md)");
        return true;
    }
    auto load = load_agent_directory(config_.agents.accounts);
    if (!load.directory) {
        for (const auto& e : load.errors) errors->push_back(e.to_string());
        return false;
    }
    std::map<std::string, std::string> ha1;
    for (const auto& [id, a] : load.directory->accounts)
        if (!a.sip_ha1.empty()) ha1[id] = a.sip_ha1;
    if (!registrar_ || directory_->realm != load.directory->realm) {
        registrar_ = std::make_unique<Registrar>(config_.agents.registration, load.directory->realm,
                                                 env_.clock(), metrics_);
        registrar_->on_change = [this](const std::string& agent) {
            refresh_sip_peers();
            if (!agent.empty()) agents_.registration_changed(agent);
        };
    }
    directory_ = std::move(load.directory);
    registrar_->set_accounts(ha1);
    engine_log("agents file " + config_.agents.accounts + ": " +
               std::to_string(directory_->accounts.size()) + " agents, " +
               std::to_string(ha1.size()) + " with registering softphones");
    return true;
}

void Engine::tick() {
    const auto t = now();
    look_up_trunks();
    register_trunks();
    flush_completed();
    update_gauges();
    // Ring timeouts, analysis that never ended, beeps that never came. By id: a call may end.
    std::vector<sip::CallId> ids;
    ids.reserve(calls_.size());
    for (const auto& [id, c] : calls_) ids.push_back(id);
    for (auto id : ids) {
        Call* c = find_call(id);
        if (!c) continue;
        if (!c->waiting_for_trunk()) {
            c->check_timeouts();
            continue;
        }
        // Moved off a failing trunk, waiting for room on another: before any new call.
        if (const Outcome o = c->retry_trunk(); o != Outcome::none)
            finish(*c, o, c->trunk_failure_code());
        else if (c->id() != id)
            rekey(id);
    }
    if (!stopping_ && config_.stop_after.count() > 0 && t >= stop_at_) stop();
    if (!stopping_ && config_.stop_when_done && calls_.empty() &&
        std::all_of(runs_.begin(), runs_.end(),
                    [](const auto& r) { return r->status().idle || !r->running(); })) {
        engine_log("nothing left to dial now: stopping");
        stop();
    }
    if (stopping_) {
        drain(t);
        return;
    }
    save_pacing(false);
    count_contacts_left(t);
    // Agents shared between campaigns: who has contacts to dial (checked once a second each),
    // then which campaign's pacer counts each agent.
    if (runs_.size() > 1)
        for (auto& run : runs_)
            if (run->running()) run->check_idle(t, env_.clock().wall_s());
    agents_.apportion();
    const auto wall = env_.clock().wall_ms();
    for (auto& run : runs_) {
        run->refresh_window(wall);  // the window rolls: old abandons leave it
        if (run->running()) launch(*run);
    }
}

void Engine::count_contacts_left(SteadyTime t) {
    if (counting_contacts_ || t < next_contacts_count_) return;
    next_contacts_count_ = t + std::chrono::seconds(60);
    std::vector<std::string> names;
    for (const auto& run : runs_) names.push_back(run->name());
    auto counts = std::make_shared<std::vector<std::size_t>>();
    counting_contacts_ = env_.off_loop(
        [store = &store_, names, counts] {
            for (const auto& name : names)
                counts->push_back(store->pending_contacts(name, 1u << 30));
            return true;
        },
        [this, names, counts](bool) {
            counting_contacts_ = false;
            for (std::size_t i = 0; i < names.size() && i < counts->size(); ++i)
                if (CampaignRun* run = find_run(names[i]))
                    run->status().contacts_left = static_cast<long>((*counts)[i]);
        });
}

// Stopping: agents in wrap-up may still send their dispositions within the drain timeout; calls
// still up after it are ended. Then everyone is logged out, the ledger flushed, and the loop ends.
void Engine::drain(SteadyTime t) {
    const bool beginning =
        std::any_of(runs_.begin(), runs_.end(), [](const auto& r) { return r->beginning(); });
    if (calls_.empty() && !beginning && !writing_held_ &&
        (!agents_.wrapping() || t - stop_at_ >= config_.drain_timeout)) {
        if (media_workers_)
            engine_log("media: " + std::to_string(media_workers_->lent) +
                       (media_workers_->lent == 1 ? " conversation was" : " conversations were") +
                       " relayed by media workers (" + std::to_string(media_workers_->size()) +
                       "); " + std::to_string(media_workers_->listens) +
                       (media_workers_->listens == 1 ? " answer was" : " answers were") +
                       " listened to there (answering-machine detection)");
        agents_.log_everyone_out();
        // The last outcomes, waited for: the loop ends after this.
        take_held();
        Status written;
        env_.write_ledger_now([&] { written = write_held(); });
        held_written(written);
        save_pacing(true);
        if (!store_stall_.ok()) {
            std::size_t held = 0;
            for (const auto& run : runs_) held += run->held();
            engine_log("stopping with " + std::to_string(held) +
                       " outcomes the store could not write (" + store_stall_.error +
                       "): their attempts stay in flight and are recovered at the next start");
        }
        env_.finished();
    } else if (t - stop_at_ >= config_.drain_timeout) {
        for (auto& [id, c] : calls_) c->end("");
    }
}

void Engine::launch(CampaignRun& run) {
    TrunkRoutes& trunks = run.routes();
    if (trunks.empty() || !store_stall_.ok()) return;  // no call leaves unrecorded
    if (run.beginning()) return;                       // its last batch is still being written
    const auto t = now();
    if (trunks.all_resting(t)) return;
    // Preview: agents dial themselves ('next', then 'dial').
    if (run.preview()) return;
    pacing::Snapshot s;
    // Unattended lines stand in for ready agents; otherwise the agents serving the campaign.
    // IVR surveys need no agents: their lines are the capacity (pacing::Mode::survey).
    if (run.unattended() > 0)
        s.agents.assign(static_cast<std::size_t>(run.unattended()), {pacing::AgentState::ready, 0});
    else if (!run.ivr_survey())
        agents_.fill_view(run, s);
    for (const auto& [id, c] : calls_) {
        if (&c->run() != &run) continue;
        switch (c->state()) {
            case Call::State::ringing:
                s.ringing_age_s.push_back(seconds_between(c->invited(), t));
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
                if (c->in_survey())
                    ++s.sessions;
                else if (run.unattended() > 0)
                    ++s.live_waiting;
                break;
        }
    }
    s.dials_last_second = trunks.dials_last_second(t);
    s.trunk_in_flight = trunks.in_progress();
    // No more calls than the caller-ID pool may still show today (its daily limit).
    // Nor more than there are RTP ports (and files) for: a call that could not be placed would
    // spend the contact's attempt on our own shortage.
    const int wanted = std::min(run.plan(s, trunks.open_budget(t, config_.tick)),
                                run.caller_ids_left(env_.clock().wall_ms()));
    const std::size_t room = ports_.free() - std::min(ports_.free(), ports_promised_);
    const int n = std::min(
        wanted, static_cast<int>(std::min<std::size_t>(room, std::numeric_limits<int>::max())));
    if (wanted > 0 && room == 0 &&
        (ports_waited_ == SteadyTime{} || t - ports_waited_ >= std::chrono::seconds(60))) {
        // Said at most once a minute: why a campaign that wants calls places none.
        ports_waited_ = t;
        engine_log(run.name() + ": dialling waits: " + std::to_string(ports_.in_use()) +
                   " RTP ports in use, all that rtp.ports and the open-file limit allow; calls "
                   "leave as others end");
    }
    // Each call of this launch takes from its trunk's share of the tick's allowance.
    struct CloseBudget {
        TrunkRoutes& r;
        ~CloseBudget() { r.close_budget(); }
    } close{trunks};
    const auto wall = env_.clock().wall_s();
    if (n <= 0) {
        // Nobody to dial for now (no agent free): once a second, see whether anyone is left at
        // all, so that stop_when_done can tell "waiting for agents" from "done".
        if (config_.stop_when_done) run.check_idle(t, wall);
        return;
    }
    auto contacts = run.hopper().next(wall, static_cast<std::size_t>(n));
    run.status().idle = contacts.empty() && run.status().in_progress == 0;
    if (contacts.empty()) return;
    // The batch is written (synced) on the ledger's writer, off the loop; its calls leave once it
    // is durable, and not before: a crash in between finds the attempts in flight, as before.
    // The trunk is chosen per call once the number is (a contact's next number may differ).
    struct Begin {
        std::vector<Contact> contacts;
        Result<std::vector<Attempt>> begun;
    };
    auto job = std::make_shared<Begin>();
    job->contacts = std::move(contacts);
    run.set_beginning(true);
    ports_promised_ += job->contacts.size();
    env_.write_ledger(
        [job, ledger = &run.ledger(), metrics = &metrics_, wall, ms = env_.clock().wall_ms()] {
            const auto write_start = std::chrono::steady_clock::now();
            job->begun = ledger->begin(job->contacts, wall, "", ms);
            metrics->store_write(true).Observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - write_start)
                    .count());
        },
        [this, alive = std::weak_ptr<int>(alive_), job, run = &run] {
            if (alive.expired()) return;
            run->set_beginning(false);
            ports_promised_ -= std::min(ports_promised_, job->contacts.size());
            if (!job->begun.ok()) {
                // Nothing was claimed and no call may leave: the ledger is the law.
                store_failed(job->begun.status);
                return;
            }
            for (auto& a : job->begun.value) place_call(*run, std::move(a));
        });
}

Call* Engine::place_call(CampaignRun& run, Attempt attempt) {
    std::string error;
    auto call = Call::place(*call_context_, run, attempt, &error);
    if (!call) {
        // Our own trouble, not the contact's: completed as a carrier error, retried later.
        engine_log(run.name() + ": cannot place a call: " + error);
        attempt.outcome = Outcome::carrier_error;
        attempt.notes = error;
        attempt.ended_ms = env_.clock().wall_ms();
        run.completed(std::move(attempt));
        ++run.status().carrier_errors;
        return nullptr;
    }
    run.metrics().dials->Increment();
    ++run.status().dialled;
    ++run.status().in_progress;
    Call* raw = call.get();
    calls_.emplace(call->id(), std::move(call));
    return raw;
}

Call* Engine::find_call(sip::CallId id) {
    auto it = calls_.find(id);
    return it == calls_.end() ? nullptr : it->second.get();
}

CampaignRun* Engine::find_run(const std::string& name) {
    for (auto& run : runs_)
        if (run->name() == name) return run.get();
    return nullptr;
}

std::vector<CampaignRun*> Engine::runs() {
    std::vector<CampaignRun*> out;
    for (auto& run : runs_) out.push_back(run.get());
    return out;
}

// ---- SIP events --------------------------------------------------------------------------------

void Engine::on_progress(sip::CallId id, int) {
    if (Call* c = find_call(id)) c->progress();
}

void Engine::on_early_media(sip::CallId id, const std::string& sdp) {
    if (Call* c = find_call(id)) c->early_media(sdp);
}

void Engine::on_answered(sip::CallId id, const std::string& sdp) {
    if (agents_.leg_answered(id, sdp)) return;
    if (Call* c = find_call(id))
        c->answered(sdp);
    else
        sip_->hangup(id);  // an agent logged out while its softphone was still ringing
}

void Engine::on_failed(sip::CallId id, const sip::Failure& f) {
    if (agents_.leg_failed(id, f.status, f.phrase)) return;
    if (Call* c = find_call(id)) {
        const Outcome o = c->failed(f);
        if (o == Outcome::none)
            rekey(id);  // on the next trunk now
        else
            finish(*c, o, f.status);
    }
}

void Engine::rekey(sip::CallId old) {
    auto node = calls_.extract(old);
    node.key() = node.mapped()->id();
    calls_.insert(std::move(node));
}

void Engine::on_ended(sip::CallId id, bool by_remote) {
    if (agents_.leg_ended(id)) return;
    if (Call* c = find_call(id)) finish(*c, c->ended(by_remote), 200);
}

// The call's end: counted by the call itself; the attempt goes to its agent's wrap-up (a
// conversation) or to the ledger's next batch.
void Engine::finish(Call& c, Outcome o, int sip_code) {
    c.finish(o, sip_code);
    if (!agents_.call_ended(c, o, sip_code)) c.run().completed(c.attempt());
    calls_.erase(c.id());
}

// ---- Control -----------------------------------------------------------------------------------

void Engine::stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_at_ = now();
    for (auto& run : runs_)
        if (run->running()) run->set_state(CampaignState::stopping);
}

std::vector<CampaignStatus> Engine::status() const {
    std::vector<CampaignStatus> out;
    for (const auto& run : runs_) {
        CampaignStatus s = run->status();
        s.state = to_string(run->state());
        if (!store_stall_.ok() && run->running())
            s.state = store_stall_.no_space ? "stalled: disk full" : "stalled: store error";
        else if (run->running() && run->caller_ids_left(env_.clock().wall_ms()) <= 0)
            s.state = "waiting: every caller ID has reached its daily limit";
        const auto n = agents_.counts(*run);
        auto count = [&](AgentState st) { return n[static_cast<std::size_t>(st)]; };
        s.agents_ready = count(AgentState::ready);
        s.agents_talking = count(AgentState::talking) + count(AgentState::reserved);
        s.agents_wrapup = count(AgentState::wrapup);
        s.agents_paused = count(AgentState::paused) + count(AgentState::connecting);
        s.heard_ms_median = run->heard_percentile(0.5);
        s.heard_ms_p99 = run->heard_percentile(0.99);
        out.push_back(s);
    }
    return out;
}

// ---- SIP peers and gauges ----------------------------------------------------------------------

// The SIP peers the engine talks to: its trunks (each address of one named by host name), and
// the softphones of the agents logged in.
std::vector<std::string> Engine::sip_peers() const {
    std::vector<std::string> out;
    for (const auto& [name, trunk] : trunks_)
        for (const auto& target : trunk->targets()) out.push_back(target.at.ip);
    for (auto& host : agents_.phone_hosts()) out.push_back(std::move(host));
    if (registrar_)
        for (auto& host : registrar_->sources()) out.push_back(std::move(host));
    for (const auto& p : config_.sip_proxies) out.push_back(p.ip);
    return out;
}

bool Engine::trusted_source(const std::string& ip) const {
    const auto peers = sip_peers();
    return std::find(peers.begin(), peers.end(), ip) != peers.end();
}

void Engine::refresh_sip_peers() {
    // With registering softphones, requests from where they may be (agents.phone_networks) get
    // through too; sources locked out for bad credentials never do (a trunk is never locked).
    std::vector<std::string> networks, banned;
    if (registrar_) {
        for (const auto& n : config_.agents.phone_networks.empty()
                                 ? default_phone_networks(config_.sip_address)
                                 : config_.agents.phone_networks)
            networks.push_back(n.text.find('/') == std::string::npos ? n.text + "/32" : n.text);
        for (auto& ip : registrar_->locked_out())
            if (std::none_of(trunks_.begin(), trunks_.end(), [&](const auto& t) {
                    const auto& targets = t.second->targets();
                    return std::any_of(targets.begin(), targets.end(),
                                       [&](const auto& x) { return x.at.ip == ip; });
                }))
                banned.push_back(std::move(ip));
    }
    if (sip_ && !sip_->set_peers(sip_peers(), networks, banned) && !sip_filter_warned_) {
        sip_filter_warned_ = true;
        engine_log(
            "warning: no socket filter on the SIP port (IPv6 or TCP): requests from "
            "strangers reach the SIP stack");
    }
}

// Gauges: twice a second for what moves with calls; contacts every 15 s, counted up to a bound so
// that a huge list never stalls the loop.
void Engine::update_gauges() {
    const auto t = now();
    if (t - gauges_at_ < std::chrono::milliseconds(500)) return;
    gauges_at_ = t;
    const bool contacts = t - contacts_at_ >= std::chrono::seconds(15);
    if (contacts) {
        contacts_at_ = t;
        // A burst of SIP from strangers (each request a Sofia transaction kept 32 s) leaves
        // hundreds of MB free in malloc's arenas but held by the process: give it back.
        ::malloc_trim(0);
        metrics_.store_free_bytes().Set(static_cast<double>(store_.free_bytes()));
    }
    const auto wall = env_.clock().wall_s();
    for (const auto& run : runs_) {
        const CampaignStatus& s = run->status();
        auto& m = run->metrics();
        m.in_progress->Set(static_cast<double>(s.in_progress));
        m.survey_sessions->Set(static_cast<double>(s.surveys));
        m.waiting->Set(static_cast<double>(s.waiting));
        m.abandon_rate->Set(s.window_abandon_rate());
        const auto agents = agents_.counts(*run);
        for (std::size_t i = 0; i < agents.size(); ++i)
            m.agents[i]->Set(static_cast<double>(agents[i]));
        if (contacts) {
            m.hopper_dialable->Set(static_cast<double>(run->hopper().next(wall, 1000).size()));
            // Pending contacts from the due index, counted up to 100,000.
            std::size_t pending = 0;
            for (const auto& zones : store_.zone_groups(run->name()))
                for (auto c = store_.due_cursor(run->name(), zones,
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
    for (auto& [name, trunk] : trunks_) trunk->update_gauges(t);
    metrics_.agents_logged_in().Set(static_cast<double>(agents_.size()));
}

}  // namespace outpace
