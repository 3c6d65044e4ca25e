"""sww01 host evaluation: ``models info|evaluate sww01`` and reference_models.sww.evaluate."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
from tinyperf.formats.errors import ConfigError, DatasetError, ModelError
from tinyperf.formats.sww_score import SwwDataError
from tinyperf.reference_models import registry
from tinyperf.reference_models.sww import evaluate as sww

from tinyperf.cli import models


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tinyperf")
    models.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture
def ref(reference_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    # product code finds the files through the registry: reference dir, never a download
    monkeypatch.setenv(registry.ENV_REFERENCE_DIR, str(reference_dir))
    monkeypatch.setenv(registry.ENV_CACHE_DIR, str(tmp_path / "cache"))
    return reference_dir / "sww01"


def test_registry_entry(ref: Path) -> None:
    spec = registry.get_model("sww01")
    assert spec.sha256.startswith("3af85508") and spec.sha256.endswith("abd5dd2b")
    assert spec.md5 == "9643512e0b8a0b6e643e70c2fec496ee"
    assert spec.input.shape == (1, 30, 1, 40) and spec.input.zero_point == -128
    assert spec.output.scale == 1 / 256 and spec.metric == "detections"
    assert registry.resolve_model_file("sww01") == ref / "str_ww_ref_model.tflite"
    assert registry.resolve_data_file("sww01", "sww_short_test.json") == ref / \
        "sww_short_test.json"
    with pytest.raises(ModelError, match=r"known: short_wav_easy10s\.wav"):
        registry.data_file("sww01", "long_wav.wav")


def test_data_file_checksum_is_verified(tmp_path: Path) -> None:
    fake = tmp_path / "refdir" / "sww01"
    fake.mkdir(parents=True)
    (fake / "sww_short_test.json").write_text("[]")
    with pytest.raises(ModelError, match="sha256 mismatch"):
        registry.resolve_data_file("sww01", "sww_short_test.json",
                                   reference_dir=tmp_path / "refdir", download=False)


@pytest.mark.usefixtures("ref")
def test_info_by_registry_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["models", "info", "sww01"]) == 0
    out = capsys.readouterr().out
    assert "md5 9643512e0b8a0b6e643e70c2fec496ee" in out
    assert "74,520 bytes (flash)" in out and "1x30x1x40 int8" in out
    assert run(["models", "info", "sww01", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["registry"]["model_id"] == "sww01" and data["op_count"] == 11


def test_evaluate_wav_and_truth(ref: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["models", "evaluate", "sww01", "--wav", str(ref / "short_wav_easy10s.wav"),
                "--truth", str(ref / "sww_short_test.json")]) == 0
    out = capsys.readouterr().out
    assert "pulses   26 (step 0 = origin): 0, 43-66, 156" in out
    assert "2 True positives, 1 False negatives, 0 False positives" in out


@pytest.mark.usefixtures("ref")
def test_evaluate_default_is_the_short_stream_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["models", "evaluate", "--model-id", "sww01", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["tp"], data["fn"], data["fp"]) == (2, 1, 0)
    (stream,) = data["streams"]
    assert stream["detections_ms"][:3] == [0, 43 * 32, 44 * 32]
    assert stream["detections_ms"][-1] == 4992 and stream["false_negatives_s"] == [7.0]
    assert len(stream["activations"]) == 312


def test_evaluate_truth_file_scores_present_wavs_only(ref: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(ref / "short_wav_easy10s.wav", data)
    for name in ("sww_short_test.json", "sww_med_test.json"):
        shutil.copy(ref / name, data)
    assert run(["models", "evaluate", "sww01", "--dataset-path", str(data)]) == 0
    out = capsys.readouterr().out
    assert "2 True positives, 1 False negatives, 0 False positives (1 stream(s))" in out
    assert "skipped    sww_med_test.json: med_wav_2m_8p.wav" in out
    with pytest.raises(ConfigError, match="no stream scored"):
        run(["models", "evaluate", "sww01", "--truth", str(data / "sww_med_test.json")])


def test_readme_allowance_switch(ref: Path, tmp_path: Path) -> None:
    # window 2 of the short file, end moved so the step-156 pulse (4.992 s) is 1.5 s late
    truth = tmp_path / "t.json"
    truth.write_text(json.dumps([{"wav_file": "short_wav_easy10s.wav", "sample_rate": 16000,
                                  "length_sec": 10.0,
                                  "detection_windows": [[1.0, 1.65], [3.3, 3.492]]}]))
    model = ref / "str_ww_ref_model.tflite"
    code = sww.evaluate_wav(model, ref / "short_wav_easy10s.wav", truth).total
    readme = sww.evaluate_wav(model, ref / "short_wav_easy10s.wav", truth, "readme").total
    assert (code.tp, code.fn, code.fp) == (2, 0, 0)
    assert (readme.tp, readme.fn, readme.fp) == (1, 1, 1)


def test_bad_inputs_are_named(ref: Path, tmp_path: Path) -> None:
    model = ref / "str_ww_ref_model.tflite"
    truth = tmp_path / "t.json"
    truth.write_text(json.dumps([{"wav_file": "a.wav", "sample_rate": 16000,
                                  "length_sec": 1.0, "detection_windows": [[2.0, 1.0]]}]))
    with pytest.raises(SwwDataError, match=r"t\.json\[0\]\.detection_windows\[0\]"):
        sww.evaluate_wav(model, ref / "marvin_617de221_0.wav", truth)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="no sww01 truth file"):
        sww.truth_files(empty)
    with pytest.raises(DatasetError, match="not a folder"):
        sww.truth_files(tmp_path / "missing")
    with pytest.raises(ConfigError, match="--wav needs --truth"):
        run(["models", "evaluate", "sww01", "--wav", str(ref / "short_wav_easy10s.wav")])
    with pytest.raises(ConfigError, match="--dataset-path"):
        run(["models", "evaluate", "kws01"])


def test_detection_list_is_32_ms_per_step() -> None:
    assert sww.detections_ms([0, 1, 308]) == [0, 32, 9856]
