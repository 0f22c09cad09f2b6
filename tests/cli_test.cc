// The `outpace` binary as a user runs it: exit codes and output forms.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "campaigns/store.h"
#include "test_util.h"

using namespace outpace;
using test::kOutpace;

TEST_CASE("campaign check: exit 0 with a summary line for each valid file") {
    auto r = test::run(kOutpace + " campaign check " + test::example("telemarketing.yaml") + " " +
                       test::example("survey.yaml"));
    CHECK(r.status == 0);
    CHECK(r.out.find(
              "telemarketing.yaml: ok: campaign 'spring-renewals' (telemarketing, predictive") !=
          std::string::npos);
    CHECK(r.out.find("survey.yaml: ok: campaign 'csat-november'") != std::string::npos);
}

TEST_CASE("campaign check: every error as FILE:LINE:COL: message and exit 1") {
    test::TempDir dir;
    auto bad = dir.write("bad.yaml", "name: x\ndialing:\n  ring_timeout: 5s\n  moed: power\n");
    auto r = test::run(kOutpace + " campaign check " + bad);
    CHECK(r.status == 1);
    CHECK(r.out.find(bad + ":3:17: 'dialing.ring_timeout' must be at least 15s") !=
          std::string::npos);
    CHECK(r.out.find(bad + ":4:3: unknown key 'moed' in 'dialing' (did you mean 'mode'?)") !=
          std::string::npos);
}

TEST_CASE("campaign check --json: one object per file, errors with their place, the campaign") {
    test::TempDir dir;
    auto bad = dir.write("bad.yaml", "name: x\ndialing:\n  ring_timeout: 5s\n");
    auto r = test::run(kOutpace + " campaign check --json " + bad + " " +
                       test::example("telemarketing.yaml") + " 2>/dev/null");
    CHECK(r.status == 1);
    std::istringstream lines(r.out);
    std::string first, second;
    std::getline(lines, first);
    std::getline(lines, second);
    const auto a = nlohmann::json::parse(first), b = nlohmann::json::parse(second);
    CHECK(a["ok"] == false);
    REQUIRE(a["errors"].size() == 1);
    CHECK(a["errors"][0]["line"] == 3);
    CHECK(a["errors"][0]["column"] == 17);
    CHECK(a["errors"][0]["message"].get<std::string>().starts_with("'dialing.ring_timeout'"));
    CHECK(b["ok"] == true);
    CHECK(b["campaign"]["caller_id"] == "+12125550100");
    CHECK(b["campaign"]["kind"] == "telemarketing");
}

TEST_CASE("contacts import, contacts next and report work together from the command line") {
    test::TempDir dir;
    const std::string data = dir.file("data");
    auto list =
        dir.write("list.csv", "phone,name\n212 555 0123,Ada\n415 555 0142,Grace\nbad,Row\n");
    auto imp = test::run(kOutpace + " contacts import --data " + data + " --campaign " +
                         test::example("telemarketing.yaml") + " " + list);
    REQUIRE_MESSAGE(imp.status == 0, imp.out);
    CHECK(imp.out.find("3 rows: 2 imported, 0 already present, 1 rejected") != std::string::npos);
    CHECK(imp.out.find("importing [") == std::string::npos);  // no progress bar when not a terminal
    // Again as JSON, for a script: the same list is now already present.
    auto again = test::run(kOutpace + " contacts import --json --data " + data + " --campaign " +
                           test::example("telemarketing.yaml") + " " + list + " 2>/dev/null");
    REQUIRE_MESSAGE(again.status == 0, again.out);
    const auto summary = nlohmann::json::parse(again.out);
    CHECK(summary["rows"] == 3);
    CHECK(summary["imported"] == 0);
    CHECK(summary["already_present"] == 2);
    CHECK(summary["reject_reasons"]["invalid phone number"] == 1);
    CHECK(summary["rejects_file"] == list + ".rejects.csv");

    // Tuesday 14:30Z: 09:30 in New York (the campaign opens at 09:00), 06:30 in San Francisco.
    auto next = test::run(kOutpace + " contacts next --json --data " + data +
                          " --campaign spring-renewals --at 2026-11-24T14:30:00Z -n 5");
    REQUIRE_MESSAGE(next.status == 0, next.out);
    auto j = nlohmann::json::parse(next.out.substr(0, next.out.find('\n')));
    CHECK(j["phone"] == "+12125550123");
    CHECK(j["local_time"] == "Tue 09:30");
    CHECK(j["fields"]["name"] == "Ada");
    CHECK(std::count(next.out.begin(), next.out.end(), '\n') == 1);

    auto report = test::run(kOutpace + " report --json --data " + data);
    REQUIRE_MESSAGE(report.status == 0, report.out);
    auto rj = nlohmann::json::parse(report.out);
    CHECK(rj["campaign"] == "spring-renewals");
    CHECK(rj["contacts"] == 2);
    CHECK(rj["by_state"]["pending"] == 2);
    // Judged by the definition the import stored (no engine has run it yet), and it says so.
    CHECK(rj["definition"]["loaded_by"] == "import");
    CHECK(rj["definition"]["path"] == test::example("telemarketing.yaml"));

    auto unknown = test::run(kOutpace + " contacts next --data " + data + " --campaign nope");
    CHECK(unknown.status == 1);
    CHECK(unknown.out.find("no campaign 'nope' in the store") != std::string::npos);
}

