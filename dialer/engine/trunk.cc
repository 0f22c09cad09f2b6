#include "dialer/engine/trunk.h"

#include <algorithm>

namespace outpace {

int Trunk::dials_last_second(SteadyTime now) {
    while (!recent_dials_.empty() && now - recent_dials_.front() >= std::chrono::seconds(1))
        recent_dials_.pop_front();
    return static_cast<int>(recent_dials_.size());
}

int Trunk::allowance(SteadyTime now, std::chrono::milliseconds tick) {
    const double cps = config_.max_calls_per_second;
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    refilled_ = now;
    const double burst = std::max(1.0, cps * std::chrono::duration<double>(tick).count() * 2);
    tokens_ = std::min(burst, tokens_ + cps * elapsed);
    return std::max(0, std::min(static_cast<int>(tokens_),
                                config_.max_calls_per_second - dials_last_second(now)));
}

Trunk::Trunk(const TrunkConfig& config, metrics::TrunkMetrics& m, SteadyTime now)
    : config_(config), m_(m), refilled_(now), by_name_(EngineConfig::by_name(config)) {
    if (!by_name_) targets_.push_back({{config.host, config.port, config.transport, 0, 0}, {}, 0});
}

bool Trunk::has_target(SteadyTime now) const {
    return std::any_of(targets_.begin(), targets_.end(),
                       [&](const Target& t) { return now >= t.rest_until; });
}

const sip::ServerTarget* Trunk::pick_target(SteadyTime now,
                                            const std::vector<sip::ServerTarget>& tried) {
    std::vector<Target*> best;
    for (auto& t : targets_) {
        if (now < t.rest_until || std::find(tried.begin(), tried.end(), t.at) != tried.end())
            continue;
        if (!best.empty() && t.at.priority > best.front()->at.priority) continue;
        if (!best.empty() && t.at.priority < best.front()->at.priority) best.clear();
        best.push_back(&t);
    }
    if (best.empty()) return nullptr;
    // RFC 2782: weight 0 gets (almost) nothing while weighted targets are there.
    int total = 0;
    for (const auto* t : best) total += t->at.weight;
    const auto weight = [&](const Target* t) { return total > 0 ? t->at.weight : 1; };
    if (total == 0) total = static_cast<int>(best.size());
    Target* chosen = nullptr;
    for (auto* t : best) {
        t->current += weight(t);
        if (!chosen || t->current > chosen->current) chosen = t;
    }
    chosen->current -= total;
    return &chosen->at;
}

bool Trunk::has_untried_target(SteadyTime now, const std::vector<sip::ServerTarget>& tried) const {
    return std::any_of(targets_.begin(), targets_.end(), [&](const Target& t) {
        return now >= t.rest_until && std::find(tried.begin(), tried.end(), t.at) == tried.end();
    });
}

bool Trunk::address_failed(const sip::ServerTarget& target, SteadyTime now) {
    auto it = std::find_if(targets_.begin(), targets_.end(),
                           [&](const Target& t) { return t.at == target; });
    const bool another = std::any_of(targets_.begin(), targets_.end(), [&](const Target& t) {
        return !(t.at == target) && now >= t.rest_until;
    });
    if (!another) return false;
    if (it != targets_.end() && it->rest_until < now + kTargetRest)
        it->rest_until = now + kTargetRest;
    return true;
}

bool Trunk::looked_up(const sip::Located& result, SteadyTime now) {
    looking_up_ = false;
    if (!result.ok) {
        ++lookup_failures_;
        m_.dns_failures->Increment();
        next_lookup_ =
            now + std::chrono::seconds(std::min(60, 1 << std::min(6, lookup_failures_ - 1)));
        return false;
    }
    lookup_failures_ = 0;
    const auto ttl = std::clamp(result.ttl, std::chrono::seconds(1), std::chrono::seconds(3600));
    next_lookup_ = now + ttl;
    std::vector<Target> fresh;
    for (const auto& at : result.targets) {
        auto old = std::find_if(targets_.begin(), targets_.end(),
                                [&](const Target& t) { return t.at == at; });
        fresh.push_back(old == targets_.end() ? Target{at, {}, 0} : *old);
    }
    const bool changed = fresh.size() != targets_.size() ||
                         !std::equal(fresh.begin(), fresh.end(), targets_.begin(),
                                     [](const Target& a, const Target& b) { return a.at == b.at; });
    targets_ = std::move(fresh);
    return changed;
}

bool Trunk::registration_answered(int status, std::chrono::seconds granted, SteadyTime now) {
    const bool before = registered(now);
    if (status >= 200 && status < 300) {
        registered_until_ = now + granted;
        was_registered_ = true;
        register_failures_ = 0;
    } else {
        registration_ = 0;  // over in the SIP stack
        registered_until_ = {};
        was_registered_ = false;
        ++register_failures_;
        next_register_ =
            now + std::chrono::seconds(std::min(300, 5 << std::min(6, register_failures_ - 1)));
    }
    return before != registered(now);
}

void Trunk::registration_dropped(SteadyTime now) {
    registration_ = 0;
    registered_until_ = {};
    was_registered_ = false;
    next_register_ = now;
}

bool Trunk::has_room(SteadyTime now) {
    return !resting(now) && in_progress_ < config_.max_calls &&
           dials_last_second(now) < config_.max_calls_per_second;
}

void Trunk::dialled(SteadyTime now) {
    ++in_progress_;
    recent_dials_.push_back(now);
    tokens_ -= 1;
}

void Trunk::failed(SteadyTime now) {
    m_.carrier_errors->Increment();
    if (++consecutive_errors_ >= 3) {
        const int doubling = std::min(6, consecutive_errors_ - 3);
        backoff_until_ = now + std::chrono::milliseconds(1000LL << doubling);
    }
}

void Trunk::update_gauges(SteadyTime now) {
    m_.up->Set(resting(now) ? 0 : 1);
    if (config_.register_trunk) m_.registered->Set(registered(now) ? 1 : 0);
    m_.targets->Set(static_cast<double>(std::count_if(
        targets_.begin(), targets_.end(), [&](const Target& t) { return now >= t.rest_until; })));
    m_.calls->Set(in_progress_);
}

bool TrunkRoutes::all_resting(SteadyTime now) const {
    return std::all_of(routes_.begin(), routes_.end(),
                       [&](const Route& r) { return r.trunk->resting(now); });
}

int TrunkRoutes::dials_last_second(SteadyTime now) {
    int n = 0;
    for (auto& r : routes_) n += r.trunk->dials_last_second(now);
    return n;
}

int TrunkRoutes::in_progress() const {
    int n = 0;
    for (const auto& r : routes_) n += r.trunk->in_progress();
    return n;
}

int TrunkRoutes::max_calls_per_second() const {
    int n = 0;
    for (const auto& r : routes_) n += r.trunk->config().max_calls_per_second;
    return n;
}

int TrunkRoutes::max_calls() const {
    int n = 0;
    for (const auto& r : routes_) n += r.trunk->config().max_calls;
    return n;
}

int TrunkRoutes::open_budget(SteadyTime now, std::chrono::milliseconds tick) {
    budget_.clear();
    budget_open_ = true;
    int sum = 0;
    for (auto& r : routes_) {
        if (r.trunk->resting(now)) continue;
        const int room = std::max(0, r.trunk->config().max_calls - r.trunk->in_progress());
        const int n = std::min(room, r.trunk->allowance(now, tick));
        budget_[r.trunk] = n;
        sum += n;
    }
    return sum;
}

bool TrunkRoutes::matches(const TrunkRoute& rule, const std::string& number) {
    if (rule.prefixes.empty()) return true;
    return std::any_of(rule.prefixes.begin(), rule.prefixes.end(),
                       [&](const std::string& p) { return number.starts_with(p); });
}

bool TrunkRoutes::serves(const std::string& number) const {
    return std::any_of(routes_.begin(), routes_.end(),
                       [&](const Route& r) { return matches(r.rule, number); });
}

bool TrunkRoutes::could_take(const std::string& number, SteadyTime now,
                             const std::vector<const Trunk*>& tried) const {
    return std::any_of(routes_.begin(), routes_.end(), [&](const Route& r) {
        return matches(r.rule, number) && !r.trunk->resting(now) &&
               std::find(tried.begin(), tried.end(), r.trunk) == tried.end();
    });
}

Trunk* TrunkRoutes::pick(const std::string& number, SteadyTime now,
                         const std::vector<const Trunk*>& tried) {
    std::vector<Route*> usable;
    int best = 0;
    for (auto& r : routes_) {
        if (!matches(r.rule, number)) continue;
        if (std::find(tried.begin(), tried.end(), r.trunk) != tried.end()) continue;
        if (budget_open_) {
            auto b = budget_.find(r.trunk);
            if (b == budget_.end() || b->second <= 0) continue;
        } else if (!r.trunk->has_room(now)) {
            continue;
        }
        if (usable.empty() || r.rule.priority < best) {
            usable.clear();
            best = r.rule.priority;
        }
        if (r.rule.priority == best) usable.push_back(&r);
    }
    if (usable.empty()) return nullptr;
    int total = 0;
    Route* chosen = nullptr;
    for (Route* r : usable) {
        r->current += r->rule.weight;
        total += r->rule.weight;
        if (!chosen || r->current > chosen->current) chosen = r;
    }
    chosen->current -= total;
    if (budget_open_) --budget_[chosen->trunk];
    return chosen->trunk;
}

}  // namespace outpace
