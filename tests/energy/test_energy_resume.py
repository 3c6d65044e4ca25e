"""Resumable energy runs: a run SIGKILLed mid-way and resumed equals an uninterrupted one.

Both runs use the deterministic virtual energy rig (DUT clock moved only by simulated
work, 50 ms inferences, DUT UART time on the clock), so the same plan gives the same
samples and edges; the comparison is exact, not within a tolerance. The kill itself is
placed by the rig (at a command), never by a wall-clock race: the test once failed on a busy
machine with a missing timestamp edge when a polled kill landed mid-window.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tinyperf.firmware_interface.sim.energy_rig import virtual_energy_rig
from tinyperf.formats.errors import ConfigError
from tinyperf.harness.energy.capture import Capture, Edge, window_capture
from tinyperf.harness.energy.run import EnergyOptions, run_energy_session
from tinyperf.harness.run.runner import RunConfig
from tinyperf.reference_models.demo import demo_data_dir

from tests.session_kill import journal_windows
from tinyperf.cli.main import main

THROUGHPUT = 20.0  # 50 000 µs per inference: every DUT event on the 1 ms sample grid
ITERATIONS = 220  # 11 s windows


def _rig(reference_dir: Path, **kwargs):
    return virtual_energy_rig("kws01", throughput=THROUGHPUT, follow_wall=False,
                              reference_dir=reference_dir, **kwargs)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tinyperf.cli.main", *args]


def _run_args(rig, out: Path) -> list[str]:
    return ["run", "--mode", "energy", "--interface", rig.interface_url, "--monitor",
            rig.monitor, "--voltage", "1.8", "--dataset-path", str(demo_data_dir()),
            "--iterations", str(ITERATIONS), "--output-dir", str(out), "--no-progress"]


def _energy_windows(folder: Path) -> list[dict]:
    return json.loads((folder / "energy.json").read_text())["windows"]


@pytest.mark.timeout(240)
def test_energy_resume_after_sigkill_gives_the_same_results(reference_dir, tmp_path):
    with _rig(reference_dir) as rig:
        assert main(_run_args(rig, tmp_path / "whole")) == 0
    whole = next((tmp_path / "whole").iterdir())

    env = dict(os.environ, TINYPERF_REFERENCE_DIR=str(reference_dir))
    with _rig(reference_dir) as rig:
        # The kill is placed by the rig, not by a wall-clock race: the board receives the
        # third window's infer and kills the host instead of passing it on. Two windows are
        # journaled, nothing is in flight on the DUT, on any machine however busy.
        victim: list[subprocess.Popen[bytes]] = []
        passed_on = rig.board.execute

        def execute(text: str):
            if text.startswith("dut infer") and not victim[0].returncode and \
                    sum(c.startswith("dut infer") for c in rig.board.commands) == 2:
                victim[0].send_signal(signal.SIGKILL)
                return None
            return passed_on(text)

        rig.board.execute = execute  # type: ignore[method-assign]
        victim.append(subprocess.Popen(_cli(*_run_args(rig, tmp_path / "killed")), env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        proc = victim[0]
        assert proc.wait(timeout=120) == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
        rig.board.execute = passed_on  # type: ignore[method-assign]
        [session] = (tmp_path / "killed").iterdir()
        done_before = journal_windows(session)
        assert done_before == 2
        assert not (session / "results.json").exists()
        infers_before = sum(c.startswith("dut infer") for c in rig.board.commands)
        # --mode is not repeated: the session's journal says it is an energy run
        resumed = subprocess.run(_cli("run", "--resume", str(session), "--no-progress"),
                                 env=env, capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        infers_after = sum(c.startswith("dut infer") for c in rig.board.commands)
    # only the windows that were not journaled ran again
    assert infers_after - infers_before == 5 - done_before

    assert json.loads((session / "results.json").read_text()) == \
        json.loads((whole / "results.json").read_text())
    assert (session / "results.txt").read_text() == (whole / "results.txt").read_text()
    assert _energy_windows(session) == _energy_windows(whole)
    log = (session / "log.txt").read_text()
    assert "tinyperf: resumed energy run: monitor acquisition 1" in log
    assert log.count("Captured samples:") == 5
    assert sorted(p.name for p in session.iterdir()) == sorted(p.name for p in whole.iterdir())


def test_resume_refused_for_a_monitor_without_snapshot(reference_dir, tmp_path):
    """A capture file recorded elsewhere has no data per window: no resume, said clearly."""
    with _rig(reference_dir) as rig:
        cfg = RunConfig(mode="energy", dataset_path=demo_data_dir(), output_dir=tmp_path,
                        iterations=ITERATIONS, progress=False)
        first = run_energy_session(cfg, EnergyOptions(interface=rig.interface_url,
                                                      monitor=rig.monitor, voltage=1.8))
        with pytest.raises(ConfigError, match="cannot be resumed"):
            run_energy_session(cfg, EnergyOptions(interface=rig.interface_url,
                                                  monitor=f"file:{tmp_path / 'x.jls'}"),
                               resume=first.session)


def test_resume_refuses_a_performance_session(tmp_path, capsys):
    session = tmp_path / "s"
    session.mkdir()
    (session / "journal.jsonl").write_text(json.dumps({"type": "header", "mode": "performance",
                                                       "version": 1}) + "\n")
    assert main(["run", "--mode", "energy", "--resume", str(session)]) == 2
    err = capsys.readouterr().err
    assert "no energy set-up (not an energy run)" in err and str(session) in err


def test_window_capture_is_independent_of_the_slice_position():
    """The same window content at two positions of an acquisition gives equal slices."""
    rng = np.random.default_rng(0)
    content = rng.random(1000)
    slices = []
    for offset in (0, 12_345):
        values = np.concatenate([rng.random(offset), content, rng.random(50)])
        edges = [Edge((offset + k + 0.5) / 1000.0, True, 0.0, str(k)) for k in (100, 900)]
        cap = Capture("energy", values, fs=1000.0, edges=edges, gaps=[
            ((offset + 500) / 1000.0, (offset + 502) / 1000.0)])
        slices.append(window_capture(cap, offset / 1000.0, (offset + 1000) / 1000.0))
    a, b = slices
    assert np.array_equal(a.values, content) and np.array_equal(b.values, content)
    assert a.edges == b.edges == [Edge(0.1005, True, 0.0, "100"), Edge(0.9005, True, 0.0, "900")]
    assert a.gaps == b.gaps and len(a.gaps) == 1
    assert b.meta["window_origin_s"] == 12.345
