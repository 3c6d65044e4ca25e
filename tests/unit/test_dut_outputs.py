"""What a reference DUT prints: truncation, C rounding, kws01 and ad01 against spec numbers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats.errors import ModelError
from tinyperf.formats.protocol import msg_results
from tinyperf.reference_models import dut_outputs as d
from tinyperf.reference_models.registry import get_model
from tinyperf.reference_models.runtime import TfliteModel

pytestmark = pytest.mark.timeout(60)

REFERENCE = Path(
    os.environ.get("TINYPERF_REFERENCE_DIR", Path(__file__).parents[3] / "shared/reference")
)
AD_SAMPLE = REFERENCE / "ad01" / "normal_id_01_00000000_hist_librosa.bin"


def _model(model_id: str, reference_kernels: bool = True) -> TfliteModel:
    spec = get_model(model_id)
    path = REFERENCE / spec.benchmark / spec.file
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return TfliteModel(path, reference_kernels=reference_kernels)


@pytest.fixture(scope="module")
def kws() -> TfliteModel:
    return _model("kws01")


@pytest.fixture(scope="module")
def ad() -> TfliteModel:
    return _model("ad01")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.99609375, 0.996), (0.0078125, 0.007), (0.50390625, 0.503), (0.0, 0.0), (0.001, 0.001)],
)
def test_truncate_decimals(value: float, expected: float) -> None:
    assert d.truncate_decimals(value) == expected


class _Q:
    scale = 0.5
    zero_point = 3


@pytest.mark.parametrize(
    ("x", "q"),
    # v/0.5 = ±2.5 and ±0.5: half away from zero (numpy's round would give 2 and 0)
    [(1.25, 6), (-1.25, 0), (0.25, 4), (-0.25, 2), (1000.0, 127), (-1000.0, -128)],
)
def test_quantize_c_round_half_away_from_zero(x: float, q: int) -> None:
    assert int(d.quantize_c_round(np.array([x], np.float32), _Q())[0]) == q


def test_kws01_values_truncate_not_round() -> None:
    class Out:
        scale = 1 / 256
        zero_point = -128

    raw = np.array([127, -126, -128, 1], dtype=np.int8)
    # 255/256 = 0.99609 → 0.996; 2/256 = 0.0078 → 0.007 (rounding would print 0.008)
    assert d.kws01_values(raw, Out()) == [0.996, 0.007, 0.0, 0.503]
    assert msg_results(d.kws01_values(raw, Out())) == "m-results-[0.996,0.007,0.000,0.503]"


def test_kws01_results_shape_range_and_argmax(kws: TfliteModel) -> None:
    rng = np.random.default_rng(1)
    noise = rng.integers(-128, 128, 490).astype(np.int8).tobytes()
    inputs = [bytes([0x7F]) * 490, bytes(490), noise]
    for raw in inputs:
        values = d.kws01_results(kws, raw)
        assert len(values) == 12
        assert all(0.0 <= v <= 0.996 for v in values)
        raw_out = kws.invoke(np.frombuffer(raw, np.int8))
        # the printed argmax is the model's argmax (ties: first index, as the host takes it)
        assert int(np.argmax(values)) == int(np.argmax(raw_out))
        assert values == [d.truncate_decimals((int(q) + 128) / 256) for q in raw_out]
    # all-127 input: class 11 ("unknown") dominates; all-zero input splits silence / "on"
    assert int(np.argmax(d.kws01_results(kws, inputs[0]))) == 11
    assert d.kws01_results(kws, inputs[1])[0] > 0.4


def test_kws01_rejects_wrong_size(kws: TfliteModel) -> None:
    with pytest.raises(ModelError, match="490"):
        d.kws01_results(kws, bytes(489))


def test_ad01_sample_file_windows(ad: TfliteModel) -> None:
    if not AD_SAMPLE.is_file():
        pytest.skip("ad01 sample file not available")
    data = AD_SAMPLE.read_bytes()
    windows = d.ad01_file_windows(data)
    assert len(windows) == 196 and all(len(w) == 2560 for w in windows)
    per_window = [d.ad01_results(ad, w)[0] for w in windows[:3]]
    scores = d.ad01_file_scores(ad, data)
    assert np.allclose(scores[:3], per_window, rtol=0, atol=1e-9)  # batch == one by one
    printed = d.printed_values(scores)
    # LiteRT builtin kernels (DUT-comparable). Spec 2.9 lists 11.648/11.989/12.027, which we
    # reproduce exactly with XNNPACK (test below); builtin kernels give 11.675/11.994/12.040,
    # close to TFLM's 11.676/12.001/12.035: all within 0.03 of the spec's values.
    assert np.allclose(printed[:3], [11.648, 11.989, 12.027], atol=0.03)
    assert np.allclose(printed[:3], [11.676, 12.001, 12.035], atol=0.01)
    assert abs(float(np.mean(scores)) - 10.265) < 0.001
    assert abs(float(np.mean(printed)) - float(np.mean(scores))) < 1e-4


def test_ad01_sample_file_xnnpack_matches_spec_exactly() -> None:
    if not AD_SAMPLE.is_file():
        pytest.skip("ad01 sample file not available")
    model = _model("ad01", reference_kernels=False)
    scores = d.ad01_file_scores(model, AD_SAMPLE.read_bytes())
    assert d.printed_values(scores[:3]) == [11.648, 11.989, 12.027]
    assert abs(float(np.mean(scores)) - 10.2652) < 1e-4


def test_ad01_rejects_wrong_size(ad: TfliteModel) -> None:
    with pytest.raises(ModelError, match="2560"):
        d.ad01_results(ad, bytes(2559))


def test_results_function_dispatch(kws: TfliteModel) -> None:
    fn = d.results_function("kws_softmax", kws)
    assert len(fn(bytes(490))) == 12
    with pytest.raises(ModelError, match="unknown DUT results kind"):
        d.results_function("nope", kws)
