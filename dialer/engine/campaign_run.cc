#include "dialer/engine/campaign_run.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <yaml-cpp/yaml.h>
#include "answering-detect/audio_file.h"

#include "campaigns/campaign_loader.h"
#include "dialer/engine/amd_settings.h"
#include "dialer/engine/engine_util.h"
#include "dialer/engine/pacing_memory.h"

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

constexpr Millis kDay{86'400'000};

}  // namespace

const char* to_string(CampaignState s) {
    switch (s) {
        case CampaignState::running:
            return "running";
        case CampaignState::paused:
            return "paused";
        case CampaignState::stopping:
            return "stopping";
        case CampaignState::stopped:
            return "stopped";
    }
    return "?";
}

std::unique_ptr<CampaignRun> CampaignRun::load(
    const CampaignEntry& entry, const EngineConfig& config,
    std::map<std::string, std::unique_ptr<Trunk>>& trunks, Store& store, metrics::Metrics& metrics,
    const Clock& clock, std::vector<std::string>* errors) {
    auto load = load_campaign_file(entry.file);
    for (const auto& e : load.errors) errors->push_back(e.to_string());
    if (!load.campaign) return nullptr;
    // The store keeps the definition this engine runs: reports judge by the same rules (caps,
    // hours, dispositions) even when the file has changed since the list was imported.
    std::unique_ptr<CampaignRun> run(new CampaignRun);
    run->entry_ = entry;
    run->yaml_ = read_text(entry.file);
    {
        std::error_code ec;
        const auto path = std::filesystem::absolute(entry.file, ec).string();
        if (auto st = store.save_campaign(load.campaign->name,
                                          {ec ? entry.file : path, run->yaml_, "engine"});
            !st.ok())
            errors->push_back(load.campaign->name + ": " + st.error);
    }
    run->campaign_ = std::move(*load.campaign);
    const Campaign& c = run->campaign_;
    run->status_.name = c.name;
    run->unattended_ = entry.unattended_lines;
    std::vector<TrunkRoute> wanted = c.trunks;
    if (wanted.empty()) {
        if (trunks.size() == 1) {
            TrunkRoute only;
            only.name = trunks.begin()->first;
            wanted.push_back(only);
        } else {
            errors->push_back(c.name + ": the campaign names no trunk and the config has " +
                              std::to_string(trunks.size()));
        }
    }
    for (const auto& w : wanted) {
        auto it = trunks.find(w.name);
        if (it == trunks.end()) {
            errors->push_back(c.name + ": trunk '" + w.name + "' is not in " + config.source_path);
            continue;
        }
        run->routes_.add(*it->second, w);
    }
    run->check_caller_ids(c, errors);
    run->read_prompts(errors);
    run->configure_pacing();
    run->warm_start(store, clock.wall_ms());
    run->hopper_ = std::make_unique<Hopper>(store, run->campaign_);
    run->ledger_ = std::make_unique<Ledger>(store, run->campaign_);
    const auto recovered = run->ledger_->recover(clock.wall_s());
    if (!recovered.ok())
        errors->push_back(c.name + ": recovering attempts: " + recovered.status.error);
    else if (recovered.value)
        engine_log(c.name + ": " + std::to_string(recovered.value) +
                   " attempts left in flight by a stop were recovered (lost, unless a person had "
                   "already been abandoned or connected)");
    // The window as the report computes it from the ledger; from here on it rolls.
    const bool day = c.abandon_window <= kDay;
    run->window_ = std::make_unique<RollingAbandonWindow>(day ? kDay : Millis{30 * kDay.count()});
    run->window_->seed(store, c, clock.wall_ms());
    run->refresh_window(clock.wall_ms());
    run->status_.max_abandon_rate = c.max_abandon_rate;
    run->m_ = &metrics.campaign(c.name, day ? "24h" : "30d");
    run->m_->abandon_cap->Set(c.max_abandon_rate);
    if (run->unattended_ > 0)
        engine_log(c.name + ": " + std::to_string(run->unattended_) +
                   " unattended lines: live answers get the safe-harbor message and count as "
                   "abandoned");
    return run;
}

