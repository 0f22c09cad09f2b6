#include "pacing/simulator.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <queue>

namespace outpace::pacing {
namespace {

enum class Ev {
    tick,
    answered,
    failed,
    timeout,
    amd_done,
    grace_over,
    talk_end,
    wrap_end,
    preview_ready,
    change,
    restart
};

struct Event {
    double t;
    std::uint64_t seq;
    Ev type;
    std::size_t id;
    bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

enum class Kind { live, machine, fail, no_answer };

struct Call {
    double dial_t = 0, answer_t = 0, verdict_t = 0, resolved_t = -1;
    Kind kind = Kind::no_answer;
    std::size_t ringing_slot = SIZE_MAX;  // index in the ringing list while ringing
    bool waiting = false, done = false, abandoned = false;
    int agent = -1;
    double talk_s = 0, wrap_s = 0;
    long contact = -1;     // a finite list's contact
    std::size_t camp = 0;  // the campaign that dialled it
};

struct Agent {
    AgentState state = AgentState::ready;
    double since = 0;
    bool logged_in = true, leaving = false;
    double talk_s = 0;
    std::size_t call = SIZE_MAX;  // the call it talks on or wraps up
    std::size_t camp = 0;         // the campaign whose pacer counts it (its next work)
};

struct Hour {
    long live = 0, abandoned = 0;
};

// One campaign: its pacer, what it learnt, its calls and its counts. A team serves one, or two
// (Scenario::second) with each agent counted by one campaign's pacer at a time.
struct Camp {
    std::unique_ptr<Policy> policy;
    Estimator est;
    double live = 0, machine = 0, fail = 0, share = 1;
    std::vector<std::size_t> ringing;
    std::deque<std::size_t> waiting;
    int answered_pending = 0, live_waiting = 0;
    long dials = 0, dials_at_last_tick = 0, live_answers = 0, abandoned = 0;
    long false_positives = 0, machines = 0, fails = 0, no_answers = 0;
    double fp_carry = 0;  // Ofcom: estimated AMD false positives not yet counted
    std::vector<Hour> hours;
};

class Sim {
  public:
    explicit Sim(const Scenario& s) : sc_(s), rng_(s.seed) {
        const std::size_t hours = static_cast<std::size_t>(std::ceil(s.duration_s / 3600)) + 1;
        camps_.resize(s.second ? 2 : 1);
        for (std::size_t k = 0; k < camps_.size(); ++k) {
            Camp& c = camps_[k];
            c.policy = make_policy(s.pacing);
            c.hours.resize(hours);
            const bool first = k == 0;
            c.live = first ? s.live_rate : s.second->live_rate;
            c.machine = first ? s.machine_rate : s.second->machine_rate;
            c.fail = first ? s.fail_rate : s.second->fail_rate;
            c.share = first ? s.share : s.second->share;
        }
        for (int i = 0; i < s.agents; ++i) add_agent(0);
        for (std::size_t i = 0; i < s.changes.size(); ++i) push(s.changes[i].at_s, Ev::change, i);
        if (s.restart_at_s > 0) push(s.restart_at_s, Ev::restart, 0);
        open_contacts_ = s.contacts;
        for (long i = 0; i < s.contacts; ++i) queue_.push_back(i);
        attempts_.assign(static_cast<std::size_t>(std::max(0L, s.contacts)), 0);
        push(0, Ev::tick, 0);
    }

    SimResult run() {
        while (!events_.empty()) {
            Event e = events_.top();
            if (e.t > sc_.duration_s || list_done_ >= 0) break;
            events_.pop();
            advance(e.t);
            handle(e);
        }
        advance(list_done_ >= 0 ? now_ : sc_.duration_s);
        return finish();
    }

  private:
    void push(double t, Ev type, std::size_t id) { events_.push({t, seq_++, type, id}); }