TEST_CASE("help is available for the binary and each command") {
    auto r = test::run(kOutpace + " help");
    CHECK(r.status == 0);
    for (const char* cmd : {"campaign", "contacts", "report"})
        CHECK(r.out.find(cmd) != std::string::npos);
    auto sub = test::run(kOutpace + " contacts import --help");
    CHECK(sub.status == 0);
    CHECK(sub.out.find("--phone-column") != std::string::npos);
}

TEST_CASE("usage errors exit 2, name the word, and suggest the nearest command or option") {
    auto r = test::run(kOutpace + " reprot --data x");
    CHECK(r.status == 2);
    CHECK_MESSAGE(r.out.find("'reprot' is not a command of 'outpace'; did you mean 'report'?") !=
                      std::string::npos,
                  r.out);
    r = test::run(kOutpace + " dnc ad 2125550123");
    CHECK(r.status == 2);
    CHECK_MESSAGE(r.out.find("'ad' is not a command of 'outpace dnc'; did you mean 'add'?") !=
                      std::string::npos,
                  r.out);
    CHECK(r.out.find("Commands here: add check export import remove") != std::string::npos);
    r = test::run(kOutpace + " report --dat x");
    CHECK(r.status == 2);
    CHECK_MESSAGE(r.out.find("'--dat' is not an option of 'outpace report'; did you mean "
                             "'--data'?") != std::string::npos,
                  r.out);
    // A required option missing, a value of the wrong kind: 2 as well, with CLI11's own words.
    r = test::run(kOutpace + " report");
    CHECK(r.status == 2);
    CHECK(r.out.find("--data is required") != std::string::npos);
    r = test::run(kOutpace + " contacts next --data x --campaign y -n many");
    CHECK(r.status == 2);
    // Nothing near: no guess.
    r = test::run(kOutpace + " zzzzzzzz");
    CHECK(r.status == 2);
    CHECK(r.out.find("'zzzzzzzz' is not a command of 'outpace'\n") != std::string::npos);
    CHECK(r.out.find("did you mean") == std::string::npos);
    // Help and version still end well.
    CHECK(test::run(kOutpace + " --version").status == 0);
    CHECK(test::run(kOutpace + " dnc --help").status == 0);
}

