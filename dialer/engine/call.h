// One outbound call: its state machine from the INVITE to the end, and everything it owns on the
// way (the RTP port and session, the answering-machine detector, the recorder, the prompt being
// played, an IVR survey's state). It knows its campaign run, and tells its owner (CallEvents)
// only what needs someone else: a live answer that wants an agent, the customer's audio for the
// agent. Agents and the other calls are not its business.
//
//   ringing ─► analysing ─┬─► waiting_for_agent ─► connected ─► hanging_up
//      │                  ├─► connected (an agent was ready)        ▲
//      │ (no AMD)         ├─► surveying (IVR) ──────────────────────┤
//      └─► connected/...  ├─► waiting_for_beep ─► playing ──────────┤
//                         └─► playing (safe harbor) / hanging_up ───┘
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "answering-detect/detector.h"
#include "answering-detect/sit.h"
#include "campaigns/records.h"
#include "dialer/engine/engine_config.h"
#include "dialer/engine/engine_env.h"
#include "dialer/media/dtmf.h"
#include "dialer/media/media_worker.h"
#include "dialer/media/recorder.h"
#include "metrics/metrics.h"

namespace outpace {

struct Agent;
class Call;
class CampaignRun;
class Trunk;

class CallEvents {
  public:
    virtual ~CallEvents() = default;
    // A live answer nobody has yet (a person, or an unknown verdict sent to agents): connect it to
    // an agent, let it wait for one, or abandon it.
    virtual void call_is_live(Call& call) = 0;
    // AMD heard a machine and the campaign wants an agent to leave the message: true when one
    // took the call.
    virtual bool call_machine_to_agent(Call& call) = 0;
    // The customer's audio while connected: to the agent. False when nobody could hear it.
    virtual bool call_audio(Call& call, std::span<const std::int16_t> pcm, SteadyTime arrived) = 0;
    // The customer pressed a key (RFC 4733) while connected: for the agent's phone and desktop.
    virtual void call_key(Call& call, char key) = 0;
};

// What every call shares.
struct CallContext {
    const EngineConfig& config;
    EngineEnv& env;
    sip::SipStack& sip;
    media::RtpPortPool& ports;
    media::RecordingWriter& recordings;
    metrics::Metrics& metrics;
    CallEvents& events;
    // Media workers, when the engine has any: answers are listened to there (AMD).
    media::MediaWorkers* media = nullptr;
};

class Call {
  public:
    enum class State {
        ringing,
        analysing,
        waiting_for_beep,
        waiting_for_agent,  // a live answer, no agent free yet; until connect_deadline()
        connected,          // bridged to agent()
        surveying,          // an IVR survey: asking questions, listening for keys
        playing,
        hanging_up,
    };

    // Reserves an RTP port for the offer (skipping ports another program holds) and sends the
    // INVITE through the best of the run's trunks for the number (TrunkRoutes::pick). Null with
    // `error` when it cannot (the caller completes the attempt as a carrier error: our trouble,
    // not the contact's).
    static std::unique_ptr<Call> place(CallContext& ctx, CampaignRun& run, Attempt attempt,
                                       std::string* error);
    ~Call();
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    // Its SIP leg now: a call that moves to another trunk gets a new one (its owner re-keys it).
    sip::CallId id() const { return sip_; }
    Trunk& trunk() { return *trunk_; }
    CampaignRun& run() { return run_; }
    const CampaignRun& run() const { return run_; }
    Attempt& attempt() { return attempt_; }
    const Attempt& attempt() const { return attempt_; }
    State state() const { return state_; }
    bool in_survey() const { return in_survey_; }
    bool preview() const { return preview_; }
    Agent* agent() const { return agent_; }
    const std::string& ended_by() const { return ended_by_; }
    SteadyTime verdict_at() const { return verdict_at_; }
    // When it was connected to its agent (connected calls).
    SteadyTime connected_at() const { return connected_at_; }
    SteadyTime invited() const { return invited_; }
    bool wrapped() const { return wrapped_; }
    const media::AudioChannel* audio() const { return rtp_.get(); }

    // A preview call: dialled by `agent`, who listens already; no AMD, connected on answer.
    void set_preview(Agent& agent);
    // The agent is gone (logged out): the call goes on without one.
    void forget_agent() { agent_ = nullptr; }

