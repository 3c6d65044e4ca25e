"""``tinyperf.reference_models.verify``: closed-division equivalence against the reference models.

Altered models are made here by patching a copy of the reference flatbuffer in place, at the
byte offsets the parser reports (buffer data, option fields), or by editing the parsed graph.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from tinyperf.reference_models import tflite_info as ti
from tinyperf.reference_models import verify as vf

KWS = "kws01/kws_ref_model.tflite"
KWS_F32 = "kws01/kws_ref_model_float32.tflite"
AD = "ad01/ad01_int8.tflite"
AD_F32 = "ad01/ad01_fp32.tflite"


def _patched_weights(path: Path, out: Path, op: int, fn, position: int = 1) -> Path:
    """Copy ``path`` to ``out`` with op ``op``'s constant input replaced by ``fn(values)``."""
    data = bytearray(path.read_bytes())
    info = ti.parse_model(bytes(data), str(path))
    k = info.operators[op].inputs[position]
    values = info.weight_values(k)
    new = np.asarray(fn(values.copy())).astype(values.dtype)
    buf = info.buffers[info.tensors[k].buffer]
    data[buf.offset:buf.offset + buf.size] = new.tobytes()
    out.write_bytes(bytes(data))
    return out


def test_reference_equals_itself(reference_dir: Path) -> None:
    for name in (KWS, AD):
        report = vf.verify(reference_dir / name, reference_dir / name)
        assert report.equivalent and report.failures() == []
        assert all(w.max_abs_diff == 0 for w in report.weights)
    assert len(vf.verify(reference_dir / KWS, reference_dir / KWS).weights) == 21


def test_float_companions_pass_at_one_int8_step(reference_dir: Path) -> None:
    kws = vf.verify(reference_dir / KWS_F32, reference_dir / KWS)
    ad = vf.verify(reference_dir / AD_F32, reference_dir / AD)
    assert kws.equivalent and ad.equivalent
    assert vf.DEFAULT_TOLERANCE == pytest.approx(1 / 127)
    # worst layers: the hybrid file's per-tensor int8 conv kernels vs the per-channel ones
    assert max(w.error for w in kws.weights) == pytest.approx(0.00746, abs=1e-4)
    # ad01 fp32 vs int8 per-tensor: half an int8 step at most
    assert max(w.error for w in ad.weights) <= 0.5 / 127 * (1 + 1e-5)  # float32 scales
    assert any("input dtype" in n for n in kws.notes)
    # half a step is too strict for the kws pair: the conv kernels are quantized on both sides
    strict = vf.verify(reference_dir / KWS_F32, reference_dir / KWS, tolerance=0.5 / 127)
    assert not strict.equivalent
    assert {w.op for w in strict.weight_failures} == {"CONV_2D"}
    assert {w.role for w in strict.weight_failures} == {"weights"}