// What a customer on hold hears without a campaign's hold prompt: a soft two-note chime every
// four seconds (never dead air, which sounds like a dropped call).
std::vector<std::int16_t> default_hold_music() {
    constexpr int kRate = 8000;
    std::vector<std::int16_t> pcm(4 * kRate, 0);
    auto note = [&](int start_ms, int length_ms, double hz) {
        const int first = start_ms * kRate / 1000, n = length_ms * kRate / 1000;
        for (int i = 0; i < n; ++i) {
            const double t = static_cast<double>(i) / kRate;
            // 10 ms attack, then a gentle decay: no clicks.
            const double envelope = std::min(1.0, i / 80.0) * std::exp(-3.0 * i / n);
            pcm[static_cast<std::size_t>(first + i)] =
                static_cast<std::int16_t>(4000 * envelope * std::sin(2 * M_PI * hz * t));
        }
    };
    note(0, 400, 659.25);    // E5
    note(450, 600, 523.25);  // C5
    return pcm;
}

// The campaign's audio: safe harbor, voicemail message, an IVR survey's prompts.
void CampaignRun::read_prompts(std::vector<std::string>* errors) {
    const Campaign& c = campaign_;
    auto prompt = [&](const std::string& file, const char* what, std::vector<std::int16_t>& out) {
        if (file.empty()) return;
        auto audio = amd::read_audio(c.resolve_path(file));
        if (!audio.error.empty())
            errors->push_back(c.name + ": " + what + " " + file + ": " + audio.error);
        out = std::move(audio.pcm);
    };
    Prompts& p = *prompts_;
    prompt(c.safe_harbor_prompt, "safe-harbor prompt", p.safe_harbor);
    prompt(c.machine_message, "voicemail message", p.machine_message);
    prompt(c.hold_prompt, "hold prompt", p.hold);
    if (p.hold.empty()) p.hold = default_hold_music();
    if (c.ivr_survey()) {
        ivr_survey_ = true;
        for (const auto& q : c.survey_questions) {
            p.survey_questions.emplace_back();
            prompt(q.prompt, "survey prompt", p.survey_questions.back());
        }
        prompt(c.survey_invalid_prompt, "survey invalid-input prompt", p.survey_invalid);
        prompt(c.survey_closing_prompt, "survey closing prompt", p.survey_closing);
        if (unattended_ > 0)
            errors->push_back(c.name +
                              ": an IVR survey's capacity is 'survey.lines' in the campaign "
                              "file, not unattended_lines");
        status_.survey_lines = c.survey_lines;
    }
}