    // SIP: a provisional response; the answer with its SDP.
    void progress() { rang_ = true; }
    // A 183 with SDP while it rings: the call's audio opens now, and special information tones
    // in it cancel the call (then failed() ends it as the SIT says, not as no answer).
    void early_media(const std::string& sdp);
    void answered(const std::string& sdp);
    // Ring timeout, analysis that never ended, the beep that never came (every tick).
    void check_timeouts();
    // The next 20 ms this call sends, if it sends any (every media tick). False when the call is
    // to end now (a prompt ended).
    bool media_frame();

    // Routing, by the owner: to `agent` (returns false when the call was already connected to
    // another agent whose phone dropped: a handover, not a new connection); to wait for one
    // until 2 s after the greeting's end; or the safe-harbor message, abandoned.
    bool connect(Agent& agent);
    void wait_for_agent();
    SteadyTime connect_deadline() const { return connect_deadline_; }
    void abandon(const std::string& note = "");
    // The agent's voice to the customer.
    void send_to_customer(std::span<const std::int16_t> pcm);
    // The agent's softphone dropped and nobody else can take the call: the agent wraps the
    // conversation up; the customer hears the message and is released.
    void release_after_agent_lost();

    // The agent's call controls, while connected (false otherwise, nothing changed).
    // Hold: the customer hears the campaign's hold prompt looped, the agent hears nothing, and
    // the agent's voice does not reach the customer; the attempt counts holds and their time.
    bool hold(bool on);
    bool held() const { return held_; }
    // Mute: the customer hears silence in place of the agent (the call stays up).
    bool mute(bool on);
    bool muted() const { return muted_; }
    // Recording pause: silence in the WAV for the stretch, kept with the attempt. False also when
    // the call is not being recorded.
    bool pause_recording(bool on);
    bool recording() const { return recorder_ != nullptr; }
    bool recording_paused() const { return recorder_ && recorder_->paused(); }
    // Keys to the customer (RFC 4733 events, or tones when the customer's SDP took none), sent
    // on the media tick; the agent's voice waits meanwhile. False when too many are queued.
    bool send_keys(const std::string& keys);

    // Media workers (media_worker.h): this conversation and `agent_leg`, its agent's softphone,
    // relayed on `worker` from now on, when the conversation is a plain one (connected and heard
    // by its agent; not on hold, muted, sending keys or with its recording paused) and both legs
    // are real RTP sessions. Whatever changes that (a control, a new agent, the end) brings it
    // home first. True when it is lent now.
    bool lend_media(media::MediaWorkers& workers, media::MediaWorker& worker,
                    media::AudioChannel& agent_leg, media::Bridge::Relayed relayed);
    bool media_lent() const { return bridge_ && bridge_->lent(); }
    // Back on the engine's loop (a room, a transfer: anything that takes the audio elsewhere).
    void media_home() { bridge_.reset(); }
    // Answering-machine detection on a media worker (CallContext::media): from the answer, the
    // customer's audio is heard by the detectors there. When the worker heard something to act
    // on (a verdict, tones), the engine calls this on the loop: the session comes home and the
    // call acts on what was heard, in order, as it would have on the loop.
    void heard_on_worker();
    bool listening_on_worker() const { return listen_ && listen_->lent(); }

    // A leg to `number` on this call's trunk and address, with its caller ID and `sdp` as the
    // offer (a transfer to a number outside). Nullopt when the trunk wants SRTP (not offered
    // for such legs yet) or the call has no trunk.
    std::optional<sip::Dial> third_party_dial(const std::string& number,
                                              const std::string& sdp) const;

    // Ends the call: CANCEL while ringing, BYE once answered. `by` for the desktop's hangup.
    void end(const std::string& by);
    void hang_up();