def test_scaled_layer_fails(reference_dir: Path, tmp_path: Path) -> None:
    altered = _patched_weights(reference_dir / KWS, tmp_path / "scaled.tflite", 3,
                               lambda w: w // 2)
    report = vf.verify(altered, reference_dir / KWS)
    assert not report.equivalent
    [bad] = report.weight_failures
    assert (bad.op_index, bad.op, bad.role) == (3, "DEPTHWISE_CONV_2D", "weights")
    assert bad.error == pytest.approx(0.5, abs=0.01)
    assert report.failures()[0].startswith("op 3 DEPTHWISE_CONV_2D weights")
    assert not report.op_changes and not report.mismatches


def test_pruned_layer_fails(reference_dir: Path, tmp_path: Path) -> None:
    altered = _patched_weights(reference_dir / KWS, tmp_path / "pruned.tflite", 4,
                               np.zeros_like)
    report = vf.verify(altered, reference_dir / KWS)
    [bad] = report.weight_failures
    assert (bad.op_index, bad.op, bad.role, bad.error) == (4, "CONV_2D", "weights", 1.0)


def test_retrained_weights_fail_everywhere(reference_dir: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    src = reference_dir / AD
    for op in range(10):
        def jitter(w: np.ndarray) -> np.ndarray:
            moved = w.astype(np.int32) + rng.integers(-6, 7, size=w.shape)
            return np.clip(moved, -127, 127)
        src = _patched_weights(src, tmp_path / f"retrained{op}.tflite", op, jitter)
    report = vf.verify(src, reference_dir / AD)
    failed = {w.op_index for w in report.weight_failures if w.role == "weights"}
    assert failed == set(range(10))


def test_changed_bias_fails(reference_dir: Path, tmp_path: Path) -> None:
    altered = _patched_weights(reference_dir / KWS, tmp_path / "bias.tflite", 11,
                               lambda b: b * 2, position=2)
    [bad] = vf.verify(altered, reference_dir / KWS).weight_failures
    assert (bad.op_index, bad.op, bad.role) == (11, "FULLY_CONNECTED", "bias")


def test_changed_pool_size_fails(reference_dir: Path, tmp_path: Path) -> None:
    data = bytearray((reference_dir / KWS).read_bytes())
    pool = ti.parse_model(bytes(data)).operators[9]
    at = pool.option_offsets["filter_height"]
    data[at:at + 4] = (24).to_bytes(4, "little", signed=True)  # the (24, 5) regression
    altered = tmp_path / "pool24.tflite"
    altered.write_bytes(bytes(data))
    assert ti.read_model(altered).operators[9].options["filter_height"] == 24
    report = vf.verify(altered, reference_dir / KWS)
    assert not report.equivalent and not report.weight_failures
    [m] = report.mismatches
    assert (m.op_index, m.op, m.what, m.reference, m.submitted) == (
        9, "AVERAGE_POOL_2D", "option filter_height", 25, 24)
    assert "op 9 AVERAGE_POOL_2D: option filter_height 24 != reference 25" in report.failures()


def test_removed_and_added_ops(reference_dir: Path) -> None:
    ref = ti.read_model(reference_dir / KWS)
    ops = list(ref.operators)
    without_softmax = dataclasses.replace(ref, operators=tuple(ops[:12]))
    report = vf.verify_info(without_softmax, ref)
    assert [c.describe() for c in report.op_changes] == ["op 12 SOFTMAX removed"]
    extra_block = dataclasses.replace(ref, operators=tuple(ops[:9] + ops[7:9] + ops[9:]))
    report = vf.verify_info(extra_block, ref)
    assert {c.kind for c in report.op_changes} == {"added"}
    assert sorted(c.submitted_op for c in report.op_changes) == ["CONV_2D", "DEPTHWISE_CONV_2D"]
    replaced = dataclasses.replace(
        ref, operators=(*ops[:12], dataclasses.replace(ops[12], op="LOGISTIC")))
    [change] = vf.verify_info(replaced, ref).op_changes
    assert change.describe() == "op 12 SOFTMAX replaced by LOGISTIC (submitted op 12)"


def test_shape_change(reference_dir: Path) -> None:
    ref = ti.read_model(reference_dir / KWS)
    k = ref.operators[11].outputs[0]
    tensors = list(ref.tensors)
    tensors[k] = dataclasses.replace(tensors[k], shape=(1, 13))
    report = vf.verify_info(dataclasses.replace(ref, tensors=tuple(tensors)), ref)
    assert [m.describe() for m in report.mismatches] == [
        "op 11 FULLY_CONNECTED: output 0 shape (1, 13) != reference (1, 12)",
        "op 12 SOFTMAX: input 0 shape (1, 13) != reference (1, 12)"]


def test_different_model_is_not_equivalent(reference_dir: Path) -> None:
    report = vf.verify(reference_dir / AD, reference_dir / KWS)
    assert not report.equivalent
    assert any(c.kind == "removed" and c.reference_op == "CONV_2D" for c in report.op_changes)


def test_report_is_json_data(reference_dir: Path, tmp_path: Path) -> None:
    altered = _patched_weights(reference_dir / KWS, tmp_path / "p.tflite", 0, np.zeros_like)
    data = json.loads(json.dumps(vf.verify(altered, reference_dir / KWS).as_dict()))
    assert data["equivalent"] is False
    assert data["failures"][0].startswith("op 0 CONV_2D weights")
    assert [w["ok"] for w in data["weights"]].count(False) == 1


def test_negative_tolerance(reference_dir: Path) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        vf.verify(reference_dir / KWS, reference_dir / KWS, tolerance=-1)


def test_verify_any_matches_the_first_equivalent_artifact(reference_dir: Path,
                                                          tmp_path: Path) -> None:
    pruned = _patched_weights(reference_dir / KWS, tmp_path / "pruned.tflite", 4, np.zeros_like)
    # the reference is equivalent to the second artifact only: note names the first
    report = vf.verify_any(reference_dir / KWS, [pruned, reference_dir / KWS])
    assert report.equivalent and report.reference.endswith(KWS)
    assert "not within tolerance of" in report.notes[-1] and str(pruned) in report.notes[-1]
    # equivalent to the first: no extra note
    first = vf.verify_any(reference_dir / KWS, [reference_dir / KWS, pruned])
    assert first.equivalent and first.notes == ()


def test_verify_any_reports_the_closest_reference(reference_dir: Path, tmp_path: Path) -> None:
    pruned = _patched_weights(reference_dir / KWS, tmp_path / "pruned.tflite", 4, np.zeros_like)
    report = vf.verify_any(pruned, [reference_dir / AD, reference_dir / KWS])
    assert not report.equivalent
    assert report.reference.endswith(KWS)  # one weight failure, vs a different graph
    assert [w.op_index for w in report.weight_failures] == [4]
    assert "also not equivalent to" in report.notes[-1]
    with pytest.raises(ValueError, match="no reference"):
        vf.verify_any(pruned, [])
