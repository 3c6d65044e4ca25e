"""``tinyperf sim --energy-rig``: a whole virtual energy bench served from the shell.

A real ``tinyperf sim`` process serves the fake interface board (enhanced or legacy) and the
fake LPM01A on ptys; ``tinyperf run --mode energy`` measures through them and must land on
the analytic truth the rig prints. Simulated time keeps it fast and deterministic.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tinyperf.reference_models.demo import demo_data_dir

from tinyperf.cli.main import main


def _read_header(proc: subprocess.Popen[str]) -> dict[str, str]:
    assert proc.stdout is not None
    lines: dict[str, str] = {}
    while "serving" not in lines:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"tinyperf sim ended: {proc.stderr.read() if proc.stderr else ''}")
        key, _, value = line.partition(" ")
        lines[key.rstrip(":")] = value.strip()
    return lines


@pytest.mark.timeout(120)
@pytest.mark.parametrize("board", ["enhanced", "legacy"])
def test_energy_run_against_the_served_rig_meets_the_truth(reference_dir: Path, tmp_path: Path,
                                                          board: str) -> None:
    env = dict(os.environ, TINYPERF_REFERENCE_DIR=str(reference_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinyperf.cli.main", "sim", "--energy-rig", "--model-id", "kws01",
         "--throughput", "20", "--simulated-time", "--board", board],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        head = _read_header(proc)
        truth = float(re.search(r"= ([\d.]+) uJ/inf at 1.8 V", head["truth"]).group(1))
        assert truth == pytest.approx(900.0)  # 10 mA x 1.8 V x 50 ms
        assert main(["run", "--mode", "energy", "--interface", head["interface"],
                     "--monitor", head["monitor"], "--voltage", "1.8",
                     "--dataset-path", str(demo_data_dir()), "--iterations", "220",
                     "--output-dir", str(tmp_path), "--no-progress"]) == 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0  # SIGTERM: a clean stop
    [session] = tmp_path.iterdir()
    record = json.loads((session / "energy.json").read_text())
    assert record["valid"] and len(record["windows"]) == 5
    assert record["interface_board"] == board
    median = record["median_uj_per_inference"]
    # each window's edges are estimated at the middle of their 1 ms LPM01A sample
    assert median == pytest.approx(truth, rel=1e-4)


def test_energy_rig_refuses_socket_options() -> None:
    assert main(["sim", "--energy-rig", "--socket"]) == 2
