"""The MLCommons runner and ``tinyperf run`` on the same virtual sww01 bench write the same
session: results.txt byte for byte, results.json identical but for the monitor samples'
position in the acquisition (the energy between the DUT's two pulses is compared instead),
and the same sww lines in log.txt apart from the clock time.

The runner is a patched temporary copy of ../shared/peers (``mlc_runner_pty.patch``: it
opens the ptys named in the device list) run by an interpreter with its dependencies
(``TINYPERF_OFFICIAL_PYTHON``, else this one); skipped with the reason when absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tinyperf.firmware_interface.sim.energy_rig import virtual_sww_bench
from tinyperf.formats import sww_outputs as out

from tinyperf.cli.main import main

PEERS = Path(__file__).resolve().parents[2].parent / "shared" / "peers"
SHORT = "short_wav_easy10s.wav"
RUNNER_DEPS = "import numpy, sklearn, matplotlib, yaml, serial, usb"


def _runner_python() -> str:
    for py in filter(None, [os.environ.get("TINYPERF_OFFICIAL_PYTHON"), sys.executable]):
        if subprocess.run([py, "-c", RUNNER_DEPS], capture_output=True).returncode == 0:
            return py
    pytest.skip("no interpreter with the MLCommons runner's dependencies "
                "(set TINYPERF_OFFICIAL_PYTHON)")


@pytest.fixture(scope="module")
def runner_dir(tmp_path_factory) -> Path:
    if not (PEERS / "mlc_runner_pty.patch").is_file():
        pytest.skip("../shared/peers (MLCommons runner + pty patch) is not present")
    copy = tmp_path_factory.mktemp("mlc") / "tiny"
    shutil.copytree(PEERS / "mlcommons_tiny", copy)
    subprocess.run(["patch", "-d", str(copy), "-p1", "-i", str(PEERS / "mlc_runner_pty.patch")],
                   check=True, capture_output=True)
    return copy / "benchmark" / "runner"


def _sww_lines(log: str) -> list[str]:
    """log.txt from ``Playing`` on, without per-tool lines, clock time, sample count."""
    lines = log.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("Playing "))
    keep = [x for x in lines[start:] if not x.startswith(("SerialDevice ", "tinyperf:",
                                                          "Session logged in file"))]
    # the monitor's sample count depends on when each tool started the acquisition
    keep = [re.sub(r"^samples:\d+ ", "samples:N ", x) for x in keep]
    return [re.sub(r" at \d\d:\d\d:\d\d\.\.\.$", " at HH:MM:SS...", x) for x in keep]


def _without_power(records: list[dict]) -> tuple[list[dict], list[float]]:
    stripped, energies = [], []
    for r in records:
        r = dict(r)
        power = r.pop("power", None)
        if power is not None:
            energies.append(out.stream_energy(power["samples"], power["timestamps"]).energy_j)
            r["power_voltage"] = power["voltage"]
        stripped.append(r)
    return stripped, energies


@pytest.mark.timeout(200)
@pytest.mark.parametrize("mode", ["performance", "energy"])
def test_runner_and_tinyperf_write_the_same_session(tmp_path, reference_dir, runner_dir, mode):
    py = _runner_python()
    ref = reference_dir / "sww01"
    sd = tmp_path / "sd"
    sd.mkdir()
    (sd / SHORT).symlink_to(ref / SHORT)
    ds = tmp_path / "ds" / "sww01"
    ds.mkdir(parents=True)
    shutil.copy(ref / "sww_short_test.json", ds / "sww_long_test.json")  # the script's name
    script = runner_dir / f"tests_{mode}.yaml"
    sessions = {}
    for tool in ("runner", "tinyperf"):
        work = tmp_path / tool
        work.mkdir()
        with virtual_sww_bench(sd, energy=mode == "energy",
                               tflite=ref / "str_ww_ref_model.tflite") as bench:
            if tool == "runner":
                devices = [{"name": "stm32h573i-dk", "type": "interface", "baud": 115200,
                            "port": bench.interface_url}]
                if bench.monitor:
                    devices.append({"name": "lpm01a", "type": "power", "baud": 3686400,
                                    "echo": False, "voltage": 1.8,
                                    "port": bench.monitor.split(":", 1)[1]})
                # a DUT entry that matches no port: the DUT is reached through the board
                devices.append({"name": "l4r5zi", "type": "dut", "usb": {0xFFFF: 0xFFFF},
                                "baud": {"energy": 9600, "performance": 9600,
                                         "accuracy": 9600}})
                (work / "devices.yaml").write_text(yaml.safe_dump(devices))
                proc = subprocess.run(
                    [py, str(runner_dir / "main.py"), "-d", str(work / "devices.yaml"),
                     "-t", str(script), "-s", str(tmp_path / "ds"), "-m", mode[0]],
                    cwd=work, capture_output=True, text=True, timeout=150,
                    env={**os.environ, "PYTHONPATH": str(runner_dir), "MPLBACKEND": "Agg"})
                assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
                (sessions[tool],) = (work / "sessions").iterdir()
            else:
                argv = ["run", "--mode", mode, "--interface", bench.interface_url,
                        "--test-script", str(script), "--dataset-path", str(tmp_path / "ds"),
                        "--output-dir", str(work / "sessions"), "--no-progress"]
                if bench.monitor:
                    argv += ["--monitor", bench.monitor, "--voltage", "1.8"]
                main(argv)
                (sessions[tool],) = (work / "sessions").iterdir()
    runner, ours = sessions["runner"], sessions["tinyperf"]
    assert (ours / "results.txt").read_text() == (runner / "results.txt").read_text()
    theirs_json, theirs_e = _without_power(json.loads((runner / "results.json").read_text()))
    ours_json, ours_e = _without_power(json.loads((ours / "results.json").read_text()))
    assert ours_json == theirs_json
    assert ours_e == theirs_e
    assert _sww_lines((ours / "log.txt").read_text()) == \
        _sww_lines((runner / "log.txt").read_text())
    if mode == "energy":
        assert (ours / "energy_inf_000.png").is_file() and (runner / "energy_inf_000.png").is_file()
