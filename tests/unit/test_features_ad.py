"""ad01 log-mel features against the golden vector of spec §2.3 and the .bin window layout."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from tinyperf.reference_models.features import ad


def golden_signal() -> np.ndarray:
    t = np.arange(160000) / 16000.0
    x = (0.3 * np.sin(2 * np.pi * 120 * t)
         + 0.1 * np.sin(2 * np.pi * 1375 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t))
         + 0.05 * np.sin(2 * np.pi * 5200 * t + 0.3 * np.sin(2 * np.pi * 2 * t)))
    return ad.int16_to_float(np.round(32767 * x).astype(np.int16))


@pytest.fixture(scope="module")
def golden_features() -> np.ndarray:
    return ad.ad_features(golden_signal())


def test_constants() -> None:
    assert ad.SAMPLE_RATE == 16000 and ad.N_FFT == 1024 and ad.HOP_LENGTH == 512
    assert ad.N_MELS == 128 and ad.VECTOR_DIM == 640
    assert ad.LOG_EPS == 2.220446049250313e-16


def test_total_frames() -> None:
    assert ad.log_mel_spectrogram(golden_signal()).shape == (313, 128)


def test_golden_vector(golden_features: np.ndarray) -> None:
    f = golden_features
    assert f.shape == (200, 128) and f.dtype == np.float32
    assert f.min() == pytest.approx(-99.5902, abs=0.02)
    assert f.max() == pytest.approx(23.7449, abs=0.02)
    assert f.mean() == pytest.approx(-72.1024, abs=0.02)
    np.testing.assert_allclose(
        f[0, :5], [-35.3792, -23.6046, -13.1473, 16.6188, 23.7448], atol=0.02
    )
    np.testing.assert_allclose(f[199, 125:128], [-87.2611, -86.7026, -85.6866], atol=0.02)


def test_pad_mode_does_not_matter(golden_features: np.ndarray) -> None:
    np.testing.assert_array_equal(ad.ad_features(golden_signal(), pad_mode="reflect"),
                                  golden_features)


def test_slaney_mel_scale() -> None:
    assert float(ad.hz_to_mel_slaney(1000.0)) == pytest.approx(15.0)
    assert float(ad.hz_to_mel_slaney(200.0)) == pytest.approx(3.0)
    hz = np.array([0.0, 100.0, 999.0, 1000.0, 4000.0, 8000.0])
    np.testing.assert_allclose(ad.mel_to_hz_slaney(ad.hz_to_mel_slaney(hz)), hz, atol=1e-9)


def test_mel_filterbank_slaney_area() -> None:
    fb = ad.mel_filterbank()
    assert fb.shape == (128, 513)
    assert np.all(fb >= 0) and np.all(fb.any(axis=1))
    # Slaney normalisation: every triangle has area 1 on the Hz axis (peak 2/width); sampled
    # on the 15.625 Hz bin grid, wide (high) filters sum to ~1 and the average is ~1.
    areas = fb.sum(axis=1) * (8000.0 / 512)
    np.testing.assert_allclose(areas[60:], 1.0, rtol=0.03)
    assert areas.mean() == pytest.approx(1.0, abs=0.01)


def test_stack_frames_matches_runner_windows(golden_features: np.ndarray) -> None:
    vectors = ad.stack_frames(golden_features)
    assert vectors.shape == (196, 640)
    raw = golden_features.astype("<f4").tobytes()
    for j in (0, 1, 100, 195):
        window = np.frombuffer(raw[512 * j : 512 * j + 2560], dtype="<f4")
        np.testing.assert_array_equal(vectors[j], window)
    np.testing.assert_array_equal(vectors[7, 128 * 2 : 128 * 3], golden_features[9])


def test_short_clip_gives_fewer_frames() -> None:
    y = golden_signal()[:16000 * 3]  # 3 s -> 94 frames in total, none in 50..249 beyond 93
    f = ad.ad_features(y)
    assert f.shape == (94 - 50, 128)
    assert ad.stack_frames(f[:4]).shape == (0, 640)


def test_reference_sample_score() -> None:
    ref = os.environ.get("TINYPERF_REFERENCE_DIR")
    if not ref:
        pytest.skip("TINYPERF_REFERENCE_DIR is not set")
    pytest.importorskip("ai_edge_litert.interpreter")
    from tinyperf.reference_models import bins, runtime
    from tinyperf.reference_models.demo import ad01_file_score

    sample = bins.read_bin(Path(ref) / "ad01" / "normal_id_01_00000000_hist_librosa.bin", "ad01")
    model = runtime.TfliteModel(Path(ref) / "ad01" / "ad01_int8.tflite", reference_kernels=True)
    # Spec §2.9: LiteRT firmware-style score 10.2652 (TFLM 10.2645).
    assert ad01_file_score(model, sample) == pytest.approx(10.2652, abs=2e-3)
