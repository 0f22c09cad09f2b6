#include "campaigns/records.h"

#include <cstring>

namespace outpace {
namespace {

// Version 2 added the ids of the contact's recent attempts (the screen pop's history), version 3
// its several numbers, 4 the count of declined calls (after the other outcome counts' place).
constexpr std::uint8_t kContactVersion = 4;
constexpr std::size_t kCountsBefore4 = 5;  // outcome_counts written in their first place
// Version 2 added survey answers and the outcome decided in flight; version 1 records still
// decode. 3: hold, mute and recording pauses; 4: the number dialled of several, and the zones;
// 5: the trunks a call left; 6: the address on each trunk (trunks named by host name) and the
// caller ID shown; 7: supervisors' monitoring and the legs of calls moved between agents.
constexpr std::uint8_t kAttemptVersion = 7;

class Writer {
  public:
    void u8(std::uint8_t v) { out_ += static_cast<char>(v); }
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            out_ += static_cast<char>((v & 0x7f) | 0x80);
            v >>= 7;
        }
        out_ += static_cast<char>(v);
    }
    void svarint(std::int64_t v) {
        varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
    }
    void str(std::string_view s) {
        varint(s.size());
        out_.append(s);
    }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

// Every read is bounds-checked: a damaged record decodes to nullopt, never to garbage.
class Reader {
  public:
    explicit Reader(std::string_view in) : in_(in) {}
    bool ok() const { return ok_; }
    bool at_end() const { return pos_ == in_.size(); }
    std::uint8_t u8() {
        if (pos_ >= in_.size()) return fail(), 0;
        return static_cast<std::uint8_t>(in_[pos_++]);
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= in_.size()) return fail(), 0;
            auto b = static_cast<std::uint8_t>(in_[pos_++]);
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        return fail(), 0;
    }
    std::int64_t svarint() {
        std::uint64_t u = varint();
        return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
    }
    std::string str() { return std::string(view()); }
    // Into a string that keeps its buffer: a scan decoding millions of records reuses one.
    void str(std::string& out) { out.assign(view()); }
    std::string_view view() {
        std::uint64_t n = varint();
        if (n > in_.size() - pos_) return fail(), std::string_view();
        std::string_view s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }

  private:
    void fail() { ok_ = false, pos_ = in_.size(); }
    std::string_view in_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

constexpr const char* kOutcomeNames[] = {"none",    "connected",     "abandoned", "machine",
                                         "fax",     "busy",          "no_answer", "failed",
                                         "invalid", "carrier_error", "lost",      "declined"};
static_assert(std::size(kOutcomeNames) == kOutcomeCount);
constexpr const char* kStateNames[] = {"pending", "in_flight", "done",
                                       "dnc",     "invalid",   "exhausted"};

}  // namespace

const char* to_string(ContactState s) {
    return kStateNames[static_cast<int>(s)];
}
const char* to_string(Outcome o) {
    return kOutcomeNames[static_cast<int>(o)];
}

std::string Contact::encode() const {
    Writer w;
    w.u8(kContactVersion);
    w.str(phone);
    w.str(zones);
    w.str(source);
    w.varint(line);
    w.varint(fields.size());
    for (const auto& [k, v] : fields) w.str(k), w.str(v);
    w.u8(static_cast<std::uint8_t>(state));
    w.svarint(next_eligible);
    w.varint(attempts);
    for (std::size_t i = 0; i < kCountsBefore4; ++i) w.varint(outcome_counts[i]);
    w.varint(recent_attempts.size());
    for (auto t : recent_attempts) w.svarint(t);
    w.svarint(last_conversation);
    w.svarint(last_abandon);
    w.str(last_outcome);
    w.str(final_reason);
    w.varint(recent_ids.size());
    for (auto id : recent_ids) w.varint(id);
    w.str(callback_agent);
    w.varint(numbers.size());
    for (const auto& n : numbers) {
        w.str(n.e164);
        w.str(n.label);
        w.u8(n.dead ? 1 : 0);
    }
    w.varint(current);
    for (std::size_t i = kCountsBefore4; i < outcome_counts.size(); ++i)
        w.varint(outcome_counts[i]);
    return w.take();
}

