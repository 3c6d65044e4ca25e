"""kws01 MFCC features and int8 encoding against the golden vectors of spec §1.3-1.4."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import pytest
from tinyperf.reference_models.features import kws

CLIP_A_FRAME0 = [-28.9961, 7.1039, 3.9020, -5.0502, -13.0797, 1.8286, -5.6214, 3.5651, 4.3232,
                 -1.4226]
CLIP_A_INT8_0 = [33, 95, 89, 74, 60, 86, 73, 89, 90, 80]
CLIP_A_INT8_48 = [27, 91, 90, 75, 60, 86, 73, 88, 90, 80]
CLIP_A_SHA = "e6c2f946dd946f5a09104c41ca0f90be9685a94ea2db7ac07a6f9b602d3fa36c"
CLIP_B_SHA = "7397946993028bf1229a1a8094cebfbb6446388a491c5d2ac3fe934cd344dfa7"
ZERO_FRAME_C0 = -123.5697


def clip_a() -> np.ndarray:
    n = np.arange(16000, dtype=np.float64)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * n / 16000)
    x = (10000 * np.sin(2 * np.pi * 440 * n / 16000) * envelope
         + 2000 * np.sin(2 * np.pi * 2500 * n / 16000))
    return np.round(x).astype(np.int16)


def test_clip_a_float_frame0() -> None:
    m = kws.mfcc(clip_a())
    assert m.shape == (49, 10) and m.dtype == np.float32
    np.testing.assert_allclose(m[0], CLIP_A_FRAME0, atol=1e-3)


def test_clip_a_int8_golden() -> None:
    q = kws.quantize_mfcc(kws.mfcc(clip_a()))
    assert q.dtype == np.int8 and q.shape == (49, 10)
    assert q[0].tolist() == CLIP_A_INT8_0
    assert q[48].tolist() == CLIP_A_INT8_48
    assert hashlib.sha256(q.tobytes()).hexdigest() == CLIP_A_SHA
    assert kws.kws_bin_bytes(clip_a()) == q.tobytes()


def test_clip_b_zero_padding() -> None:
    b = clip_a()[:12000]
    m = kws.mfcc(b)
    np.testing.assert_allclose(m[0], kws.mfcc(clip_a())[0], atol=1e-5)
    assert m[48, 0] == pytest.approx(ZERO_FRAME_C0, abs=1e-3)
    assert np.all(np.abs(m[48, 1:]) < 1e-4)
    q = kws.quantize_mfcc(m)
    assert q[48].tolist() == [-128] + [83] * 9
    assert hashlib.sha256(q.tobytes()).hexdigest() == CLIP_B_SHA


def test_all_zero_clip_is_guarded() -> None:
    m = kws.mfcc(np.zeros(16000, dtype=np.int16))
    assert np.all(np.isfinite(m))
    np.testing.assert_allclose(m[:, 0], ZERO_FRAME_C0, atol=1e-3)


def test_signed_max_normalisation() -> None:
    # Dividing by max(x), not max(|x|): a clip with a large negative peak keeps values < -1.
    x = np.array([-4000, 1000, 0], dtype=np.int16)
    y = kws.normalize_clip(x)
    assert y.shape == (16000,)
    assert y[:3].tolist() == [-4.0, 1.0, 0.0]


def test_mel_matrix_shape_and_support() -> None:
    w = kws.mel_weight_matrix()
    assert w.shape == (257, 40)
    rows = np.flatnonzero(w.any(axis=1))
    assert rows[0] == 1 and rows[-1] == 127
    assert np.all(w[0] == 0)
    assert w.max() <= 1.0


def test_quantize_truncates_toward_zero_and_saturates(caplog: pytest.LogCaptureFixture) -> None:
    s, z = kws.INPUT_SCALE, kws.INPUT_ZERO_POINT
    # x/scale + zp = -0.7, 1.9, -0.5 -> 0, 1, 0 (truncation, not rounding); 30 and -200 are
    # far outside int8 and must saturate instead of wrapping.
    x = np.array([(-0.7 - z) * s, (1.9 - z) * s, -83.5 * s, 30.0, -200.0], dtype=np.float32)
    q, overflow = kws.quantize_mfcc_with_count(x)
    assert q.tolist() == [0, 1, 0, 127, -128]
    assert overflow == 2
    with caplog.at_level(logging.WARNING, logger="tinyperf.reference_models.features.kws"):
        kws.quantize_mfcc(x)
    assert "saturated" in caplog.text


def _reference_dir() -> Path:
    ref = os.environ.get("TINYPERF_REFERENCE_DIR")
    if not ref:
        pytest.skip("TINYPERF_REFERENCE_DIR is not set")
    return Path(ref)


def test_clip_a_model_output_golden() -> None:
    model_path = _reference_dir() / "kws01" / "kws_ref_model.tflite"
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    it = litert.Interpreter(
        model_path=str(model_path),
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    assert inp["quantization"] == pytest.approx((kws.INPUT_SCALE, kws.INPUT_ZERO_POINT))
    it.set_tensor(inp["index"], kws.quantize_mfcc(kws.mfcc(clip_a())).reshape(1, 49, 10, 1))
    it.invoke()
    assert it.get_tensor(out["index"])[0].tolist() == [
        -128, 103, -128, -128, -128, -128, -128, -113, -120, -128, -128, -127]
