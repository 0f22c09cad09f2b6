// Surveys: the questionnaire's walk, the campaign checks, answers in the ledger, the survey
// pacer, IVR surveys end to end against SIPp respondents that press keys as RFC 4733
// telephone-events (replayed from a pcap) or as in-band tones, and an agent-led survey.
#include <fstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "campaigns/campaign_loader.h"
#include "campaigns/csv.h"
#include "campaigns/records.h"
#include "campaigns/survey.h"
#include "pacing/policy.h"
#include "tests/agent_rig.h"

using namespace outpace;
using namespace outpace::test;

namespace {

Campaign survey_campaign(const std::string& survey_yaml, std::vector<std::string>* errors) {
    test::TempDir dir;
    for (const char* p : {"q1.wav", "q2.wav", "q3.wav"}) dir.write(p, "");
    auto load = load_campaign_text("name: s\nkind: survey\n" + survey_yaml, "c.yaml", dir.path());
    for (const auto& e : load.errors) errors->push_back(e.to_string());
    return load.campaign.value_or(Campaign{});
}

// rate (1-5): 1 or 2 -> why; else recommend (1/2) -> end; why (1-3) -> end.
const char* kQuestions = R"(survey:
  questions:
    - {id: rate, prompt: q1.wav, digits: "12345", next: {"1": why, "2": why}}
    - {id: recommend, prompt: q2.wav, digits: "12", next: {"1": end, "2": end}}
    - {id: why, prompt: q3.wav, digits: "123"}
)";

}  // namespace

TEST_CASE("survey walk: branches, the following question, the end, completeness") {
    std::vector<std::string> errors;
    const auto c = survey_campaign(kQuestions, &errors);
    REQUIRE(errors.empty());
    const auto& q = c.survey_questions;
    CHECK(survey::next_question(q, 0, "1") == 2);  // branch to why
    CHECK(survey::next_question(q, 0, "4") == 1);  // no branch: the next one
    CHECK(survey::next_question(q, 0, "") == 1);   // no answer: the next one
    CHECK(survey::next_question(q, 1, "2") == survey::kEnd);
    CHECK(survey::next_question(q, 2, "3") == survey::kEnd);  // the last one
    CHECK(survey::complete(q, {{"rate", "1"}, {"why", "3"}}));
    CHECK(survey::complete(q, {{"rate", "4"}, {"recommend", "2"}}));
    CHECK_FALSE(survey::complete(q, {{"rate", "4"}}));
    CHECK_FALSE(survey::complete(q, {{"rate", "1"}, {"recommend", "2"}}));  // why not answered
    CHECK_FALSE(survey::complete(q, {{"rate", "4"}, {"recommend", ""}}));   // no valid key
    CHECK_FALSE(survey::complete(q, {}));
}

TEST_CASE("survey campaign checks: forward branches, prompts for the IVR, text for agents") {
    std::vector<std::string> errors;
    survey_campaign(R"(survey:
  questions:
    - {id: a, prompt: q1.wav, digits: "12"}
    - {id: b, prompt: q2.wav, digits: "12", next: {"1": a}}
)",
                    &errors);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "c.yaml:6:51: branch from 'b' back to 'a': branches may only skip ahead");

    errors.clear();
    survey_campaign("survey:\n  questions:\n    - {id: a, digits: \"12\"}\n", &errors);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] ==
          "c.yaml:5:7: question 'a' needs a 'prompt' (a WAV file): the IVR plays it to ask");

    errors.clear();
    const auto agents = survey_campaign(
        "survey:\n  handled_by: agents\n  questions:\n    - {id: a, digits: \"12\"}\n"
        "    - {id: b, digits: \"12\", text: \"Why?\"}\n",
        &errors);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "c.yaml:6:7: question 'a' needs a 'text' for the agent to read");

    errors.clear();
    survey_campaign(std::string("dialing: {mode: preview}\n") + kQuestions, &errors);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("an IVR survey has no agents to preview") != std::string::npos);

    errors.clear();
    const auto ivr = survey_campaign(std::string(kQuestions) + "  lines: 40\n", &errors);
    CHECK(errors.empty());
    CHECK(ivr.ivr_survey());
    CHECK(ivr.survey_lines == 40);
}

