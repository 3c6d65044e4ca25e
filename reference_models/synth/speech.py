"""Synthetic one-second speech clips for kws01, spoken by the ``espeak-ng`` command.

This module owns the speech synthesiser used for the demo input set: it calls espeak-ng
(``--stdout`` WAV) with a voice/speed/pitch drawn from a seeded RNG, resamples to 16 kHz, and
places the word at a random offset in a 1 s int16 clip with optional low-level noise. The
``silence`` class is coloured background noise without speech. Everything is driven by a
``numpy.random.Generator`` so a seed reproduces the same clips (for a given espeak-ng build).
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.io.wavfile
import scipy.signal
from tinyperf.formats.errors import ConformanceError
from tinyperf.reference_models.bins import KWS_LABELS

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000

#: kws01 class order (spec §1.1): index = model output index = y_labels label.
KWS_CLASSES: tuple[str, ...] = KWS_LABELS
KEYWORDS: tuple[str, ...] = KWS_CLASSES[:10]

#: Non-keyword words of Speech Commands v2, used for the ``unknown`` class.
UNKNOWN_WORDS: tuple[str, ...] = (
    "bed", "bird", "cat", "dog", "house", "tree", "wow", "marvin", "sheila", "happy",
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "backward", "forward", "follow", "learn", "visual",
)

#: espeak-ng voices (language + variant) with distinct accents and timbres. Caribbean
#: English and the low "+m2" variant were dropped: the reference model rarely recognises them.
VOICES: tuple[str, ...] = (
    "en-us", "en-us+m3", "en-us+f2", "en-us+f4", "en", "en+m5", "en+f3",
    "en-gb-x-rp", "en-gb-scotland", "en-us-nyc+m7", "en-gb-x-gbclan", "en-gb-x-gbcwmd+f1",
)


class SpeechSynthError(ConformanceError):
    """espeak-ng is missing or failed to synthesise a word."""


@dataclass(frozen=True)
class Utterance:
    """The espeak-ng parameters of one synthetic word (kept for provenance/debugging)."""

    text: str
    voice: str
    speed_wpm: int
    pitch: int


def espeak_path() -> str:
    """Return the espeak-ng executable path, or raise :class:`SpeechSynthError`."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise SpeechSynthError(
            "espeak-ng is not installed or not on PATH; it is needed to synthesise the kws01 "
            "demo speech (Debian/Ubuntu: apt-get install espeak-ng)"
        )
    return path


def _parse_stream_wav(data: bytes) -> tuple[int, np.ndarray]:
    """Parse the WAV that ``espeak-ng --stdout`` writes.

    When streaming, espeak-ng cannot seek back to fill in the RIFF and data sizes, so the
    header carries placeholders; we patch them to the real lengths before handing the bytes
    to scipy.
    """
    buf = bytearray(data)
    pos = buf.find(b"data", 12)
    if buf[:4] != b"RIFF" or pos < 0:
        raise SpeechSynthError("espeak-ng did not produce a WAV stream")
    payload = len(buf) - (pos + 8)
    payload -= payload % 2
    del buf[pos + 8 + payload :]
    struct.pack_into("<I", buf, 4, len(buf) - 8)
    struct.pack_into("<I", buf, pos + 4, payload)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)
        rate, samples = scipy.io.wavfile.read(io.BytesIO(bytes(buf)))
    return int(rate), np.asarray(samples, dtype=np.int16).reshape(-1)


