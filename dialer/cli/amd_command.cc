// `outpace amd FILE.wav...`: runs answering-machine detection over recorded calls as if the audio
// arrived live, 20 ms at a time, and prints the verdict, its cause and time, and any beep.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "answering-detect/audio_file.h"
#include "answering-detect/detector.h"
#include "campaigns/campaign_loader.h"
#include "campaigns/json_text.h"
#include "dialer/cli/commands.h"
#include "dialer/engine/amd_settings.h"

namespace outpace::cli {

namespace {

struct AmdArgs {
    std::vector<std::string> files;
    std::string campaign;
    bool json = false;
};

int run_amd(const AmdArgs& a) {
    amd::Config config;
    if (!a.campaign.empty()) {
        auto loaded = load_campaign_file(a.campaign);
        if (!loaded.campaign) {
            for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
            return 2;
        }
        config = amd_config(loaded.campaign->amd);
    }
    int status = 0;
    for (const auto& file : a.files) {
        auto audio = amd::read_audio(file);
        if (!audio.error.empty()) {
            std::cerr << file << ": " << audio.error << "\n";
            status = 1;
            continue;
        }
        const auto r = amd::analyse_recording(audio.pcm, config);
        const char* verdict = r.verdict ? amd::to_string(r.verdict->verdict) : "unknown";
        const char* cause = r.verdict ? r.verdict->cause : "end-of-audio";
        const long decision = r.verdict ? r.verdict->at.count() : r.audio.count();
        if (a.json) {
            nlohmann::json j = {
                {"file", file}, {"verdict", verdict}, {"cause", cause}, {"decision_ms", decision}};
            if (r.beep) {
                j["beep_start_ms"] = r.beep->beep_start.count();
                j["beep_end_ms"] = r.beep->beep_end.count();
                j["beep_hz"] = std::lround(r.beep->beep_hz);
            }
            if (r.greeting_ended) j["greeting_ended_ms"] = r.greeting_ended->at.count();
            std::cout << json_text(j) << "\n";
        } else {
            std::printf("%s: %s (%s) at %ld ms", file.c_str(), verdict, cause, decision);
            if (r.beep)
                std::printf(", beep %lld-%lld ms at %ld Hz",
                            static_cast<long long>(r.beep->beep_start.count()),
                            static_cast<long long>(r.beep->beep_end.count()),
                            std::lround(r.beep->beep_hz));
            if (r.greeting_ended)
                std::printf(", greeting ended without beep at %lld ms",
                            static_cast<long long>(r.greeting_ended->at.count()));
            std::printf("\n");
        }
    }
    return status;
}

}  // namespace

void add_amd_command(CLI::App& app, int& exit_code) {
    auto a = std::make_shared<AmdArgs>();
    auto* cmd = app.add_subcommand(
        "amd", "Answering-machine detection over WAV files (8 kHz PCM, µ-law or A-law)");
    cmd->add_option("files", a->files, "audio files")->required();
    cmd->add_flag("--json", a->json, "one JSON object per file");
    cmd->add_option("--campaign", a->campaign, "take the amd thresholds from this campaign file");
    cmd->callback([a, &exit_code] { exit_code = run_amd(*a); });
}

}  // namespace outpace::cli