TEST_CASE(
    "attempt records keep survey answers and trunk hops, and records written before them still "
    "read") {
    Attempt a;
    a.id = 7;
    a.campaign = "s";
    a.phone = "+14155550100";
    a.outcome = Outcome::connected;
    a.answers = {{"rate", "1"}, {"why", ""}};
    a.survey = "incomplete";
    const auto back = Attempt::decode(a.encode());
    REQUIRE(back);
    CHECK(back->answers == a.answers);
    CHECK(back->survey == "incomplete");
    // Version 1: the same record without the answers' tail.
    Attempt plain = a;
    plain.answers.clear();
    plain.survey.clear();
    // Version 5: without version 6's address on the trunk and caller ID (one byte each: empty;
    // no hops to follow).
    // Version 6: without version 7's monitoring and legs (one byte each: none).
    std::string v6 = plain.encode();
    v6[0] = 6;
    v6.resize(v6.size() - 2);
    std::string v5 = v6;
    v5[0] = 5;
    v5.resize(v5.size() - 2);
    // Version 4: without version 5's trunk hops (one byte: none).
    std::string v4 = v5;
    v4[0] = 4;
    v4.resize(v4.size() - 1);
    // Version 3: without version 4's number dialled, its column and the zones (one byte each).
    std::string v3 = v4;
    v3[0] = 3;
    v3.resize(v3.size() - 3);
    // Version 1: no answers, no survey, nothing decided (one byte each), and none of version 3's
    // call controls (hold, holds, mute, paused stretches), origin and personal callback: one
    // byte each.
    std::string v1 = v3;
    v1[0] = 1;
    v1.resize(v1.size() - 3 - 6);
    for (const auto& bytes : {v1, v3, v4, v5, v6}) {
        const auto old = Attempt::decode(bytes);
        REQUIRE(old);
        CHECK(old->phone == a.phone);
        CHECK(old->answers.empty());
        CHECK(old->hops.empty());
        CHECK(old->number() == a.phone);
    }
    // A damaged tail is refused, not read as garbage.
    std::string bad = a.encode();
    bad.resize(bad.size() - 3);
    CHECK_FALSE(Attempt::decode(bad));

    // A scan decodes every record into one Attempt: what a newer record held must not show
    // through an older one that lacks the field.
    Attempt full = a;
    full.zones = "America/Chicago";
    full.dialled = "+14155550199";
    full.number_label = "work";
    full.origin = "manual";
    full.hold_ms = 5000;
    full.holds = 2;
    full.recording_paused = {{1000, 2000}};
    full.decided = Outcome::connected;
    full.hops = {{"primary", 503, "192.0.2.1:5060"}, {"backup", 408}};
    full.target = "192.0.2.7:5080";
    full.caller_id = "+13125550188";
    full.monitors = {{"boss", "listen", 1000, 5000}, {"boss", "barge", 5000, 9000}};
    full.legs = {{"ann", "talk", "ben", "VERIFY", 1000, 8000},
                 {"ben", "consult", "", "", 6000, 8000}};
    Attempt reused;
    REQUIRE(Attempt::decode(full.encode(), reused));
    CHECK(reused.zones == "America/Chicago");
    CHECK(reused.hops == full.hops);
    CHECK(reused.target == "192.0.2.7:5080");
    CHECK(reused.caller_id == "+13125550188");
    REQUIRE(reused.monitors.size() == 2);
    CHECK(reused.monitors[1].supervisor == "boss");
    CHECK(reused.monitors[1].mode == "barge");
    CHECK(reused.monitors[1].from_ms == 5000);
    CHECK(reused.monitors[1].to_ms == 9000);
    REQUIRE(reused.legs.size() == 2);
    CHECK(reused.legs[0].agent == "ann");
    CHECK(reused.legs[0].kind == "talk");
    CHECK(reused.legs[0].to == "ben");
    CHECK(reused.legs[0].disposition == "VERIFY");
    CHECK(reused.legs[0].to_ms == 8000);
    CHECK(reused.legs[1].kind == "consult");
    CHECK(reused.legs[1].from_ms == 6000);
    CHECK(reused.answers.size() == 2);
    REQUIRE(Attempt::decode(v1, reused));
    CHECK(reused.answers.empty());
    CHECK(reused.survey.empty());
    CHECK(reused.zones.empty());
    CHECK(reused.hops.empty());
    CHECK(reused.target.empty());
    CHECK(reused.caller_id.empty());
    CHECK(reused.monitors.empty());
    CHECK(reused.legs.empty());
    CHECK(reused.dialled.empty());
    CHECK(reused.number_label.empty());
    CHECK(reused.origin.empty());
    CHECK(reused.hold_ms == 0);
    CHECK(reused.holds == 0);
    CHECK(reused.recording_paused.empty());
    CHECK(reused.decided == Outcome::none);
    CHECK(reused.number() == a.phone);
}