    // Integrates logged-in and busy time up to t.
    void advance(double t) {
        const double dt = t - now_;
        if (dt > 0) {
            logged_in_s_ += dt * logged_in_;
            busy_s_ += dt * busy_;
            talk_time_s_ += dt * talking_;
            const auto i = static_cast<std::size_t>(now_ / kSliceS);
            if (i >= slices_.size()) slices_.resize(i + 1);
            slices_[i].logged_in += dt * logged_in_;
            slices_[i].busy += dt * busy_;
        }
        now_ = t;
    }

    void set_state(Agent& a, AgentState s) {
        auto weight = [](AgentState st, int& busy, int& talk, int d) {
            if (st == AgentState::talking || st == AgentState::wrapup) busy += d;
            if (st == AgentState::talking) talk += d;
        };
        weight(a.state, busy_, talking_, -1);
        a.state = s;
        a.since = now_;
        weight(a.state, busy_, talking_, +1);
    }

    void add_agent(double t) {
        agents_.push_back({AgentState::ready, t, true, false, 0});
        ++logged_in_;
        assign(agents_.size() - 1);
        became_ready(agents_.size() - 1);
    }

    // The agent's next work: the campaign with the fewest agents for its share (as the engine's
    // AgentPool::assign).
    void assign(std::size_t agent) {
        if (camps_.size() == 1) return;
        std::vector<long> counted(camps_.size(), 0);
        for (std::size_t i = 0; i < agents_.size(); ++i)
            if (i != agent && agents_[i].logged_in) ++counted[agents_[i].camp];
        std::size_t best = 0;
        for (std::size_t k = 1; k < camps_.size(); ++k)
            if ((counted[k] + 1) / camps_[k].share < (counted[best] + 1) / camps_[best].share)
                best = k;
        agents_[agent].camp = best;
    }

    void became_ready(std::size_t i) {
        Agent& a = agents_[i];
        if (a.leaving) {
            a.logged_in = false;
            --logged_in_;
            set_state(a, AgentState::paused);
            return;
        }
        set_state(a, AgentState::ready);
        // A live answer already waiting takes this agent at once: its own campaign's first.
        for (std::size_t n = 0; n < camps_.size(); ++n) {
            Camp& k = camps_[(a.camp + n) % camps_.size()];
            while (!k.waiting.empty()) {
                std::size_t c = k.waiting.front();
                k.waiting.pop_front();
                if (calls_[c].waiting) {
                    calls_[c].waiting = false;
                    --k.live_waiting;
                    connect(c, i);
                    return;
                }
            }
        }
        if (sc_.pacing.mode == Mode::preview) push(now_ + sc_.preview_time_s, Ev::preview_ready, i);
    }

    // `machine`: an agent leaves a message on a machine (on_machine: agent).
    void connect(std::size_t call, std::size_t agent, bool machine = false) {
        Agent& a = agents_[agent];
        waits_.push_back(now_ - a.since);
        set_state(a, AgentState::talking);
        a.talk_s = (machine ? sc_.machine_message : sc_.talk).sample(rng_);
        a.call = call;
        push(now_ + a.talk_s, Ev::talk_end, agent);
        calls_[call].done = true;
        calls_[call].agent = static_cast<int>(agent);
        calls_[call].talk_s = a.talk_s;
        ++connects_;
        assign(agent);
    }

    // A finite list: the contact's call ended without a conversation (`person`: with one).
    void contact_resolved(std::size_t call, bool person) {
        const long k = calls_[call].contact;
        if (k < 0) return;
        const auto i = static_cast<std::size_t>(k);
        if (!person && (sc_.max_attempts == 0 || attempts_[i] < sc_.max_attempts)) {
            queue_.push_back(k);
            return;
        }
        contacts_reached_ += person;
        if (--open_contacts_ == 0) list_done_ = now_;
    }