TEST_CASE("simulate: the reference scenario as JSON, and scenario errors with their position") {
    auto r = test::run(kOutpace + " simulate --json " + std::string(OUTPACE_SOURCE_DIR) +
                       "/pacing/scenarios/reference.yaml");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    auto j = nlohmann::json::parse(r.out);
    for (const char* key :
         {"occupancy", "talk_occupancy", "abandon_rate", "abandoned", "live_answers", "dials",
          "agent_wait_mean_s", "agent_wait_p95_s", "max_window_abandon_rate", "windows_over_cap",
          "connects_per_agent_hour", "ring_short_of_15s"})
        CHECK_MESSAGE(j.contains(key), key);
    CHECK(j["policy"] == "predictive");
    CHECK(j["ring_short_of_15s"] == 0);
    CHECK(j["dials"].get<long>() > 1000);

    auto prog = test::run(kOutpace + " simulate --json --policy progressive " +
                          std::string(OUTPACE_SOURCE_DIR) + "/pacing/scenarios/reference.yaml");
    REQUIRE(prog.status == 0);
    CHECK(nlohmann::json::parse(prog.out)["abandoned"] == 0);

    // Every shipped scenario runs, and the Ofcom one counts AMD's estimated false positives.
    for (const char* name : {"small-team", "shortage", "ofcom"}) {
        auto s = test::run(kOutpace + " simulate --json " + std::string(OUTPACE_SOURCE_DIR) +
                           "/pacing/scenarios/" + name + ".yaml");
        REQUIRE_MESSAGE(s.status == 0, name << ": " << s.out);
        auto js = nlohmann::json::parse(s.out);
        CHECK_MESSAGE(js["windows_over_cap"] == 0, name);
        CHECK_MESSAGE(
            (js["estimated_false_positives"].get<long>() > 0) == (std::string(name) == "ofcom"),
            name);
    }

    // Two campaigns on one team: the second's calls and the shares reach the run.
    {
        test::TempDir two;
        auto run_two = [&](const std::string& second) {
            auto f = two.write("two.yaml",
                               "agents: 20\nduration: 2h\ncalls: {live_rate: 0.1}\n"
                               "second_campaign: " +
                                   second + "\n");
            auto r = test::run(kOutpace + " simulate --json " + f);
            INFO(r.out);
            REQUIRE(r.status == 0);
            return nlohmann::json::parse(r.out)["campaigns"];
        };
        const auto even = run_two("{live_rate: 0.3}");
        REQUIRE(even.size() == 2);
        const double p2 = even[1]["live_answers"].get<double>() / even[1]["dials"].get<double>();
        CHECK(p2 == doctest::Approx(0.3).epsilon(0.15));
        const auto more = run_two("{live_rate: 0.3, share: 3}");
        CHECK(more[1]["live_answers"].get<long>() > even[1]["live_answers"].get<long>());
        const auto first = run_two("{live_rate: 0.3, first_share: 3}");
        CHECK(first[0]["live_answers"].get<long>() > even[0]["live_answers"].get<long>());
        const auto fails = run_two("{live_rate: 0.3, machine_rate: 0, fail_rate: 0.7}");
        CHECK(fails[1]["dials"].get<long>() != even[1]["dials"].get<long>());
        auto over = test::run(kOutpace + " simulate " +
                              two.write("bad.yaml",
                                        "second_campaign: {live_rate: 0.9, "
                                        "fail_rate: 0.5}\n"));
        CHECK(over.status == 1);
        CHECK(over.out.find("must not exceed 1") != std::string::npos);
    }

    // on_machine: agent, and how long its message takes.
    {
        test::TempDir m;
        auto run_m = [&](const std::string& extra) {
            auto f = m.write("m.yaml", "agents: 20\nduration: 2h\n" + extra);
            auto r = test::run(kOutpace + " simulate --json " + f);
            INFO(r.out);
            REQUIRE(r.status == 0);
            return nlohmann::json::parse(r.out);
        };
        CHECK(run_m("")["machines_to_agents"] == 0);
        const auto agent = run_m("campaign: {on_machine: agent}\n");
        CHECK(agent["machines_to_agents"].get<long>() > 100);
        const auto longer = run_m(
            "campaign: {on_machine: agent}\ncalls: {machine_message: {dist: fixed, "
            "value: 60s}}\n");
        CHECK(longer["talk_occupancy"].get<double>() > agent["talk_occupancy"].get<double>());
        auto wrong = test::run(kOutpace + " simulate " +
                               m.write("w.yaml", "campaign: {on_machine: voicemail}\n"));
        CHECK(wrong.status == 1);
        CHECK(wrong.out.find("on_machine must be hangup or agent") != std::string::npos);
    }

    test::TempDir dir;
    auto bad = dir.write("s.yaml",
                         "agents: 5\ncampaign:\n  ring_timeout: 10s\ncalls:\n  talk: {dist: "
                         "normal, mean: 2m}\n  colour: red\n");
    auto e = test::run(kOutpace + " simulate " + bad);
    CHECK(e.status == 1);
    CHECK(e.out.find(bad + ":3:17: ring_timeout must be at least 15s") != std::string::npos);
    CHECK(e.out.find(bad + ":6:3: unknown key 'colour' in calls") != std::string::npos);
    CHECK(e.out.find("unknown or incomplete distribution 'normal'") != std::string::npos);
}

