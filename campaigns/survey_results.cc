#include "campaigns/survey_results.h"

#include "campaigns/csv.h"
#include "campaigns/json_text.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "campaigns/calling_hours.h"
#include "campaigns/survey.h"

namespace outpace {
namespace {

void for_each_respondent(const Store& store, const Campaign& c,
                         const std::function<void(const Attempt&)>& f) {
    store.for_each_attempt(c.name, [&](const Attempt& a) {
        if (!a.survey.empty()) f(a);
    });
}

std::string utc(std::int64_t unix_ms) {
    return unix_ms > 0 ? format_timestamp(Timestamp{std::chrono::seconds(unix_ms / 1000)}) : "";
}

}  // namespace

SurveyTallies tally_answers(const Store& store, const Campaign& c) {
    SurveyTallies t;
    t.campaign = c.name;
    for (const auto& q : c.survey_questions) t.questions.push_back({q.id, q.text, 0, {}, 0});
    for_each_respondent(store, c, [&](const Attempt& a) {
        ++t.respondents;
        ++(a.survey == "complete" ? t.complete : t.incomplete);
        for (auto& q : t.questions) {
            const std::string* answer = survey::find(a.answers, q.id);
            if (!answer) continue;
            ++q.asked;
            if (answer->empty())
                ++q.no_answer;
            else
                ++q.answers[*answer];
        }
    });
    return t;
}

std::string answers_text(const SurveyTallies& t) {
    std::ostringstream o;
    o << "survey answers: " << t.campaign << "\n"
      << "  respondents " << t.respondents << " (complete " << t.complete << ", incomplete "
      << t.incomplete << ")\n";
    for (const auto& q : t.questions) {
        o << "\n  " << q.id << (q.text.empty() ? "" : ": " + q.text) << "\n"
          << "    asked " << q.asked << "\n";
        for (const auto& [answer, n] : q.answers) {
            char line[96];
            std::snprintf(line, sizeof line, "    %-12s %6zu  %5.1f%%\n", answer.c_str(), n,
                          q.asked ? 100.0 * double(n) / double(q.asked) : 0.0);
            o << line;
        }
        if (q.no_answer) {
            char line[96];
            std::snprintf(line, sizeof line, "    %-12s %6zu  %5.1f%%\n", "(no answer)",
                          q.no_answer, 100.0 * double(q.no_answer) / double(q.asked));
            o << line;
        }
    }
    return o.str();
}

std::string answers_json(const SurveyTallies& t) {
    nlohmann::json questions = nlohmann::json::array();
    for (const auto& q : t.questions)
        questions.push_back({{"id", q.id},
                             {"text", q.text},
                             {"asked", q.asked},
                             {"answers", q.answers},
                             {"no_answer", q.no_answer}});
    return json_text(nlohmann::json{{"campaign", t.campaign},
                                    {"respondents", t.respondents},
                                    {"complete", t.complete},
                                    {"incomplete", t.incomplete},
                                    {"questions", questions}});
}

std::size_t export_answers(const Store& store, const Campaign& c,
                           const std::vector<std::string>& fields, ExportFormat format,
                           std::ostream& out) {
    std::vector<Attempt> rows;
    for_each_respondent(store, c, [&](const Attempt& a) { rows.push_back(a); });
    std::sort(rows.begin(), rows.end(),
              [](const Attempt& x, const Attempt& y) { return x.id < y.id; });
    auto field_values = [&](const Attempt& a) {
        std::vector<std::string> values(fields.size());
        if (fields.empty()) return values;
        if (auto contact = store.contact(c.name, a.phone))
            for (std::size_t i = 0; i < fields.size(); ++i)
                for (const auto& [k, v] : contact->fields)
                    if (k == fields[i]) values[i] = v;
        return values;
    };
    if (format == ExportFormat::csv) {
        std::vector<std::string> header = {"attempt", "phone"};
        header.insert(header.end(), fields.begin(), fields.end());
        for (const char* h : {"started", "ended", "outcome", "survey", "agent", "disposition"})
            header.push_back(h);
        for (const auto& q : c.survey_questions) header.push_back(q.id);
        for (std::size_t i = 0; i < header.size(); ++i)
            out << (i ? "," : "") << csv_field(header[i]);
        out << "\r\n";
    }
    for (const auto& a : rows) {
        const auto values = field_values(a);
        if (format == ExportFormat::csv) {
            std::vector<std::string> row = {std::to_string(a.id), a.phone};
            row.insert(row.end(), values.begin(), values.end());
            for (const auto& s :
                 {utc(a.started_ms), utc(a.ended_ms), std::string(to_string(a.outcome)), a.survey,
                  a.agent, a.disposition})
                row.push_back(s);
            for (const auto& q : c.survey_questions) {
                const std::string* answer = survey::find(a.answers, q.id);
                row.push_back(answer ? *answer : "");
            }
            for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csv_field(row[i]);
            out << "\r\n";
        } else {
            nlohmann::json answers = nlohmann::json::object();
            for (const auto& q : c.survey_questions)
                if (const std::string* answer = survey::find(a.answers, q.id))
                    answers[q.id] = answer->empty() ? nlohmann::json() : nlohmann::json(*answer);
            nlohmann::json j = {{"attempt", a.id},
                                {"phone", a.phone},
                                {"started", utc(a.started_ms)},
                                {"ended", utc(a.ended_ms)},
                                {"outcome", to_string(a.outcome)},
                                {"survey", a.survey},
                                {"agent", a.agent},
                                {"disposition", a.disposition},
                                {"answers", answers}};
            if (!fields.empty()) {
                nlohmann::json f = nlohmann::json::object();
                for (std::size_t i = 0; i < fields.size(); ++i) f[fields[i]] = values[i];
                j["fields"] = f;
            }
            out << json_text(j) << "\n";
        }
    }
    return rows.size();
}

}  // namespace outpace
