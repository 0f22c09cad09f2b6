// IVR surveys: after a human verdict the engine asks the campaign's questions (WAV prompts) and
// takes keypad answers, RFC 4733 telephone-events or in-band tones. A key is accepted as soon as
// it comes, also while the prompt still plays (people who know the survey answer early). A wrong
// key or silence until the question's timeout asks again, up to its retries; then the question
// is left unanswered and the survey goes on. Each answer is written to the attempt in the ledger
// at the next tick, so a person who hangs up midway, or an engine crash, leaves the answers given
// (incomplete).
#include "campaigns/survey.h"
#include "dialer/engine/engine.h"
#include "dialer/engine/engine_parts.h"

namespace outpace {

void Engine::start_survey(Call& c) {
    Run& run = *c.run;
    c.outcome = Outcome::connected;
    c.attempt.survey = "incomplete";
    c.connected_at = SteadyClock::now();
    c.state = Call::State::surveying;
    c.in_survey = true;
    ++run.status.connected;
    decided(c, Outcome::connected);
    ++run.status.surveys;
    Call* raw = &c;
    c.rtp->on_digit([this, raw](char key) { survey_key(*raw, key, false); });
    c.dtmf = std::make_unique<media::DtmfDetector>(
        [this, raw](char key) { survey_key(*raw, key, true); });
    survey_ask(c, 0);
}

void Engine::survey_ask(Call& c, std::size_t question) {
    c.question = question;
    c.tries = 0;
    c.listening = false;
    c.then = nullptr;
    c.prompt = &c.run->survey_prompts[question];
    c.prompt_pos = 0;
}

void Engine::survey_key(Call& c, char key, bool inband) {
    const auto now = SteadyClock::now();
    if (inband) {
        // A phone that sends telephone-events may leave the tones in its audio too: once one
        // event came, keys are taken from events only.
        if (c.heard_rfc4733) return;
        c.inband_key = key;
        c.inband_at = now;
    } else {
        c.heard_rfc4733 = true;
        // The same press, heard in-band a moment before its event.
        if (key == c.inband_key && now - c.inband_at < milliseconds(300)) return;
    }
    if (c.state != Call::State::surveying) return;
    const auto& q = c.run->campaign.survey_questions[c.question];
    if (q.digits.find(key) == std::string::npos) {
        survey_retry(c, true);
        return;
    }
    survey_answered(c, std::string(1, key));
}

// The question's answer (empty: none came within its retries); then the next question, or the
// end of the survey and its closing prompt.
void Engine::survey_answered(Call& c, const std::string& answer) {
    Run& run = *c.run;
    const auto& questions = run.campaign.survey_questions;
    c.attempt.answers.emplace_back(questions[c.question].id, answer);
    run.progress.push_back(c.attempt);  // on disk at the next tick: a crash keeps the answers
    const auto next = survey::next_question(questions, c.question, answer);
    if (next != survey::kEnd) {
        survey_ask(c, next);
        return;
    }
    c.attempt.survey = "complete";
    if (run.survey_closing.empty())
        hang_up(c);
    else
        play(c, &run.survey_closing);  // then the call ends
}

// A wrong key or no key in time: the question again (after the invalid-input prompt for a wrong
// key), or past its retries, no answer and on with the survey.
void Engine::survey_retry(Call& c, bool invalid) {
    Run& run = *c.run;
    const auto& q = run.campaign.survey_questions[c.question];
    if (++c.tries > q.retries) {
        survey_answered(c, "");
        return;
    }
    c.listening = false;
    c.prompt_pos = 0;
    if (invalid && !run.survey_invalid.empty()) {
        c.prompt = &run.survey_invalid;
        c.then = &run.survey_prompts[c.question];
    } else {
        c.prompt = &run.survey_prompts[c.question];
        c.then = nullptr;
    }
}

// The next 20 ms a survey call hears: its prompt, or silence while listening. Times out the
// listening. False when the call is to end.
bool Engine::survey_frame(Call& c, std::span<const std::int16_t>& sent) {
    static const std::int16_t kSilence[160] = {};
    sent = kSilence;
    if (!c.listening && c.prompt && c.prompt_pos >= c.prompt->size() && c.then) {
        c.prompt = c.then;
        c.then = nullptr;
        c.prompt_pos = 0;
    }
    if (!c.listening && c.prompt && c.prompt_pos < c.prompt->size()) {
        const auto& p = *c.prompt;
        const std::size_t n = std::min<std::size_t>(160, p.size() - c.prompt_pos);
        std::copy_n(p.data() + c.prompt_pos, n, c.frame.begin());
        std::fill(c.frame.begin() + static_cast<std::ptrdiff_t>(n), c.frame.end(), 0);
        c.prompt_pos += n;
        sent = c.frame;
        return true;
    }
    const auto now = SteadyClock::now();
    if (!c.listening) {
        c.listening = true;
        c.listen_until = now + std::chrono::duration_cast<milliseconds>(
                                   c.run->campaign.survey_questions[c.question].timeout);
    } else if (now >= c.listen_until) {
        survey_retry(c, false);
        if (c.state != Call::State::surveying) return c.state != Call::State::hanging_up;
    }
    return true;
}

}  // namespace outpace
