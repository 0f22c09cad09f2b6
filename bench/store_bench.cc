// Store figures for the foundation issue:
//   import of N generated contacts, rows/s end to end (CSV parse, E.164, zone, dedup, DNC, write)
//   Hopper::next(k) latency with N contacts stored, median and p95 over repeated calls
// Usage: bench_store [--rows N] [--k K] [--repeat R] [--dir DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "campaigns/campaign_loader.h"
#include "campaigns/hopper.h"
#include "campaigns/importer.h"
#include "campaigns/ledger.h"

using namespace outpace;
using Clock = std::chrono::steady_clock;

namespace {

// Area codes across the US zones, so the hopper works through several zone groups.
const int kAreaCodes[] = {212, 646, 718, 617, 305, 404, 312, 773, 214, 713,
                          303, 602, 415, 213, 206, 503, 702, 907, 808, 850};

std::string generate(const std::string& dir, std::size_t rows) {
    std::string path = dir + "/contacts.csv";
    std::ofstream out(path);
    out << "phone,first_name,last_name,account,balance\n";
    std::mt19937_64 rng(42);
    char line[160];
    for (std::size_t i = 0; i < rows; ++i) {
        int npa = kAreaCodes[rng() % std::size(kAreaCodes)];
        int nxx = 200 + static_cast<int>(rng() % 800);
        if (nxx % 100 == 11) nxx += 1;  // N11 codes are not exchanges
        int sub = static_cast<int>(rng() % 10000);
        const char* fmt = (i % 3 == 0)   ? "(%d) %03d-%04d"
                          : (i % 3 == 1) ? "+1 %d %03d %04d"
                                         : "%d%03d%04d";
        char phone[32];
        std::snprintf(phone, sizeof phone, fmt, npa, nxx, sub);
        std::snprintf(line, sizeof line, "%s,First%zu,Last%zu,ACC%08zu,%zu.%02zu\n", phone, i % 997,
                      i % 1009, i, rng() % 5000, rng() % 100);
        out << line;
    }
    return path;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
double p95(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, v.size() * 95 / 100)];
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t rows = 1'000'000, k = 1000;
    int repeat = 3;
    std::string dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--rows")) rows = std::stoull(argv[i + 1]);
        if (!std::strcmp(argv[i], "--k")) k = std::stoull(argv[i + 1]);
        if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
        if (!std::strcmp(argv[i], "--repeat")) repeat = std::max(1, std::atoi(argv[i + 1]));
    }
    bool own_dir = dir.empty();
    if (own_dir) {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "outpace-bench-XXXXXX").string();
        dir = ::mkdtemp(tmpl.data());
    }
    std::printf("machine: %u cores; rows: %zu; k: %zu\n", std::thread::hardware_concurrency(), rows,
                k);

    auto load = load_campaign_text("name: bench\ntimezone: {default: America/New_York}\n",
                                   "bench.yaml", dir);
    if (!load.campaign) return 1;
    const Campaign& campaign = *load.campaign;

    auto t0 = Clock::now();
    const std::string csv = generate(dir, rows);
    std::printf("generated %s in %.1fs\n", csv.c_str(),
                std::chrono::duration<double>(Clock::now() - t0).count());

    // Import into a fresh store `repeat` times; the median run is the figure.
    std::string err;
    std::unique_ptr<Store> store;
    std::vector<double> rates;
    ImportSummary s;
    for (int run = 0; run < repeat; ++run) {
        store.reset();
        std::filesystem::remove_all(dir + "/db");
        store = Store::open(dir + "/db", &err);
        if (!store) {
            std::fprintf(stderr, "%s\n", err.c_str());
            return 1;
        }
        s = ImportSummary{};
        if (!import_contacts(*store, campaign, "name: bench\n", csv, {}, s, &err)) {
            std::fprintf(stderr, "%s\n", err.c_str());
            return 1;
        }
        rates.push_back(s.rows / s.seconds);
        std::printf("  import run %d: %.2fs, %.0f rows/s\n", run + 1, s.seconds,
                    s.rows / s.seconds);
    }
    std::printf(
        "import: %zu rows (%zu imported, %zu rejected as duplicate/invalid): median %.0f rows/s "
        "over %d runs "
        "(target >= 100000)\n",
        s.rows, s.imported, s.rejected, median(rates), repeat);
    {
        ImportSummary again;
        if (!import_contacts(*store, campaign, "name: bench\n", csv, {}, again, &err)) return 1;
        std::printf("re-import of the same list (all already present): %.0f rows/s, %zu imported\n",
                    again.rows / again.seconds, again.imported);
    }

    // 18:00Z on a Tuesday: every continental US zone is open, Alaska and Hawaii too.
    Hopper hopper(*store, campaign);
    const auto now = *parse_timestamp("2026-11-24T18:00:00Z");
    std::size_t got = 0;
    auto time_next = [&](Timestamp at) {
        std::vector<double> ms;
        for (int i = 0; i < 101; ++i) {
            auto t = Clock::now();
            got = hopper.next(at, k).size();
            ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        }
        return ms;
    };
    auto ms = time_next(now);
    std::printf(
        "next(k=%zu) with %zu contacts stored, all zones open: median %.2f ms, p95 %.2f ms "
        "(target median <= 5 ms), %zu returned\n",
        k, s.imported, median(ms), p95(ms), got);

    // 14:30Z: Eastern and Central are open (08:00-21:00), the western zones are skipped unread.
    ms = time_next(*parse_timestamp("2026-11-24T14:30:00Z"));
    std::printf(
        "next(k=%zu), only eastern and central zones open: median %.2f ms, p95 %.2f ms, %zu "
        "returned\n",
        k, median(ms), p95(ms), got);

    // The engine's tick: take k, record the attempts in one synced batch.
    Ledger ledger(*store, campaign);
    ms.clear();
    for (int i = 0; i < 21; ++i) {
        auto t = Clock::now();
        auto attempts = ledger.begin(hopper.next(now, k), now, "main").value;
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        if (attempts.empty()) break;
    }
    std::printf("next(k=%zu) + Ledger::begin (one synced batch): median %.2f ms, p95 %.2f ms\n", k,
                median(ms), p95(ms));

    store.reset();
    if (own_dir) std::filesystem::remove_all(dir);
    return 0;
}
