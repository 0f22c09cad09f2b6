// What the store keeps about contacts and attempts, and how it is encoded on disk.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outpace {

enum class ContactState : std::uint8_t {
    pending,    // waiting for its next eligible time
    in_flight,  // an attempt is under way
    done,       // final: a conversation or disposition closed it
    dnc,        // final: on a do-not-call list or asked not to be called
    invalid,    // final: the number does not exist or is a fax line
    exhausted,  // final: retry or attempt caps reached
};
const char* to_string(ContactState s);

// How an attempt ended.
enum class Outcome : std::uint8_t {
    none,           // still in flight
    connected,      // a person reached an agent (or finished an automated survey)
    abandoned,      // a person answered and no agent came within the connect grace
    machine,        // answering machine (hung up or message left)
    fax,            // fax or modem tone
    busy,           // 486/600
    no_answer,      // rang until the ring timeout, or 480/408
    failed,         // other final failures from the network
    invalid,        // 404/484/604: the number does not exist
    carrier_error,  // 503 or timeouts from our trunk: not the contact's fault
    lost,           // the engine stopped while the attempt was in flight (recovered at restart)
    declined,       // 603/607 or Q.850 cause 21: the callee (or their network for them) refused
};
constexpr std::size_t kOutcomeCount = static_cast<std::size_t>(Outcome::declined) + 1;
const char* to_string(Outcome o);

