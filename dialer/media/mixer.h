// Who hears whom on one call: the customer, the agent and anyone else brought in (a supervisor
// listening, whispering or barging). Each party says whom it hears; each listener gets the sum of
// those parties' audio, clipped to 16 bits, through its own sink (its channel encodes it with its
// own law). A listener that hears exactly one party gets that party's frames as they arrive, with
// no buffering (the customer and the agent while a supervisor only listens); one that hears
// several gets their mix on the 20 ms tick, from a jitter queue of a few frames per party.
// Nobody ever hears itself.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <span>

namespace outpace::media {

class Mixer {
  public:
    using Party = int;
    using Frame = std::array<std::int16_t, 160>;  // 20 ms at 8 kHz
    using Sink = std::function<void(std::span<const std::int16_t>)>;

    // Frames kept per party for the tick: more are dropped oldest first (a burst after a stall
    // is not played late), and a party with none this tick adds nothing.
    static constexpr std::size_t kQueue = 3;

    void add(Party p, Sink sink);
    void remove(Party p);
    bool has(Party p) const { return parties_.count(p) != 0; }
    // Whether `listener` hears `source` (a party never hears itself).
    void hear(Party listener, Party source, bool on);
    bool hears(Party listener, Party source) const;
    // 20 ms from `source` (shorter frames are padded with silence, longer ones cut).
    void input(Party source, std::span<const std::int16_t> pcm);
    // Every listener that hears several parties gets their mix of this tick's frames.
    void tick();

    // Frames dropped from full queues (a party sending faster than the clock).
    std::uint64_t dropped() const { return dropped_; }
    // The sum of two or more frames, clipped: what the mix of `frames` sounds like.
    static Frame mix(std::span<const Frame* const> frames);

  private:
    struct State {
        Sink sink;
        std::set<Party> hears;
        std::deque<Frame> queue;  // for listeners that mix
    };
    // Whether some listener mixes `source` on the tick (then its frames are queued).
    bool mixed(Party source) const;

    std::map<Party, State> parties_;
    std::uint64_t dropped_ = 0;
};

}  // namespace outpace::media
