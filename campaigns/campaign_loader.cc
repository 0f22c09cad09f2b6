#include "campaigns/campaign_loader.h"

#include <yaml-cpp/yaml.h>

#include <cctz/time_zone.h>
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "campaigns/campaign_schema.h"
#include "campaigns/phone.h"
#include "campaigns/yaml_reader.h"

namespace outpace {
namespace fs = std::filesystem;
namespace {

namespace fs = std::filesystem;

// The campaign file's reader: the shared YAML reader with the campaign's key and enum tables.
class Reader : public YamlReader {
  public:
    Reader(std::string file, std::string base_dir)
        : YamlReader(std::move(file), std::move(base_dir), campaign_key_tree(), campaign_enums(),
                     "the campaign") {}
};

std::optional<int> parse_clock(const std::string& s) {
    int h = 0, m = 0;
    if (s.size() != 5 || s[2] != ':') return std::nullopt;
    auto r1 = std::from_chars(s.data(), s.data() + 2, h);
    auto r2 = std::from_chars(s.data() + 3, s.data() + 5, m);
    if (r1.ec != std::errc() || r2.ec != std::errc() || r1.ptr != s.data() + 2 ||
        r2.ptr != s.data() + 5)
        return std::nullopt;
    if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
}

bool valid_date(const std::string& s) {
    int y, mo, d;
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    if (std::from_chars(s.data(), s.data() + 4, y).ec != std::errc() ||
        std::from_chars(s.data() + 5, s.data() + 7, mo).ec != std::errc() ||
        std::from_chars(s.data() + 8, s.data() + 10, d).ec != std::errc())
        return false;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return mo >= 1 && mo <= 12 && d >= 1 && d <= days[mo - 1];
}

void read_calling_hours(Reader& r, const YAML::Node& node, Campaign& c) {
    if (!r.section(node, "calling_hours")) return;
    if (auto w = node["windows"]) {
        if (!w.IsSequence() || w.size() == 0) {
            r.error(w, "'calling_hours.windows' must be a non-empty list of {days, from, to}");
        } else {
            c.hours.windows.clear();
            for (const auto& item : w) {
                if (!r.section(item, "calling_hours.windows[]")) continue;
                CallingWindow win;
                auto days = r.string_list(item, "days", "calling_hours.windows[].");
                if (!item["days"])
                    r.error(item, "a calling window needs 'days' (e.g. [mon, tue, wed, thu, fri])");
                const auto& names = campaign_enums().at("calling_hours.windows[].days[]");
                for (std::size_t i = 0; i < days.size(); ++i) {
                    auto it = std::find(names.begin(), names.end(), days[i]);
                    if (it == names.end())
                        r.error(item["days"].IsSequence() ? item["days"][i] : item["days"],
                                "unknown day '" + days[i] + "' (use " + join(names, ", ") + ")");
                    else
                        win.days[it - names.begin()] = true;
                }
                for (const char* key : {"from", "to"}) {
                    auto t = item[key];
                    if (!t) {
                        r.error(item, std::string("a calling window needs '") + key + "' (HH:MM)");
                        continue;
                    }
                    auto mins = t.IsScalar() ? parse_clock(t.Scalar()) : std::nullopt;
                    if (!mins) {
                        r.error(t, std::string("'") + key +
                                       "' must be a local time HH:MM, like \"09:00\"");
                        continue;
                    }
                    (std::string(key) == "from" ? win.from_minute : win.to_minute) = *mins;
                }
                if (item["from"] && item["to"] && win.from_minute >= win.to_minute)
                    r.error(item["to"], "'to' must be later than 'from'");
                // TCPA (47 CFR 64.1200(c)(1)): no calls before 8 am or after 9 pm callee local
                // time.
                if (win.from_minute < 8 * 60)
                    r.error(item["from"] ? item["from"] : item,
                            "calling hours may not start before 08:00 callee local time");
                if (win.to_minute > 21 * 60)
                    r.error(item["to"] ? item["to"] : item,
                            "calling hours may not end after 21:00 callee local time");
                c.hours.windows.push_back(win);
            }
        }
    }
    auto hol = node["holidays"];
    auto holidays = r.string_list(node, "holidays", "calling_hours.");
    for (std::size_t i = 0; i < holidays.size(); ++i) {
        if (!valid_date(holidays[i]))
            r.error(hol.IsSequence() ? hol[i] : hol,
                    "holiday '" + holidays[i] + "' must be a date YYYY-MM-DD");
        else
            c.hours.holidays.push_back(holidays[i]);
    }
}

void read_retry(Reader& r, const YAML::Node& node, Campaign& c) {
    if (!r.section(node, "retry")) return;
    for (std::size_t i = 0; i < kRetryOutcomeNames.size(); ++i) {
        const std::string name = kRetryOutcomeNames[i];
        auto n = node[name];
        if (!n || !r.section(n, "retry." + name)) continue;
        const std::string path = "retry." + name + ".";
        r.duration(n, "delay", path, c.retry[i].delay, Millis{60'000}, Millis{90LL * 86'400'000},
                   "retrying sooner than a minute looks like harassment");
        r.integer(n, "max", path, c.retry[i].max, 0, 100);
    }
}

void read_dispositions(Reader& r, const YAML::Node& node, Campaign& c) {
    if (!node.IsSequence()) {
        r.error(node, "'dispositions' must be a list of {code, label, ...}");
        return;
    }
    c.dispositions.clear();
    std::set<std::string> codes;
    for (const auto& item : node) {
        if (!r.section(item, "dispositions[]")) continue;
        Disposition d;
        r.string(item, "code", "dispositions[].", d.code);
        r.string(item, "label", "dispositions[].", d.label);
        r.boolean(item, "final", "dispositions[].", d.final);
        r.boolean(item, "conversation", "dispositions[].", d.conversation);
        r.boolean(item, "dnc", "dispositions[].", d.dnc);
        r.boolean(item, "callback", "dispositions[].", d.callback);
        r.boolean(item, "success", "dispositions[].", d.success);
        if (d.code.empty())
            r.error(item, "a disposition needs a 'code'");
        else if (!codes.insert(d.code).second)
            r.error(item["code"], "disposition code '" + d.code + "' is used twice");
        if (d.callback && d.final) r.error(item, "a callback disposition cannot also be final");
        c.dispositions.push_back(d);
    }
}

void read_survey(Reader& r, const YAML::Node& node, Campaign& c) {
    if (!r.section(node, "survey")) return;
    r.choice(node, "handled_by", "survey.", c.survey_handled_by);
    r.integer(node, "lines", "survey.", c.survey_lines, 1, 10000);
    r.file(node, "invalid_prompt", "survey.", c.survey_invalid_prompt);
    r.file(node, "closing_prompt", "survey.", c.survey_closing_prompt);
    // Only checked for survey campaigns (any other kind is told 'survey' does not apply).
    const bool ivr = c.survey_handled_by == SurveyHandledBy::ivr,
               check = c.kind == CampaignKind::survey;
    auto qs = node["questions"];
    if (!qs) return;
    if (!qs.IsSequence() || qs.size() == 0) {
        r.error(qs, "'survey.questions' must be a non-empty list");
        return;
    }
    std::set<std::string> ids;
    for (const auto& item : qs) {
        if (!r.section(item, "survey.questions[]")) continue;
        SurveyQuestion q;
        const std::string p = "survey.questions[].";
        r.string(item, "id", p, q.id);
        r.file(item, "prompt", p, q.prompt);
        r.string(item, "text", p, q.text);
        r.string(item, "digits", p, q.digits);
        r.duration(item, "timeout", p, q.timeout, Millis{1000}, Millis{60'000});
        r.integer(item, "retries", p, q.retries, 0, 10);
        if (q.id.empty())
            r.error(item, "a survey question needs an 'id'");
        else if (check && ivr && q.prompt.empty() && !item["prompt"])
            r.error(item, "question '" + q.id +
                              "' needs a 'prompt' (a WAV file): the IVR plays it to ask");
        else if (check && !ivr && q.text.empty())
            r.error(item, "question '" + q.id + "' needs a 'text' for the agent to read");
        else if (!ids.insert(q.id).second)
            r.error(item["id"], "question id '" + q.id + "' is used twice");
        if (q.digits.empty() || q.digits.find_first_not_of("0123456789*#") != std::string::npos)
            r.error(item["digits"] ? item["digits"] : item,
                    "'digits' must list the keys allowed as answers, e.g. \"12345\"");
        if (auto next = item["next"]) {
            if (!next.IsMap()) {
                r.error(next, "'next' maps an answer digit to the id of the question that follows");
            } else {
                for (const auto& kv : next) {
                    if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
                        r.error(next, "'next' maps an answer digit to a question id or end");
                        continue;
                    }
                    q.next[kv.first.Scalar()] = kv.second.Scalar();
                }
            }
        }
        c.survey_questions.push_back(q);
    }
    // Branch targets must exist; checked once every id is known.
    std::size_t i = 0;
    for (const auto& item : qs) {
        if (i >= c.survey_questions.size()) break;
        const auto& q = c.survey_questions[i++];
        for (const auto& [digit, target] : q.next) {
            if (q.digits.find(digit) == std::string::npos)
                r.error(item["next"], "branch on '" + digit +
                                          "' which is not among the allowed digits '" + q.digits +
                                          "'");
            if (target != "end" && !ids.count(target)) {
                r.error(item["next"], "branch to unknown question '" + target + "'");
            } else if (target != "end") {
                // Branches skip ahead ("go to question N"): a survey never asks in a circle.
                std::size_t to = 0;
                while (c.survey_questions[to].id != target) ++to;
                if (to < i)
                    r.error(item["next"], "branch from '" + q.id + "' back to '" + target +
                                              "': branches may only skip ahead");
            }
        }
    }
}

// `dialing.trunk: NAME` (one trunk) or `dialing.trunks`: a list of names or of
// {name, priority, weight, prefixes}.
void read_trunk_routes(Reader& r, const YAML::Node& d, Campaign& c) {
    if (d["trunk"] && d["trunks"]) {
        r.error(d["trunks"], "use either 'dialing.trunk' (one) or 'dialing.trunks' (several)");
        return;
    }
    if (d["trunk"]) {
        TrunkRoute t;
        r.string(d, "trunk", "dialing.", t.name);
        if (!t.name.empty()) c.trunks.push_back(t);
        return;
    }
    const auto list = d["trunks"];
    if (!list) return;
    if (!list.IsSequence() || list.size() == 0) {
        r.error(list,
                "'dialing.trunks' must be a list of trunk names or of {name, priority, "
                "weight, prefixes}");
        return;
    }
    for (const auto& item : list) {
        TrunkRoute t;
        if (item.IsScalar()) {
            t.name = item.Scalar();
        } else if (r.section(item, "dialing.trunks[]")) {
            r.string(item, "name", "dialing.trunks[].", t.name);
            r.integer(item, "priority", "dialing.trunks[].", t.priority, 1, 100);
            r.integer(item, "weight", "dialing.trunks[].", t.weight, 1, 1000);
            t.prefixes = r.string_list(item, "prefixes", "dialing.trunks[].");
            for (const auto& p : t.prefixes)
                if (p.size() < 2 || p.size() > 16 || p[0] != '+' ||
                    p.find_first_not_of("0123456789", 1) != std::string::npos)
                    r.error(item["prefixes"],
                            "'dialing.trunks[].prefixes' are E.164 number "
                            "beginnings like \"+44\" or \"+1212\", not '" +
                                p + "'");
            if (item["prefixes"] && t.prefixes.empty())
                r.error(item["prefixes"], "'dialing.trunks[].prefixes' names no prefix");
        } else {
            continue;
        }
        if (t.name.empty()) {
            r.error(item, "a trunk in 'dialing.trunks' needs a 'name'");
            continue;
        }
        if (std::any_of(c.trunks.begin(), c.trunks.end(),
                        [&](const TrunkRoute& o) { return o.name == t.name; })) {
            r.error(item, "'dialing.trunks' names '" + t.name + "' twice");
            continue;
        }
        c.trunks.push_back(std::move(t));
    }
}

void apply_kind_defaults(Campaign& c, const YAML::Node& root) {
    // Reg F (12 CFR 1006.14): collections default to 7 calls in 7 days and a 7-day quiet period
    // after a conversation. Explicit values are still checked against those limits afterwards.
    if (c.kind == CampaignKind::collections) {
        const auto limits = root["limits"];
        if (!limits || !limits["max_attempts_per_7_days"]) c.max_attempts_per_7_days = 7;
        if (!limits || !limits["quiet_after_conversation"])
            c.quiet_after_conversation = Millis{7LL * 86'400'000};
    }
}

}  // namespace

bool valid_campaign_name(const std::string& name) {
    return !name.empty() && name.size() <= 64 &&
           name.find_first_not_of(
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
               std::string::npos;
}

namespace {

void read_campaign(Reader& r, const YAML::Node& root, Campaign& c) {
    if (!r.section(root, "")) return;
    r.string(root, "name", "", c.name);
    if (!root["name"]) {
        r.error(root, "the campaign needs a 'name'");
    } else if (!valid_campaign_name(c.name)) {
        r.error(root["name"], "'name' must be 1-64 letters, digits, '.', '_' or '-'");
    }
    r.choice(root, "kind", "", c.kind);
    r.string(root, "description", "", c.description);
    r.string(root, "client", "", c.client);
    if (root["client"] && !valid_campaign_name(c.client))
        r.error(root["client"], "'client' must be 1-64 letters, digits, '.', '_' or '-'");
    apply_kind_defaults(c, root);

    if (auto d = root["dialing"]; d && r.section(d, "dialing")) {
        r.choice(d, "mode", "dialing.", c.mode);
        r.number(d, "ratio", "dialing.", c.power_ratio, 1.0, 10.0);
        if (d["ratio"] && c.mode != DialingMode::power)
            r.error(d["ratio"], "'dialing.ratio' only applies to mode: power");
        r.number(d, "max_lines_per_agent", "dialing.", c.max_lines_per_agent, 1.0, 10.0);
        r.integer(d, "min_agents_predictive", "dialing.", c.min_agents_predictive, 1, 10000);
        r.duration(d, "ring_timeout", "dialing.", c.ring_timeout, Millis{15'000}, Millis{120'000},
                   "a phone must ring at least 15 seconds before the dialer gives up");
        read_trunk_routes(r, d, c);
        r.string(d, "caller_id", "dialing.", c.caller_id);
        if (auto ids = d["caller_ids"]) {
            if (d["caller_id"])
                r.error(ids,
                        "use either 'dialing.caller_id' (one) or 'dialing.caller_ids' (a "
                        "pool)");
            // A list of numbers, or {numbers, local_presence, daily_limit}.
            if (ids.IsSequence()) {
                c.caller_ids.numbers = r.string_list(d, "caller_ids", "dialing.");
            } else if (r.section(ids, "dialing.caller_ids")) {
                c.caller_ids.numbers = r.string_list(ids, "numbers", "dialing.caller_ids.");
                r.boolean(ids, "local_presence", "dialing.caller_ids.",
                          c.caller_ids.local_presence);
                r.integer(ids, "daily_limit", "dialing.caller_ids.", c.caller_ids.daily_limit, 0,
                          1'000'000);
            }
            if (c.caller_ids.numbers.empty())
                r.error(ids, "'dialing.caller_ids' needs at least one number");
        }
    }
    if (auto n = root["calling_hours"]) read_calling_hours(r, n, c);
    if (auto t = root["timezone"]; t && r.section(t, "timezone")) {
        r.choice(t, "policy", "timezone.", c.timezone_policy);
        r.string(t, "column", "timezone.", c.timezone_column);
        r.string(t, "default", "timezone.", c.default_timezone);
        cctz::time_zone tz;
        if (t["default"] && !cctz::load_time_zone(c.default_timezone, &tz))
            r.error(t["default"], "unknown time zone '" + c.default_timezone +
                                      "' (use an IANA name like America/Chicago)");
    }
    if (c.timezone_policy == TimezonePolicy::campaign && c.default_timezone.empty())
        r.error(root["timezone"] ? root["timezone"] : root,
                "timezone policy 'campaign' needs 'timezone.default'");
    if (auto p = root["pacing"]; p && r.section(p, "pacing")) {
        r.number(p, "max_abandon_rate", "pacing.", c.max_abandon_rate, 0.0, 0.03, true);
        if (auto w = p["abandon_window"]) {
            // Only the two regulatory windows exist: 30 days (US TSR) and 24 hours (Ofcom).
            auto d = w.IsScalar() ? parse_duration(w.Scalar()) : std::nullopt;
            if (d == Millis{86'400'000} || d == Millis{30LL * 86'400'000})
                c.abandon_window = *d;
            else
                r.error(w, "'pacing.abandon_window' must be 30d (US TSR) or 24h (Ofcom)");
        }
        r.duration(p, "connect_grace", "pacing.", c.connect_grace, Millis{0}, Millis{2000});
        r.boolean(p, "count_amd_false_positives", "pacing.", c.count_amd_false_positives);
        r.number(p, "amd_false_positive_rate", "pacing.", c.amd_false_positive_rate, 0.0, 0.5,
                 true);
        r.string(p, "prior", "pacing.", c.pacing_prior);
        if (!c.pacing_prior.empty() && c.pacing_prior == c.name)
            r.error(p["prior"],
                    "'pacing.prior' names this campaign itself: name another campaign "
                    "whose history this one should start from");
        // Counting them at an unstated rate would count none: the estimate must be given.
        if (c.count_amd_false_positives && !p["amd_false_positive_rate"])
            r.error(p["count_amd_false_positives"],
                    "'pacing.count_amd_false_positives' needs 'pacing.amd_false_positive_rate', "
                    "your estimate of the share of machine verdicts that were people (2% or 0.02)");
    }
    if (auto a = root["amd"]; a && r.section(a, "amd")) {
        const std::string p = "amd.";
        r.boolean(a, "enabled", p, c.amd_enabled);
        r.choice(a, "on_machine", p, c.on_machine);
        r.file(a, "message", p, c.machine_message);
        r.choice(a, "on_fax", p, c.on_fax);
        r.choice(a, "on_unknown", p, c.on_unknown);
        r.duration(a, "initial_silence", p, c.amd.initial_silence, Millis{500}, Millis{10'000});
        r.duration(a, "greeting", p, c.amd.greeting, Millis{500}, Millis{10'000});
        r.duration(a, "after_greeting_silence", p, c.amd.after_greeting_silence, Millis{100},
                   Millis{5000});
        r.duration(a, "total_analysis_time", p, c.amd.total_analysis_time, Millis{1000},
                   Millis{30'000});
        r.duration(a, "min_word_length", p, c.amd.min_word_length, Millis{20}, Millis{1000});
        r.duration(a, "between_words_silence", p, c.amd.between_words_silence, Millis{20},
                   Millis{1000});
        r.integer(a, "maximum_number_of_words", p, c.amd.maximum_number_of_words, 1, 20);
        r.duration(a, "maximum_word_length", p, c.amd.maximum_word_length, Millis{500},
                   Millis{10'000});
        if (c.on_machine == MachineAction::leave_message && c.machine_message.empty())
            r.error(a["on_machine"], "on_machine: leave_message needs 'amd.message' (a WAV file)");
    }
    if (auto s = root["safe_harbor"]; s && r.section(s, "safe_harbor"))
        r.file(s, "prompt", "safe_harbor.", c.safe_harbor_prompt);
    if (auto s = root["recording"]; s && r.section(s, "recording")) {
        r.boolean(s, "enabled", "recording.", c.record_calls);
        r.string(s, "folder", "recording.", c.recording_folder);
        r.boolean(s, "agent_can_pause", "recording.", c.agent_can_pause_recording);
        if (c.recording_folder.empty())
            r.error(s["folder"] ? s["folder"] : s, "'recording.folder' must name a folder");
    }
    if (auto n = root["retry"]) read_retry(r, n, c);
    if (auto l = root["limits"]; l && r.section(l, "limits")) {
        const std::string p = "limits.";
        r.integer(l, "max_attempts", p, c.max_attempts, 1, 1000);
        r.integer(l, "max_attempts_per_7_days", p, c.max_attempts_per_7_days, 0, 1000);
        r.duration(l, "quiet_after_conversation", p, c.quiet_after_conversation, Millis{0},
                   Millis{365LL * 86'400'000});
        r.duration(l, "quiet_after_abandon", p, c.quiet_after_abandon, Millis{72LL * 3'600'000},
                   Millis{365LL * 86'400'000},
                   "Ofcom: no repeat call within 72 hours of an abandoned call");
        if (c.kind == CampaignKind::collections) {
            if (l["max_attempts_per_7_days"] &&
                (c.max_attempts_per_7_days == 0 || c.max_attempts_per_7_days > 7))
                r.error(
                    l["max_attempts_per_7_days"],
                    "collections campaigns may place at most 7 calls in 7 days (Reg F); use 1-7");
            if (l["quiet_after_conversation"] &&
                c.quiet_after_conversation < Millis{7LL * 86'400'000})
                r.error(l["quiet_after_conversation"],
                        "collections campaigns must wait at least 7d after a conversation (Reg F)");
        }
    }
    if (auto l = root["list"]; l && r.section(l, "list")) {
        r.string(l, "phone_column", "list.", c.phone_column);
        c.phone_columns = r.string_list(l, "phones", "list.");
        if (l["phones"] && l["phone_column"])
            r.error(l["phones"],
                    "use either 'list.phones' (several numbers per contact) or "
                    "'list.phone_column' (one), not both");
        if (l["phones"] && c.phone_columns.empty())
            r.error(l["phones"], "'list.phones' names no column");
        for (std::size_t i = 0; i < c.phone_columns.size(); ++i)
            for (std::size_t k = 0; k < i; ++k)
                if (c.phone_columns[i] == c.phone_columns[k])
                    r.error(l["phones"], "'list.phones' names '" + c.phone_columns[i] + "' twice");
        if (auto on = l["next_number_on"]) {
            const auto names = r.string_list(l, "next_number_on", "list.");
            c.next_number_on.clear();
            for (const auto& name : names) {
                // busy, no_answer, machine, failed: outcomes that say nothing of the person.
                const auto* last = kRetryOutcomeNames.begin() + 4;
                const auto* it = std::find(kRetryOutcomeNames.begin(), last, name);
                if (it == last)
                    r.error(on,
                            "'list.next_number_on' takes no_answer, busy, machine or failed, "
                            "not '" +
                                name + "'");
                else
                    c.next_number_on.push_back(
                        static_cast<RetryOutcome>(it - kRetryOutcomeNames.begin()));
            }
        }
        if (l["next_number_delay"]) {
            Millis delay{0};
            r.duration(l, "next_number_delay", "list.", delay, Millis{0},
                       Millis{90LL * 86'400'000});
            c.next_number_delay = delay;
        }
        r.string(l, "default_region", "list.", c.default_region);
        if (l["default_region"] && !is_known_region(c.default_region))
            r.error(l["default_region"], "unknown region '" + c.default_region +
                                             "' (use a two-letter code like US or GB)");
        auto files = r.string_list(l, "dnc_files", "list.");
        auto fn = l["dnc_files"];
        for (std::size_t i = 0; i < files.size(); ++i)
            r.check_file(fn.IsSequence() ? fn[i] : fn, files[i], "list.dnc_files");
        c.dnc_files = files;
    }
    if (auto a = root["agents"]; a && r.section(a, "agents")) {
        c.skills = r.string_list(a, "skills", "agents.");
        r.duration(a, "wrapup_max", "agents.", c.wrapup_max, Millis{0}, Millis{3'600'000});
        r.file(a, "hold_prompt", "agents.", c.hold_prompt);
        r.duration(a, "callback_grace", "agents.", c.callback_grace, Millis{0},
                   Millis{7LL * 86'400'000});
        r.number(a, "share", "agents.", c.agent_share, 0.01, 100.0);
    }
    if (auto t = root["transfer"]; t && r.section(t, "transfer")) {
        r.duration(t, "timeout", "transfer.", c.transfer_timeout, Millis{1'000}, Millis{600'000});
        c.transfer_external = r.string_list(t, "external_allowed", "transfer.");
        for (const auto& n : c.transfer_external) {
            const auto digits = n.back() == '*' ? n.substr(1, n.size() - 2) : n.substr(1);
            if (n.size() < 3 || n[0] != '+' || n.size() > 17 ||
                digits.find_first_not_of("0123456789") != std::string::npos || digits.empty())
                r.error(t["external_allowed"],
                        "'transfer.external_allowed' holds E.164 numbers (\"+18005550100\") or "
                        "their beginnings ending in * (\"+1800*\"), not '" +
                            n + "'");
        }
    }
    if (auto s = root["screen_pop"]; s && r.section(s, "screen_pop")) {
        c.screen_pop_fields = r.string_list(s, "fields", "screen_pop.");
        r.string(s, "script", "screen_pop.", c.script);
        r.integer(s, "history", "screen_pop.", c.screen_pop_history, 0, 16);
    }
    if (auto d = root["dispositions"]) read_dispositions(r, d, c);
    if (auto s = root["survey"]) read_survey(r, s, c);
    // After 'list': a caller ID written without a country code is in the list's region. It is
    // kept in E.164, which is what the From header carries (a carrier refuses "(312) 555-0188").
    if (auto d = root["dialing"]; d && d.IsMap() && d["caller_id"] && !c.caller_id.empty()) {
        const auto n = normalize_phone(c.caller_id, c.default_region);
        if (n.ok())
            c.caller_id = n.e164;
        else
            r.error(d["caller_id"], "'dialing.caller_id' is not a valid phone number in region " +
                                        c.default_region + ": '" + c.caller_id + "' (" + n.error +
                                        ")");
    }
    if (auto d = root["dialing"]; d && d.IsMap() && d["caller_ids"]) {
        const auto ids = d["caller_ids"];
        const auto at = ids.IsMap() && ids["numbers"] ? ids["numbers"] : ids;
        std::set<std::string> seen;
        for (auto& number : c.caller_ids.numbers) {
            const auto n = normalize_phone(number, c.default_region);
            if (!n.ok()) {
                r.error(at, "'dialing.caller_ids': '" + number +
                                "' is not a valid phone number in region " + c.default_region +
                                " (" + n.error + ")");
                continue;
            }
            if (!seen.insert(n.e164).second)
                r.error(at, "'dialing.caller_ids': " + n.e164 + " is listed twice");
            number = n.e164;
        }
    }
    if (c.kind == CampaignKind::survey && c.survey_questions.empty())
        r.error(root["survey"] ? root["survey"] : root,
                "a survey campaign needs 'survey.questions'");
    if (c.kind != CampaignKind::survey && root["survey"])
        r.error(root["survey"], "'survey' only applies to kind: survey");
    if (c.ivr_survey()) {
        // Nobody is there to take a call from an IVR survey.
        const auto d = root["dialing"];
        if (c.mode == DialingMode::preview)
            r.error(d["mode"],
                    "an IVR survey has no agents to preview its calls; use "
                    "'survey.handled_by: agents' or another mode");
        if (c.on_machine == MachineAction::agent)
            r.error(root["amd"]["on_machine"],
                    "an IVR survey has no agents to take machines; use hangup or leave_message");
    }
}

void set_defaults(Campaign& c) {
    CallingWindow weekdays;
    for (int d = 0; d < 7; ++d) weekdays.days[d] = true;  // every day 08:00-21:00 unless written
    c.hours.windows = {weekdays};
    auto set = [&](RetryOutcome o, Millis delay, int max) {
        c.retry[static_cast<size_t>(o)] = {delay, max};
    };
    set(RetryOutcome::busy, Millis{10 * 60'000}, 5);
    set(RetryOutcome::no_answer, Millis{2 * 3'600'000}, 5);
    set(RetryOutcome::machine, Millis{4 * 3'600'000}, 3);
    set(RetryOutcome::failed, Millis{30 * 60'000}, 3);
    set(RetryOutcome::abandoned, Millis{72LL * 3'600'000}, 3);
    // A callee who refused the call (603 Decline, 607 Unwanted) is not called again unless the
    // campaign says so: the strict reading of a refusal.
    set(RetryOutcome::declined, Millis{24LL * 3'600'000}, 0);
    c.dispositions = {
        {"SALE", "Sale / success", true, true, false, false, true},
        {"CALLBACK", "Call back later", false, true, false, true},
        {"NOT_INTERESTED", "Not interested", true, true, false, false},
        {"WRONG_NUMBER", "Wrong number", true, false, false, false},
        {"DNC", "Do not call", true, true, true, false},
    };
}

}  // namespace

std::string Diagnostic::to_string() const {
    if (line == 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::string Campaign::resolve_path(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(source_path).parent_path() / p).lexically_normal().string();
}

const char* to_string(CampaignKind k) {
    return campaign_enums().at("kind")[static_cast<int>(k)].c_str();
}
const char* to_string(DialingMode m) {
    return campaign_enums().at("dialing.mode")[static_cast<int>(m)].c_str();
}

CampaignLoad load_campaign_text(const std::string& text, const std::string& display_name,
                                const std::string& base_dir, bool check_files) {
    CampaignLoad out;
    const auto document = load_yaml_document(text, display_name, out.errors);
    if (!document) return out;
    const YAML::Node& root = *document;
    Reader r(display_name, base_dir);
    if (!check_files) r.skip_file_checks();
    Campaign c;
    c.source_path = (fs::path(base_dir) / fs::path(display_name).filename()).string();
    set_defaults(c);
    try {
        read_campaign(r, root, c);
    } catch (const YAML::Exception& e) {  // e.g. a key that is itself a mapping
        r.errors.push_back({display_name, e.mark.line + 1, e.mark.column + 1, e.msg});
    }
    std::stable_sort(r.errors.begin(), r.errors.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                     });
    out.errors = std::move(r.errors);
    if (out.errors.empty()) out.campaign = std::move(c);
    return out;
}

CampaignLoad load_campaign_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {std::nullopt, {{path, 0, 0, "cannot open the file"}}};
    std::stringstream ss;
    ss << in.rdbuf();
    auto out = load_campaign_text(ss.str(), path,
                                  fs::path(path).parent_path().string().empty()
                                      ? "."
                                      : fs::path(path).parent_path().string());
    if (out.campaign) out.campaign->source_path = path;
    return out;
}

}  // namespace outpace