TEST_CASE("survey pacing: fills the IVR's lines from the live answers expected") {
    pacing::PacingConfig c;
    c.mode = pacing::Mode::survey;
    c.survey_lines = 10;
    c.max_lines_per_agent = 3;
    auto policy = pacing::make_policy(c);
    pacing::Estimator est;
    pacing::Snapshot s;  // no agents at all
    s.sessions = 4;
    s.ringing_age_s = {1, 2};
    // Cold: one call per free line, counting the calls already ringing.
    CHECK(policy->decide(s, est).calls == 10 - 4 - 2);
    for (int i = 0; i < 400; ++i)
        est.dial_resolved(i % 5 == 0 ? pacing::DialResult::live : pacing::DialResult::no_answer, 5);
    // Learned: a fifth of dials are people; 6 free lines, the 2 ringing bring about 0.4.
    const auto d = policy->decide(s, est);
    CHECK(d.calls >= 26);
    CHECK(d.calls <= 30);
    // Past the agents' lines-per-agent cap (there are no agents), the trunk's caps still hold.
    CHECK(pacing::apply_caps(d.calls, s, c) == d.calls);
    c.max_trunk_calls = 20;
    s.trunk_in_flight = 6;
    CHECK(pacing::apply_caps(d.calls, s, c) == 14);
    s.sessions = 10;
    CHECK(policy->decide(s, est).calls == 0);  // every line in a session
}

