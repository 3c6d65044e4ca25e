"""The sww01 reference firmware's feature chain, as float32 numpy (sww01_model.md 1-3).

Pure functions. Per step the device analyses 1024 samples (the previous 512 + 512 new),
pre-emphasises them with a persistent one-sample state, applies a periodic Hamming window,
takes a 1024-point real FFT, a power spectrum, a 40-band HTK mel filterbank (TensorFlow's
``linear_to_mel_weight_matrix``), 10*log10, an offset/scale/clip to [0, 1] and a truncating
(not rounding) float32 → int8 conversion that wraps like a Cortex-M4 ``vcvt`` + byte store.

Because the pre-emphasis state is always the sample just before the window, the whole
chain can run on many steps at once (:func:`features_for_stream`) with results identical
to one step at a time (:func:`features_for_window`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
BLOCK = 512  #: new samples per step (32 ms)
WINDOW = 1024  #: analysis window: previous block + new block
N_MELS = 40
N_BINS = WINDOW // 2 + 1  #: 513 one-sided FFT bins
PRE_EMPHASIS = np.float32(0.96875)  # 1 - 2**-5
LOG_FLOOR = 1e-30
DB_OFFSET = np.float32(52.0)
DB_SCALE = np.float32(0.015625)  # 1/64: -52 dB -> 0, +12 dB -> 1
#: Model input scale as the firmware reads it from the C model (float32); zero point -128
#: is hard-coded in the firmware.
INPUT_SCALE = np.float32(0.003701042616739869)
INPUT_ZERO_POINT = np.float32(-128.0)
_INT16_FULL_SCALE = np.float32(32768.0)
_CHUNK_STEPS = 2048


def hamming_periodic(n: int = WINDOW) -> np.ndarray:
    """Periodic Hamming window 0.54 - 0.46 cos(2 pi k / n), float32 (the firmware's table)."""
    k = np.arange(n, dtype=np.float64)
    return (0.54 - 0.46 * np.cos(2.0 * np.pi * k / n)).astype(np.float32)


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


@lru_cache(maxsize=1)
def mel_matrix() -> np.ndarray:
    """513 x 40 float32 weights of ``tf.signal.linear_to_mel_weight_matrix(40, 513, 16000,
    0, 8000)``: HTK mel, triangles with peak 1, no area normalisation, DC row zero."""
    bins_hz = np.linspace(0.0, SAMPLE_RATE / 2, N_BINS)
    mel = _hz_to_mel(bins_hz)[:, None]
    edges = np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (mel - lower) / (centre - lower)
    falling = (upper - mel) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0, :] = 0.0  # TF zeroes the DC bin
    # The firmware stores 6-decimal constants (fixed_data.c lin2mel_packed_513x40, up to
    # 7e-6 from this formula); rounded or not, the int8 features of the goldens are equal.
    out = np.round(weights, 6).astype(np.float32)
    out.setflags(write=False)
    return out


def quantize(f: np.ndarray) -> np.ndarray:
    """f (float32, in [0, 1]) → int8 model input as the firmware does it: float32 f / s - 128,
    C cast to int32 (truncation toward zero), low byte stored (wraps above 127)."""
    q = np.asarray(f, dtype=np.float32) / INPUT_SCALE - np.float32(128.0)
    return np.trunc(q).astype(np.int32).astype(np.int8)  # int32 -> int8 keeps the low byte


def log_mel(frames: np.ndarray) -> np.ndarray:
    """float32 features in [0, 1] of pre-emphasised frames (n, 1024) float32 → (n, 40)."""
    windowed = frames * hamming_periodic()
    # float64 FFT as in the port the goldens came from; float32 gives the same int8 features
    spectrum = np.fft.rfft(windowed.astype(np.float64), axis=-1)
    re = spectrum.real.astype(np.float32)
    im = spectrum.imag.astype(np.float32)
    mag = np.sqrt(re * re + im * im)  # arm_cmplx_mag_f32, then squared: keep its rounding
    power = mag * mag * np.float32(1.0 / WINDOW)
    energy = np.maximum(power @ mel_matrix(), np.float32(LOG_FLOOR))
    db = (10.0 * np.log10(energy.astype(np.float64))).astype(np.float32)
    return np.clip((db + DB_OFFSET) * DB_SCALE, np.float32(0.0), np.float32(1.0))


def pre_emphasis(x: np.ndarray, x_prev: np.float32) -> np.ndarray:
    """y[0] = x[0] - a x_prev, y[n] = x[n] - a x[n-1] (float32)."""
    shifted = np.concatenate(([np.float32(x_prev)], x[:-1])).astype(np.float32)
    return (x - PRE_EMPHASIS * shifted).astype(np.float32)


def to_float(samples: np.ndarray) -> np.ndarray:
    """int16 samples → float32 x = s / 32768 (no DC removal, gain or normalisation)."""
    return np.asarray(samples, dtype=np.int16).astype(np.float32) / _INT16_FULL_SCALE


def features_for_window(window: np.ndarray, x_prev: float) -> tuple[np.ndarray, np.ndarray,
                                                                     np.float32]:
    """One step: 1024 int16 samples and the pre-emphasis state → (float f (40,), int8 q (40,),
    new state = x[511], the sample just before the next window)."""
    if window.shape != (WINDOW,):
        raise ValueError(f"window must have shape ({WINDOW},), got {window.shape}")
    x = to_float(window)
    f = log_mel(pre_emphasis(x, np.float32(x_prev))[None, :])[0]
    return f, quantize(f), x[BLOCK - 1]


def features_for_stream(samples: np.ndarray, x_prev: float = 0.0) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """All steps of a stream from ``start``: int16 channel-0 samples → (float (n, 40),
    int8 (n, 40)), n = len // 512. Same values as stepping :func:`features_for_window`
    over [512 zeros, samples]; ``x_prev`` is the state before the first step."""
    n = len(samples) // BLOCK
    if n == 0:
        return np.zeros((0, N_MELS), np.float32), np.zeros((0, N_MELS), np.int8)
    x = np.concatenate((np.zeros(BLOCK, np.float32), to_float(samples[: n * BLOCK])))
    y = pre_emphasis(x, np.float32(x_prev))
    frames = np.lib.stride_tricks.sliding_window_view(y, WINDOW)[::BLOCK]
    # chunks bound the float64 FFT buffers (a 20-minute stream at once would need ~1 GB)
    f = np.concatenate([log_mel(np.ascontiguousarray(frames[k:k + _CHUNK_STEPS]))
                        for k in range(0, n, _CHUNK_STEPS)])
    return f, quantize(f)