std::vector<std::string> Contact::all_numbers() const {
    if (numbers.empty()) return {phone};
    std::vector<std::string> out;
    for (const auto& n : numbers) out.push_back(n.e164);
    return out;
}

std::optional<Contact> Contact::decode(std::string_view bytes) {
    Reader r(bytes);
    const std::uint8_t version = r.u8();
    if (version < 1 || version > kContactVersion) return std::nullopt;
    Contact c;
    c.phone = r.str();
    c.zones = r.str();
    c.source = r.str();
    c.line = static_cast<std::uint32_t>(r.varint());
    std::uint64_t n = r.varint();
    if (n > bytes.size()) return std::nullopt;
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
        std::string k = r.str();
        c.fields.emplace_back(std::move(k), r.str());
    }
    std::uint8_t st = r.u8();
    if (st > static_cast<std::uint8_t>(ContactState::exhausted)) return std::nullopt;
    c.state = static_cast<ContactState>(st);
    c.next_eligible = r.svarint();
    c.attempts = static_cast<std::uint32_t>(r.varint());
    for (std::size_t i = 0; i < kCountsBefore4; ++i)
        c.outcome_counts[i] = static_cast<std::uint16_t>(r.varint());
    n = r.varint();
    if (n > bytes.size()) return std::nullopt;
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) c.recent_attempts.push_back(r.svarint());
    c.last_conversation = r.svarint();
    c.last_abandon = r.svarint();
    c.last_outcome = r.str();
    c.final_reason = r.str();
    if (version >= 2) {
        n = r.varint();
        if (n > bytes.size()) return std::nullopt;
        for (std::uint64_t i = 0; i < n && r.ok(); ++i) c.recent_ids.push_back(r.varint());
        c.callback_agent = r.str();
    }
    if (version >= 3) {
        n = r.varint();
        if (n > bytes.size()) return std::nullopt;
        for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
            ContactNumber number;
            number.e164 = r.str();
            number.label = r.str();
            number.dead = r.u8() != 0;
            c.numbers.push_back(std::move(number));
        }
        c.current = static_cast<std::uint32_t>(r.varint());
        if (c.numbers.empty() ? c.current != 0 : c.current >= c.numbers.size()) return std::nullopt;
    }
    if (version >= 4)
        for (std::size_t i = kCountsBefore4; i < c.outcome_counts.size(); ++i)
            c.outcome_counts[i] = static_cast<std::uint16_t>(r.varint());
    if (!r.ok() || !r.at_end()) return std::nullopt;
    return c;
}

std::string Attempt::encode() const {
    Writer w;
    w.u8(kAttemptVersion);
    w.varint(id);
    w.str(campaign);
    w.str(phone);
    w.svarint(started_ms);
    w.svarint(ended_ms);
    w.u8(static_cast<std::uint8_t>(outcome));
    w.svarint(sip_code);
    w.svarint(ring_ms);
    w.svarint(amd_ms);
    w.svarint(talk_ms);
    w.svarint(wrap_ms);
    w.str(amd_verdict);
    w.str(agent);
    w.str(disposition);
    w.svarint(callback_at);
    w.str(notes);
    w.str(trunk);
    w.varint(answers.size());
    for (const auto& [question, answer] : answers) {
        w.str(question);
        w.str(answer);
    }
    w.str(survey);
    w.u8(static_cast<std::uint8_t>(decided));
    w.svarint(hold_ms);
    w.varint(holds);
    w.svarint(mute_ms);
    w.varint(recording_paused.size());
    for (const auto& [from, to] : recording_paused) w.svarint(from), w.svarint(to);
    w.str(origin);
    w.str(callback_for);
    w.str(dialled);
    w.str(number_label);
    w.str(zones);
    w.varint(hops.size());
    for (const auto& h : hops) w.str(h.trunk), w.svarint(h.sip_code);
    w.str(target);
    for (const auto& h : hops) w.str(h.target);
    w.str(caller_id);
    w.varint(monitors.size());
    for (const auto& m : monitors)
        w.str(m.supervisor), w.str(m.mode), w.svarint(m.from_ms), w.svarint(m.to_ms);
    w.varint(legs.size());
    for (const auto& l : legs) {
        w.str(l.agent), w.str(l.kind), w.str(l.to), w.str(l.disposition);
        w.svarint(l.from_ms), w.svarint(l.to_ms);
    }
    return w.take();
}

