"""``tinyperf models info|evaluate|verify`` through the argparse wiring of the subcommand."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from tinyperf.formats.errors import ConfigError, ModelError
from tinyperf.reference_models import tflite_info as ti
from tinyperf.reference_models.demo import demo_data_dir

from tinyperf.cli import models

KWS = "kws01/kws_ref_model.tflite"
KWS_F32 = "kws01/kws_ref_model_float32.tflite"
AD = "ad01/ad01_int8.tflite"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tinyperf")
    models.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_info_table(reference_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["models", "info", str(reference_dir / KWS)]) == 0
    out = capsys.readouterr().out
    assert "53,936 bytes (flash)" in out
    assert "22,606 constant elements (24,376 bytes)" in out
    assert "2,656,768 (conv 2,368,000, depthwise 288,000, fully connected 768) + 8,000 " \
           "pooling adds" in out
    assert "72,642 bytes summed; 16,000 bytes peak" in out
    assert "25x5 s25x5 VALID" in out and "int8 per-channel(64)" in out


def test_info_json(reference_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["models", "info", str(reference_dir / AD), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["op_counts"] == {"FULLY_CONNECTED": 10}
    assert data["parameter_count"] == 265_864 and data["constant_bytes"] == 270_880
    assert data["activation_bytes"]["sum"] == 2_312
    assert data["activation_bytes"]["peak_planned"] == 768
    assert data["macs"]["total"] == 264_192
    assert data["inputs"][0]["quantization"]["zero_point"] == 89


def test_info_tensors_listing(reference_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["models", "info", str(reference_dir / KWS), "--tensors"]) == 0
    assert "input_1" in capsys.readouterr().out


def test_info_rejects_non_model(tmp_path: Path) -> None:
    bad = tmp_path / "x.tflite"
    bad.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match=r"x\.tflite"):
        run(["models", "info", str(bad)])


def test_evaluate_by_model_id(reference_dir: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
    pytest.importorskip("ai_edge_litert.interpreter")
    assert run(["models", "evaluate", "--model-id", "kws01", "--dataset-path",
                str(demo_data_dir()), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["benchmark"] == "kws01" and data["files"] == 120
    assert data["top1_percent"] == pytest.approx(77.5)
    assert run(["models", "evaluate", "--model-id", "ad01", "--dataset-path",
                str(demo_data_dir() / "ad01")]) == 0
    out = capsys.readouterr().out
    assert "AUC pooled           0.9062" in out and "AUC mean of ids      1.0000" in out


def test_evaluate_file_with_labels(reference_dir: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ai_edge_litert.interpreter")
    folder = demo_data_dir() / "kws01"
    lines = (folder / "y_labels.csv").read_text().splitlines()[::10]
    alt = tmp_path / "y_labels_alt.csv"
    alt.write_text("\n".join(lines) + "\n")
    assert run(["models", "evaluate", str(reference_dir / KWS), "--dataset-path", str(folder),
                "--labels", str(alt), "--kernels", "xnnpack", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "12 files" in out and "xnnpack kernels" in out and "top-1" in out


def test_evaluate_needs_a_model() -> None:
    with pytest.raises(ConfigError, match="--model-id"):
        run(["models", "evaluate", "--dataset-path", str(demo_data_dir())])


def test_verify_pass(reference_dir: Path, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
    assert run(["models", "verify", str(reference_dir / KWS_F32), "--model-id", "kws01"]) == 0
    out = capsys.readouterr().out
    assert "result: EQUIVALENT" in out and "0.00787" in out


def test_verify_fail_exit_1(reference_dir: Path, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray((reference_dir / KWS).read_bytes())
    info = ti.parse_model(bytes(data))
    buf = info.buffers[info.tensors[info.operators[2].inputs[1]].buffer]
    data[buf.offset:buf.offset + buf.size] = bytes(buf.size)  # prune op 2
    pruned = tmp_path / "pruned.tflite"
    pruned.write_bytes(bytes(data))
    code = run(["models", "verify", str(pruned), "--model-id", "kws01",
                "--reference", str(reference_dir / KWS)])
    out = capsys.readouterr().out
    assert code == 1
    assert "DIFFERS: op 2 CONV_2D weights" in out and "result: NOT EQUIVALENT" in out
    assert run(["models", "verify", str(pruned), "--reference", str(reference_dir / KWS),
                "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["equivalent"] is False


def test_verify_reference_must_match_registry(reference_dir: Path) -> None:
    with pytest.raises(ModelError, match="sha256 mismatch"):
        run(["models", "verify", str(reference_dir / KWS), "--model-id", "kws01",
             "--reference", str(reference_dir / KWS_F32)])


def test_verify_argument_errors(reference_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--model-id"):
        run(["models", "verify", str(reference_dir / KWS)])
    with pytest.raises(ConfigError, match="not found"):
        run(["models", "verify", str(tmp_path / "none.tflite"), "--reference",
             str(reference_dir / KWS)])
