// The engine's media: its media workers (started with the agents' channel), the 20 ms media tick
// that sends prompts, silence and hold music and reads what the workers report (keys pressed),
// and what was dropped (recording frames, the workers' events), said in the log.
// (The engine's other parts: engine.cc decides what to dial and follows the calls,
// engine_store.cc hands their outcomes to the store, engine_manage.cc the manager's operations.)
#include <chrono>
#include <functional>

#include "dialer/engine/engine.h"  // the class whose members these are
#include "dialer/engine/engine_util.h"

namespace outpace {

// Calls' audio on threads of their own: answers listened to (AMD), and the conversations between
// customers and agents relayed.
void Engine::start_media() {
    const int n = config_.rtp_workers < 0 ? media::default_media_workers() : config_.rtp_workers;
    media_workers_ = std::make_unique<media::MediaWorkers>(n, config_.rtp_worker_nice,
                                                           config_.rtp_worker_realtime);
    // A verdict heard on a worker is acted on at once, not at the next media tick: the
    // 2-second rule runs from the greeting's end.
    media_wake_ = env_.open_wakeup([this] { media_events(); });
    if (media_wake_) media_workers_->wake_with([w = media_wake_.get()] { w->wake(); });
    if (call_context_) call_context_->media = media_workers_.get();
    if (!media_workers_->priority_error().empty())
        engine_log("warning: media workers: " + media_workers_->priority_error() +
                   "; they run at the process's priority");
    agents_.set_media_workers(media_workers_.get());
    engine_log("media: " + std::to_string(media_workers_->size()) +
               (media_workers_->size() == 1 ? " worker carries" : " workers carry") +
               " the calls' audio: answers listened to, conversations between customers and "
               "agents relayed" +
               (media_workers_->size() ? " (" + media_workers_->running_at() + ")"
                                       : " (rtp.workers: 0: the engine's loop does)"));
}

// For each recording frame the writer's queue had no room for: on the loop, or on a media
// worker framing a conversation's recording (the counter is thread-safe; the log line is the
// media tick's).
void Engine::recording_dropped() {
    metrics_.recording_frames_dropped().Increment();
}

void Engine::report_drops(DropReport& report, std::uint64_t dropped,
                          const std::function<std::string(std::uint64_t)>& line) {
    if (dropped == report.reported) return;
    const auto t = now();
    if (report.logged != SteadyTime{} && t - report.logged < std::chrono::seconds(10)) return;
    report.logged = t;
    report.reported = dropped;
    engine_log(line(dropped));
}

// What the media workers tell: keys pressed on conversations they relay (as the loop takes them
// when it relays), and answers they heard something in (a verdict, tones) for the call to act on.
void Engine::media_events() {
    if (!media_workers_) return;
    media_workers_->drain([this](const media::MediaEvent& e) {
        Call* c = find_call(e.bridge);
        if (!c) return;
        if (e.kind == media::MediaEvent::Kind::heard) return c->heard_on_worker();
        if (c->state() != Call::State::connected) return;
        if (e.kind == media::MediaEvent::Kind::customer_key)
            call_key(*c, e.key);
        else
            c->send_keys(std::string(1, e.key));
    });
    report_drops(worker_event_drops_, media_workers_->dropped_events(), [](std::uint64_t n) {
        return "media: " + std::to_string(n) +
               " events (keys pressed, answers heard) were dropped so far: a media worker's queue "
               "to the loop was full";
    });
}

void Engine::media_tick() {
    media_events();
    report_drops(recording_drops_, recordings_.dropped(), [](std::uint64_t n) {
        return "recordings: the disk is behind; " + std::to_string(n) +
               " frames (20 ms) dropped so far, the calls' audio is not held up for them";
    });
    std::vector<sip::CallId> done;
    for (auto& [id, c] : calls_)
        if (!c->media_frame()) done.push_back(id);
    for (auto id : done)
        if (Call* c = find_call(id)) c->hang_up();
    agents_.tick();
    if (registrar_ && sip_)
        registrar_->tick(
            [this](const std::string& uri, const std::string& next_hop,
                   std::function<void(int)> done) { sip_->ping(uri, next_hop, std::move(done)); });
}

}  // namespace outpace
