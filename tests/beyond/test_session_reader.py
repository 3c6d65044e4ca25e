"""tinyperf.harness.analysis.session_reader on real virtual-DUT sessions and on broken copies."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tinyperf.formats.errors import SessionError
from tinyperf.harness.analysis.session_reader import read_session

from .conftest import add_energy, add_latency, copy_session


def test_performance_session(sessions):
    rec = read_session(sessions.kws_perf)
    assert (rec.mode, rec.model, rec.valid) == ("performance", "kws01", True)
    assert rec.board == "unspecified" and rec.firmware
    assert len(rec.window_throughput) == 5
    assert rec.median_throughput == pytest.approx(float(np.median(rec.window_throughput)))
    assert rec.scores is None and rec.energy is None and rec.latency is None
    t = rec.intervals["throughput"]
    assert t.low == min(rec.window_throughput) and t.confidence == 0.9375


def test_accuracy_scores_are_recomputed_from_results_json(sessions):
    rec = read_session(sessions.kws_acc)
    assert rec.scores is not None and len(rec.scores.files) == rec.figures["files"]
    top1 = 100 * np.mean(np.argmax(rec.scores.y_pred, axis=1) == rec.scores.y_true)
    assert top1 == pytest.approx(rec.top1)
    w = rec.intervals["top1"]
    assert w.low < rec.top1 < w.high and w.method == "Wilson score"
    assert rec.intervals["auc"].low <= rec.auc <= rec.intervals["auc"].high


def test_ad01_accuracy_gets_an_auc_interval(sessions):
    rec = read_session(sessions.ad_acc)
    assert rec.scores.y_pred.shape == (4, 1)
    assert "top1" not in rec.intervals and "auc" in rec.intervals


def test_energy_and_latency_files_are_read(sessions, tmp_path):
    folder = copy_session(sessions.kws_perf, tmp_path / "s")
    add_energy(folder, [50.0, 51.0, 49.0, 50.5, 49.5])
    add_latency(folder, [43.0 + 0.01 * i for i in range(200)])
    rec = read_session(folder)
    assert rec.energy.uj_per_inference == pytest.approx([50.0, 51.0, 49.0, 50.5, 49.5])
    assert rec.energy_median_uj == pytest.approx(50.0)
    assert rec.intervals["energy_uj"].low == pytest.approx(48.5)
    assert rec.latency_ms("max") == pytest.approx(44.99)
    assert rec.latency_ms("p50") == pytest.approx(43.995)


def test_latency_figures_from_run_json_when_no_csv(sessions, tmp_path):
    folder = copy_session(sessions.kws_perf, tmp_path / "s")
    run = json.loads((folder / "run.json").read_text())
    run["figures"]["latency"] = {"p50_us": 43000, "p99_us": 47000}
    (folder / "run.json").write_text(json.dumps(run))
    assert read_session(folder).latency_ms("p99") == 47.0


@pytest.mark.parametrize("name,content,needle", [
    ("run.json", "{not json", "run.json: not valid JSON"),
    ("run.json", "[1, 2]", "run.json: expected a JSON object"),
    ("run.json", '{"mode": "performance"}', "missing or non-string key 'model'"),
    ("results.json", '{"a": 1}', "results.json: expected a list"),
    ("energy.json", '{"w": []}', "energy.json: expected an object with a 'windows' list"),
    ("latency.csv", "a,b\n1,2\n", "latency.csv: no latency column"),
])
def test_malformed_files_name_the_file(sessions, tmp_path, name, content, needle):
    folder = copy_session(sessions.kws_acc, tmp_path / "s")
    (folder / name).write_text(content)
    with pytest.raises(SessionError, match=needle.replace("[", r"\[").replace("(", r"\(")):
        read_session(folder)


def test_not_a_session(tmp_path):
    with pytest.raises(SessionError, match=r"no run\.json"):
        read_session(tmp_path)
    with pytest.raises(SessionError, match="not a session folder"):
        read_session(tmp_path / "missing")


def test_accuracy_without_results_json(sessions, tmp_path):
    folder = copy_session(sessions.kws_acc, tmp_path / "s")
    (folder / "results.json").unlink()
    with pytest.raises(SessionError, match=r"accuracy session without results\.json"):
        read_session(folder)