namespace {

// RFC 4733 key presses as a pcap SIPp replays (Ethernet/IPv4/UDP), at times from the first.
// Each press: three updates 20 ms apart, then the end packet three times.
std::string write_key_pcap(test::Rig& rig, const std::string& name,
                           const std::vector<std::pair<double, char>>& presses) {
    std::string out;
    auto u16 = [&](std::string& s, unsigned v) {
        s += static_cast<char>(v >> 8);
        s += static_cast<char>(v & 0xff);
    };
    auto le32 = [&](std::uint32_t v) {
        for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    le32(0xa1b2c3d4);
    out += std::string("\x02\x00\x04\x00", 4);
    le32(0), le32(0), le32(65535), le32(1);
    std::uint16_t seq = 1000;
    auto packet = [&](double t, int pt, bool marker, std::uint32_t ts, const std::string& payload) {
        std::string rtp;
        rtp += static_cast<char>(0x80);
        rtp += static_cast<char>((marker ? 0x80 : 0) | pt);
        u16(rtp, seq++);
        rtp += static_cast<char>(ts >> 24), rtp += static_cast<char>(ts >> 16);
        rtp += static_cast<char>(ts >> 8), rtp += static_cast<char>(ts);
        rtp += std::string("\x12\x34\x56\x78", 4);
        rtp += payload;
        std::string udp;
        u16(udp, 40000), u16(udp, 40002), u16(udp, 8 + static_cast<unsigned>(rtp.size())),
            u16(udp, 0);
        std::string ip = std::string("\x45\x00", 2);
        u16(ip, 20 + static_cast<unsigned>(udp.size() + rtp.size()));
        ip += std::string("\x00\x00\x40\x00\x40\x11\x00\x00\x7f\x00\x00\x01\x7f\x00\x00\x01", 16);
        const std::string frame =
            std::string(12, '\0') + std::string("\x08\x00", 2) + ip + udp + rtp;
        const auto us = static_cast<std::uint32_t>(t * 1e6);
        le32(us / 1'000'000), le32(us % 1'000'000);
        le32(static_cast<std::uint32_t>(frame.size())),
            le32(static_cast<std::uint32_t>(frame.size()));
        out += frame;
    };
    static const std::string kKeys = "0123456789*#";
    for (const auto& [at, key] : presses) {
        const auto event = static_cast<char>(kKeys.find(key));
        const auto ts = static_cast<std::uint32_t>(at * 8000);
        for (int i = 0; i < 3; ++i) {
            std::string p{event, '\x0a'};
            u16(p, 160u * (i + 1));
            packet(at + 0.02 * i, 101, i == 0, ts, p);
        }
        for (int i = 0; i < 3; ++i) {
            std::string p{event, '\x8a'};
            u16(p, 640);
            packet(at + 0.08 + 0.005 * i, 101, false, ts, p);
        }
    }
    const auto path = rig.file(name + ".pcap");
    std::ofstream(path, std::ios::binary) << out;
    return path;
}

// In-band keys: `gap_s` of silence, then each key as a 120 ms DTMF tone and `gap_s` after it.
std::vector<std::int16_t> inband_keys(const std::string& keys, double gap_s) {
    std::vector<std::int16_t> pcm;
    auto silence = [&](double s) { pcm.insert(pcm.end(), static_cast<std::size_t>(s * 8000), 0); };
    silence(gap_s);
    dtmf_tx_state_t* tx = dtmf_tx_init(nullptr);
    dtmf_tx_set_level(tx, -10, 0);
    dtmf_tx_set_timing(tx, 120, 0);
    for (char k : keys) {
        const char one[2] = {k, 0};
        dtmf_tx_put(tx, one, 1);
        std::int16_t buf[160];
        for (int i = 0; i < 6; ++i) {  // 120 ms
            const int n = dtmf_tx(tx, buf, 160);
            pcm.insert(pcm.end(), buf, buf + 160);
            if (n < 160) std::fill(pcm.end() - (160 - n), pcm.end(), 0);
        }
        silence(gap_s);
    }
    dtmf_tx_free(tx);
    return pcm;
}

}  // namespace

TEST_CASE(
    "IVR survey: keys as telephone-events and in-band tones, branches, re-prompts, "
    "hang-up midway, report and export") {
    // SIPp 3.6 replays pcaps through a raw socket.
    REQUIRE_MESSAGE(::geteuid() == 0,
                    "this test needs root: SIPp sends the respondents' RFC 4733 "
                    "key presses from a pcap over a raw socket");
    test::Rig rig;
    rig.kind("survey");
    // Prompts of 0.4 s; the invalid-input prompt of 0.3 s.
    for (const char* p : {"q1", "q2", "q3", "thanks", "invalid"}) {
        auto r = test::run("sox -n -r 8000 -c 1 -e signed -b 16 " +
                           rig.file(std::string(p) + ".wav") + " synth " +
                           (std::string(p) == "invalid" ? "0.3" : "0.4") + " sine 500 vol 0.2");
        REQUIRE_MESSAGE(r.status == 0, r.out);
    }
    const std::string survey = R"(survey:
  invalid_prompt: invalid.wav
  closing_prompt: thanks.wav
  questions:
    - {id: rate, prompt: q1.wav, digits: "12345", timeout: 2s, retries: 1, next: {"1": why, "2": why}}
    - {id: recommend, prompt: q2.wav, digits: "12", timeout: 1s, retries: 1, next: {"1": end, "2": end}}
    - {id: why, prompt: q3.wav, digits: "123", timeout: 1s, retries: 1}
)";
    // The greeting ends 1.35 s into the audio; the human verdict comes about 0.65 s later.
    // events: 9 (not allowed: asked again), 1 (branch to why), 3 (the last answer).
    rig.campaign("events",
                 rig.survey_callee(
                     "events", "human-short-000.wav", 300, {},
                     write_key_pcap(rig, "events", {{0, '9'}, {1.2, '1'}, {2.4, '3'}}), 3000, 0),
                 1, survey, 0);
    // in-band: 4 (no branch: recommend next), then 2; tones start after the 4.6 s recording.
    rig.campaign(
        "inband",
        rig.survey_callee("inband", "human-short-000.wav", 300, inband_keys("42", 1.0), "", 0, 0),
        1, survey, 0);
    // Answers 5, then hangs up while being asked the next question.
    rig.campaign("hangup",
                 rig.survey_callee("hangup", "human-short-000.wav", 300, {},
                                   write_key_pcap(rig, "hangup", {{0, '5'}}), 3000, 1200),
                 1, survey, 0);
    // Presses nothing: each question is asked twice and passed unanswered (no answer follows
    // the list: rate, recommend, why); the survey still reaches its end.
    rig.campaign("silent", rig.survey_callee("silent", "human-short-000.wav", 300, {}, "", 0, 0), 1,
                 survey, 0);
    const auto r = rig.run();
    REQUIRE_MESSAGE(r.status == 0, r.out);
    auto attempts = rig.attempts();
    auto only = [&](const std::string& name) {
        REQUIRE_MESSAGE(attempts[name].size() == 1, name << ": " << r.out);
        return attempts[name][0];
    };
    using Answers = std::vector<std::pair<std::string, std::string>>;
    INFO("engine output:\n" << r.out);
    const auto events = only("events");
    INFO("events: verdict after " << events.amd_ms << " ms, on the line " << events.talk_ms
                                  << " ms, notes: " << events.notes);
    CHECK(events.outcome == Outcome::connected);
    CHECK(events.amd_verdict == "human");
    CHECK(events.answers == Answers{{"rate", "1"}, {"why", "3"}});
    CHECK(events.survey == "complete");
    CHECK(events.talk_ms > 2000);

