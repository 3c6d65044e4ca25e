"""The spec's golden ic01/vww01 outputs (ic_vww spec 6) under each engine.

TFLite Micro must give the reference device's int8 outputs and printed lines; LiteRT
BUILTIN_REF differs exactly where the spec says (ic G); the float companions match the
spec's 6-decimal values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats.protocol import msg_results
from tinyperf.reference_models import dut_outputs as d
from tinyperf.reference_models import runtime
from tinyperf.reference_models.registry import get_model, resolve_model_file

from .goldens import FLOAT, LITERT_REF_INT8, PRINTED, SHA256, TFLM_INT8, sha256, synthetic

CASES = sorted(TFLM_INT8)

needs_tflm = pytest.mark.skipif(not runtime.tflm_available(), reason="tflite-micro not installed")


@pytest.fixture(scope="module")
def models() -> dict[tuple[str, str], object]:
    """Loaded models by (model id, engine), shared by the module's tests."""
    return {}


def _model(cache: dict, reference_dir: Path, model_id: str, engine: str):
    key = (model_id, engine)
    if key not in cache:
        path = resolve_model_file(model_id, reference_dir=reference_dir, download=False)
        cache[key] = runtime.load_model(path, engine)
    return cache[key]


@pytest.mark.parametrize("model_id,kind", sorted(SHA256))
def test_synthetic_inputs_match_spec_hashes(model_id: str, kind: str) -> None:
    data = synthetic(model_id, kind)
    assert len(data) == get_model(model_id).input_bin_bytes
    assert sha256(data) == SHA256[(model_id, kind)]


def test_lcg_first_and_last_bytes() -> None:
    ic, vww = synthetic("ic01", "R"), synthetic("vww01", "R")
    assert list(ic[:16]) == [198, 126, 129, 107, 75, 251, 226, 251, 84, 246, 189, 223, 124, 28,
                             225, 135]
    assert list(ic[-4:]) == [228, 173, 231, 234] and list(vww[-4:]) == [246, 36, 150, 58]
    assert vww[:3072] == ic


def test_input_conversion_is_byte_minus_128() -> None:
    raw = bytes(range(256))
    q = d.image_bytes_to_int8(raw)
    assert q.dtype == np.int8
    assert q.tolist() == [b - 128 for b in range(256)]


@needs_tflm
@pytest.mark.parametrize("model_id,kind", CASES)
def test_tflm_int8_outputs_and_printed_lines(models, reference_dir, model_id, kind) -> None:
    model = _model(models, reference_dir, model_id, "tflm")
    assert model.engine == "tflm"
    raw = synthetic(model_id, kind)
    out = model.invoke(d.image_bytes_to_int8(raw))
    assert out.tolist() == TFLM_INT8[(model_id, kind)]
    spec = get_model(model_id)
    infer = d.results_function(spec.dut_results.kind, model)
    line = msg_results(infer(raw), spec.dut_results.results_decimals,
                       spec.dut_results.trailing_comma)
    assert line == PRINTED[(model_id, kind)]


@pytest.mark.parametrize("model_id,kind", CASES)
def test_litert_ref_differs_only_where_the_spec_says(models, reference_dir, model_id,
                                                     kind) -> None:
    model = _model(models, reference_dir, model_id, "litert-ref")
    out = model.invoke(d.image_bytes_to_int8(synthetic(model_id, kind)))
    expected = LITERT_REF_INT8.get((model_id, kind), TFLM_INT8[(model_id, kind)])
    assert out.tolist() == expected


def test_ic_z_tie_goes_to_the_lowest_index() -> None:
    values = [(q + 128) / 256 for q in TFLM_INT8[("ic01", "Z")]]
    assert int(np.argmax(values)) == 0  # classes 0 and 4 tie at 0.3125


@pytest.mark.parametrize("engine", [pytest.param("tflm", marks=needs_tflm), "litert-ref"])
@pytest.mark.parametrize("model_id,kind", CASES)
def test_float_companions(models, reference_dir, engine, model_id, kind) -> None:
    fp = f"{model_id}_fp32"
    model = _model(models, reference_dir, fp, engine)
    raw = np.frombuffer(synthetic(model_id, kind), dtype=np.uint8)
    x = (raw.astype(np.float32) / np.float32(get_model(fp).float_input_divisor))
    out = model.invoke(x)
    assert np.round(out.astype(np.float64), 6).tolist() == pytest.approx(
        FLOAT[(model_id, kind)], abs=1.5e-6)


def test_unknown_engine_is_a_clear_error() -> None:
    with pytest.raises(Exception, match="unknown engine 'tvm'"):
        runtime.resolve_engine("tvm")


def test_default_engine_is_tflm_when_installed() -> None:
    assert runtime.default_engine() == ("tflm" if runtime.tflm_available() else "litert-ref")


@needs_tflm
def test_auto_falls_back_for_a_model_tflm_cannot_run(reference_dir) -> None:
    # kws01's float companion is hybrid (int8 conv kernels, float activations): not TFLM
    path = resolve_model_file("kws01_fp32", reference_dir=reference_dir, download=False)
    assert runtime.load_model(path).engine == "litert-ref"
    with pytest.raises(Exception, match="TFLite Micro cannot load"):
        runtime.load_model(path, "tflm")


def test_without_tflm_each_model_falls_back_to_its_closest_litert_engine(
        reference_dir, monkeypatch) -> None:
    from tinyperf.firmware_interface.sim.model import build_infer_fn, infer_engine

    monkeypatch.setattr(runtime, "tflm_available", lambda: False)
    assert runtime.default_engine() == "litert-ref"
    with pytest.raises(Exception, match="engine 'tflm' requested but TFLite Micro is not"):
        runtime.resolve_engine("tflm")
    engines = {m: infer_engine(build_infer_fn(m, reference_dir=reference_dir, download=False))
               for m in ("kws01", "ad01", "ic01", "vww01")}
    # ad01: builtin kernels are 1 LSB from TFLM where BUILTIN_REF is up to 15 (spec 3.3)
    assert engines == {"kws01": "litert-ref", "ad01": "litert-builtin", "ic01": "litert-ref",
                       "vww01": "litert-ref"}
