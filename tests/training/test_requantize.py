"""``models verify`` on models we quantize ourselves from the reference float weights (issue 4).

The reference float ``.tflite`` files are rebuilt in Keras (``reference_models.requantize``),
calibrated on the committed demo inputs — not the official calibration sets, which need the
raw datasets — and converted to int8 with the same settings as ``models build``. A correct
re-quantization of the same float weights must pass ``models verify`` against the reference
int8 model; the same pipeline on perturbed float weights must not.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from tinyperf.reference_models import bins, demo, verify
from tinyperf.reference_models.evaluate import ad01_file_windows
from tinyperf.reference_models.runtime import TfliteModel as Model

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                       reason="TensorFlow not installed (pip install -e '.[train]')"),
    pytest.mark.timeout(300),
]

KWS_F32, KWS_INT8 = "kws01/kws_ref_model_float32.tflite", "kws01/kws_ref_model.tflite"
AD_F32, AD_INT8 = "ad01/ad01_fp32.tflite", "ad01/ad01_int8.tflite"


def _demo_inputs(model: str) -> list[np.ndarray]:
    folder = demo.demo_data_dir() / model
    rows = bins.read_y_labels(folder / "y_labels.csv", model)
    return [bins.read_bin(folder / row.file, model) for row in rows]


def _kws_float_inputs(reference_dir: Path) -> list[np.ndarray]:
    """Demo kws01 inputs in real units (int8 dequantized with the model's input scale)."""
    quant = Model(reference_dir / KWS_INT8).input
    return [((q.astype(np.float32) - quant.zero_point) * quant.scale).reshape(1, 49, 10, 1)
            for q in _demo_inputs("kws01")]


def _ad_windows() -> list[np.ndarray]:
    windows = [w for f in _demo_inputs("ad01")[::4] for w in ad01_file_windows(f)[::20]]
    return [np.asarray(w, dtype=np.float32).reshape(1, 640) for w in windows]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_keras_rebuild_computes_the_float_model(reference_dir: Path) -> None:
    from tinyperf.reference_models.requantize import keras_from_tflite

    for name, xs in ((KWS_F32, _kws_float_inputs(reference_dir)[:16]),
                     (AD_F32, _ad_windows()[:16])):
        keras_model = keras_from_tflite(reference_dir / name)
        tflite = Model(reference_dir / name)
        ours = np.concatenate([keras_model(x, training=False).numpy() for x in xs])
        theirs = np.concatenate([tflite.invoke(x) for x in xs]).reshape(ours.shape)
        # kws01's float companion is hybrid (int8 weights, inputs quantized on the fly per
        # op), so it only approximates the float function the Keras model computes exactly
        atol = 0.05 if name == KWS_F32 else 1e-4
        np.testing.assert_allclose(ours, theirs, atol=atol, rtol=1e-3)


@pytest.mark.parametrize("model_id", ["kws01", "ad01"])
def test_self_quantized_model_passes_verify(reference_dir: Path, tmp_path: Path,
                                            model_id: str) -> None:
    from tinyperf.reference_models.requantize import requantize

    if model_id == "kws01":
        f32, ref, calib = KWS_F32, KWS_INT8, _kws_float_inputs(reference_dir)[::3]
    else:
        f32, ref, calib = AD_F32, AD_INT8, _ad_windows()
    ours = _write(tmp_path, f"{model_id}_ours.tflite",
                  requantize(reference_dir / f32, lambda: calib))
    direct = verify.verify(ours, reference_dir / ref)
    worst = max(w.error for w in direct.weights)
    print(f"\n{model_id}: self-quantized vs reference int8: {len(direct.weights)} constants, "
          f"worst weight error {worst:.5f} (tolerance {verify.DEFAULT_TOLERANCE:.5f})")
    report = verify.verify_any(ours, [reference_dir / ref, reference_dir / f32])
    assert report.equivalent, report.failures()
    assert not report.op_changes
    if model_id == "ad01":  # true float weights: one rounding step from the int8 reference
        assert direct.equivalent, direct.failures()
    else:  # hybrid companion: int8 per-tensor weights re-quantized per channel (2 steps)
        assert report.reference.endswith(f32) and "equivalent to" in report.notes[-1]
        assert worst < 1.5 / 127
    # the CLI does the same with the registry's artifacts
    from tinyperf.cli.main import main

    assert main(["models", "verify", str(ours), "--model-id", model_id]) == 0
    # and it really is int8 with the reference's I/O shapes
    model = Model(ours)
    assert model.input.dtype == np.int8 and model.output.dtype == np.int8
    assert model.input.shape == Model(reference_dir / ref).input.shape

    if model_id == "kws01":  # same predictions as the reference int8 model on the demo set
        ref_model = Model(reference_dir / ref)
        inputs = _demo_inputs("kws01")
        # our calibration (demo set) picks its own input scale: feed each model its own int8
        scale, zp = model.input.scale, model.input.zero_point
        same = 0
        for q, x in zip(inputs, _kws_float_inputs(reference_dir)):
            ours_q = np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)
            same += int(np.argmax(model.invoke(ours_q)) == np.argmax(ref_model.invoke(q)))
        print(f"kws01: top-1 agreement with the reference int8 model {same}/{len(inputs)}")
        assert same >= 0.9 * len(inputs)


def test_requantized_perturbed_weights_fail_verify(reference_dir: Path, tmp_path: Path) -> None:
    """The same pipeline on retrained-like (perturbed) float weights is caught per layer."""
    from tinyperf.reference_models import quantize
    from tinyperf.reference_models.requantize import keras_from_tflite

    model = keras_from_tflite(reference_dir / AD_F32)
    rng = np.random.default_rng(3)
    dense = [ly for ly in model.layers if ly.get_weights()]
    kernel, bias = dense[4].get_weights()
    dense[4].set_weights([kernel + rng.normal(0, 0.05 * np.abs(kernel).max(), kernel.shape)
                          .astype(np.float32), bias])
    calib = _ad_windows()
    altered = _write(tmp_path, "ad01_altered.tflite",
                     quantize.convert_int8(model, lambda: calib))
    report = verify.verify(altered, reference_dir / AD_INT8)
    assert not report.equivalent
    assert {w.op_index for w in report.weight_failures} == {4}
