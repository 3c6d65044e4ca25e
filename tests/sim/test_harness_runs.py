"""End to end: the harness drives the virtual DUT over a real pty through whole runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats import metrics, mlc
from tinyperf.harness.run.datasets import Dataset
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.harness.run.scenarios import TestEntry
from tinyperf.reference_models.demo import demo_data_dir, demo_subset
from tinyperf.reference_models.dut_outputs import kws01_results
from tinyperf.reference_models.registry import resolve_model_file
from tinyperf.reference_models.runtime import TfliteModel

from tests.session_kill import journal_windows, kill_after_windows

REPO = Path(__file__).resolve().parents[2]


def subset(tmp_path: Path, model: str, count: int) -> Path:
    """A dataset root holding ``count`` demo files of ``model`` (both ends of the list)."""
    return demo_subset(tmp_path / "data", model, count)


@pytest.fixture
def kws_sim(reference_dir):
    dut = make_virtual_dut("kws01", throughput=23.0, jitter_us=500.0, seed=3,
                           reference_dir=reference_dir)
    with SimServer(dut, pty=True, baud=None) as server:
        yield server


@pytest.fixture
def ad_sim(reference_dir):
    dut = make_virtual_dut("ad01", throughput=99.5, reference_dir=reference_dir)
    with SimServer(dut, pty=True, baud=None) as server:
        yield server


@pytest.mark.timeout(60)
def test_kws01_performance_run_valid(kws_sim, tmp_path):
    config = RunConfig(mode="performance", dataset_path=demo_data_dir(), output_dir=tmp_path,
                       iterations="auto", port=kws_sim.url, progress=False)
    result = run_session(config)
    assert result.valid, result.reasons
    folder = result.session
    claim = mlc.parse_results_txt((folder / "results.txt").read_text())
    records = json.loads((folder / "results.json").read_text())
    assert len(records) == len(claim.windows) == 5
    thr = [r["infer"]["throughput"] for r in records]
    assert claim.median_throughput == round(float(np.median(thr)), 3)
    for rec in records:
        inf = rec["infer"]
        assert inf["elapsed_time"] == inf["end_time"] - inf["start_time"]
        assert inf["elapsed_time"] >= 10_000_000  # every window >= 10 s of DUT time
        assert rec["mode"] == "p" and len(inf["results"]) == 12
    assert all(w["met"] for w in claim.windows)
    # jitter of 500 us per inference makes the windows differ
    assert result.figures["throughput"]["min"] < result.figures["throughput"]["max"]
    log = (folder / "log.txt").read_text()
    assert "Device model retrieved: kws01" in log
    assert log.rstrip().endswith(f"Session logged in file {folder / 'log.txt'}")
    assert (folder / "traffic.log").read_text().count(" tx infer ") == 6  # 5 + calibration


@pytest.mark.timeout(60)
def test_short_windows_are_invalid_with_reasons(kws_sim, tmp_path):
    config = RunConfig(mode="performance", dataset_path=demo_data_dir(), output_dir=tmp_path,
                       iterations=20, port=kws_sim.url, progress=False)
    result = run_session(config)
    assert not result.valid
    assert any("at least 10 s required" in r for r in result.reasons)
    text = (result.session / "results.txt").read_text()
    assert "Runtime requirements have been met." not in text
    assert "ERROR - not valid for submission: window 1:" in text


@pytest.mark.timeout(60)
def test_loop_count_not_five_is_error_1(kws_sim, tmp_path):
    entry = TestEntry("kws01", "kws", "kws01", "y_labels.csv",
                      [{"loop 3": ["download", "infer 300 1"]}])
    config = RunConfig(mode="performance", dataset_path=demo_data_dir(), output_dir=tmp_path,
                       entries={"kws01": entry}, port=kws_sim.url, progress=False)
    result = run_session(config)
    assert not result.valid
    text = (result.session / "results.txt").read_text()
    assert "ERROR 1 - loop_count was not exactly 5." in text and "Median" not in text


@pytest.mark.timeout(90)
def test_kws01_accuracy_equals_host_evaluation(kws_sim, tmp_path, reference_dir):
    config = RunConfig(mode="accuracy", dataset_path=demo_data_dir(), output_dir=tmp_path,
                       port=kws_sim.url, progress=False)
    result = run_session(config)
    records = json.loads((result.session / "results.json").read_text())
    ds = Dataset(demo_data_dir(), "kws01")
    assert [r["file"] for r in records] == [row.file for row in ds.rows]
    # the same figures computed on the host with the same model, no serial line involved
    model = TfliteModel(resolve_model_file("kws01", reference_dir=reference_dir))
    host = [(row.file, int(row.label), kws01_results(model, ds.read(row))) for row in ds.rows]
    scores = metrics.file_scores(host)
    assert result.figures["top1"] == metrics.accuracy_top1(scores.y_true, scores.y_pred)
    assert result.figures["auc"] == pytest.approx(
        metrics.accuracy_auc(scores.y_true, scores.y_pred))
    claim = mlc.parse_results_txt((result.session / "results.txt").read_text())
    assert claim.top1 == round(result.figures["top1"], 1)
    assert result.figures["top1"] > 100 / 12 * 3  # far above chance on the demo set


@pytest.mark.timeout(120)
def test_ad01_runs_window_by_window(ad_sim, tmp_path):
    data = subset(tmp_path, "ad01", 4)
    perf = run_session(RunConfig(mode="performance", dataset_path=data,
                                 output_dir=tmp_path / "s", iterations=1100,
                                 port=ad_sim.url, progress=False,
                                 entries={"ad01": TestEntry(
                                     "ad01", "ad", "ad01", "y_labels.csv",
                                     [{"loop 5": ["download 0", "infer 1100 10"]}])}))
    assert perf.valid, perf.reasons
    acc = run_session(RunConfig(mode="accuracy", dataset_path=data,
                                output_dir=tmp_path / "s", port=ad_sim.url, progress=False))
    records = json.loads((acc.session / "results.json").read_text())
    assert len(records) == 4 * 196
    assert {r["total_length"] for r in records} == {196}
    assert records[0]["bytes_to_send"] == "2560" and records[0]["stride"] == "512"
    assert all(len(r["infer"]["results"]) == 1 for r in records)
    log = (acc.session / "log.txt").read_text()
    assert "Loading file" in log and "segment 195" in log
    assert 0.0 <= acc.figures["auc"] <= 1.0


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tinyperf.cli.main", *args]


@pytest.mark.timeout(180)
def test_resume_after_sigkill_gives_the_same_results(reference_dir, tmp_path):
    data = subset(tmp_path, "kws01", 40)
    dut = make_virtual_dut("kws01", throughput=23.0, reference_dir=reference_dir)
    env = dict(os.environ, TINYPERF_REFERENCE_DIR=str(reference_dir))
    # 115200 baud emulation makes each window ~0.1 s, so the kill lands mid-run
    with SimServer(dut, pty=True, baud=115200) as server:
        common = ["run", "--port", server.url, "--mode", "accuracy", "--dataset-path",
                  str(data), "--no-progress"]
        whole = subprocess.run(_cli(*common, "--output-dir", str(tmp_path / "whole")),
                               env=env, capture_output=True, text=True, timeout=120)
        assert whole.returncode == 0, whole.stderr
        proc = subprocess.Popen(_cli(*common, "--output-dir", str(tmp_path / "killed")),
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        session = kill_after_windows(proc, tmp_path / "killed", 12, poll_s=0.02)
        assert session is not None
        done_before = journal_windows(session)
        assert 12 <= done_before < 40
        assert not (session / "results.json").exists()
        resumed = subprocess.run(_cli("run", "--resume", str(session), "--port", server.url,
                                      "--no-progress"),
                                 env=env, capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
    whole_dir = next((tmp_path / "whole").glob("*"))

    def comparable(folder: Path) -> list[dict]:
        records = json.loads((folder / "results.json").read_text())
        for r in records:  # absolute DUT clock values differ between runs; durations do not
            r["infer"].pop("start_time")
            r["infer"].pop("end_time")
        return records

    assert comparable(session) == comparable(whole_dir)
    def unstamped(folder: Path) -> str:
        return re.sub(r"^\d{4}\.\d{6} ", "", (folder / "results.txt").read_text(), flags=re.M)

    assert unstamped(session) == unstamped(whole_dir)
    log = (session / "log.txt").read_text()
    assert log.count("Performance results for window ") == 40
    assert "tinyperf: resuming session after" in log
    assert sorted(p.name for p in session.iterdir()) == sorted(p.name for p in whole_dir.iterdir())