    void dial(std::size_t camp) {
        Camp& k = camps_[camp];
        Call c;
        c.dial_t = now_;
        c.camp = camp;
        if (sc_.contacts > 0) {
            if (queue_.empty()) return;  // every contact left is in a call
            c.contact = queue_.front();
            queue_.pop_front();
            ++attempts_[static_cast<std::size_t>(c.contact)];
        }
        const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
        const double ring = sc_.pacing.ring_timeout_s;
        std::size_t id = calls_.size();
        if (u < k.live || u < k.live + k.machine) {
            c.kind = u < k.live ? Kind::live : Kind::machine;
            const double d =
                (c.kind == Kind::live ? sc_.live_answer_delay : sc_.machine_answer_delay)
                    .sample(rng_);
            if (d < ring) {
                push(now_ + d, Ev::answered, id);
            } else {
                c.kind = Kind::no_answer;
                push(now_ + ring, Ev::timeout, id);
            }
        } else if (u < k.live + k.machine + k.fail) {
            c.kind = Kind::fail;
            push(now_ + std::min(ring, sc_.fail_delay.sample(rng_)), Ev::failed, id);
        } else {
            c.kind = Kind::no_answer;
            push(now_ + ring, Ev::timeout, id);
        }
        c.ringing_slot = k.ringing.size();
        k.ringing.push_back(id);
        calls_.push_back(c);
        ++k.dials;
    }

    void stop_ringing(std::size_t id) {
        auto& ringing = camps_[calls_[id].camp].ringing;
        std::size_t slot = calls_[id].ringing_slot;
        std::size_t last = ringing.back();
        ringing[slot] = last;
        calls_[last].ringing_slot = slot;
        ringing.pop_back();
        calls_[id].ringing_slot = SIZE_MAX;
        calls_[id].resolved_t = now_;
    }

    // The longest-ready agent campaign `camp`'s pacer counted, else any ready one (SIZE_MAX:
    // none).
    std::size_t ready_agent(std::size_t camp) const {
        std::size_t best = SIZE_MAX;
        for (std::size_t i = 0; i < agents_.size(); ++i) {
            const Agent& a = agents_[i];
            if (!a.logged_in || a.state != AgentState::ready) continue;
            const bool ours = a.camp == camp;
            const bool best_ours = best != SIZE_MAX && agents_[best].camp == camp;
            if (best == SIZE_MAX || (ours && !best_ours) ||
                (ours == best_ours && a.since < agents_[best].since))
                best = i;
        }
        return best;
    }

    std::size_t hour() const {
        return std::min(camps_[0].hours.size() - 1, static_cast<std::size_t>(now_ / 3600));
    }

