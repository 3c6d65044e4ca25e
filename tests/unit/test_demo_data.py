"""The committed demo input sets, the synthesisers and the prepare layouts that built them."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io.wavfile
from tinyperf.formats.errors import DatasetError
from tinyperf.reference_models import bins, demo, prepare
from tinyperf.reference_models.synth import machine, speech

KWS_NAME = re.compile(r"^tst_(\d{6})_([A-Z][a-z]+)_(\d{1,2})\.bin$")
AD_NAME = re.compile(r"^(normal|anomaly)_id_(\d{2})_(\d{8})_hist_librosa\.bin$")
HAVE_ESPEAK = shutil.which("espeak-ng") is not None


def test_committed_kws01_set() -> None:
    root = demo.demo_data_dir() / "kws01"
    rows = bins.read_y_labels(root / "y_labels.csv", "kws01")
    assert len(rows) == 120
    assert sorted({r.label for r in rows}) == list(range(12))
    assert {p.name for p in root.glob("*.bin")} == {r.file for r in rows}
    for i, row in enumerate(rows):
        m = KWS_NAME.match(row.file)
        assert m, row.file
        assert int(m.group(1)) == i
        assert int(m.group(3)) == row.label
        assert m.group(2) == prepare.KWS_LABELS[row.label].capitalize()
        assert (root / row.file).stat().st_size == 490


def test_committed_ad01_set() -> None:
    root = demo.demo_data_dir() / "ad01"
    rows = bins.read_y_labels(root / "y_labels.csv", "ad01")
    assert [r.label for r in rows] == [0] * 8 + [1] * 8
    assert {p.name for p in root.glob("*.bin")} == {r.file for r in rows}
    for row in rows:
        m = AD_NAME.match(row.file)
        assert m and (m.group(1) == "anomaly") == bool(row.label)
        f = bins.read_bin(root / row.file, "ad01")
        assert np.all(np.isfinite(f)) and -100 < f.min() and f.max() < 20


def test_committed_sets_are_small_and_documented() -> None:
    root = demo.demo_data_dir()
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total < 3_000_000
    assert "pipeline check" in (root / "README.md").read_text()


def test_committed_sets_score_above_chance() -> None:
    if not os.environ.get("TINYPERF_REFERENCE_DIR"):
        pytest.skip("TINYPERF_REFERENCE_DIR is not set")
    pytest.importorskip("ai_edge_litert.interpreter")
    scores = demo.evaluate_demo()
    assert scores.kws01_files == 120 and scores.ad01_files == 16
    assert scores.kws01_top1 is not None and scores.kws01_top1 > 0.5
    assert scores.ad01_auc is not None and scores.ad01_auc > 0.7


def test_machine_synth_deterministic() -> None:
    a = machine.synth_machine_clip(2, True, np.random.default_rng(7), fault="friction")
    b = machine.synth_machine_clip(2, True, np.random.default_rng(7), fault="friction")
    assert a.dtype == np.int16 and a.shape == (160000,)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="fault"):
        machine.synth_machine_clip(1, True, np.random.default_rng(0), fault="explosion")


@pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is not installed")
def test_speech_synth_word_and_silence() -> None:
    a = speech.synth_class_clip("yes", np.random.default_rng(3))
    b = speech.synth_class_clip("yes", np.random.default_rng(3))
    assert a.dtype == np.int16 and a.shape == (16000,)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(np.int32)).max() > 5000
    s = speech.synth_class_clip("silence", np.random.default_rng(3))
    assert s.shape == (16000,) and np.abs(s.astype(np.int32)).max() < 3000
    with pytest.raises(ValueError):
        speech.synth_class_clip("maybe", np.random.default_rng(0))


def test_missing_espeak_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech.shutil, "which", lambda _name: None)
    with pytest.raises(speech.SpeechSynthError, match="espeak-ng is not installed"):
        speech.espeak_path()


@pytest.mark.skipif(not HAVE_ESPEAK, reason="espeak-ng is not installed")
def test_make_demo_small(tmp_path: Path) -> None:
    reports = demo.make_demo(tmp_path, seed=5, kws_per_class=1, ad_per_id_and_label=1)
    assert reports["kws01"].class_counts == {i: 1 for i in range(12)}
    assert reports["ad01"].class_counts == {0: 4, 1: 4}
    assert len(list((tmp_path / "ad01").glob("*.bin"))) == 8
    assert bins.read_y_labels(tmp_path / "kws01" / "y_labels.csv", "kws01")[0].label == 10


def _tone(n: int, freq: float = 440.0) -> np.ndarray:
    return np.round(8000 * np.sin(2 * np.pi * freq * np.arange(n) / 16000)).astype(np.int16)


def test_prepare_kws01_main_archive_layout(tmp_path: Path) -> None:
    raw = tmp_path / "sc"
    for rel in ("yes/a_nohash_0.wav", "yes/b_nohash_0.wav", "bed/c_nohash_0.wav",
                "go/d_nohash_0.wav"):
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        scipy.io.wavfile.write(raw / rel, 16000, _tone(12000))
    (raw / "_background_noise_").mkdir()
    scipy.io.wavfile.write(raw / "_background_noise_" / "white.wav", 16000, _tone(40000, 3000))
    (raw / "testing_list.txt").write_text("yes/b_nohash_0.wav\nbed/c_nohash_0.wav\n")
    report = prepare.prepare_kws01(raw, tmp_path / "out")
    # 40000 noise samples -> 1 s pieces at 0.5 s hop: starts 0, 8000, 16000, 24000.
    assert report.class_counts == {9: 1, 10: 4, 11: 1}
    rows = bins.read_y_labels(tmp_path / "out" / "y_labels.csv", "kws01")
    assert [r.file for r in rows][:1] == ["tst_000000_Silence_10.bin"]
    assert rows[-1].file == "tst_000005_Yes_9.bin"


def test_prepare_kws01_rejects_wrong_rate(tmp_path: Path) -> None:
    (tmp_path / "up").mkdir()
    scipy.io.wavfile.write(tmp_path / "up" / "x.wav", 8000, _tone(8000))
    with pytest.raises(DatasetError, match="8000 Hz") as exc:
        prepare.prepare_kws01(tmp_path, tmp_path / "out")
    assert exc.value.path and exc.value.path.endswith("x.wav")


def test_prepare_ad01_layout_and_short_clip(tmp_path: Path) -> None:
    test_dir = tmp_path / "ToyCar" / "test"
    test_dir.mkdir(parents=True)
    for name in ("anomaly_id_01_00000003.wav", "normal_id_02_00000013.wav",
                 "normal_id_01_00000004.wav"):
        scipy.io.wavfile.write(test_dir / name, 16000, _tone(160000, 300))
    report = prepare.prepare_ad01(tmp_path / "ToyCar", tmp_path / "out", official_subset=True)
    assert report.files == ["normal_id_02_00000013_hist_librosa.bin",
                            "anomaly_id_01_00000003_hist_librosa.bin"]
    assert (tmp_path / "out" / "y_labels.csv").read_text() == (
        "normal_id_02_00000013_hist_librosa.bin,2,0,2560,512\n"
        "anomaly_id_01_00000003_hist_librosa.bin,2,1,2560,512\n")
    scipy.io.wavfile.write(test_dir / "normal_id_01_00000004.wav", 16000, _tone(48000, 300))
    with pytest.raises(DatasetError, match="too short"):
        prepare.prepare_ad01(tmp_path, tmp_path / "out2")
