"""kws01 feature pipeline: 49x10 MFCCs (spec §1.3) and their int8 ``.bin`` encoding (§1.4).

The reference computes features with ``tf.signal``; this module reproduces that recipe in
numpy/scipy (float64 internally, float32 result), which matches TF within ~1e-3 and gives the
same int8 bytes on the golden clips.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
import scipy.fft
from tinyperf.reference_models.features.window import periodic_hann

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000
FRAME_LENGTH = 480
FRAME_STEP = 320
FFT_LENGTH = 512
NUM_MEL_BINS = 40
LOWER_EDGE_HZ = 20.0
UPPER_EDGE_HZ = 4000.0
NUM_MFCC = 10
NUM_FRAMES = 1 + (CLIP_SAMPLES - FRAME_LENGTH) // FRAME_STEP  # 49
LOG_OFFSET = 1e-6

#: int8 input quantisation of ``kws_ref_model.tflite``.
INPUT_SCALE = 0.5847029089927673
INPUT_ZERO_POINT = 83


def _hz_to_mel_htk(freq_hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale as used by ``tf.signal``: 1127 * ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(freq_hz, dtype=np.float64) / 700.0)


@functools.lru_cache(maxsize=4)
def mel_weight_matrix(
    num_mel_bins: int = NUM_MEL_BINS,
    num_spectrogram_bins: int = FFT_LENGTH // 2 + 1,
    sample_rate: int = SAMPLE_RATE,
    lower_edge_hz: float = LOWER_EDGE_HZ,
    upper_edge_hz: float = UPPER_EDGE_HZ,
) -> np.ndarray:
    """Return the ``tf.signal.linear_to_mel_weight_matrix`` equivalent, float64 [bins, mels].

    Triangles are evaluated in the mel domain at each FFT bin centre; the DC bin is forced
    to zero (tf.signal skips it) and there is no area normalisation. The result is cached and
    marked read-only so callers cannot corrupt the cache.
    """
    bin_hz = np.linspace(0.0, sample_rate / 2.0, num_spectrogram_bins)
    bin_mel = _hz_to_mel_htk(bin_hz)[:, np.newaxis]
    edges = np.linspace(
        _hz_to_mel_htk(lower_edge_hz), _hz_to_mel_htk(upper_edge_hz), num_mel_bins + 2
    )
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel - lower) / (centre - lower)
    falling = (upper - bin_mel) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights[0, :] = 0.0  # tf.signal drops the DC bin ("bands_to_zero = 1")
    weights.setflags(write=False)
    return weights


def normalize_clip(samples: np.ndarray) -> np.ndarray:
    """Peak-normalise by the *signed* maximum and zero-pad/truncate to 16000 samples.

    The reference divides by ``max(x)`` (not ``max(|x|)``). A clip whose maximum is not
    positive (all zeros, or all negative) would give NaN/inverted values in the reference;
    we guard by leaving such a clip unscaled, which keeps all-zero clips at zero.
    """
    x = np.asarray(samples).astype(np.float32).reshape(-1)[:CLIP_SAMPLES]
    peak = float(x.max()) if x.size else 0.0
    if peak > 0.0:
        x = x / np.float32(peak)
    out = np.zeros(CLIP_SAMPLES, dtype=np.float32)
    out[: x.size] = x
    return out


def magnitude_stft(signal: np.ndarray) -> np.ndarray:
    """Framed |rFFT| (480/320/512, periodic Hann, no centring) of a 1-D signal -> [frames, 257]."""
    x = np.asarray(signal, dtype=np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME_LENGTH)[::FRAME_STEP]
    return np.abs(np.fft.rfft(frames * periodic_hann(FRAME_LENGTH), n=FFT_LENGTH, axis=-1))


def mfcc(samples: np.ndarray) -> np.ndarray:
    """Compute kws01 MFCCs of one clip (int16/float samples, <= 16000 long) -> float32 [49, 10]."""
    x = normalize_clip(samples)
    mel = magnitude_stft(x) @ mel_weight_matrix()
    log_mel = np.log(mel + LOG_OFFSET)
    # tf.signal.mfccs_from_log_mel_spectrograms = unnormalised DCT-II / sqrt(2 * num_mel_bins).
    coeffs = scipy.fft.dct(log_mel, type=2, norm=None, axis=-1) / np.sqrt(2.0 * NUM_MEL_BINS)
    return coeffs[:, :NUM_MFCC].astype(np.float32)


def quantize_mfcc_with_count(
    features: np.ndarray,
    scale: float = INPUT_SCALE,
    zero_point: int = INPUT_ZERO_POINT,
) -> tuple[np.ndarray, int]:
    """Quantise MFCCs to int8 the reference way, saturating; return (int8 array, overflow count).

    The reference computes ``x / scale + zp`` in float32 and truncates toward zero. It never
    clips (values outside int8 would wrap), so we saturate instead and count the values that
    would have wrapped, letting callers report them.
    """
    x = np.asarray(features, dtype=np.float32)
    q = np.trunc(x / np.float32(scale) + np.float32(zero_point))
    overflow = int(np.count_nonzero((q < -128) | (q > 127)))
    return np.clip(q, -128, 127).astype(np.int8), overflow


def quantize_mfcc(
    features: np.ndarray,
    scale: float = INPUT_SCALE,
    zero_point: int = INPUT_ZERO_POINT,
) -> np.ndarray:
    """Quantise MFCCs to int8 (truncate toward zero, saturate); log a warning on overflow."""
    q, overflow = quantize_mfcc_with_count(features, scale, zero_point)
    if overflow:
        logger.warning(
            "%d MFCC value(s) outside int8 after quantisation were saturated "
            "(the reference encoder would have wrapped them)",
            overflow,
        )
    return q


def kws_bin_bytes(samples: np.ndarray) -> bytes:
    """Return the 490-byte kws01 ``.bin`` payload for one clip (MFCC -> int8, row-major)."""
    return quantize_mfcc(mfcc(samples)).tobytes()