std::string CampaignRun::read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool CampaignRun::reload(Store& store, std::vector<std::string>* changed,
                         std::vector<std::string>* errors) {
    auto load = load_campaign_file(entry_.file);
    for (const auto& e : load.errors) errors->push_back(e.to_string());
    if (!load.campaign) return false;
    Campaign& next = *load.campaign;
    const std::string text = read_text(entry_.file);
    // What changed, by top-level section of the file.
    {
        YAML::Node before, after;
        try {
            before = YAML::Load(yaml_);
            after = YAML::Load(text);
        } catch (const YAML::Exception&) {
        }
        std::set<std::string> keys;
        for (const auto* n : {&before, &after})
            if (n->IsMap())
                for (const auto& kv : *n) keys.insert(kv.first.as<std::string>());
        for (const auto& k : keys) {
            const auto a = before.IsMap() && before[k] ? YAML::Dump(before[k]) : std::string();
            const auto b = after.IsMap() && after[k] ? YAML::Dump(after[k]) : std::string();
            if (a != b) changed->push_back(k);
        }
    }
    const Campaign& now = campaign_;
    auto refuse = [&](const std::string& why) {
        errors->push_back(now.name + ": " + why + ": restart the engine to apply it");
    };
    if (next.name != now.name) refuse("the name changed (to '" + next.name + "')");
    if (next.kind != now.kind) refuse("the kind changed");
    if (next.mode != now.mode) refuse("dialing.mode changed");
    if (next.trunks != now.trunks) refuse("dialing.trunk or dialing.trunks changed");
    check_caller_ids(next, errors);
    if (now.ivr_survey() && std::find(changed->begin(), changed->end(), "survey") != changed->end())
        refuse("an IVR survey's questions changed (calls in progress are asking them)");
    if ((next.abandon_window <= kDay) != (now.abandon_window <= kDay))
        refuse("the abandon window moved between 24 h and 30 days");
    if (!errors->empty()) return false;
    // The new prompts first: a prompt file that does not read refuses the reload.
    auto old_prompts = std::move(prompts_);
    prompts_ = std::make_unique<Prompts>();
    std::swap(campaign_, next);
    const std::size_t before = errors->size();
    read_prompts(errors);
    if (errors->size() != before) {
        std::swap(campaign_, next);
        prompts_ = std::move(old_prompts);
        return false;
    }
    retired_prompts_.push_back(std::move(old_prompts));
    yaml_ = text;
    const Campaign& c = campaign_;
    // The pacer starts over only when its settings changed (the estimator keeps what it learnt).
    if (std::find_if(changed->begin(), changed->end(), [](const std::string& k) {
            return k == "pacing" || k == "dialing";
        }) != changed->end())
        configure_pacing();
    else
        amd_ = amd_config(c.amd);
    status_.max_abandon_rate = c.max_abandon_rate;
    m_->abandon_cap->Set(c.max_abandon_rate);
    std::error_code ec;
    const auto path = std::filesystem::absolute(entry_.file, ec).string();
    if (auto st = store.save_campaign(c.name, {ec ? entry_.file : path, yaml_, "engine"}); !st.ok())
        engine_log(c.name + ": the reloaded definition was not stored (" + st.error +
                   "); reports judge by the previous one");
    return true;
}

std::optional<std::string> CampaignRun::take_caller_id(const std::string& callee,
                                                       std::int64_t wall_ms) {
    if (!caller_id_usage_) return std::nullopt;
    const auto day = server_day(wall_ms);
    auto n = choose_caller_id(campaign_.caller_ids, callee, *caller_id_usage_, day);
    if (n) caller_id_usage_->count(*n, day);
    return n;
}

int CampaignRun::caller_ids_left(std::int64_t wall_ms) const {
    if (!has_caller_id_pool()) return std::numeric_limits<int>::max();
    if (!caller_id_usage_) return 0;
    return outpace::caller_ids_left(campaign_.caller_ids, *caller_id_usage_, server_day(wall_ms));
}

void CampaignRun::check_caller_ids(const Campaign& c, std::vector<std::string>* errors) const {
    if (!c.caller_id.empty() || !c.caller_ids.numbers.empty()) return;
    for (const auto& r : routes_.routes())
        if (r.trunk->config().caller_id.empty())
            errors->push_back(c.name + ": no caller ID for calls on trunk '" +
                              r.trunk->config().name +
                              "' (campaign 'caller_id' or the trunk's): telemarketing rules "
                              "require one on every call");
}

pacing::PacingConfig campaign_pacing(const Campaign& c) {
    pacing::PacingConfig pc;
    pc.mode = pacing_mode(c.mode);
    pc.survey_lines = c.survey_lines;
    pc.power_ratio = c.power_ratio;
    pc.max_abandon_rate = c.max_abandon_rate;
    pc.ring_timeout_s = std::chrono::duration<double>(c.ring_timeout).count();
    pc.connect_grace_s = std::chrono::duration<double>(c.connect_grace).count();
    pc.min_agents_predictive = c.min_agents_predictive;
    pc.max_lines_per_agent = c.max_lines_per_agent;
    pc.machines_to_agents = c.on_machine == MachineAction::agent;
    return pc;
}

