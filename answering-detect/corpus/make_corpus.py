#!/usr/bin/env python3
"""Generates a labelled answering-machine-detection corpus, deterministic for a seed.

    make_corpus.py OUTDIR [--seed N] [--scale K]

Speech comes from espeak-ng (several voices, speeds and pitches), everything else from sox:
telephone band-pass, carrier silence after answer, background noise, levels from -30 to 0 dBFS,
beeps, fax tones, and 16-bit PCM, mu-law or A-law WAV files. OUTDIR/labels.jsonl holds one line
per file: label (human | machine | fax | unknown), category, greeting_end_ms (the end of the first
greeting a human says, or of a machine's whole greeting) and beep_start_ms/beep_end_ms.
Needs: espeak-ng, sox.
"""
import argparse
import json
import os
import random
import subprocess
import tempfile

RATE = 8000
VOICES = ["en-us", "en-gb", "en-gb-x-rp", "en-029", "en-gb-scotland", "en-us+f2", "en-us+f4",
          "en-gb+f3", "en-us+m3", "en-gb-x-gbclan+m1"]

SHORT = ["Hello?", "Hello.", "Hi.", "Yes?", "Yeah, hello?", "Hello, who's this?",
         "Good afternoon.", "Speaking.", "Hi there.", "Hello, Smith residence.", "Yello?",
         "Hey.", "Hello, yes?", "Good morning."]
SENTENCE = ["Hello, this is Mary Johnson speaking.",
            "Good morning, Johnson and Sons, Peter speaking.",
            "Hi, yes, this is David, who is calling?",
            "Hello, you've got Sarah, how can I help?",
            "Hello, Miller residence, Tom speaking.",
            "Yes, hello, this is Karen, can I help you?"]
SECOND = ["Hello?", "Hello? Anyone there?", "Hello?? Hello?", "Is anyone there?"]
MACHINE = [
    "Hi, you've reached the Miller family. We can't come to the phone right now. "
    "Please leave a message after the beep.",
    "Hello, this is John. I'm not available at the moment, leave your name and number "
    "and I'll call you back as soon as I can.",
    "The person you are calling is not available. Please record your message at the tone. "
    "When you are finished, hang up or press pound for more options.",
    "You have reached the voice mailbox of 5 5 5, 0 1 2 3. The subscriber is unavailable. "
    "Please leave a message after the tone.",
    "Thanks for calling Acme Plumbing. Our office is closed right now. Please leave a message "
    "and we will return your call on the next business day.",
    "Hi, this is Jennifer, sorry I missed your call, please leave a message and I will get back "
    "to you.",
    "The number you have dialled is not available. Please leave a message after the tone, or "
    "try again later.",
    "Welcome to the voice messaging system. The mailbox you have reached is not accepting "
    "calls at this time, please leave a message after the tone.",
]
BEEP_HZ = [440, 500, 600, 750, 850, 1000, 1200, 1400, 1600, 1800, 2000, 2300]


class Builder:
    def __init__(self, tmp, rng):
        self.tmp, self.rng, self.n = tmp, rng, 0

    def path(self, stem):
        self.n += 1
        return os.path.join(self.tmp, f"{stem}{self.n}.wav")

    def sox(self, *args):
        subprocess.run(["sox", "-R", "-V1", *args], check=True)

    def speech(self, text):
        """A trimmed 8 kHz utterance and its length in samples."""
        raw, out = self.path("tts"), self.path("utt")
        voice = self.rng.choice(VOICES)
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(self.rng.randint(150, 190)),
                        "-p", str(self.rng.randint(30, 70)), "-w", raw, text], check=True)
        self.sox(raw, "-r", str(RATE), "-c", "1", "-b", "16", out,
                 "silence", "1", "0.01", "0.3%", "reverse", "silence", "1", "0.01", "0.3%",
                 "reverse")
        return out, samples(out)

    def silence(self, seconds):
        out = self.path("sil")
        self.sox("-n", "-r", str(RATE), "-c", "1", "-b", "16", out, "trim", "0", f"{seconds:.3f}")
        return out, int(round(seconds * RATE))

    def tone(self, hz, seconds, dbfs):
        out = self.path("tone")
        self.sox("-n", "-r", str(RATE), "-c", "1", "-b", "16", out, "synth", f"{seconds:.3f}",
                 "sine", str(hz), "gain", f"{dbfs - 3.01:.1f}")  # a sine's peak is 3 dB over
        return out, int(round(seconds * RATE))

    def concat(self, parts):
        out = self.path("cat")
        self.sox(*[p for p, _ in parts], out)
        return out, sum(n for _, n in parts)

    def finish(self, speech, seconds_total, level_dbfs, out, codec, noise):
        """Level the speech, add background noise, band-limit and encode."""
        leveled = self.path("lvl")
        self.sox(speech, leveled, "gain", "-n", f"{level_dbfs:.1f}")
        mixed = leveled
        if noise:
            kind, dbfs = noise
            nz = self.path("noise")
            self.sox("-n", "-r", str(RATE), "-c", "1", "-b", "16", nz, "synth",
                     f"{seconds_total:.3f}", kind, "gain", "-n", f"{dbfs + 10:.1f}")
            mixed = self.path("mix")
            self.sox("-m", "-v", "1", leveled, "-v", "1", nz, mixed)
        enc = {"pcm": ["-e", "signed-integer", "-b", "16"], "ulaw": ["-e", "u-law"],
               "alaw": ["-e", "a-law"]}[codec]
        self.sox(mixed, *enc, out, "sinc", "300-3400")


