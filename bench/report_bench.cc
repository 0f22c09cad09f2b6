// Report figures for the campaign manager's issue: `outpace report` on a store of N contacts and
// M attempts spread over 30 days, read beside the process that holds the store (as beside a
// running engine): the whole report (summary, compliance checks, results) and the results by
// hour over 30 days. Reference in the same run: one bare pass over the attempts (decode only).
// Usage: bench_report [--contacts N] [--attempts M] [--repeat R] [--dir DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "campaigns/campaign_loader.h"
#include "campaigns/report.h"
#include "campaigns/results.h"

using namespace outpace;
using Clock = std::chrono::steady_clock;

namespace {

const char* kZones[] = {"America/New_York", "America/Chicago", "America/Denver",
                        "America/Los_Angeles"};

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <class F>
double median_of(int repeat, F f) {
    std::vector<double> s;
    for (int i = 0; i < repeat; ++i) {
        const auto t0 = Clock::now();
        f();
        s.push_back(seconds_since(t0));
    }
    std::sort(s.begin(), s.end());
    return s[s.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t contacts = 1'000'000, attempts = 5'000'000;
    int repeat = 3;
    std::string dir = "/tmp/outpace-bench-report";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--contacts")) contacts = std::stoul(argv[i + 1]);
        if (!std::strcmp(argv[i], "--attempts")) attempts = std::stoul(argv[i + 1]);
        if (!std::strcmp(argv[i], "--repeat")) repeat = std::stoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    }
    const std::string yaml =
        "name: bench\ntimezone: {default: America/New_York}\n"
        "dispositions:\n  - {code: SALE, label: Sale, final: true, success: true}\n"
        "  - {code: NO, label: No, final: true}\n";
    auto load = load_campaign_text(yaml, dir + "/bench.yaml", dir);
    if (!load.campaign) return 1;
    const Campaign& campaign = *load.campaign;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::string error;
    // The writer holds the store for the whole run, as the engine would.
    auto writer = Store::open(dir + "/data", &error);
    if (!writer) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    writer->save_campaign(campaign.name, {dir + "/bench.yaml", yaml, "import"});
    std::mt19937_64 rng(7);
    const auto t0 = Clock::now();
    {
        auto b = writer->batch();
        for (std::size_t i = 0; i < contacts; ++i) {
            Contact c;
            c.phone = "+1212" + std::to_string(2'000'000 + i);
            c.zones = kZones[i % 4];
            c.source = i % 2 ? "monday.csv" : "tuesday.csv";
            c.fields = {{"first_name", "Ann"}, {"account", std::to_string(i)}};
            c.attempts = 5;
            if (i % 8 == 0) b.put_zone_group(campaign.name, c.zones);
            b.put_contact(campaign.name, nullptr, c);
            if (b.count() >= 20'000) writer->write_unlogged(b), b = writer->batch();
        }
        const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
        const Outcome outcomes[] = {Outcome::no_answer, Outcome::no_answer, Outcome::busy,
                                    Outcome::machine,   Outcome::connected, Outcome::connected,
                                    Outcome::abandoned, Outcome::failed};
        for (std::size_t i = 0; i < attempts; ++i) {
            Attempt a;
            a.id = i + 1;
            a.campaign = campaign.name;
            const std::size_t who = rng() % contacts;
            a.phone = "+1212" + std::to_string(2'000'000 + who);
            a.zones = kZones[who % 4];  // as the ledger records them: the zones dialled under
            // Over the last 30 days, in id order as the ledger writes them.
            a.started_ms = now_ms - 30LL * 86'400'000 +
                           static_cast<std::int64_t>(i) * (30LL * 86'400'000 / attempts);
            a.outcome = outcomes[rng() % 8];
            a.ended_ms = a.started_ms + 40'000;
            a.sip_code = 200;
            a.trunk = "main";
            if (a.outcome == Outcome::connected) {
                a.agent = "agent" + std::to_string(rng() % 200);
                a.talk_ms = 90'000;
                a.wrap_ms = 12'000;
                a.disposition = rng() % 5 ? "NO" : "SALE";
                a.amd_verdict = "human";
            }
            if (a.outcome == Outcome::machine) a.amd_verdict = "machine";
            b.put_attempt(a);
            if (b.count() >= 20'000) writer->write_unlogged(b), b = writer->batch();
        }
        writer->write_unlogged(b);
        writer->flush();
    }
    std::printf("store: %zu contacts, %zu attempts over 30 days, written in %.1f s\n", contacts,
                attempts, seconds_since(t0));
    // Measured on a settled store, as an engine's is between imports: no compaction of the
    // fresh load competing for the cores.
    const auto t1 = Clock::now();
    writer->compact();
    std::printf("compacted in %.1f s\n", seconds_since(t1));

    auto reader = Store::open_reader(dir + "/data", &error);
    if (!reader) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    const auto now = std::chrono::floor<Seconds>(std::chrono::system_clock::now());
    std::size_t n = 0;
    const double bare = median_of(repeat, [&] {
        n = 0;
        reader->for_each_attempt(campaign.name, [&](const Attempt&) { ++n; });
    });
    // As `outpace report` does it: the summary and the results from one pass over the contacts
    // and one over the attempts, read on every core.
    const std::size_t parts = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8);
    double whole = median_of(repeat, [&] {
        auto [summary, results] = build_report_and_results(*reader, campaign, now, true, {}, parts);
        if (summary.attempts != attempts || results.total.dials != attempts) std::abort();
    });
    ResultsOptions by_hour;
    by_hour.by = ResultsBy::hour;
    by_hour.from_ms = (now.time_since_epoch().count() - 30LL * 86'400) * 1000;
    std::size_t groups = 0;
    const double hourly = median_of(
        repeat, [&] { groups = build_results(*reader, campaign, by_hour).groups.size(); });
    std::printf("reference: one bare pass over %zu attempts (decode only): %.2f s\n", n, bare);
    std::printf(
        "whole report (summary, compliance checks, results): %.2f s (median of %d, attempts "
        "read on %zu threads)\n",
        whole, repeat, parts);
    std::printf("results --by hour over 30 days (%zu hours): %.2f s (median of %d)\n", groups,
                hourly, repeat);
    std::filesystem::remove_all(dir);
    return 0;
}
