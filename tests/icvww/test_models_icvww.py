"""``tinyperf models info|evaluate|verify`` for ic01 / vww01: the spec's figures, both
runners' scores on real .bin files, and closed-division equivalence incl. float-I/O wrappers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats import metrics
from tinyperf.reference_models import evaluate as ev
from tinyperf.reference_models import runtime
from tinyperf.reference_models import tflite_info as ti
from tinyperf.reference_models import verify as vf
from tinyperf.reference_models.registry import resolve_model_file

from tinyperf.cli.main import main as run

from .goldens import TFLM_INT8, synthetic

needs_tflm = pytest.mark.skipif(not runtime.tflm_available(), reason="tflite-micro not installed")

# ic_vww spec 1.3, 1.5, 1.6: constants = weights + biases + 2 RESHAPE shape values
FIGURES = {
    "ic01": {"ops": 16, "params": 77_706 + 2, "macs": 12_501_632, "peak": 49_152,
             "bound": 49_152, "arena": (55_984, 49_152, 6_832), "const_bytes": 78_752},
    "vww01": {"ops": 31, "params": 210_850 + 2, "macs": 7_489_664, "peak": 64_512,
              "bound": 55_296, "arena": (103_680, 73_728, 29_952), "const_bytes": 219_072},
}


def _path(reference_dir: Path, model_id: str) -> Path:
    return resolve_model_file(model_id, reference_dir=reference_dir, download=False)


@pytest.mark.parametrize("model_id", sorted(FIGURES))
def test_info_figures(reference_dir: Path, model_id: str) -> None:
    s = ti.summary(ti.read_model(_path(reference_dir, model_id)))
    f = FIGURES[model_id]
    assert s["op_count"] == f["ops"]
    assert s["parameter_count"] == f["params"]
    assert s["constant_bytes"] == f["const_bytes"]
    assert s["macs"]["total"] == f["macs"]
    # our greedy plan (16-byte aligned): ic01 reaches the live-set bound of 49,152 like TFLM;
    # vww01 64,512 lies between the bound (55,296) and TFLM's 73,728 (spec 1.6)
    assert s["activation_bytes"]["peak_planned"] == f["peak"]
    assert s["activation_bytes"]["live_set_lower_bound"] == f["bound"]


@needs_tflm
@pytest.mark.parametrize("model_id", sorted(FIGURES))
def test_tflm_arena_matches_the_spec(reference_dir: Path, model_id: str) -> None:
    arena = runtime.tflm_arena(_path(reference_dir, model_id))
    assert (arena.total, arena.head, arena.tail) == FIGURES[model_id]["arena"]


@needs_tflm
def test_info_cli_prints_the_arena_next_to_our_estimate(reference_dir, monkeypatch,
                                                        capsys) -> None:
    monkeypatch.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
    assert run(["models", "info", "vww01"]) == 0
    out = capsys.readouterr().out
    assert "md5 f0b011416abee0343a5d130cb1f4c18f" in out
    assert "lower bound 55,296 bytes (largest live set at one op)" in out
    assert ("TFLM arena        103,680 bytes planned by the TFLite Micro interpreter (head "
            "73,728 activations + tail 29,952 structs, 64-bit host); our estimate of the "
            "head: 64,512 bytes") in out
    assert run(["models", "info", "ic01", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tflm_arena"] == {"available": True, "total": 55_984, "head": 49_152,
                                  "tail": 6_832}


# -- evaluate ---------------------------------------------------------------------------------


def _synthetic_set(root: Path, model_id: str, labels: list[int]) -> Path:
    """Z, G, R as .bin files with the given labels in the official layout."""
    folder = root / model_id
    folder.mkdir(parents=True)
    width = {"ic01": 10, "vww01": 2}[model_id]
    rows = []
    for kind, label in zip("ZGR", labels):
        (folder / f"{kind}.bin").write_bytes(synthetic(model_id, kind))
        rows.append(f"{kind}.bin,{width},{label}\n")
    (folder / "y_labels.csv").write_text("".join(rows))
    return root


@needs_tflm
def test_evaluate_vww01_scores_both_runners(reference_dir: Path, tmp_path: Path) -> None:
    data = _synthetic_set(tmp_path, "vww01", [0, 1, 1])
    result = ev.evaluate(_path(reference_dir, "vww01"), data)
    assert isinstance(result, ev.ImageEvaluation) and result.engine == "tflm"
    printed = np.array([[(q + 128) / 256 for q in TFLM_INT8[("vww01", k)]] for k in "ZGR"])
    printed = np.round(printed, 3)
    assert result.printed.tolist() == printed.tolist()
    y = np.array([0, 1, 1])
    assert (result.mlc_top1, result.mlc_auc) == metrics.mlc_accuracy(y, printed)
    assert (result.eembc_top1, result.eembc_auc) == metrics.eembc_accuracy(y, printed)
    assert result.mlc_top1 == pytest.approx(100 / 3)  # every input predicts "no person"


@needs_tflm
def test_evaluate_ic01_cli(reference_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    data = _synthetic_set(tmp_path, "ic01", [0, 3, 6])  # the TFLM predictions (spec 6.2)
    monkeypatch.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
    assert run(["models", "evaluate", "ic01", "--dataset-path", str(data), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["benchmark"], r["engine"], r["files"]) == ("ic01", "tflm", 3)
    printed = np.round([[(q + 128) / 256 for q in TFLM_INT8[("ic01", k)]] for k in "ZGR"], 3)
    top1, auc = metrics.mlc_accuracy(np.array([0, 3, 6]), printed)
    assert r["mlc"] == {"top1_percent": 100.0, "auc": auc} and top1 == 100.0
    assert r["eembc"]["top1_percent"] == 100.0
    assert run(["models", "evaluate", "ic01", "--dataset-path", str(data)]) == 0
    text = capsys.readouterr().out
    assert "engine     tflm" in text and "EEMBC      Top-1: 100.0%" in text


def test_evaluate_float_companion_under_litert_ref(reference_dir: Path, tmp_path: Path) -> None:
    data = _synthetic_set(tmp_path, "ic01", [0, 3, 6])
    result = ev.evaluate(_path(reference_dir, "ic01_fp32"), data, engine="litert-ref")
    assert result.engine == "litert-ref"
    # spec 6.2 float outputs, as %0.3f: Z 0.403 (class 0), G 0.847 (3), R 0.857 (6)
    assert result.printed[:, [0, 3, 6]].diagonal().tolist() == [0.403, 0.847, 0.857]
    assert result.eembc_top1 == 100.0


def test_evaluate_rejects_a_model_of_another_benchmark(reference_dir: Path,
                                                       tmp_path: Path) -> None:
    data = _synthetic_set(tmp_path, "ic01", [0, 3, 6])
    with pytest.raises(Exception, match="vww01"):
        ev.evaluate_image(_path(reference_dir, "vww01"), data, benchmark="ic01",
                          engine="litert-ref")


# -- verify -----------------------------------------------------------------------------------


def float_io_wrapper(path: Path, out: Path) -> Path:
    """``path`` with a float32 input + QUANTIZE in front and DEQUANTIZE + float32 output
    behind, identical weights: what a converter makes with float I/O (ad01's real
    ``model_ToyCar_quant_fullint.tflite`` has this shape)."""
    flatbuffers = pytest.importorskip("flatbuffers")
    fb = pytest.importorskip("tflite_micro.python.tflite_micro.runtime").schema_fb
    model = fb.ModelT.InitFromPackedBuf(path.read_bytes(), 0)
    graph = model.subgraphs[0]
    codes = {}
    for name in ("QUANTIZE", "DEQUANTIZE"):
        code = fb.OperatorCodeT()
        code.builtinCode = getattr(fb.BuiltinOperator, name)
        code.deprecatedBuiltinCode = min(code.builtinCode, 127)
        code.version = 1
        model.operatorCodes.append(code)
        codes[name] = len(model.operatorCodes) - 1

    def float_twin(index: int, name: str) -> int:
        src = graph.tensors[index]
        t = fb.TensorT()
        t.shape, t.type, t.buffer, t.name = list(src.shape), fb.TensorType.FLOAT32, 0, name
        graph.tensors.append(t)
        return len(graph.tensors) - 1

    fin, fout = float_twin(graph.inputs[0], b"input_float"), float_twin(graph.outputs[0],
                                                                          b"output_float")
    quant, dequant = fb.OperatorT(), fb.OperatorT()
    quant.opcodeIndex, quant.inputs, quant.outputs = codes["QUANTIZE"], [fin], [graph.inputs[0]]
    dequant.opcodeIndex, dequant.inputs, dequant.outputs = (codes["DEQUANTIZE"],
                                                            [graph.outputs[0]], [fout])
    graph.operators = [quant, *graph.operators, dequant]
    graph.inputs, graph.outputs = [fin], [fout]
    builder = flatbuffers.Builder(1 << 20)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out.write_bytes(bytes(builder.Output()))
    return out


@needs_tflm
@pytest.mark.parametrize("model_id", ["ic01", "vww01"])
def test_float_io_wrapper_is_accepted_and_computes_the_same(reference_dir: Path,
                                                            tmp_path: Path,
                                                            model_id: str) -> None:
    ref = _path(reference_dir, model_id)
    wrapped = float_io_wrapper(ref, tmp_path / "wrapped.tflite")
    # a real model: TFLM runs it and gives the reference's dequantized golden outputs
    model = runtime.load_model(wrapped, "tflm")
    assert model.input.dtype == np.float32
    raw = np.frombuffer(synthetic(model_id, "R"), np.uint8).astype(np.float32)
    x = raw if model_id == "ic01" else raw / np.float32(255)  # the float models' inputs
    expected = [(q + 128) / 256 for q in TFLM_INT8[(model_id, "R")]]
    assert model.invoke(x).tolist() == pytest.approx(expected, abs=1e-7)
    report = vf.verify(wrapped, ref)
    assert report.equivalent, report.failures()
    assert all(w.max_abs_diff == 0 for w in report.weights)


@pytest.mark.parametrize("model_id,op", [("ic01", 9), ("vww01", 13)])
def test_altered_weights_are_rejected_naming_the_layer(reference_dir: Path, tmp_path: Path,
                                                       model_id: str, op: int) -> None:
    ref = _path(reference_dir, model_id)
    data = bytearray(ref.read_bytes())
    info = ti.parse_model(bytes(data), str(ref))
    k = info.operators[op].inputs[1]
    values = info.weight_values(k).copy()
    values.reshape(-1)[: values.size // 4] //= 2  # a quarter of the layer's weights halved
    buf = info.buffers[info.tensors[k].buffer]
    data[buf.offset:buf.offset + buf.size] = values.tobytes()
    altered = tmp_path / "altered.tflite"
    altered.write_bytes(bytes(data))
    report = vf.verify_any(altered, [ref, _path(reference_dir, f"{model_id}_fp32")])
    assert not report.equivalent
    [bad] = report.weight_failures
    assert bad.op_index == op and bad.role == "weights"
    assert bad.reference_tensor == info.tensors[k].name
    assert any(line.startswith(f"op {op} {bad.op} weights") for line in report.failures())


def test_float_companions_against_the_int8_models(reference_dir: Path) -> None:
    for model_id in ("ic01", "vww01"):
        report = vf.verify(_path(reference_dir, f"{model_id}_fp32"), _path(reference_dir, model_id))
        assert report.equivalent, report.failures()
    # ic01's FC bias in the int8 file is half a *bias* step (input scale x weight scale) from
    # the float one: 1.02 % of that small bias's range, over 1/127, but within one step
    ic = vf.verify(_path(reference_dir, "ic01_fp32"), _path(reference_dir, "ic01"))
    [fc] = [w for w in ic.weights if (w.op_index, w.role) == (14, "bias")]
    assert fc.error == pytest.approx(0.0102, abs=2e-4) and fc.max_abs_diff <= fc.step / 2 * 1.001
    assert fc.ok


def test_a_bias_off_by_more_than_one_step_fails(reference_dir: Path, tmp_path: Path) -> None:
    ref = _path(reference_dir, "ic01")
    data = bytearray(ref.read_bytes())
    info = ti.parse_model(bytes(data), str(ref))
    k = info.operators[14].inputs[2]
    values = info.weight_values(k).copy()
    values[0] += 2  # two bias steps on one class
    buf = info.buffers[info.tensors[k].buffer]
    data[buf.offset:buf.offset + buf.size] = values.tobytes()
    (tmp_path / "b.tflite").write_bytes(bytes(data))
    [bad] = vf.verify(tmp_path / "b.tflite", ref).weight_failures
    assert (bad.op_index, bad.role) == (14, "bias")
    values[0] -= 1  # one step: a legitimate re-quantization can do that
    data[buf.offset:buf.offset + buf.size] = values.tobytes()
    (tmp_path / "b.tflite").write_bytes(bytes(data))
    assert vf.verify(tmp_path / "b.tflite", ref).equivalent


@needs_tflm
def test_kws01_evaluation_under_tflm_equals_the_builtin_kernels(reference_dir: Path) -> None:
    """kws01 is bit-exact between TFLM and the builtin kernels (spec reference_models 3.3)."""
    from tinyperf.reference_models.demo import demo_data_dir

    path = _path(reference_dir, "kws01")
    tflm = ev.evaluate(path, demo_data_dir(), engine="tflm", workers=1)
    builtin = ev.evaluate(path, demo_data_dir(), kernels="reference", workers=1)
    assert tflm.kernels == "tflm"
    assert np.array_equal(tflm.outputs, builtin.outputs)
    assert (tflm.top1, tflm.auc) == (builtin.top1, builtin.auc)