    void handle(const Event& e) {
        // The campaign of the event's call (events about agents and ticks carry no call).
        const bool about_call = e.type == Ev::answered || e.type == Ev::failed ||
                                e.type == Ev::timeout || e.type == Ev::amd_done ||
                                e.type == Ev::grace_over;
        Camp& k = camps_[about_call ? calls_[e.id].camp : 0];
        switch (e.type) {
            case Ev::tick:
                return tick();
            case Ev::answered: {
                Call& c = calls_[e.id];
                stop_ringing(e.id);
                c.answer_t = now_;
                k.est.dial_resolved(c.kind == Kind::live ? DialResult::live : DialResult::machine,
                                    now_ - c.dial_t);
                ++k.answered_pending;
                push(now_ + sc_.amd_decision.sample(rng_), Ev::amd_done, e.id);
                return;
            }
            case Ev::failed:
                stop_ringing(e.id);
                k.est.dial_resolved(DialResult::fail, now_ - calls_[e.id].dial_t);
                ++k.fails;
                contact_resolved(e.id, false);
                return;
            case Ev::timeout:
                stop_ringing(e.id);
                k.est.dial_resolved(DialResult::no_answer, now_ - calls_[e.id].dial_t);
                if (now_ - calls_[e.id].dial_t < 15 - 1e-9) ++ring_short_;
                ++k.no_answers;
                contact_resolved(e.id, false);
                return;
            case Ev::amd_done: {
                Call& c = calls_[e.id];
                --k.answered_pending;
                k.est.amd_decided(now_ - c.answer_t);
                c.verdict_t = now_;
                contact_resolved(e.id, c.kind == Kind::live);
                if (c.kind == Kind::machine) {
                    ++k.machines;
                    // Ofcom: whole estimated false positives count as abandoned live answers.
                    for (k.fp_carry += sc_.amd_false_positive_rate; k.fp_carry >= 1;
                         k.fp_carry -= 1) {
                        ++k.live_answers, ++k.abandoned, ++k.false_positives;
                        ++k.hours[hour()].live, ++k.hours[hour()].abandoned;
                    }
                    // on_machine: agent. A ready agent leaves the message; none: released.
                    if (sc_.machines_to_agents)
                        if (const auto best = ready_agent(c.camp); best != SIZE_MAX) {
                            ++machines_to_agents_;
                            connect(e.id, best, true);
                        }
                    return;
                }
                ++k.live_answers;
                ++k.hours[hour()].live;
                const std::size_t best = ready_agent(c.camp);
                if (best != SIZE_MAX) return connect(e.id, best);
                c.waiting = true;
                k.waiting.push_back(e.id);
                ++k.live_waiting;
                push(now_ + sc_.pacing.connect_grace_s, Ev::grace_over, e.id);
                return;
            }
            case Ev::grace_over: {
                Call& c = calls_[e.id];
                if (!c.waiting) return;  // connected in time
                c.waiting = false;
                c.abandoned = true;
                --k.live_waiting;
                ++k.abandoned;
                ++k.hours[std::min(k.hours.size() - 1,
                                   static_cast<std::size_t>(c.verdict_t / 3600))]
                      .abandoned;
                return;
            }
            case Ev::talk_end: {
                Agent& a = agents_[e.id];
                set_state(a, AgentState::wrapup);
                const double wrap = sc_.wrap.sample(rng_);
                camps_[a.call < calls_.size() ? calls_[a.call].camp : 0].est.handled(a.talk_s,
                                                                                     wrap);
                if (a.call < calls_.size()) calls_[a.call].wrap_s = wrap;
                push(now_ + wrap, Ev::wrap_end, e.id);
                return;
            }
            case Ev::wrap_end:
                return became_ready(e.id);
            case Ev::preview_ready:
                if (agents_[e.id].logged_in && agents_[e.id].state == AgentState::ready &&
                    now_ - agents_[e.id].since >= sc_.preview_time_s - 1e-9)
                    ++preview_requests_;
                return;
            case Ev::change:
                return change(sc_.changes[e.id]);
            case Ev::restart:
                return restart();
        }
    }

    void change(const ScenarioChange& ch) {
        if (ch.live_rate) camps_[0].live = *ch.live_rate;
        if (ch.machine_rate) camps_[0].machine = *ch.machine_rate;
        if (ch.fail_rate) camps_[0].fail = *ch.fail_rate;
        if (ch.agents) {
            int delta = *ch.agents - logged_in_;
            for (; delta > 0; --delta) add_agent(now_);
            // Fewer agents: ready ones log out now, busy ones after their wrap-up.
            for (auto& a : agents_) {
                if (delta >= 0) break;
                if (a.logged_in && !a.leaving && a.state == AgentState::ready) {
                    a.logged_in = false;
                    --logged_in_;
                    set_state(a, AgentState::paused);
                    ++delta;
                }
            }
            for (auto& a : agents_) {
                if (delta >= 0) break;
                if (a.logged_in && !a.leaving) a.leaving = true, ++delta;
            }
        }
    }

    void restart() {
        for (Camp& k : camps_) {
            const std::string saved = k.est.save();
            const auto calibration = k.policy->calibration();
            k.est = Estimator();
            k.policy = make_policy(sc_.pacing);
            if (!sc_.warm_restart) continue;
            k.est.restore(saved);
            if (calibration) k.policy->restore(*calibration);
        }
    }