std::optional<Attempt> Attempt::decode(std::string_view bytes) {
    Attempt a;
    if (!decode(bytes, a)) return std::nullopt;
    return a;
}

bool Attempt::decode(std::string_view bytes, Attempt& a) {
    Reader r(bytes);
    const std::uint8_t version = r.u8();
    if (version < 1 || version > kAttemptVersion) return false;
    a.id = r.varint();
    r.str(a.campaign);
    r.str(a.phone);
    a.started_ms = r.svarint();
    a.ended_ms = r.svarint();
    std::uint8_t o = r.u8();
    if (o >= kOutcomeCount) return false;
    a.outcome = static_cast<Outcome>(o);
    a.sip_code = static_cast<int>(r.svarint());
    a.ring_ms = r.svarint();
    a.amd_ms = r.svarint();
    a.talk_ms = r.svarint();
    a.wrap_ms = r.svarint();
    r.str(a.amd_verdict);
    r.str(a.agent);
    r.str(a.disposition);
    a.callback_at = r.svarint();
    r.str(a.notes);
    r.str(a.trunk);
    // Fields a version lacks keep their defaults.
    a.answers.clear();
    a.survey.clear();
    a.decided = Outcome::none;
    a.hold_ms = a.mute_ms = 0;
    a.holds = 0;
    a.recording_paused.clear();
    a.origin.clear();
    a.callback_for.clear();
    a.dialled.clear();
    a.number_label.clear();
    a.zones.clear();
    a.hops.clear();
    a.target.clear();
    a.caller_id.clear();
    a.monitors.clear();
    a.legs.clear();
    if (version >= 2) {
        const std::uint64_t n = r.varint();
        if (n > bytes.size()) return false;
        for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
            auto question = r.str();
            auto answer = r.str();
            a.answers.emplace_back(std::move(question), std::move(answer));
        }
        r.str(a.survey);
        const std::uint8_t d = r.u8();
        if (d >= kOutcomeCount) return false;
        a.decided = static_cast<Outcome>(d);
    }
    if (version >= 3) {
        a.hold_ms = r.svarint();
        a.holds = static_cast<std::uint32_t>(r.varint());
        a.mute_ms = r.svarint();
        const std::uint64_t n = r.varint();
        if (n > bytes.size()) return false;
        for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
            const std::int64_t from = r.svarint();
            a.recording_paused.emplace_back(from, r.svarint());
        }
        r.str(a.origin);
        r.str(a.callback_for);
    }
    if (version >= 4) {
        r.str(a.dialled);
        r.str(a.number_label);
        r.str(a.zones);
    }
    if (version >= 5) {
        const std::uint64_t n = r.varint();
        if (n > bytes.size()) return false;
        for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
            TrunkHop h;
            r.str(h.trunk);
            h.sip_code = static_cast<int>(r.svarint());
            a.hops.push_back(std::move(h));
        }
    }
    if (version >= 6) {
        r.str(a.target);
        for (auto& h : a.hops) r.str(h.target);
        r.str(a.caller_id);
    }
    if (version >= 7) {
        const std::uint64_t n = r.varint();
        if (n > bytes.size()) return false;
        for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
            Monitoring m;
            r.str(m.supervisor);
            r.str(m.mode);
            m.from_ms = r.svarint();
            m.to_ms = r.svarint();
            a.monitors.push_back(std::move(m));
        }
        const std::uint64_t legs = r.varint();
        if (legs > bytes.size()) return false;
        for (std::uint64_t i = 0; i < legs && r.ok(); ++i) {
            Leg l;
            r.str(l.agent);
            r.str(l.kind);
            r.str(l.to);
            r.str(l.disposition);
            l.from_ms = r.svarint();
            l.to_ms = r.svarint();
            a.legs.push_back(std::move(l));
        }
    }
    return r.ok() && r.at_end();
}

}  // namespace outpace
