// IVR surveys: after a human verdict the call asks the campaign's questions (WAV prompts) and
// takes keypad answers, RFC 4733 telephone-events or in-band tones. A key is accepted as soon as
// it comes, also while the prompt still plays (people who know the survey answer early). A wrong
// key or silence until the question's timeout asks again, up to its retries; then the question
// is left unanswered and the survey goes on. Each answer is written to the attempt in the ledger
// at the next tick, so a person who hangs up midway, or an engine crash, leaves the answers given
// (incomplete).
#include "campaigns/survey.h"
#include "dialer/engine/call.h"
#include "dialer/engine/campaign_run.h"

namespace outpace {

void Call::start_survey() {
    outcome_ = Outcome::connected;
    attempt_.survey = "incomplete";
    connected_at_ = now();
    to(State::surveying);
    in_survey_ = true;
    ++run_.status().connected;
    decided(Outcome::connected);
    ++run_.status().surveys;
    rtp_->on_digit([this](char key) { survey_key(key, false); });
    dtmf_ = std::make_unique<media::DtmfDetector>([this](char key) { survey_key(key, true); });
    survey_ask(0);
}

void Call::survey_ask(std::size_t question) {
    question_ = question;
    tries_ = 0;
    listening_ = false;
    then_ = nullptr;
    prompt_ = &run_.prompts().survey_questions[question];
    prompt_pos_ = 0;
}

void Call::survey_key(char key, bool inband) {
    const auto t = now();
    if (inband) {
        // A phone that sends telephone-events may leave the tones in its audio too: once one
        // event came, keys are taken from events only.
        if (heard_rfc4733_) return;
        inband_key_ = key;
        inband_at_ = t;
    } else {
        heard_rfc4733_ = true;
        // The same press, heard in-band a moment before its event.
        if (key == inband_key_ && t - inband_at_ < std::chrono::milliseconds(300)) return;
    }
    if (state_ != State::surveying) return;
    const auto& q = run_.campaign().survey_questions[question_];
    if (q.digits.find(key) == std::string::npos) {
        survey_retry(true);
        return;
    }
    survey_answered(std::string(1, key));
}

// The question's answer (empty: none came within its retries); then the next question, or the
// end of the survey and its closing prompt.
void Call::survey_answered(const std::string& answer) {
    const auto& questions = run_.campaign().survey_questions;
    attempt_.answers.emplace_back(questions[question_].id, answer);
    run_.decided(attempt_);  // on disk at the next tick: a crash keeps the answers
    const auto next = survey::next_question(questions, question_, answer);
    if (next != survey::kEnd) {
        survey_ask(next);
        return;
    }
    attempt_.survey = "complete";
    if (run_.prompts().survey_closing.empty())
        hang_up();
    else
        play(&run_.prompts().survey_closing);  // then the call ends
}

// A wrong key or no key in time: the question again (after the invalid-input prompt for a wrong
// key), or past its retries, no answer and on with the survey.
void Call::survey_retry(bool invalid) {
    const auto& q = run_.campaign().survey_questions[question_];
    if (++tries_ > q.retries) {
        survey_answered("");
        return;
    }
    listening_ = false;
    prompt_pos_ = 0;
    const Prompts& p = run_.prompts();
    if (invalid && !p.survey_invalid.empty()) {
        prompt_ = &p.survey_invalid;
        then_ = &p.survey_questions[question_];
    } else {
        prompt_ = &p.survey_questions[question_];
        then_ = nullptr;
    }
}

// The next 20 ms a survey call hears: its prompt, or silence while listening. Times out the
// listening. False when the call is to end.
bool Call::survey_frame(std::span<const std::int16_t>& sent) {
    static const std::int16_t kQuiet[160] = {};
    sent = kQuiet;
    if (!listening_ && prompt_ && prompt_pos_ >= prompt_->size() && then_) {
        prompt_ = then_;
        then_ = nullptr;
        prompt_pos_ = 0;
    }
    if (!listening_ && prompt_ && prompt_pos_ < prompt_->size()) return prompt_frame(sent);
    const auto t = now();
    if (!listening_) {
        listening_ = true;
        listen_until_ = t + std::chrono::duration_cast<std::chrono::milliseconds>(
                                run_.campaign().survey_questions[question_].timeout);
    } else if (t >= listen_until_) {
        survey_retry(false);
        if (state_ != State::surveying) return state_ != State::hanging_up;
    }
    return true;
}

}  // namespace outpace