    void tick() {
        // Each campaign's snapshot, its vectors' memory kept from tick to tick.
        auto& snaps = snaps_;
        snaps.resize(camps_.size());
        int in_flight = 0;
        for (std::size_t k = 0; k < camps_.size(); ++k) {
            Camp& c = camps_[k];
            Snapshot& s = snaps[k];
            auto agents = std::move(s.agents);
            auto ages = std::move(s.ringing_age_s);
            agents.clear();
            ages.clear();
            s = Snapshot{};
            s.agents = std::move(agents);
            s.ringing_age_s = std::move(ages);
            s.agents.reserve(agents_.size());
            for (const auto& a : agents_)
                if (a.logged_in && a.camp == k)
                    s.agents.push_back(
                        {a.leaving ? AgentState::reserved : a.state, now_ - a.since});
            s.ringing_age_s.reserve(c.ringing.size());
            for (std::size_t id : c.ringing) s.ringing_age_s.push_back(now_ - calls_[id].dial_t);
            s.answered_pending = c.answered_pending;
            s.live_waiting = c.live_waiting;
            if (k == 0) s.preview_requests = preview_requests_;
            s.window_live = c.live_answers;  // a simulated run lies inside one regulatory window
            s.window_abandoned = c.abandoned;
            s.dials_last_second = static_cast<int>(c.dials - c.dials_at_last_tick);
            s.trunk_in_flight = s.in_flight();
            c.dials_at_last_tick = c.dials;
            in_flight += s.in_flight();
        }
        peak_lines_ = std::max(peak_lines_, in_flight + talking_);
        for (std::size_t k = 0; k < camps_.size(); ++k) {
            Decision d = camps_[k].policy->decide(snaps[k], camps_[k].est);
            const int n = apply_caps(d.calls, snaps[k], sc_.pacing);
            if (k == 0 && sc_.pacing.mode == Mode::preview)
                preview_requests_ = std::max(0, preview_requests_ - n);
            for (int i = 0; i < n; ++i) dial(k);
        }
        ++decisions_;
        push(now_ + 1.0, Ev::tick, 0);
    }