def samples(path):
    return int(subprocess.run(["soxi", "-s", path], check=True, capture_output=True,
                              text=True).stdout.strip())


def ms(n):
    return int(round(n * 1000 / RATE))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=int, default=1, help="multiply the number of files")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    rng = random.Random(a.seed)
    labels = []
    with tempfile.TemporaryDirectory() as tmp:
        b = Builder(tmp, rng)

        def emit(name, label, category, parts, extra):
            audio, n = b.concat(parts)
            codec = rng.choice(["pcm", "ulaw", "alaw"])
            level = rng.uniform(-30, -1)
            noise = None
            if rng.random() < 0.6:
                noise = (rng.choice(["whitenoise", "pinknoise", "brownnoise"]),
                         level - rng.uniform(20, 35) - 10)
            b.finish(audio, n / RATE, level, os.path.join(a.outdir, name), codec, noise)
            labels.append(dict(file=name, label=label, category=category, codec=codec,
                               level_dbfs=round(level, 1),
                               noise=noise[0] if noise else "none", **extra))

        def lead():
            return b.silence(rng.uniform(0.2, 1.5))

        def person(category, texts, i):
            """A person says one of `texts`, then waits in silence for the caller."""
            pre = lead()
            utt = b.speech(rng.choice(texts))
            emit(f"{category}-{i:03d}.wav", "human", category,
                 [pre, utt, b.silence(rng.uniform(2.0, 3.5))],
                 dict(greeting_end_ms=ms(pre[1] + utt[1])))

        for i in range(20 * a.scale):
            person("human-short", SHORT, i)
        for i in range(20 * a.scale):
            pre = lead()
            first = b.speech(rng.choice(SHORT[:6]))
            second = b.speech(rng.choice(SECOND))
            emit(f"human-twice-{i:03d}.wav", "human", "human-twice",
                 [pre, first, b.silence(rng.uniform(1.0, 2.0)), second, b.silence(2.0)],
                 dict(greeting_end_ms=ms(pre[1] + first[1])))
        for i in range(20 * a.scale):
            person("human-sentence", SENTENCE, i)
        for i in range(30 * a.scale):
            pre = lead()
            utt = b.speech(rng.choice(MACHINE))
            gap = b.silence(rng.uniform(0.2, 1.2))
            length = rng.uniform(0.15, 1.4)
            beep = b.tone(rng.choice(BEEP_HZ), length, rng.uniform(-20, -3))
            start = pre[1] + utt[1] + gap[1]
            emit(f"machine-beep-{i:03d}.wav", "machine", "machine-beep",
                 [pre, utt, gap, beep, b.silence(rng.uniform(1.0, 2.0))],
                 dict(greeting_end_ms=ms(pre[1] + utt[1]), beep_start_ms=ms(start),
                      beep_end_ms=ms(start + beep[1])))
        for i in range(15 * a.scale):
            pre = lead()
            utt = b.speech(rng.choice(MACHINE))
            emit(f"machine-nobeep-{i:03d}.wav", "machine", "machine-nobeep",
                 [pre, utt, b.silence(3.0)], dict(greeting_end_ms=ms(pre[1] + utt[1])))
        for i in range(4 * a.scale):
            parts = [lead(), b.tone(2100, 3.3, rng.uniform(-20, -6)), b.silence(1.0)]
            emit(f"fax-ced-{i:03d}.wav", "fax", "fax-ced", parts, {})
        for i in range(4 * a.scale):
            level = rng.uniform(-20, -6)
            parts = [lead(), b.tone(1100, 0.5, level), b.silence(3.0), b.tone(1100, 0.5, level),
                     b.silence(1.0)]
            emit(f"fax-cng-{i:03d}.wav", "fax", "fax-cng", parts, {})
        for i in range(10 * a.scale):
            # Silence and noise only: the line is answered, nobody speaks.
            emit(f"silence-{i:03d}.wav", "unknown", "silence", [b.silence(6.0)], {})
    with open(os.path.join(a.outdir, "labels.jsonl"), "w") as f:
        for l in labels:
            f.write(json.dumps(l, sort_keys=True) + "\n")
    print(f"make_corpus: {len(labels)} files in {a.outdir}")


if __name__ == "__main__":
    main()