    // SIP's last word on the call: never answered / ended after an answer. Both decide the
    // outcome; finish() then records it. A failure that is the trunk's trouble (a carrier error)
    // moves the call to the campaign's next trunk when it has one: Outcome::none, and the call
    // goes on with a new id(); when the other trunks that could take it are only full (calls per
    // second, max_calls) it waits for one (waiting_for_trunk()), also Outcome::none.
    Outcome failed(const sip::Failure& f);
    // Waiting for a trunk with room: the owner calls this every tick (before placing new calls:
    // a call already claimed goes first). Outcome::none while it moved (a new id()) or still
    // waits; carrier_error once kTrunkWait passed or the call was ended meanwhile, then
    // finish() with trunk_failure_code().
    bool waiting_for_trunk() const { return waiting_for_trunk_; }
    Outcome retry_trunk();
    int trunk_failure_code() const { return trunk_failure_.status; }
    static constexpr std::chrono::seconds kTrunkWait{3};
    Outcome ended(bool by_remote);
    // Fills the attempt's end, counts it in the run's status and metrics and gives back the
    // port. The attempt goes to the ledger (or to the agent's wrap-up) by the owner.
    void finish(Outcome o, int sip_code);

  private:
    Call(CallContext& ctx, CampaignRun& run, Attempt attempt);
    SteadyTime now() const { return ctx_.env.clock().now(); }
    // Sends the INVITE on `trunk` (to `target`, one of its addresses; null: the trunk picks):
    // the call's leg from now on. False when the trunk has no address or the SIP stack refused.
    bool invite_on(Trunk& trunk, const sip::ServerTarget* target = nullptr);
    // The To (and request URI, peer, TLS name) of a request to `number` at `at` on `trunk`.
    static void address(sip::Dial& d, const Trunk& trunk, const sip::ServerTarget& at,
                        const std::string& number);
    // The trunk failed this call (`code`): on to the best trunk not in `tried_` that can take it
    // (the same trunk when only one of its addresses failed and it has another), leaving this
    // leg. False when there is none (the call ends as it is).
    bool move_on(int code);
    // The leg's audio security from its SDP (answer or early media): SRTP with the answer's key
    // when the offer carried ours, plain RTP otherwise. Why not, when the SDP does not match
    // what was offered (a plain answer to an SRTP offer is refused, never downgraded).
    std::string secure_media(const media::RemoteMedia& remote);
    // A failure's bookkeeping: the estimator, ring time and notes. Returns `o`.
    Outcome settle(const sip::Failure& f, Outcome o);
    std::int64_t wall_ms() const { return ctx_.env.clock().wall_ms(); }
    // Every state change: the run's count of live answers waiting follows it.
    void to(State s);
    void on_audio(std::span<const std::int16_t> pcm, std::chrono::milliseconds at);
    // While analysing: `pcm` to the SIT and answering-machine detectors, what they heard kept in
    // heard_ (on the loop, or on the worker the call listens on). True when something was heard.
    bool hear(std::span<const std::int16_t> pcm, std::chrono::milliseconds at);
    // What hear() kept, acted on in order (on the loop, with the session home).
    void act_on_heard();
    // Lends the call to the least busy media worker to listen there (analysing, real RTP).
    void listen_on_worker();
    void on_verdict(const amd::Event& e);
    // Special information tones after the answer: invalid (intercept, vacant code) or a carrier
    // error (reorder, no circuit, other), hung up at once.
    void on_sit(const amd::Sit& sit);
    // Notes, metrics and the outcome for a SIT heard before or after the answer.
    Outcome sit_outcome(const amd::Sit& sit, bool early);
    void live_answer();
    void play(const std::vector<std::int16_t>* prompt);
    // The person hears the safe-harbor message, then the call ends; without a message (or a
    // socket to play it from) it ends now.
    void safe_harbor_or_hang_up();
    bool prompt_frame(std::span<const std::int16_t>& sent);
    void decided(Outcome o);
    void record_heard();
    // Closes a hold, mute or recording pause still open (the call ends or changes agent).
    void end_controls();
    bool connected_frame(std::span<const std::int16_t>& sent);
    // IVR surveys (call_survey.cc).
    void start_survey();
    void survey_ask(std::size_t question);
    void survey_key(char key, bool inband);
    void survey_retry(bool invalid);
    void survey_answered(const std::string& answer);
    bool survey_frame(std::span<const std::int16_t>& sent);

