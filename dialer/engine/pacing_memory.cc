#include "dialer/engine/pacing_memory.h"

#include "pacing/bytes.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace outpace {
namespace {

constexpr char kVersion = 1;

using pacing::bytes::get;
using pacing::bytes::get_f64;
using pacing::bytes::put;
using pacing::bytes::put_f64;

}  // namespace

// version, saved_ms, calibration flag (+ realised, predicted), then the estimator's bytes.
std::string PacingMemory::encode() const {
    std::string out(1, kVersion);
    put<std::uint64_t>(out, static_cast<std::uint64_t>(saved_ms));
    out += calibration ? '\1' : '\0';
    if (calibration) {
        put_f64(out, calibration->realised);
        put_f64(out, calibration->predicted);
    }
    out += estimator;
    return out;
}

std::optional<PacingMemory> PacingMemory::decode(std::string_view in) {
    if (in.size() < 10 || in[0] != kVersion) return std::nullopt;
    in.remove_prefix(1);
    PacingMemory m;
    std::uint64_t saved = 0;
    if (!get(in, saved)) return std::nullopt;
    m.saved_ms = static_cast<std::int64_t>(saved);
    const char flag = in[0];
    in.remove_prefix(1);
    if (flag == '\1') {
        pacing::Calibration c;
        if (!get_f64(in, c.realised) || !get_f64(in, c.predicted)) return std::nullopt;
        m.calibration = c;
    } else if (flag != '\0') {
        return std::nullopt;
    }
    m.estimator = in;
    return m;
}

long learn_from_ledger(const Store& store, const std::string& campaign, std::int64_t since_ms,
                       pacing::Estimator& est, std::size_t max_dials) {
    // What each attempt taught the engine when it happened, as the calls teach it live
    // (Call::on_verdict, Call::failed, AgentPool::complete_wrapup).
    struct Lesson {
        pacing::DialResult result;
        double ring_s = 0;
        double amd_s = -1;               // the AMD verdict's time, when there was one
        double talk_s = -1, wrap_s = 0;  // an agent's conversation, when there was one
    };
    std::vector<Lesson> lessons;
    // Read at most ten attempts per dial wanted: a week of carrier errors is not read to the end.
    store.for_each_recent_attempt(campaign, max_dials * 10, since_ms, [&](const Attempt& a) {
        if (a.outcome == Outcome::none || a.outcome == Outcome::lost ||
            a.outcome == Outcome::carrier_error)
            return true;
        Lesson l;
        l.ring_s = static_cast<double>(a.ring_ms) / 1000.0;
        const std::string& v = a.amd_verdict;
        if (v == "human" || v == "unknown")
            l.result = pacing::DialResult::live;
        else if (v == "machine")
            l.result = pacing::DialResult::machine;
        else if (v == "fax")
            l.result = pacing::DialResult::fail;
        else if (a.outcome == Outcome::no_answer)
            l.result = pacing::DialResult::no_answer;
        else if (a.outcome == Outcome::busy || a.outcome == Outcome::failed ||
                 a.outcome == Outcome::invalid)
            l.result = pacing::DialResult::fail;
        else
            return true;  // answered and ended before a verdict: the live code learns nothing
        if (!v.empty()) l.amd_s = static_cast<double>(a.amd_ms) / 1000.0;
        if (!a.agent.empty() && a.outcome == Outcome::connected)
            l.talk_s = static_cast<double>(a.talk_ms) / 1000.0,
            l.wrap_s = static_cast<double>(a.wrap_ms) / 1000.0;
        lessons.push_back(l);
        return lessons.size() < max_dials;
    });
    // Oldest first: the outcome shares forget, so the most recent weigh the most.
    for (auto it = lessons.rbegin(); it != lessons.rend(); ++it) {
        if (it->amd_s >= 0) est.amd_decided(it->amd_s);
        est.dial_resolved(it->result, it->ring_s);
        if (it->talk_s >= 0) est.handled(it->talk_s, it->wrap_s);
    }
    return static_cast<long>(lessons.size());
}

}  // namespace outpace
