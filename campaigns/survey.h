// A survey's questionnaire as a walk: which question follows an answer, and whether a set of
// answers went from the first question to the end. Shared by the IVR, the agent-led disposition
// and the reports, so that all three read the branching the same way.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "campaigns/campaign.h"

namespace outpace::survey {

using Answers = std::vector<std::pair<std::string, std::string>>;  // question id -> answer

constexpr std::size_t kEnd = static_cast<std::size_t>(-1);

// The question asked after question `current` got `answer` ("" when none came): its branch for
// that answer, else the next one in the list; kEnd closes the survey.
std::size_t next_question(const std::vector<SurveyQuestion>& questions, std::size_t current,
                          const std::string& answer);

// True when the answers follow the questionnaire from its first question to its end, every
// question on the way answered.
bool complete(const std::vector<SurveyQuestion>& questions, const Answers& answers);

// The answer to `id`, or nullptr when the question was not asked.
const std::string* find(const Answers& answers, const std::string& id);

}  // namespace outpace::survey