TEST_CASE("operator files: oversized or deep YAML, odd CSV headers, reports from anywhere") {
    test::TempDir dir;
    // A 2 MB flow list is refused before parsing, with the limit.
    std::string big = "name: x\nlist: [";
    while (big.size() < 2'000'000) big += "1,";
    big += "1]\n";
    auto r = test::run(kOutpace + " campaign check " + dir.write("big.yaml", big));
    CHECK(r.status == 1);
    CHECK(r.out.find("a YAML file here may have at most 1048576 (1 MiB)") != std::string::npos);
    // Nesting past the parser's limit says what the limit is (it said "bad file").
    r = test::run(kOutpace + " campaign check " +
                  dir.write("deep.yaml", "name: x\nlist: " + std::string(3000, '[') +
                                             std::string(3000, ']') + "\n"));
    CHECK(r.status == 1);
    CHECK(r.out.find("nested more than 2000 levels deep") != std::string::npos);
    CHECK(r.out.find("bad file") == std::string::npos);
    // The engine config and simulator scenarios go through the same door.
    r = test::run(kOutpace + " run --config " + dir.write("engine.yaml", big));
    CHECK(r.out.find("at most 1048576") != std::string::npos);
    r = test::run(kOutpace + " simulate " + dir.write("scenario.yaml", big));
    CHECK(r.out.find("at most 1048576") != std::string::npos);

    const std::string data = dir.file("data");
    const std::string campaign = test::example("telemarketing.yaml");
    // A header of 1 MB is quoted in part, not echoed whole.
    r = test::run(kOutpace + " contacts import --data " + data + " --campaign " + campaign + " " +
                  dir.write("wide.csv", std::string(1'000'000, 'h') + "\n1,2\n"));
    CHECK(r.status == 1);
    CHECK(r.out.find("no column named 'phone'") != std::string::npos);
    CHECK(r.out.find("(1000000 bytes)") != std::string::npos);
    CHECK(r.out.size() < 2000);
    // The same column twice is refused (which one would be the phone?).
    r = test::run(kOutpace + " contacts import --data " + data + " --campaign " + campaign + " " +
                  dir.write("twice.csv", "phone,name,phone\n2125550123,Ada,2125550124\n"));
    CHECK(r.status == 1);
    CHECK(r.out.find("the column 'phone' appears twice (columns 1 and 3)") != std::string::npos);

    // A report needs no prompt files: run from a folder where the campaign's relative prompt
    // paths lead nowhere.
    test::run("cp -r " + std::string(OUTPACE_SOURCE_DIR) + "/deploy/examples " + dir.file("ex"));
    r = test::run("cd " + dir.path() + " && " + kOutpace + " contacts import --data " + data +
                  " --campaign ex/telemarketing.yaml " +
                  dir.write("list.csv", "phone\n212 555 0123\n"));
    REQUIRE_MESSAGE(r.status == 0, r.out);
    r = test::run("cd / && " + kOutpace + " report --data " + data);
    CHECK_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("file not found") == std::string::npos);
    CHECK(r.out.find("spring-renewals") != std::string::npos);
}

