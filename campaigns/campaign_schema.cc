#include "campaigns/campaign_schema.h"

namespace outpace {

const std::map<std::string, std::vector<std::string>>& campaign_key_tree() {
    static const std::map<std::string, std::vector<std::string>> tree = {
        {"",
         {"name", "kind", "description", "client", "dialing", "calling_hours", "timezone", "pacing",
          "amd", "safe_harbor", "recording", "retry", "limits", "list", "agents", "screen_pop",
          "dispositions", "survey", "transfer"}},
        {"dialing",
         {"mode", "ratio", "max_lines_per_agent", "min_agents_predictive", "ring_timeout", "trunk",
          "trunks", "caller_id", "caller_ids"}},
        {"dialing.trunks[]", {"name", "priority", "weight", "prefixes"}},
        {"dialing.caller_ids", {"numbers", "local_presence", "daily_limit"}},
        {"calling_hours", {"windows", "holidays"}},
        {"calling_hours.windows[]", {"days", "from", "to"}},
        {"timezone", {"policy", "column", "default"}},
        {"pacing",
         {"max_abandon_rate", "abandon_window", "connect_grace", "count_amd_false_positives",
          "amd_false_positive_rate", "prior"}},
        {"amd",
         {"enabled", "on_machine", "message", "on_fax", "on_unknown", "initial_silence", "greeting",
          "after_greeting_silence", "total_analysis_time", "min_word_length",
          "between_words_silence", "maximum_number_of_words", "maximum_word_length"}},
        {"safe_harbor", {"prompt"}},
        {"recording", {"enabled", "folder", "agent_can_pause"}},
        {"retry", {"busy", "no_answer", "machine", "failed", "abandoned", "declined"}},
        {"retry.busy", {"delay", "max"}},
        {"retry.no_answer", {"delay", "max"}},
        {"retry.machine", {"delay", "max"}},
        {"retry.failed", {"delay", "max"}},
        {"retry.abandoned", {"delay", "max"}},
        {"retry.declined", {"delay", "max"}},
        {"limits",
         {"max_attempts", "max_attempts_per_7_days", "quiet_after_conversation",
          "quiet_after_abandon"}},
        {"list",
         {"phone_column", "phones", "next_number_on", "next_number_delay", "default_region",
          "dnc_files"}},
        {"agents", {"skills", "wrapup_max", "hold_prompt", "callback_grace", "share"}},
        {"transfer", {"timeout", "external_allowed"}},
        {"screen_pop", {"fields", "script", "history"}},
        {"dispositions[]",
         {"code", "label", "final", "conversation", "dnc", "callback", "success"}},
        {"survey", {"handled_by", "lines", "questions", "invalid_prompt", "closing_prompt"}},
        {"survey.questions[]", {"id", "prompt", "text", "digits", "timeout", "retries", "next"}},
    };
    return tree;
}

const std::map<std::string, std::vector<std::string>>& campaign_enums() {
    static const std::map<std::string, std::vector<std::string>> enums = {
        {"kind", {"telemarketing", "collections", "survey"}},
        {"dialing.mode", {"predictive", "progressive", "power", "preview"}},
        {"timezone.policy", {"number_then_column", "column_then_number", "column", "campaign"}},
        {"pacing.abandon_window", {"24h", "30d"}},
        {"amd.on_machine", {"hangup", "leave_message", "agent"}},
        {"amd.on_fax", {"hangup", "agent"}},
        {"amd.on_unknown", {"hangup", "agent"}},
        {"survey.handled_by", {"ivr", "agents"}},
        {"calling_hours.windows[].days[]", {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
    };
    return enums;
}

}  // namespace outpace