void CampaignRun::configure_pacing() {
    const Campaign& c = campaign_;
    amd_ = amd_config(c.amd);
    pacing_ = campaign_pacing(c);
    pacing::PacingConfig& pc = pacing_;
    if (ivr_survey_)
        pc.mode = pacing::Mode::survey;
    else if (unattended_ > 0)
        pc.mode = pacing::Mode::progressive;
    if (!routes_.empty()) {
        // The trunks' own token buckets hold their calls per second; the pacer's one-second
        // window is only a backstop against a runaway policy.
        pc.max_calls_per_second = 2 * routes_.max_calls_per_second();
        pc.max_trunk_calls = routes_.max_calls();
    }
    // A new policy keeps what the old one learnt about its own model.
    const auto calibration = policy_ ? policy_->calibration() : std::nullopt;
    policy_ = pacing::make_policy(pacing_);
    if (calibration) policy_->restore(*calibration);
}

void CampaignRun::warm_start(const Store& store, std::int64_t now_ms) {
    const std::int64_t since = now_ms - kWarmStartLookBackMs;
    auto minutes_ago = [&](std::int64_t ms) {
        return std::to_string(std::max<std::int64_t>(0, (now_ms - ms) / 60'000)) + " min ago";
    };
    // This campaign's saved state, then its ledger; then the same from the prior campaign (its
    // estimator only: the calibration belongs to a team and a list).
    auto from = [&](const std::string& campaign, bool own) -> std::string {
        if (auto bytes = store.load_pacing(campaign))
            if (auto m = PacingMemory::decode(*bytes); m && m->saved_ms >= since) {
                pacing::Estimator e;
                if (e.restore(m->estimator) && e.dials_seen() > 0) {
                    estimator_ = std::move(e);
                    if (own && m->calibration) policy_->restore(*m->calibration);
                    return "state saved " + minutes_ago(m->saved_ms) + " (" +
                           std::to_string(std::lround(estimator_.dials_seen())) + " dials seen)";
                }
            }
        pacing::Estimator e;
        if (const long n = learn_from_ledger(store, campaign, since, e); n > 0) {
            estimator_ = std::move(e);
            return std::to_string(n) + " dials of the last 7 days in the ledger";
        }
        return "";
    };
    const Campaign& c = campaign_;
    if (auto own = from(c.name, true); !own.empty()) {
        status_.pacing_start = "warm: " + own;
    } else if (!c.pacing_prior.empty()) {
        if (auto prior = from(c.pacing_prior, false); !prior.empty())
            status_.pacing_start = "warm from pacing.prior '" + c.pacing_prior + "': " + prior;
        else
            status_.pacing_start = "cold: pacing.prior '" + c.pacing_prior +
                                   "' has no history of the last 7 days either";
    } else {
        status_.pacing_start = "cold: no history of the last 7 days";
    }
    engine_log(c.name + ": pacing starts " + status_.pacing_start);
}

Status CampaignRun::save_pacing(Store& store, std::int64_t now_ms) {
    PacingMemory m;
    m.saved_ms = now_ms;
    m.calibration = policy_->calibration();
    m.estimator = estimator_.save();
    return store.save_pacing(campaign_.name, m.encode());
}

void CampaignRun::count_live(std::int64_t now_ms) {
    window_->add(now_ms, {.live = true});
    refresh_window(now_ms);
    m_->live_answers->Increment();
}

void CampaignRun::count_abandoned(std::int64_t now_ms) {
    window_->add(now_ms, {.abandoned = true});
    refresh_window(now_ms);
    m_->abandoned->Increment();
}

void CampaignRun::count_machine_release(std::int64_t now_ms) {
    window_->add(now_ms, {.machine = true});
    // The counter the dashboards add to abandons and live answers: whole estimated calls.
    if (campaign_.count_amd_false_positives)
        for (fp_carry_ += campaign_.amd_false_positive_rate; fp_carry_ >= 1; fp_carry_ -= 1)
            m_->estimated_false_positives->Increment();
    refresh_window(now_ms);
}

void CampaignRun::refresh_window(std::int64_t now_ms) {
    RollingAbandonWindow& w = *window_;
    w.roll(now_ms);
    // Ofcom: the estimated false positives among the window's machine releases, in whole calls.
    const auto estimated = campaign_.count_amd_false_positives
                               ? static_cast<std::int64_t>(static_cast<double>(w.machines()) *
                                                           campaign_.amd_false_positive_rate)
                               : 0;
    status_.window_live = static_cast<long>(w.live_answers() + estimated);
    status_.window_abandoned = static_cast<long>(w.abandoned() + estimated);
}

int CampaignRun::plan(pacing::Snapshot& s, int allowance) {
    s.window_live = status_.window_live;
    s.window_abandoned = status_.window_abandoned;
    const auto decision = policy_->decide(s, estimator_);
    status_.pacing_reason = decision.reason;
    status_.pacing_calibration = decision.calibration;
    status_.pacing_agents = static_cast<long>(s.agents.size());
    const int n = pacing::apply_caps(decision.calls, s, pacing_);
    auto& m = *m_;
    m.pacing_target->Set(n);
    int staffed = 0;
    for (const auto& a : s.agents) staffed += a.state != pacing::AgentState::paused;
    m.pacing_lines_per_agent->Set(staffed ? double(s.in_flight()) / staffed : 0);
    m.pacing_live_rate->Set(estimator_.live_rate());
    m.pacing_expected_free_agents->Set(decision.expected_free_agents);
    m.pacing_abandon_target->Set(decision.target_abandon);
    m.pacing_calibration->Set(decision.calibration);
    return std::min(n, allowance);
}

static_assert(metrics::kOutcomes.size() == kOutcomeCount, "one counter per ledger outcome");

void CampaignRun::ended(Outcome o) {
    m_->outcomes[static_cast<std::size_t>(o)]->Increment();
    switch (o) {
        case Outcome::abandoned:
            ++status_.abandoned;
            break;
        case Outcome::busy:
            ++status_.busy;
            break;
        case Outcome::no_answer:
            ++status_.no_answer;
            break;
        case Outcome::carrier_error:
            ++status_.carrier_errors;
            break;
        case Outcome::failed:
            ++status_.failed;
            break;
        case Outcome::invalid:
            ++status_.invalid;  // as the ledger says: 404/484/604, final for the contact
            break;
        default:
            break;
    }
}

CampaignRun::Held CampaignRun::take_held() {
    Held h;
    h.progress.swap(progress_);
    h.completed.swap(completed_);
    return h;
}

void CampaignRun::give_back(Held&& held) {
    held.progress.insert(held.progress.end(), std::make_move_iterator(progress_.begin()),
                         std::make_move_iterator(progress_.end()));
    progress_ = std::move(held.progress);
    held.completed.insert(held.completed.end(), std::make_move_iterator(completed_.begin()),
                          std::make_move_iterator(completed_.end()));
    completed_ = std::move(held.completed);
}

Status CampaignRun::write_held(Held& held, Timestamp now, metrics::Metrics& metrics) {
    auto refused = [&](const Status& st, const char* what) {
        if (st.ok() || st.io) return false;
        engine_log(name() + ": " + what + ": " + st.error);
        return true;
    };
    if (!held.progress.empty()) {
        // First: an attempt may also be among those completed below.
        auto st = ledger_->progress(held.progress);
        if (st.io) return st;
        refused(st, "recording progress");
        held.progress.clear();
    }
    if (held.completed.empty()) return {};
    const auto start = std::chrono::steady_clock::now();
    auto st = ledger_->complete(held.completed, now);
    metrics.store_write(false).Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (st.io) return st;
    refused(st, "recording outcomes");
    held.completed.clear();
    return {};
}

void CampaignRun::heard(double ms) {
    connect_ms_.push_back(ms);
    m_->connect->Observe(ms / 1000);
    if (connect_ms_.size() > 100'000)
        connect_ms_.erase(connect_ms_.begin(), connect_ms_.begin() + 50'000);
}

double CampaignRun::heard_percentile(double q) const {
    if (connect_ms_.empty()) return 0;
    std::vector<double> v = connect_ms_;
    const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

void CampaignRun::check_idle(SteadyTime now, Timestamp wall) {
    if (now - idle_checked_ < std::chrono::seconds(1)) return;
    idle_checked_ = now;
    status_.idle = status_.in_progress == 0 && hopper_->next(wall, 1).empty();
}

}  // namespace outpace
