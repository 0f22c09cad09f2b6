// The campaign model: what a campaign manager writes in a campaign YAML file, after validation.
// Every field has the strict (legal) default; docs/campaigns.md documents each key.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "campaigns/duration.h"

namespace outpace {

enum class CampaignKind { telemarketing, collections, survey };
enum class DialingMode { predictive, progressive, power, preview };
enum class TimezonePolicy {
    number_then_column,  // area code / country first, the list's column where the number can't tell
    column_then_number,  // the list's column first, the number where the column is empty
    column,              // the column only (rows without it fall back to the campaign default)
    campaign,            // everyone in the campaign's default zone
};
enum class MachineAction { hangup, leave_message, agent };
enum class AmdAction { hangup, agent };  // for fax (hang up) and unknown verdicts

// Outcomes a retry rule can be written for. `abandoned` is the live answer no agent took in time.
enum class RetryOutcome { busy, no_answer, machine, failed, abandoned, declined, count_ };
constexpr std::array<const char*, 6> kRetryOutcomeNames = {"busy",   "no_answer", "machine",
                                                           "failed", "abandoned", "declined"};

struct CallingWindow {
    std::array<bool, 7> days{};  // index 0 = Sunday, as in cctz::weekday order we convert to
    int from_minute = 8 * 60;    // minutes after local midnight, inclusive
    int to_minute = 21 * 60;     // exclusive
};

struct CallingHours {
    std::vector<CallingWindow> windows;
    std::vector<std::string> holidays;  // "YYYY-MM-DD" in the callee's local calendar
};

struct RetryRule {
    Millis delay{};
    int max = 0;  // attempts ending in this outcome before the contact is final
};

struct Disposition {
    std::string code;
    std::string label;
    bool final = false;         // the contact is done after this disposition
    bool conversation = false;  // a right-party conversation (Reg F 7-day quiet period)
    bool dnc = false;           // adds the number to the campaign's DNC list
    bool callback = false;      // carries a callback time
    bool success = false;       // counts as a conversion in the report (a sale, a promise to pay)
};

struct AmdThresholds {
    // Asterisk AMD() names where they mean the same thing.
    // Defaults equal amd::Config's (a test keeps them so).
    Millis initial_silence{2500};
    Millis greeting{4000};
    Millis after_greeting_silence{650};
    Millis total_analysis_time{6500};
    Millis min_word_length{100};
    Millis between_words_silence{50};
    int maximum_number_of_words = 8;
    Millis maximum_word_length{5000};
};

// Who asks an automated survey's questions: the engine's IVR (prompts and keypad answers, no
// agents) or agents reading them from the screen pop.
enum class SurveyHandledBy { ivr, agents };

struct SurveyQuestion {
    std::string id;
    std::string prompt;
    std::string text;
    std::string digits;  // allowed keypad answers, e.g. "12345"
    Millis timeout{5000};
    int retries = 2;
    std::map<std::string, std::string> next;  // answer digit -> question id ("end" closes)
};

// One of a campaign's trunks: tried in order of `priority` (1 first), calls spread over the
// trunks of one priority by `weight`; with `prefixes`, only for numbers that start with one
// (E.164, like "+44").
struct TrunkRoute {
    std::string name;
    int priority = 1;
    int weight = 1;
    std::vector<std::string> prefixes;
    bool operator==(const TrunkRoute&) const = default;
};

struct Campaign {
    std::string source_path;  // where it was loaded from; relative paths resolve against its folder
    std::string name;
    CampaignKind kind = CampaignKind::telemarketing;
    std::string description;
    // The client (a group of campaigns) whose do-not-call list this campaign also obeys: the
    // store's scope "client:NAME". Empty: only the campaign's own and the global list.
    std::string client;