    SimResult finish() {
        SimResult r;
        r.policy = sc_.pacing.mode == Mode::predictive    ? "predictive"
                   : sc_.pacing.mode == Mode::progressive ? "progressive"
                   : sc_.pacing.mode == Mode::power       ? "power"
                   : sc_.pacing.mode == Mode::survey      ? "survey"
                                                          : "preview";
        r.occupancy = logged_in_s_ > 0 ? busy_s_ / logged_in_s_ : 0;
        r.talk_occupancy = logged_in_s_ > 0 ? talk_time_s_ / logged_in_s_ : 0;
        for (const Camp& k : camps_) {
            r.live_answers += k.live_answers;
            r.abandoned += k.abandoned;
            r.estimated_false_positives += k.false_positives;
            r.dials += k.dials;
            r.machines += k.machines;
            r.fails += k.fails;
            r.no_answers += k.no_answers;
        }
        r.abandon_rate = r.live_answers ? double(r.abandoned) / double(r.live_answers) : 0;
        if (!waits_.empty()) {
            double sum = 0;
            for (double w : waits_) sum += w;
            r.agent_wait_mean_s = sum / waits_.size();
            std::sort(waits_.begin(), waits_.end());
            r.agent_wait_p95_s = waits_[std::min(waits_.size() - 1, waits_.size() * 95 / 100)];
        }
        r.logged_in_agent_hours = logged_in_s_ / 3600;
        r.connects_per_agent_hour =
            r.logged_in_agent_hours > 0 ? connects_ / r.logged_in_agent_hours : 0;
        r.ring_short_of_15s = ring_short_;
        r.peak_lines = peak_lines_;
        r.machines_to_agents = machines_to_agents_;
        r.list_done_s = list_done_;
        r.contacts_reached = contacts_reached_;
        r.decisions = decisions_;
        if (sc_.record_calls) {
            r.calls.reserve(calls_.size());
            for (const Call& c : calls_) {
                // Still ringing, or answered and not yet judged, at the end: in flight.
                if (c.resolved_t < 0) continue;
                if ((c.kind == Kind::live || c.kind == Kind::machine) && c.verdict_t <= 0) continue;
                SimCall out;
                out.dial_s = c.dial_t;
                out.resolved_s = c.resolved_t;
                out.result = c.kind == Kind::live      ? DialResult::live
                             : c.kind == Kind::machine ? DialResult::machine
                             : c.kind == Kind::fail    ? DialResult::fail
                                                       : DialResult::no_answer;
                if (c.kind == Kind::live || c.kind == Kind::machine) out.verdict_s = c.verdict_t;
                out.abandoned = c.abandoned;
                out.agent = c.agent;
                out.talk_s = c.talk_s;
                out.wrap_s = c.wrap_s;
                r.calls.push_back(out);
            }
        }
        for (const auto& sl : slices_)
            r.occupancy_by_slice.push_back(sl.logged_in > 0 ? sl.busy / sl.logged_in : 0);
        // Hourly checks of trailing windows, each campaign's own: the worst 24 h, and how often
        // the campaign's window was over the cap.
        const std::size_t hours = static_cast<std::size_t>(std::ceil(sc_.duration_s / 3600));
        const std::size_t window_h =
            static_cast<std::size_t>(std::llround(sc_.abandon_window_s / 3600));
        for (const Camp& k : camps_) {
            CampaignFigures f;
            f.dials = k.dials;
            f.live_answers = k.live_answers;
            f.abandoned = k.abandoned;
            f.abandon_rate = k.live_answers ? double(k.abandoned) / double(k.live_answers) : 0;
            for (std::size_t h = 1; h <= hours && h <= k.hours.size(); ++h) {
                auto rate_over = [&](std::size_t span) {
                    long live = 0, ab = 0;
                    for (std::size_t i = h > span ? h - span : 0; i < h; ++i)
                        live += k.hours[i].live, ab += k.hours[i].abandoned;
                    return live ? double(ab) / double(live) : 0.0;
                };
                f.max_window_abandon_rate = std::max(f.max_window_abandon_rate, rate_over(24));
                if (rate_over(window_h) > sc_.pacing.max_abandon_rate + 1e-12) ++f.windows_over_cap;
            }
            r.max_window_abandon_rate =
                std::max(r.max_window_abandon_rate, f.max_window_abandon_rate);
            r.windows_over_cap += f.windows_over_cap;
            r.campaigns.push_back(f);
        }
        return r;
    }

    const Scenario& sc_;
    Rng rng_;
    std::vector<Camp> camps_;
    std::vector<Snapshot> snaps_;
    std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
    std::uint64_t seq_ = 0;
    double now_ = 0;
    std::vector<Agent> agents_;
    std::vector<Call> calls_;
    std::vector<double> waits_;
    static constexpr double kSliceS = 300;
    struct Slice {
        double logged_in = 0, busy = 0;
    };
    std::vector<Slice> slices_;
    int logged_in_ = 0, busy_ = 0, talking_ = 0;
    int preview_requests_ = 0;
    long connects_ = 0;
    std::deque<long> queue_;     // a finite list: contacts to dial, in order
    std::vector<int> attempts_;  // a finite list: attempts by contact
    long open_contacts_ = 0, contacts_reached_ = 0;
    double list_done_ = -1;
    int peak_lines_ = 0;
    long ring_short_ = 0, decisions_ = 0, machines_to_agents_ = 0;
    double logged_in_s_ = 0, busy_s_ = 0, talk_time_s_ = 0;
};

}  // namespace

SimResult simulate(const Scenario& scenario) {
    return Sim(scenario).run();
}

}  // namespace outpace::pacing