def espeak(utt: Utterance) -> np.ndarray:
    """Speak ``utt`` with espeak-ng; return float32 samples at 16 kHz in [-1, 1]."""
    cmd = [
        espeak_path(), "-v", utt.voice, "-s", str(utt.speed_wpm), "-p", str(utt.pitch),
        "--stdout", utt.text,
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechSynthError(f"espeak-ng failed for {utt}: {exc}") from exc
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode(errors="replace").strip()
        raise SpeechSynthError(f"espeak-ng exited {proc.returncode} for {utt}: {err}")
    rate, pcm = _parse_stream_wav(proc.stdout)
    x = pcm.astype(np.float32) / 32768.0
    if rate != SAMPLE_RATE:
        g = np.gcd(rate, SAMPLE_RATE)
        x = scipy.signal.resample_poly(x, SAMPLE_RATE // g, rate // g).astype(np.float32)
    return x


def trim_silence(x: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Cut leading/trailing samples quieter than ``threshold`` x peak (espeak pads with silence)."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak == 0.0:
        return x[:0]
    loud = np.flatnonzero(np.abs(x) >= threshold * peak)
    return x[loud[0] : loud[-1] + 1]


def coloured_noise(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Unit-RMS noise with power spectrum ~ 1/f**exponent (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    f[0] = f[1]
    spec *= f ** (-exponent / 2.0)
    x = np.fft.irfft(spec, n)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def random_utterance(word: str, rng: np.random.Generator) -> Utterance:
    """Draw espeak-ng parameters for ``word``: voice, speed (words/min) and pitch (0-99)."""
    return Utterance(
        text=word,
        voice=VOICES[int(rng.integers(len(VOICES)))],
        speed_wpm=int(rng.integers(140, 210)),
        pitch=int(rng.integers(25, 75)),
    )


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def place_in_clip(
    word: np.ndarray,
    rng: np.random.Generator,
    peak: float,
    noise_rms: float,
) -> np.ndarray:
    """Put ``word`` at a random offset in a 1 s clip, scaled to ``peak``, plus noise -> int16."""
    w = word[:CLIP_SAMPLES]
    w = w * (peak / (np.max(np.abs(w)) + 1e-12))
    clip = np.zeros(CLIP_SAMPLES, dtype=np.float32)
    offset = int(rng.integers(0, CLIP_SAMPLES - w.size + 1))
    clip[offset : offset + w.size] = w
    if noise_rms > 0.0:
        clip += noise_rms * coloured_noise(rng, CLIP_SAMPLES, float(rng.uniform(0.0, 2.0)))
    return _to_int16(clip)


def synth_silence(rng: np.random.Generator) -> np.ndarray:
    """A ``silence`` clip: quiet white-to-pink background noise, no speech -> int16 [16000].

    Peak normalisation removes the level, so only the spectral slope matters; slopes steeper
    than ~1/f^1.2 (brown-ish rumble) are classified as "unknown" by the reference model.
    """
    level = float(10.0 ** rng.uniform(-3.5, -1.5))  # -70 .. -30 dBFS RMS
    return _to_int16(level * coloured_noise(rng, CLIP_SAMPLES, float(rng.uniform(0.0, 1.2))))


def synth_word(word: str, rng: np.random.Generator) -> np.ndarray:
    """A clip of one spoken ``word`` with random voice, level, offset and noise -> int16 [16000]."""
    utt = random_utterance(word, rng)
    audio = trim_silence(espeak(utt))
    if audio.size == 0:
        raise SpeechSynthError(f"espeak-ng produced silence for {utt}")
    peak = float(rng.uniform(0.3, 0.9))
    noise_rms = peak * float(10.0 ** rng.uniform(-4.0, -2.5))  # 50-80 dB below the peak
    return place_in_clip(audio, rng, peak, noise_rms)


def synth_class_clip(label: str, rng: np.random.Generator) -> np.ndarray:
    """A 1 s int16 clip for kws01 class ``label`` (a keyword, ``silence`` or ``unknown``)."""
    if label == "silence":
        return synth_silence(rng)
    if label == "unknown":
        return synth_word(UNKNOWN_WORDS[int(rng.integers(len(UNKNOWN_WORDS)))], rng)
    if label not in KEYWORDS:
        raise ValueError(f"unknown kws01 class {label!r}")
    return synth_word(label, rng)
