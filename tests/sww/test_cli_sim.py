"""``tinyperf sim --model-id sww01``: the virtual sww bench served from the shell, measured by
``tinyperf run`` with the default (reference) sww01 script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sim.test_cli_energy_rig import _read_header
from tinyperf.cli.main import main


@pytest.mark.timeout(120)
@pytest.mark.parametrize("energy", [False, True])
def test_run_against_the_served_sww_bench(reference_dir: Path, tmp_path: Path,
                                          energy: bool) -> None:
    ref = reference_dir / "sww01"
    sd = tmp_path / "sd"
    sd.mkdir()
    (sd / "short_wav_easy10s.wav").symlink_to(ref / "short_wav_easy10s.wav")
    ds = tmp_path / "ds" / "sww01"
    ds.mkdir(parents=True)
    # the default script's truth file name; the short stream stands in for the long one
    shutil.copy(ref / "sww_short_test.json", ds / "sww_long_test.json")
    env = dict(os.environ, TINYPERF_REFERENCE_DIR=str(reference_dir))
    argv = [sys.executable, "-m", "tinyperf.cli.main", "sim", "--model-id", "sww01",
            "--sd-card", str(sd), "--simulated-time", "--processing-ms", "16"]
    proc = subprocess.Popen(argv + (["--energy-rig"] if energy else []),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        head = _read_header(proc)
        run = ["run", "--mode", "energy" if energy else "performance", "--model-id", "sww01",
               "--interface", head["interface"], "--dataset-path", str(tmp_path / "ds"),
               "--output-dir", str(tmp_path / "out"), "--no-progress"]
        if energy:
            run += ["--monitor", head["monitor"], "--voltage", "1.8"]
        assert main(run) == 1  # 3 wakewords, not the official 50
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0
    [session] = (tmp_path / "out").iterdir()
    txt = (session / "results.txt").read_text()
    assert "Accuracy: 2 True positives, 1 False negatives, 0 False positives" in txt
    assert "Average duty cycle: 0.5\n" in txt  # 16 ms of every 32 ms block
    if energy:
        truth_mw = float(re.match(r"([\d.]+) mW", head["truth"]).group(1))
        power = float(re.search(r"Power\s+: ([\d.]+) mW", txt).group(1))
        # the printed truth is the streaming average; the window adds ~0.1 s of idle
        assert power == pytest.approx(truth_mw, rel=0.01)
        figures = json.loads((session / "run.json").read_text())["figures"]
        assert figures["energy_window_s"] > 10.0


def test_the_bench_needs_an_sd_card(tmp_path: Path) -> None:
    assert main(["sim", "--model-id", "sww01", "--sd-card", str(tmp_path / "none")]) == 2
