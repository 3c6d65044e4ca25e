"""ad01 feature pipeline: 128-band log-mel spectrogram, frames 50..249 (spec §2.3-2.4).

Reproduces the DCASE 2020 baseline's ``librosa.feature.melspectrogram`` call (n_fft 1024, hop 512,
periodic Hann, centred frames, power 2, 128 Slaney mel bands 0-8000 Hz with Slaney area
normalisation) followed by ``10*log10(mel + eps)`` in numpy only. The ``.bin`` input of one clip is
the 200x128 frame-major float32 matrix; the model sees 5-frame windows of it (640 floats).
"""

from __future__ import annotations

import functools

import numpy as np
from tinyperf.reference_models.features.window import periodic_hann

SAMPLE_RATE = 16000
N_FFT = 1024
HOP_LENGTH = 512
N_MELS = 128
POWER = 2.0
FMIN = 0.0
FMAX = 8000.0
#: float64 machine epsilon, the additive floor of the reference's log.
LOG_EPS = float(np.finfo(np.float64).eps)
FIRST_FRAME = 50
NUM_FRAMES = 200
FRAMES_PER_VECTOR = 5
VECTOR_DIM = N_MELS * FRAMES_PER_VECTOR  # 640
#: Shortest clip whose frames 50..249 never touch the centre padding.
MIN_SAMPLES_NO_PADDING = (FIRST_FRAME + NUM_FRAMES - 1) * HOP_LENGTH + N_FFT // 2


# Slaney mel scale (librosa htk=False): linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel_slaney(freq_hz: np.ndarray | float) -> np.ndarray:
    """Convert Hz to Slaney mels (Auditory Toolbox scale, as librosa with ``htk=False``)."""
    f = np.asarray(freq_hz, dtype=np.float64)
    linear = f / _F_SP
    with np.errstate(divide="ignore"):
        logpart = _MIN_LOG_MEL + np.log(np.maximum(f, 1e-300) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, logpart, linear)


def mel_to_hz_slaney(mels: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel_slaney`."""
    m = np.asarray(mels, dtype=np.float64)
    return np.where(
        m >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL)), _F_SP * m
    )


@functools.lru_cache(maxsize=4)
def mel_filterbank(
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = N_FFT,
    n_mels: int = N_MELS,
    fmin: float = FMIN,
    fmax: float = FMAX,
) -> np.ndarray:
    """Return the Slaney-normalised mel filterbank, float64 [n_mels, 1 + n_fft // 2] (read-only).

    Triangles are linear in Hz between mel-spaced edge frequencies; each is scaled by
    2 / (upper - lower edge) so all filters have equal area (librosa ``norm='slaney'``).
    """
    fft_hz = np.linspace(0.0, sample_rate / 2.0, 1 + n_fft // 2)
    edges_hz = mel_to_hz_slaney(
        np.linspace(hz_to_mel_slaney(fmin), hz_to_mel_slaney(fmax), n_mels + 2)
    )
    widths = np.diff(edges_hz)
    offsets = edges_hz[:, np.newaxis] - fft_hz[np.newaxis, :]
    rising = -offsets[:-2] / widths[:-1, np.newaxis]
    falling = offsets[2:] / widths[1:, np.newaxis]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, np.newaxis]
    weights.setflags(write=False)
    return weights


def power_spectrogram(y: np.ndarray, pad_mode: str = "constant") -> np.ndarray:
    """Centred |STFT|^2 (n_fft 1024, hop 512, periodic Hann) -> float64 [frames, 513].

    ``pad_mode`` is the centre padding: ``"constant"`` (librosa >= 0.10) or ``"reflect"``
    (librosa 0.6, used by the reference). Frames 50..249 of a >= 8 s clip do not depend on it.
    """
    x = np.asarray(y, dtype=np.float64).reshape(-1)
    x = np.pad(x, N_FFT // 2, mode=pad_mode)
    if x.size < N_FFT:
        return np.zeros((0, N_FFT // 2 + 1))
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP_LENGTH]
    spectrum = np.fft.rfft(frames * periodic_hann(N_FFT), axis=-1)
    return spectrum.real**2 + spectrum.imag**2


def log_mel_spectrogram(y: np.ndarray, pad_mode: str = "constant") -> np.ndarray:
    """Full-clip 128-band log-mel (dB) spectrogram, frame-major float32 [frames, 128]."""
    mel = power_spectrogram(y, pad_mode) @ mel_filterbank().T
    return (10.0 * np.log10(mel + LOG_EPS)).astype(np.float32)


def ad_features(y: np.ndarray, pad_mode: str = "constant") -> np.ndarray:
    """Return the kept log-mel frames 50..249 of a clip, float32 [<=200, 128] frame-major.

    ``y`` is float audio at 16 kHz (int16 / 32768). A full 10 s clip gives exactly 200 frames;
    shorter clips give fewer (possibly none).
    """
    return log_mel_spectrogram(y, pad_mode)[FIRST_FRAME : FIRST_FRAME + NUM_FRAMES]


def int16_to_float(samples: np.ndarray) -> np.ndarray:
    """Convert int16 PCM to float32 the librosa/soundfile way (divide by 32768)."""
    return (np.asarray(samples, dtype=np.int16).astype(np.float32) / np.float32(32768.0))


def stack_frames(features: np.ndarray, frames: int = FRAMES_PER_VECTOR) -> np.ndarray:
    """Stack consecutive frames into model vectors: [T, 128] -> [T - frames + 1, frames*128].

    Vector j is frames j..j+frames-1 concatenated frame-major (element 128*k + m = band m of
    frame j+k), exactly the runner's 2560-byte window at a 512-byte stride. Fewer than
    ``frames`` rows give an empty [0, frames*128] array.
    """
    f = np.asarray(features)
    n_vec = f.shape[0] - frames + 1
    if n_vec <= 0:
        return np.zeros((0, frames * f.shape[1]), dtype=f.dtype)
    return np.lib.stride_tricks.sliding_window_view(f, frames, axis=0)[:n_vec].transpose(
        0, 2, 1
    ).reshape(n_vec, frames * f.shape[1])