TEST_CASE("the manual page and the bash completion come from the commands' own help") {
    auto r = test::run(kOutpace + " help --man");
    REQUIRE(r.status == 0);
    CHECK(r.out.starts_with(".TH OUTPACE 1"));
    // Every command, nested ones too, with its options and their help.
    for (const char* c : {"outpace dnc import", "outpace contacts import", "outpace report",
                          "outpace recording", "outpace ctl"})
        CHECK_MESSAGE(r.out.find(std::string(".SS \"") + c + "\"") != std::string::npos, c);
    CHECK(r.out.find("\\-\\-by") != std::string::npos);
    CHECK(r.out.find("group the results: hour, day, list, agent, disposition, trunk") !=
          std::string::npos);
    // man renders it without complaint.
    const auto page = test::run(kOutpace +
                                " help --man > /tmp/outpace-man-$$.1 && "
                                "MANWIDTH=100 man --warnings -l /tmp/outpace-man-$$.1 "
                                "2>&1; rm -f /tmp/outpace-man-$$.1");
    CHECK_MESSAGE(page.out.find("outpace dnc import") != std::string::npos, page.out);
    CHECK_MESSAGE(page.out.find("warning") == std::string::npos, page.out);
    // The completion, driven as bash drives it.
    auto complete = [](const std::string& words, int cword) {
        return test::run("bash -c 'source <(" + kOutpace +
                         " help --bash-completion); COMP_WORDS=(" + words + "); COMP_CWORD=" +
                         std::to_string(cword) + "; _outpace; echo \"${COMPREPLY[*]}\"'")
            .out;
    };
    CHECK(complete("outpace dn", 1) == "dnc\n");
    CHECK(complete("outpace dnc \"\"", 2) == "add remove check import export --help\n");
    CHECK(complete("outpace report --data x --fo", 4) == "--format\n");
}

TEST_CASE("simulate --into-store: a simulated day becomes a campaign's labelled history") {
    test::TempDir dir;
    test::run("cp -r " + std::string(OUTPACE_SOURCE_DIR) + "/deploy/examples/prompts " +
              dir.path());
    const auto campaign = dir.write("demo.yaml", test::read_file(std::string(OUTPACE_SOURCE_DIR) +
                                                                 "/deploy/examples/demo.yaml"));
    const auto scenario = std::string(OUTPACE_SOURCE_DIR) + "/deploy/demo/history.yaml";
    auto plain = test::run(kOutpace + " simulate --json " + scenario);
    REQUIRE_MESSAGE(plain.status == 0, plain.out);
    const auto js = nlohmann::json::parse(plain.out);

    auto r = test::run(kOutpace + " simulate " + scenario + " --into-store " + dir.file("data") +
                       " --campaign " + campaign +
                       " --zone America/Chicago --ended-at 2026-12-01T20:00:00Z");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(r.out.find("written to demo's ledger, 2026-12-01T18:00:00Z to 2026-12-01T20:00:00Z, "
                     "labelled origin \"simulated\"") != std::string::npos);
    std::string error;
    auto store = outpace::Store::open(dir.file("data"), &error);
    REQUIRE_MESSAGE(store, error);
    long attempts = 0, abandoned = 0, humans = 0, handled = 0;
    store->for_each_attempt("demo", [&](const outpace::Attempt& a) {
        ++attempts;
        CHECK(a.origin == "simulated");
        CHECK(a.zones == "America/Chicago");
        CHECK(a.started_ms >= 1'796'148'000'000);  // 2026-12-01T18:00:00Z
        CHECK(a.started_ms < 1'796'155'200'000);   // 20:00
        CHECK(a.ended_ms >= a.started_ms + a.ring_ms);
        abandoned += a.outcome == outpace::Outcome::abandoned;
        humans += a.amd_verdict == "human";
        if (a.outcome == outpace::Outcome::connected) {
            ++handled;
            CHECK(a.agent.rfind("sim-", 0) == 0);
            CHECK(a.talk_ms > 0);
        }
    });
    // The same run as without --into-store (same seed), less the calls in flight at its end.
    CHECK(attempts <= js["dials"].get<long>());
    CHECK(attempts >= js["dials"].get<long>() - 30);
    CHECK(abandoned == js["abandoned"].get<long>());
    CHECK(humans >= js["live_answers"].get<long>() - 10);
    CHECK(handled == humans - abandoned);
    CHECK(store->load_campaign("demo").has_value());  // reports find the campaign's rules

    auto missing =
        test::run(kOutpace + " simulate " + scenario + " --into-store " + dir.file("other"));
    CHECK(missing.status == 2);
    CHECK(missing.out.find("--into-store needs --campaign") != std::string::npos);
}