// An E.164 number as an integer (its digits: at most 15, so it fits), for maps over a million
// contacts that a string key makes slow; 0 for anything that is not "+" and digits.
inline std::uint64_t phone_number_key(std::string_view e164) {
    if (e164.size() < 2 || e164.size() > 16 || e164[0] != '+') return 0;
    std::uint64_t v = 0;
    for (char ch : e164.substr(1)) {
        if (ch < '0' || ch > '9') return 0;
        v = v * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    return v;
}

// A contact an agent dialled by hand that was not on the campaign's list: kept for its caps and
// history, never dialled again by the campaign (except for a callback the customer asked for).
inline constexpr const char* kManualSource = "manual";

// One of a contact's numbers when the list gives several (list.phones): E.164, the column it
// came from ("mobile", "home"), and whether it is known not to work (invalid or a fax line).
struct ContactNumber {
    std::string e164;
    std::string label;
    bool dead = false;
    bool operator==(const ContactNumber&) const = default;
};

struct Contact {
    std::string phone;   // E.164, the key within a campaign (its first valid number)
    std::string zones;   // IANA zone(s) joined by '|'
    std::string source;  // list file it came from
    std::uint32_t line = 0;
    std::vector<std::pair<std::string, std::string>> fields;  // list columns, in file order

    ContactState state = ContactState::pending;
    std::int64_t next_eligible = 0;  // unix seconds
    std::uint32_t attempts = 0;      // attempts that reached the network on the contact's behalf
    std::array<std::uint16_t, 6> outcome_counts{};  // by RetryOutcome
    std::vector<std::int64_t> recent_attempts;      // start times (unix s), newest last, <= 16
    std::int64_t last_conversation = 0;
    std::int64_t last_abandon = 0;
    std::string last_outcome;
    std::string final_reason;
    // The ids of the attempts that reached the callee, newest last, at most 16: the screen pop's
    // history (contacts recorded before version 2 start with none).
    std::vector<std::uint64_t> recent_ids;
    // A personal callback: the agent who asked to call back (at next_eligible). Nobody else is
    // given the contact until the campaign's agents.callback_grace has passed after that time.
    std::string callback_agent;
    // Several numbers for one person (list.phones), in the list's order, numbers[0] being
    // `phone`; empty when the contact has one. The caps and the retry counts above are the
    // person's, across all of them. `current`: the one dialled next.
    std::vector<ContactNumber> numbers;
    std::uint32_t current = 0;

    // The number the next call goes to.
    const std::string& dial_number() const {
        return current < numbers.size() ? numbers[current].e164 : phone;
    }
    // Every number of the contact (a do-not-call request covers them all).
    std::vector<std::string> all_numbers() const;

    std::string encode() const;
    static std::optional<Contact> decode(std::string_view bytes);
};

// A trunk a call left for the next one before it ended: which, and the SIP code that moved it
// (408 also when the trunk answered nothing at all within its response_timeout).
struct TrunkHop {
    std::string trunk;
    int sip_code = 0;
    // The address on it (IP:PORT) when the trunk is named by host name; empty for an IP trunk.
    std::string target = {};
    bool operator==(const TrunkHop&) const = default;
};

struct Attempt {
    std::uint64_t id = 0;
    std::string campaign;
    std::string phone;
    std::int64_t started_ms = 0;  // unix milliseconds when recorded (before the INVITE)
    std::int64_t ended_ms = 0;
    Outcome outcome = Outcome::none;
    int sip_code = 0;
    std::int64_t ring_ms = 0;  // INVITE to answer or to giving up
    std::int64_t amd_ms = 0;   // answer to AMD verdict
    std::int64_t talk_ms = 0;
    std::int64_t wrap_ms = 0;
    std::string amd_verdict;  // human | machine | fax | unknown
    std::string agent;
    std::string disposition;
    std::int64_t callback_at = 0;  // unix seconds, when the disposition asks for a callback
    std::string notes;
    std::string trunk;
    // Survey campaigns: the answers given, question id -> key (IVR) or the agent's answer, in the
    // order asked. An empty answer: asked, and no valid answer came within its retries.
    std::vector<std::pair<std::string, std::string>> answers;
    std::string survey;  // "" (not a survey call), "complete" or "incomplete"
    // While in flight: an outcome already decided with the call still up (a person abandoned,
    // or connected). If the engine dies before the call ends, recovery completes the attempt
    // with it instead of `lost`, so the abandon rate's counts survive a crash.
    Outcome decided = Outcome::none;
    // The agent's call controls: time the customer spent on hold and how many holds, time the
    // agent was muted, and the stretches of the recording paused by the agent (ms from the
    // recording's start, [from, to)): the WAV holds silence there.
    std::int64_t hold_ms = 0;
    std::uint32_t holds = 0;
    std::int64_t mute_ms = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> recording_paused;
    // Who asked for the call: "" (the pacer), "preview" or "manual" (an agent dialled a number).
    std::string origin;
    // A callback disposition "for: me": the agent who keeps the callback.
    std::string callback_for;
    // The number dialled and its column when the contact has several (`phone` is the contact's
    // key); empty when it has one.
    std::string dialled;
    std::string number_label;
    // The callee's zone(s) when it was dialled, where the calling hours were judged (the report's
    // compliance check reads them here instead of looking up a million contacts); empty in
    // records before version 4.
    std::string zones;
    // Trunks the call was tried on before `trunk`, in order (empty in records before version 5).
    std::vector<TrunkHop> hops;
    // The address on `trunk` the call went to, when it is named by host name (version 6).
    std::string target;
    // The caller ID the call showed (version 6; empty in older records).
    std::string caller_id;

    // Supervisors who listened in (version 7): who, how (listen, whisper or barge; a change of
    // mode starts a new entry) and when (unix ms, [from, to)). A call center must be able to show
    // who listened to which call.
    struct Monitoring {
        std::string supervisor, mode;
        std::int64_t from_ms = 0, to_ms = 0;
    };
    std::vector<Monitoring> monitors;
    // Who talked with the customer when the call moved between agents (version 7; empty for a
    // call one agent had from connect to end): each agent's stretch, unix ms [from, to).
    // `kind`: `talk` (with the customer), `consult` (with the agent who brought it in, the
    // customer on hold) or `conference` (three-way). `to`: the agent the call went to from a
    // `talk` stretch that ended in a transfer. `disposition`: the code an agent who handed the
    // call on gave its part (the attempt's own `disposition` is the last agent's).
    struct Leg {
        std::string agent, kind, to, disposition;
        std::int64_t from_ms = 0, to_ms = 0;
    };
    std::vector<Leg> legs;

    // The number this call went to.
    const std::string& number() const { return dialled.empty() ? phone : dialled; }

    bool in_flight() const { return outcome == Outcome::none; }
    std::string encode() const;
    static std::optional<Attempt> decode(std::string_view bytes);
    // Into `out`, reusing its buffers (a scan over millions of attempts); false, with `out` in
    // an unspecified state, when the bytes are not an attempt.
    static bool decode(std::string_view bytes, Attempt& out);
};

}  // namespace outpace