    // dialing
    DialingMode mode = DialingMode::predictive;
    double power_ratio = 1.0;
    double max_lines_per_agent = 3.0;
    int min_agents_predictive = 5;
    Millis ring_timeout{20'000};
    // The trunks it dials through (`dialing.trunk` is one; `dialing.trunks` several). Empty: the
    // engine's only trunk.
    std::vector<TrunkRoute> trunks;
    std::string caller_id;
    // A pool of caller IDs instead of one (`dialing.caller_ids`): each call takes the least used
    // today among the numbers under `daily_limit` (0: none), preferring one in the callee's area
    // code (NANP) or, failing that, its country (local presence).
    struct CallerIdPool {
        std::vector<std::string> numbers;  // E.164
        bool local_presence = true;
        int daily_limit = 0;
    } caller_ids;

    // calling hours, in the callee's local time
    CallingHours hours;
    TimezonePolicy timezone_policy = TimezonePolicy::number_then_column;
    std::string default_timezone;  // used when neither number nor column tells

    // pacing targets
    double max_abandon_rate = 0.03;
    Millis abandon_window{30LL * 86'400'000};
    Millis connect_grace{2000};  // the 2-second rule
    // Ofcom: calls AMD released as machines that were people count as abandoned (and as live
    // answers), at the operator's reasoned estimate of how often AMD takes a person for a machine.
    bool count_amd_false_positives = false;
    double amd_false_positive_rate = 0;  // share of machine releases that were people
    // Warm start: a campaign whose own history (saved pacer state, recent attempts) is empty
    // starts from this campaign's instead (the same list, another day's campaign). "": none.
    std::string pacing_prior;

    // answering machines
    bool amd_enabled = true;
    MachineAction on_machine = MachineAction::hangup;
    std::string machine_message;  // WAV played after the beep when on_machine = leave_message
    AmdAction on_fax = AmdAction::hangup;
    AmdAction on_unknown = AmdAction::agent;
    AmdThresholds amd;
    std::string safe_harbor_prompt;

    // call recording: answered calls as stereo WAV (left: the callee, right: what they heard),
    // one file per attempt, FOLDER/CAMPAIGN/ATTEMPT-ID.wav. Announce it in the script where the
    // law asks for consent.
    bool record_calls = false;
    std::string recording_folder = "recordings";
    // The agent may pause the recording (a card number read aloud): silence in the WAV there.
    bool agent_can_pause_recording = false;

    // retries and caps
    std::array<RetryRule, static_cast<size_t>(RetryOutcome::count_)> retry{};
    int max_attempts = 10;
    int max_attempts_per_7_days = 0;               // 0 = no rolling cap (collections default 7)
    Millis quiet_after_conversation{0};            // collections default 7d (Reg F)
    Millis quiet_after_abandon{72LL * 3'600'000};  // Ofcom: no repeat within 72 h

    // lists
    std::string phone_column = "phone";
    // Several numbers per contact (list.phones): the columns, in the order they are dialled.
    // Empty: one number, phone_column.
    std::vector<std::string> phone_columns;
    // After these outcomes on one of a contact's numbers, the next call goes to its next number
    // (invalid and fax always move on, and retire the number).
    std::vector<RetryOutcome> next_number_on = {RetryOutcome::no_answer, RetryOutcome::busy,
                                                RetryOutcome::failed};
    // How soon the next number is dialled; unset: the outcome's retry delay.
    std::optional<Millis> next_number_delay;
    std::string timezone_column = "timezone";
    std::string default_region = "US";
    std::vector<std::string> dnc_files;

    // agents
    std::vector<std::string> skills;
    Millis wrapup_max{60'000};
    // A personal callback ("for: me") is the asking agent's alone until this long after its
    // time; then anyone's.
    Millis callback_grace{30 * 60'000};
    // Agents who serve several running campaigns: each campaign's weight in dividing them (its
    // pacer counts the agents assigned to it; 1:1 by default).
    double agent_share = 1;
    std::string hold_prompt;  // WAV looped to a customer on hold ("": a built-in soft chime)
    // transfer: a transfer or consult waits this long for its target (an agent, a queue, a
    // number) to answer; then the customer goes back to the agent who asked. The numbers outside
    // an agent may transfer to: E.164 numbers, or beginnings ending in '*' ("+1800*").
    Millis transfer_timeout{30'000};
    std::vector<std::string> transfer_external;
    // Whether `number` (E.164) is one of transfer_external.
    bool transfer_allowed(const std::string& number) const {
        for (const auto& p : transfer_external)
            if (p.back() == '*' ? number.rfind(p.substr(0, p.size() - 1), 0) == 0 : number == p)
                return true;
        return false;
    }
    std::vector<std::string> screen_pop_fields;
    int screen_pop_history = 5;  // the contact's previous attempts in the screen pop
    std::string script;
    std::vector<Disposition> dispositions;

    // surveys
    SurveyHandledBy survey_handled_by = SurveyHandledBy::ivr;
    std::vector<SurveyQuestion> survey_questions;
    std::string survey_closing_prompt;
    std::string survey_invalid_prompt;  // played before a question is asked again
    int survey_lines = 10;              // IVR: survey sessions at once (the pacer fills them)
    bool ivr_survey() const {
        return kind == CampaignKind::survey && survey_handled_by == SurveyHandledBy::ivr;
    }

    const RetryRule& retry_for(RetryOutcome o) const { return retry[static_cast<size_t>(o)]; }
    // A relative path in the campaign file, resolved against the file's folder.
    std::string resolve_path(const std::string& p) const;
};

const char* to_string(CampaignKind k);
const char* to_string(DialingMode m);

}  // namespace outpace