TEST_CASE("plan: the smallest team that finishes a list by a date, from given or learnt calls") {
    const auto campaign = test::example("telemarketing.yaml");
    auto plan = [&](std::string args) {
        if (args.find("--start") == std::string::npos) args += " --start 2026-12-07";
        auto r = test::run(kOutpace + " plan " + campaign + " --json " + args);
        INFO(args << ": " << r.out);
        REQUIRE(r.status == 0);
        return nlohmann::json::parse(r.out);
    };
    const auto j = plan("--contacts 4000 --live-rate 0.2 --by 2026-12-11");
    REQUIRE(j["needed"].is_object());
    const int n = j["needed"]["agents"].get<int>();
    CHECK(n > 1);
    CHECK(j["needed"]["finishes"].get<std::string>() <= "2026-12-11");
    CHECK(j["needed"]["trunk_lines"].get<int>() >= n);
    CHECK(j["needed"]["windows_over_cap"] == 0);
    CHECK(j["calls"]["source"] == "given");
    // One agent fewer does not make it: the search found the smallest team.
    const auto fewer = plan("--contacts 4000 --live-rate 0.2 --agents " + std::to_string(n - 1));
    CHECK(fewer["rows"][0]["finishes"].get<std::string>() > "2026-12-11");

    // Each setting moves the answer the way it should.
    auto hours = [&](const std::string& args) {
        return plan("--contacts 4000 --agents 10 " + args)["rows"][0]["working_hours"]
            .get<double>();
    };
    const double base = hours("--live-rate 0.2");
    CHECK(hours("--live-rate 0.2 --talk 5m") > 1.5 * base);  // slower calls
    CHECK(hours("--live-rate 0.2 --wrap 2m") > 1.2 * base);  // longer wrap-ups
    CHECK(hours("--live-rate 0.2 --seed 2") == doctest::Approx(base).epsilon(0.1));
    const auto day = [&](const std::string& args) {
        return plan("--contacts 4000 --agents 10 --live-rate 0.2 " + args)["rows"][0]["finishes"]
            .get<std::string>();
    };
    CHECK(day("--hours-per-day 4") > day("--hours-per-day 8"));
    // Calls that fail fast instead of ringing out or reaching machines need fewer trunk lines.
    auto lines = [&](const std::string& args) {
        return plan("--contacts 4000 --agents 10 --live-rate 0.2 " + args)["rows"][0]["trunk_lines"]
            .get<int>();
    };
    CHECK(lines("--machine-rate 0 --fail-rate 0.8") <
          lines("--machine-rate 0.25 --fail-rate 0.15"));
    CHECK(day("--start 2027-01-04").starts_with("2027-01"));

    // Learnt from a store: the demo's simulated day (4 in 10 answer) and its list.
    test::TempDir dir;
    test::run("cp -r " + std::string(OUTPACE_SOURCE_DIR) + "/deploy/examples/prompts " +
              dir.path());
    const auto demo = dir.write("demo.yaml", test::read_file(test::example("demo.yaml")));
    // Ended 24 h ago (the default): within the 7 days plan learns from.
    auto w = test::run(kOutpace + " simulate " + std::string(OUTPACE_SOURCE_DIR) +
                       "/deploy/demo/history.yaml --into-store " + dir.file("data") +
                       " --campaign " + demo);
    REQUIRE_MESSAGE(w.status == 0, w.out);
    auto r = test::run(kOutpace + " plan " + demo + " --data " + dir.file("data") +
                       " --contacts 500 --agents 8 --json");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    const auto learnt = nlohmann::json::parse(r.out);
    CHECK(learnt["calls"]["source"] == "learnt from 2000 dials of the last 7 days");
    CHECK(learnt["calls"]["live_rate"].get<double>() == doctest::Approx(0.4).epsilon(0.15));
    CHECK(learnt["calls"]["talk_s"].get<double>() == doctest::Approx(20).epsilon(0.15));
    CHECK(learnt["contacts"] == 500);
    // Without --contacts, the store's contacts left: this store holds none.
    r = test::run(kOutpace + " plan " + demo + " --data " + dir.file("data") + " --json");
    REQUIRE_MESSAGE(r.status == 0, r.out);
    CHECK(nlohmann::json::parse(r.out)["contacts"] == 0);

    auto missing = test::run(kOutpace + " plan " + campaign + " --contacts 10");
    CHECK(missing.status == 1);
    CHECK(missing.out.find("give --live-rate") != std::string::npos);
    auto bad =
        test::run(kOutpace + " plan " + campaign + " --contacts 10 --live-rate 0.2 --agents 9-3");
    CHECK(bad.status == 1);
    CHECK(bad.out.find("--agents takes") != std::string::npos);
}
