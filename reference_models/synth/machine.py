"""Synthetic ToyCar-like machine sounds for the ad01 demo input set.

This module owns the machine-sound synthesiser: 10 s, 16 kHz mono clips (DCASE 2020 ToyCar
format, spec §2.2). A *normal* clip is a running motor: stable harmonics of a rotation
fundamental, a gear-mesh tone with rotation sidebands, and broadband noise whose spectral
envelope falls with frequency like a small motor recorded close up, all with small random
drift. An *anomalous* clip is a normal clip plus one fault: periodic impulses (a chipped gear
tooth), rubbing/friction noise bursts, or an extra/shifted harmonic series (unbalance,
bearing wear). Every draw comes from a ``numpy.random.Generator``, so a seed reproduces a clip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

SAMPLE_RATE = 16000
CLIP_SECONDS = 10.0
CLIP_SAMPLES = int(SAMPLE_RATE * CLIP_SECONDS)

#: Noise envelope (frequency Hz, level dB) of the normal machine; levels are in the same dB
#: units as the ad01 log-mel features (10*log10 of Slaney mel power), interpolated on log f.
_ENVELOPE_HZ = np.array([20.0, 60.0, 150.0, 400.0, 900.0, 1500.0, 2500.0, 4000.0, 6500.0, 8000.0])
_ENVELOPE_DB = np.array([-46.0, -24.0, -8.0, -13.0, -18.0, -26.0, -32.0, -37.0, -41.0, -48.0])
#: mel power of unit-variance white noise in one ad01 mel band (Hann window energy 384 times
#: ~1/15.6 bins per Hz of the area-normalised filter); converts the dB envelope to noise gain.
_WHITE_NOISE_MEL_POWER = 24.6

FAULTS: tuple[str, ...] = ("impulses", "friction", "harmonic")


@dataclass(frozen=True)
class MachineProfile:
    """Stable characteristics of one machine id (same id -> same toy car)."""

    machine_id: int
    rotation_hz: float  # motor fundamental
    n_harmonics: int
    harmonic_db: float  # level of the fundamental relative to the noise floor there
    gear_teeth: int  # gear-mesh tone = teeth x rotation
    noise_offset_db: float
    tilt_db_per_octave: float


def machine_profile(machine_id: int) -> MachineProfile:
    """Return the fixed profile of ``machine_id`` (derived from the id alone, not a global seed)."""
    rng = np.random.default_rng(10_000 + machine_id)
    return MachineProfile(
        machine_id=machine_id,
        rotation_hz=float(rng.uniform(45.0, 95.0)),
        n_harmonics=int(rng.integers(6, 12)),
        harmonic_db=float(rng.uniform(4.0, 9.0)),
        gear_teeth=int(rng.integers(12, 30)),
        noise_offset_db=float(rng.uniform(-3.0, 3.0)),
        tilt_db_per_octave=float(rng.uniform(-1.0, 1.0)),
    )


def _envelope_db(freq_hz: np.ndarray, profile: MachineProfile) -> np.ndarray:
    f = np.maximum(freq_hz, _ENVELOPE_HZ[0])
    base = np.interp(np.log(f), np.log(_ENVELOPE_HZ), _ENVELOPE_DB)
    return base + profile.noise_offset_db + profile.tilt_db_per_octave * np.log2(f / 500.0)


def shaped_noise(
    rng: np.random.Generator, n: int, level_db: np.ndarray | None = None, *,
    profile: MachineProfile | None = None,
) -> np.ndarray:
    """Gaussian noise at mel level ``level_db`` (per rfft bin, dB) or the profile's envelope."""
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    if level_db is None:
        if profile is None:
            raise ValueError("give level_db or profile")
        level_db = _envelope_db(freqs, profile)
    gain = np.sqrt(10.0 ** (level_db / 10.0) / _WHITE_NOISE_MEL_POWER)
    return np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * gain, n)


def _tone_amplitude(level_db: float) -> float:
    """Sine amplitude whose ad01 mel level is about ``level_db`` (a tone fills ~one band)."""
    # A sine of amplitude A gives |X|^2 = (A * sum(w) / 2)^2 = (256 A)^2 at its bin, times
    # a filter weight of ~1/(filter width) that is ~0.01 at low frequency.
    return float(np.sqrt(10.0 ** (level_db / 10.0) / 0.01) / 256.0)


def _drifting_phase(rng: np.random.Generator, n: int, freq_hz: float, drift: float) -> np.ndarray:
    """Phase of a tone whose frequency wanders slowly by a relative ``drift`` (speed wobble)."""
    knots = rng.uniform(-drift, drift, size=12)
    wobble = np.interp(np.linspace(0, 11, n), np.arange(12), knots)
    return 2.0 * np.pi * np.cumsum(freq_hz * (1.0 + wobble)) / SAMPLE_RATE


