"""A synthetic sww01 test stream: espeak-ng words, the wakeword "marvin" among them, over
synthetic background noise, with its truth file in the runner's format (protocol.md 5.4).

The official 20-minute stream (Speech Commands words over MUSAN speech/music) cannot be
shipped here, so the demo uses this one: words from :mod:`.speech` (espeak-ng voices, random
speed/pitch/level) placed one after another with random gaps over coloured noise whose level
drifts slowly. Each "marvin" gives one truth window ``[start, end]`` = the first and last
sample of the spoken word (silence trimmed), in seconds. The WAV is 16 kHz, 16-bit, stereo
with L == R (the interface board plays only 2-channel files). Everything is drawn from one
``numpy.random.Generator``: a seed reproduces the stream for a given espeak-ng build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io.wavfile
from tinyperf.reference_models.synth import speech

SAMPLE_RATE = speech.SAMPLE_RATE
WAKEWORD = "marvin"
#: Other words: Speech Commands keywords and fillers, never the wakeword.
OTHER_WORDS: tuple[str, ...] = tuple(w for w in (*speech.KEYWORDS, *speech.UNKNOWN_WORDS)
                                     if w != WAKEWORD)
DEFAULT_LENGTH_S = 60.0
DEFAULT_WAKEWORDS = 10
DEFAULT_OTHER_WORDS = 8
#: Silence between the end of one word and the start of the next (s).
MIN_GAP_S, MAX_GAP_S = 1.5, 3.0
#: Nothing in the first and last seconds: the device's first second fills its input buffer.
LEAD_IN_S, LEAD_OUT_S = 2.0, 1.5


@dataclass(frozen=True)
class Placement:
    """One word in the stream: what was said, by which voice, where (seconds)."""

    word: str
    voice: str
    start_s: float
    end_s: float
    peak: float

    @property
    def wakeword(self) -> bool:
        return self.word == WAKEWORD


@dataclass(frozen=True)
class SwwStream:
    """The stream's channel-0 samples (int16), its words and the truth windows."""

    samples: np.ndarray
    placements: tuple[Placement, ...]

    @property
    def length_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def windows(self) -> list[list[float]]:
        return [[p.start_s, p.end_s] for p in self.placements if p.wakeword]


def background(rng: np.random.Generator, n: int) -> np.ndarray:
    """Coloured noise (white to brown) at -55 .. -40 dBFS RMS whose level drifts by a few dB
    over seconds, as a room or street would; float32."""
    noise = speech.coloured_noise(rng, n, float(rng.uniform(0.5, 1.5)))
    level_db = rng.uniform(-55.0, -40.0)
    knots = np.linspace(0, n, max(2, n // (4 * SAMPLE_RATE)))
    drift = np.interp(np.arange(n), knots, rng.uniform(-3.0, 3.0, size=knots.size))
    return (noise * 10.0 ** ((level_db + drift) / 20.0)).astype(np.float32)


def _word_sequence(rng: np.random.Generator, wakewords: int, others: int) -> list[str]:
    words = [WAKEWORD] * wakewords + [OTHER_WORDS[int(i)] for i in
                                      rng.integers(len(OTHER_WORDS), size=others)]
    rng.shuffle(words)
    return words


def synth_stream(rng: np.random.Generator, length_s: float = DEFAULT_LENGTH_S,
                 wakewords: int = DEFAULT_WAKEWORDS,
                 others: int = DEFAULT_OTHER_WORDS) -> SwwStream:
    """Synthesise a stream of ``length_s`` seconds with ``wakewords`` "marvin"s and
    ``others`` other words (needs espeak-ng). Raises ``ValueError`` when the words do not
    fit in the length with the minimum gaps."""
    n = round(length_s * SAMPLE_RATE)
    audio = background(rng, n)
    placements: list[Placement] = []
    t = LEAD_IN_S
    for word in _word_sequence(rng, wakewords, others):
        utt = speech.random_utterance(word, rng)
        clip = speech.trim_silence(speech.espeak(utt))
        if clip.size == 0:
            raise speech.SpeechSynthError(f"espeak-ng produced silence for {utt}")
        peak = float(rng.uniform(0.25, 0.8))
        clip = clip * (peak / float(np.max(np.abs(clip))))
        start = round(t * SAMPLE_RATE)
        if start + clip.size > n - int(LEAD_OUT_S * SAMPLE_RATE):
            raise ValueError(f"{wakewords + others} words do not fit in {length_s:g} s "
                             f"(ran out at word {len(placements) + 1})")
        audio[start:start + clip.size] += clip
        placements.append(Placement(word, utt.voice, start / SAMPLE_RATE,
                                    (start + clip.size) / SAMPLE_RATE, peak))
        t = (start + clip.size) / SAMPLE_RATE + float(rng.uniform(MIN_GAP_S, MAX_GAP_S))
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)
    return SwwStream(pcm, tuple(placements))


def truth_entry(stream: SwwStream, wav_file: str) -> dict[str, object]:
    """The stream's truth-file entry, keys in the runner's order."""
    return {"wav_file": wav_file, "sample_rate": SAMPLE_RATE, "length_sec": stream.length_s,
            "detection_windows": stream.windows}


def write_stream(stream: SwwStream, wav_path: Path, truth_path: Path) -> None:
    """Write the stereo WAV (L == R) and a one-entry truth JSON file next to it."""
    wav_path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.wavfile.write(wav_path, SAMPLE_RATE, np.stack([stream.samples] * 2, axis=1))
    truth_path.write_text(json.dumps([truth_entry(stream, wav_path.name)], indent=2) + "\n",
                          encoding="utf-8")
