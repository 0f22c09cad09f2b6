#include "campaigns/survey.h"

namespace outpace::survey {

std::size_t next_question(const std::vector<SurveyQuestion>& questions, std::size_t current,
                          const std::string& answer) {
    if (current >= questions.size()) return kEnd;
    const auto& q = questions[current];
    if (auto it = q.next.find(answer); !answer.empty() && it != q.next.end()) {
        if (it->second == "end") return kEnd;
        for (std::size_t i = 0; i < questions.size(); ++i)
            if (questions[i].id == it->second) return i;
        return kEnd;  // the loader refuses unknown targets; never loop on one
    }
    return current + 1 < questions.size() ? current + 1 : kEnd;
}

const std::string* find(const Answers& answers, const std::string& id) {
    for (const auto& [question, answer] : answers)
        if (question == id) return &answer;
    return nullptr;
}

bool complete(const std::vector<SurveyQuestion>& questions, const Answers& answers) {
    if (questions.empty()) return false;
    // Branches only skip forward (the loader checks), so the walk ends.
    for (std::size_t i = 0; i != kEnd;) {
        const std::string* a = find(answers, questions[i].id);
        if (!a || a->empty()) return false;
        const std::size_t next = next_question(questions, i, *a);
        if (next != kEnd && next <= i) return false;
        i = next;
    }
    return true;
}

}  // namespace outpace::survey