def motor_sound(
    rng: np.random.Generator, profile: MachineProfile, n: int = CLIP_SAMPLES
) -> np.ndarray:
    """The normal sound of ``profile``: harmonics + gear mesh + shaped noise (float, ~[-1, 1])."""
    t = np.arange(n) / SAMPLE_RATE
    f0 = profile.rotation_hz * (1.0 + rng.uniform(-0.02, 0.02))  # per-recording speed
    base_phase = _drifting_phase(rng, n, f0, 0.004)
    x = shaped_noise(rng, n, profile=profile)
    for k in range(1, profile.n_harmonics + 1):
        fk = k * f0
        level = float(_envelope_db(np.array([fk]), profile)[0]) + profile.harmonic_db - 1.5 * k
        amp = _tone_amplitude(level) * (1.0 + rng.uniform(-0.1, 0.1))
        x += amp * np.sin(k * base_phase + rng.uniform(0, 2 * np.pi))
    mesh_hz = profile.gear_teeth * f0
    if mesh_hz < 7000:
        level = float(_envelope_db(np.array([mesh_hz]), profile)[0]) + 6.0
        am = 1.0 + 0.3 * np.sin(base_phase)  # rotation sidebands
        x += _tone_amplitude(level) * am * np.sin(profile.gear_teeth * base_phase)
    # slow loudness wander of +-1 dB (the car moving on its track)
    x *= 10.0 ** (0.05 * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * t + rng.uniform(0, 6.3)))
    return x


def add_fault(
    x: np.ndarray, rng: np.random.Generator, profile: MachineProfile, fault: str,
    strength: float = 1.0,
) -> np.ndarray:
    """Return ``x`` plus one fault sound; ``strength`` scales its level (1.0 = demo default)."""
    n = x.size
    y = x.copy()
    gain_db = 20.0 * np.log10(max(strength, 1e-6))
    if fault == "impulses":
        # One click per revolution (or every other): short broadband decaying bursts.
        period = SAMPLE_RATE / profile.rotation_hz * int(rng.integers(1, 3))
        starts = np.arange(rng.uniform(0, period), n - 200, period).astype(int)
        decay = np.exp(-np.arange(160) / rng.uniform(15.0, 40.0))
        click = shaped_noise(rng, 160, np.full(81, -5.0 + gain_db)) * decay
        for s in starts:
            y[s : s + 160] += click * rng.uniform(0.6, 1.4)
    elif fault == "friction":
        # Rubbing: band-limited noise in 1.5-6 kHz, switched on in bursts of 0.1-0.6 s.
        freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
        lo, hi = rng.uniform(1500, 3000), rng.uniform(4000, 6500)
        band = np.where((freqs > lo) & (freqs < hi), -12.0 + gain_db, -200.0)
        rub = shaped_noise(rng, n, band)
        gate = np.zeros(n)
        pos = int(rng.integers(0, SAMPLE_RATE // 2))
        while pos < n:
            length = int(rng.uniform(0.1, 0.6) * SAMPLE_RATE)
            gate[pos : pos + length] = 1.0
            pos += length + int(rng.uniform(0.1, 0.8) * SAMPLE_RATE)
        gate = np.convolve(gate, np.hanning(401) / np.hanning(401).sum(), mode="same")
        y += rub * gate
    elif fault == "harmonic":
        # Unbalance / worn bearing: a second harmonic series at a non-integer ratio.
        ratio = rng.uniform(1.3, 2.7)
        phase = _drifting_phase(rng, n, profile.rotation_hz * ratio, 0.01)
        for k in range(1, 8):
            fk = k * profile.rotation_hz * ratio
            if fk > 7500:
                break
            level = float(_envelope_db(np.array([fk]), profile)[0]) + 12.0 + gain_db
            y += _tone_amplitude(level) * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    else:
        raise ValueError(f"unknown fault {fault!r} (expected one of {FAULTS})")
    return y


def recording_profile(profile: MachineProfile, rng: np.random.Generator) -> MachineProfile:
    """Vary ``profile`` for one recording (microphone distance, load, room), as real clips do.

    Without this spread every normal clip scores the same and any fault is trivially separable.
    """
    return replace(
        profile,
        harmonic_db=profile.harmonic_db + float(rng.uniform(-2.0, 2.0)),
        noise_offset_db=profile.noise_offset_db + float(rng.uniform(-2.5, 2.5)),
        tilt_db_per_octave=profile.tilt_db_per_octave + float(rng.uniform(-0.5, 0.5)),
    )


#: Default range of anomaly strengths (log-uniform): from barely audible to obvious, so the
#: demo AUC is high but not a trivial 1.0.
STRENGTH_RANGE = (0.1, 0.5)


def synth_machine_clip(
    machine_id: int,
    anomalous: bool,
    rng: np.random.Generator,
    fault: str | None = None,
    strength: float | None = None,
) -> np.ndarray:
    """Synthesise one 10 s, 16 kHz int16 clip of machine ``machine_id`` (normal or anomalous).

    For anomalous clips ``fault`` picks the fault type (default: drawn from :data:`FAULTS`)
    and ``strength`` its level (default: log-uniform over :data:`STRENGTH_RANGE`).
    """
    profile = recording_profile(machine_profile(machine_id), rng)
    x = motor_sound(rng, profile)
    if anomalous:
        kind = fault if fault is not None else FAULTS[int(rng.integers(len(FAULTS)))]
        if strength is None:
            lo, hi = np.log(STRENGTH_RANGE[0]), np.log(STRENGTH_RANGE[1])
            strength = float(np.exp(rng.uniform(lo, hi)))
        x = add_fault(x, rng, profile, kind, strength)
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