    CallContext& ctx_;
    CampaignRun& run_;
    Attempt attempt_;
    sip::CallId sip_ = 0;
    Trunk* trunk_ = nullptr;
    std::vector<const Trunk*> tried_;               // trunks this call has left
    sip::ServerTarget target_;                      // the address on `trunk_` this leg went to
    std::vector<sip::ServerTarget> tried_targets_;  // addresses on `trunk_` it has left
    bool waiting_for_trunk_ = false;
    SteadyTime trunk_wait_since_;
    sip::Failure trunk_failure_;  // what the last trunk said, for the end if none takes it
    int rtp_port_ = 0;  // reserved for the offer; bound (and owned by `rtp_`) once answered
    // SRTP: the call's key (made once, kept on every trunk it moves to), and whether the
    // current leg's offer carried it (its trunk has `srtp: true`).
    std::optional<media::SrtpKey> srtp_key_;
    bool srtp_offered_ = false;
    std::unique_ptr<media::AudioChannel> rtp_;
    std::unique_ptr<amd::Detector> amd_;
    std::unique_ptr<amd::SitDetector> sit_;  // with AMD, while it listens
    // What the detectors heard and the call has yet to act on: tones, or the detector's events.
    struct Heard {
        std::optional<amd::Sit> sit;
        amd::Event event;
    };
    std::vector<Heard> heard_;
    bool verdict_heard_ = false;  // hear() kept a verdict (or tones): no more SIT listening
    // A machine's "beep" verdict held back while special information tones may be starting (a
    // SIT's first tone is a beep to AMD): until they cannot be, or kSitHold from the beep.
    std::vector<amd::Event> held_verdict_;
    std::chrono::milliseconds held_until_{0};
    static constexpr std::chrono::milliseconds kSitHold{1000};
    std::optional<amd::Sit> early_sit_;  // heard in early media: the call was cancelled
    std::size_t early_samples_ = 0;      // of early media listened to
    static constexpr std::size_t kEarlySitListen = 8 * 8000;  // its first 8 s
    std::unique_ptr<media::Recorder> recorder_;
    State state_ = State::ringing;
    SteadyTime invited_, answered_at_;
    std::optional<std::chrono::milliseconds> audio_offset_;  // first packet after the answer
    bool cancelled_ = false;
    bool rang_ = false;  // a provisional response (180/183) came
    // Who ended the call, for the desktop's `hangup`: customer, agent, engine (ring timeout,
    // stop, a prompt's end) or softphone.
    std::string ended_by_;
    const std::vector<std::int16_t>* prompt_ = nullptr;
    std::size_t prompt_pos_ = 0;
    std::array<std::int16_t, 160> frame_{};  // the prompt's next 20 ms
    Outcome outcome_ = Outcome::none;        // decided; recorded when the call ends
    Agent* agent_ = nullptr;                 // connected to (or, for a preview call, dialled by)
    SteadyTime verdict_at_, connect_deadline_, connected_at_;
    bool preview_ = false;
    bool wrapped_ = false;         // the attempt went to an agent's wrap-up already
    bool heard_by_agent_ = false;  // the customer's first packet was relayed to the agent
    // IVR survey: the question being asked, tries at it so far, whether the prompt is over and
    // we listen for a key (until listen_until_), and the prompt to play after this one.
    bool in_survey_ = false;
    std::size_t question_ = 0;
    int tries_ = 0;
    bool listening_ = false;
    SteadyTime listen_until_;
    const std::vector<std::int16_t>* then_ = nullptr;
    std::unique_ptr<media::DtmfDetector> dtmf_;  // in-band keys, for phones without RFC 4733
    bool heard_rfc4733_ = false;                 // from then on in-band detection is off
    char inband_key_ = 0;                        // the last in-band key and when it came: the
    SteadyTime inband_at_;                       // same key as an event right after is one press
    // Call controls.
    bool held_ = false, muted_ = false;
    SteadyTime held_since_, muted_since_;
    std::int64_t paused_from_ms_ = 0;  // where in the recording the current pause began
    std::size_t hold_pos_ = 0;         // in the looped hold prompt
    std::unique_ptr<media::KeyPresses> keys_;
    // Lent to a media worker; declared last, so that they go first: home before the sessions,
    // the recorder and the detectors they lent are destroyed.
    std::unique_ptr<media::Listen> listen_;
    std::unique_ptr<media::Bridge> bridge_;
};

}  // namespace outpace
