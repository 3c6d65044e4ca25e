"""The synthetic sww01 demo stream: format, truth file, determinism, and its score."""

from __future__ import annotations

import argparse
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats.sww_score import load_truth
from tinyperf.reference_models import demo, registry
from tinyperf.reference_models.sww.wav import read_channel0
from tinyperf.reference_models.synth import sww_stream

from tinyperf.cli import data as data_cli

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng is not installed")


def test_stream_is_deterministic_and_well_formed(tmp_path: Path) -> None:
    a = sww_stream.synth_stream(np.random.default_rng(11), length_s=14.0, wakewords=2, others=1)
    b = sww_stream.synth_stream(np.random.default_rng(11), length_s=14.0, wakewords=2, others=1)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.placements == b.placements
    assert a.samples.dtype == np.int16 and len(a.samples) == 14 * 16000
    assert [p.word for p in a.placements].count("marvin") == 2 and len(a.windows) == 2
    for p in a.placements:
        assert sww_stream.LEAD_IN_S <= p.start_s < p.end_s <= 14.0 - sww_stream.LEAD_OUT_S
    starts = [p.start_s for p in a.placements]
    ends = [p.end_s for p in a.placements]
    assert all(s - e >= sww_stream.MIN_GAP_S - 1e-9 for s, e in zip(starts[1:], ends[:-1]))

    sww_stream.write_stream(a, tmp_path / "s.wav", tmp_path / "s.json")
    with wave.open(str(tmp_path / "s.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 16000)
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    np.testing.assert_array_equal(frames[:, 0], frames[:, 1])  # L == R
    np.testing.assert_array_equal(read_channel0(tmp_path / "s.wav"), a.samples)
    (entry,) = load_truth(tmp_path / "s.json")
    assert entry.wav_file == "s.wav" and entry.length_sec == 14.0
    assert [list(w) for w in entry.windows] == a.windows


def test_too_many_words_for_the_length_is_an_error() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        sww_stream.synth_stream(np.random.default_rng(0), length_s=6.0, wakewords=4, others=0)


def test_other_words_never_include_the_wakeword() -> None:
    assert "marvin" not in sww_stream.OTHER_WORDS and "yes" in sww_stream.OTHER_WORDS


def test_demo_set_is_written_once_and_scores(tmp_path: Path, reference_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(registry.ENV_REFERENCE_DIR, str(reference_dir))
    parser = argparse.ArgumentParser()
    data_cli.register(parser.add_subparsers())
    args = parser.parse_args(["data", "demo", "--output-dir", str(tmp_path), "--model-id",
                              "sww01", "--evaluate"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "sww01: wrote sww_demo_stream.wav + sww_demo_test.json" in out
    wav, truth = demo.sww01_demo_set(tmp_path)
    assert wav.stat().st_size == 60 * 16000 * 4 + 44
    (entry,) = load_truth(truth)
    assert len(entry.windows) == demo.SWW_WAKEWORDS
    before = wav.stat().st_mtime_ns
    assert demo.sww01_demo_set(tmp_path) == (wav, truth) and wav.stat().st_mtime_ns == before
    scores = demo.evaluate_demo(tmp_path)
    tp, fn, fp = scores.sww01
    assert tp + fn == 10 and scores.sww01_wakewords == 10
    # a pipeline check on synthetic speech: the reference model finds most espeak-ng 'marvin's
    assert tp >= 7 and fp <= 2
    assert f"sww01: {tp} True positives, {fn} False negatives, {fp} False positives" in out