    const auto inband = only("inband");
    CHECK(inband.answers == Answers{{"rate", "4"}, {"recommend", "2"}});
    CHECK(inband.survey == "complete");

    const auto hangup = only("hangup");
    CHECK(hangup.outcome == Outcome::connected);
    CHECK(hangup.answers == Answers{{"rate", "5"}});
    CHECK(hangup.survey == "incomplete");

    const auto silent = only("silent");
    CHECK(silent.answers == Answers{{"rate", ""}, {"recommend", ""}, {"why", ""}});
    CHECK(silent.survey == "complete");
    // rate: 0.4 s prompt + 2 s, twice; recommend and why: 0.4 + 1 s, twice; the closing 0.4 s.
    CHECK(silent.talk_ms >= 10'000);

    // The contacts are done: a finished survey is not dialled again.
    CHECK(rig.contact("events", events.phone)->state == ContactState::done);

    // The report tallies what the ledger holds.
    const std::string bin = OUTPACE_BINARY;
    auto rep =
        test::run(bin + " report --data " + rig.data() + " --campaign events --answers --json");
    REQUIRE_MESSAGE(rep.status == 0, rep.out);
    const auto t = nlohmann::json::parse(rep.out);
    CHECK(t["respondents"] == 1);
    CHECK(t["complete"] == 1);
    CHECK(t["questions"][0]["id"] == "rate");
    CHECK(t["questions"][0]["answers"]["1"] == 1);
    CHECK(t["questions"][1]["asked"] == 0);
    auto text = test::run(bin + " report --data " + rig.data() + " --campaign silent --answers");
    CHECK(text.out.find("(no answer)") != std::string::npos);

    // The export round-trips through a CSV reader.
    const auto csv = rig.file("events.csv.out");
    auto ex = test::run(bin + " export --data " + rig.data() +
                        " --campaign events --format csv --fields timezone -o " + csv);
    REQUIRE_MESSAGE(ex.status == 0, ex.out);
    CsvReader reader(csv);
    CsvRecord header, row, extra;
    REQUIRE(reader.next(header));
    REQUIRE(reader.next(row));
    CHECK_FALSE(reader.next(extra));
    REQUIRE(header.fields.size() == row.fields.size());
    std::map<std::string, std::string> got;
    for (std::size_t i = 0; i < header.fields.size(); ++i) got[header.fields[i]] = row.fields[i];
    CHECK(got["attempt"] == std::to_string(events.id));
    CHECK(got["phone"] == events.phone);
    std::string zone;
    const auto contact = rig.contact("events", events.phone);
    REQUIRE(contact);
    for (const auto& [k, v] : contact->fields)
        if (k == "timezone") zone = v;
    CHECK(!zone.empty());
    CHECK(got["timezone"] == zone);
    CHECK(got["survey"] == "complete");
    CHECK(got["rate"] == "1");
    CHECK(got["recommend"] == "");
    CHECK(got["why"] == "3");
    auto jl = test::run(bin + " export --data " + rig.data() +
                        " --campaign silent --format jsonl 2>/dev/null");
    REQUIRE_MESSAGE(jl.status == 0, jl.out);
    const auto j = nlohmann::json::parse(jl.out.substr(0, jl.out.find('\n')));
    CHECK(j["answers"]["rate"].is_null());
    CHECK(j["answers"].contains("recommend"));
    CHECK(j["survey"] == "complete");
}

TEST_CASE(
    "agent-led survey — the screen pop carries the questions, the disposition "
    "the answers") {
    Rig rig;
    Softphones phones(rig.file("softphones.log"));
    const int agents_port = free_port();
    rig.mode("preview");  // the test paces the calls itself
    rig.kind("survey");
    rig.campaign("poll", "uas", 2, R"(survey:
  handled_by: agents
  questions:
    - {id: vote, text: "Will you vote?", digits: "12", next: {"2": end}}
    - {id: issue, text: "Which issue matters most?", digits: "123"}
)",
                 0);
    auto engine = rig.start(agents_section(agents_port, 0, "5s"));
    REQUIRE(wait_tcp_listening(agents_port));
    Desk desk(agents_port, "desk-s");
    desk.log_in_ready("s1", phones.port);
    // One call: answers given in full; the other: only the first question answered.
    const std::vector<json> answers = {{{"vote", "1"}, {"issue", 3}}, {{"vote", "1"}}};
    for (const auto& given : answers) {
        desk.send(json{{"type", "next"}});
        REQUIRE(!desk.expect("preview").is_null());
        auto offer = desk.dial_previewed();
        const auto attempt = offer["attempt"].get<std::uint64_t>();
        REQUIRE(offer["survey"].size() == 2);
        CHECK(offer["survey"][0]["id"] == "vote");
        CHECK(offer["survey"][0]["text"] == "Will you vote?");
        CHECK(offer["survey"][0]["next"]["2"] == "end");
        desk.send(json{{"type", "hangup"}});
        REQUIRE(!desk.expect("wrapup").is_null());
        desk.send(json{{"type", "disposition"},
                       {"attempt", attempt},
                       {"code", "NOT_INTERESTED"},
                       {"answers", {{"colour", "red"}}}});
        auto e = desk.expect("error");
        REQUIRE(!e.is_null());
        CHECK(e["reason"] == "'colour' is not a question of poll");
        desk.send(json{{"type", "disposition"},
                       {"attempt", attempt},
                       {"code", "NOT_INTERESTED"},
                       {"answers", given}});
        REQUIRE(!desk.expect("disposed").is_null());
        REQUIRE(desk.expect("state")["state"] == "ready");
    }
    engine->signal(SIGTERM);
    REQUIRE(engine->wait(30s) == 0);

    auto all = rig.attempts();
    REQUIRE(all["poll"].size() == 2);
    std::sort(all["poll"].begin(), all["poll"].end(),
              [](const Attempt& a, const Attempt& b) { return a.id < b.id; });
    using Answers = std::vector<std::pair<std::string, std::string>>;
    CHECK(all["poll"][0].answers == Answers{{"vote", "1"}, {"issue", "3"}});
    CHECK(all["poll"][0].survey == "complete");
    CHECK(all["poll"][1].answers == Answers{{"vote", "1"}});
    CHECK(all["poll"][1].survey == "incomplete");
    CHECK(all["poll"][0].notes.find("answers=") == std::string::npos);
}
