"""A packaged sww01 energy session passes ``tinyperf package check`` (whose rescoring must
equal the run's own figures) and the official MLCommons checker (when an interpreter with
pandas is available: ``TINYPERF_OFFICIAL_PYTHON``, else this one).

The checker demands TP + FN = 50 (the long file, not available): the test stream is the
reference ``marvin_617de221_0.wav`` fifty times, each after 2 s of faint noise (150 s,
simulated time; the real model detects every one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from tinyperf.firmware_interface.sim.energy_rig import virtual_sww_bench
from tinyperf.submissions.package import demo_system_values

from tinyperf.cli.main import main

OFFICIAL = Path(__file__).resolve().parents[2].parent / "shared" / "peers" / "mlcommons_tiny" / \
    "tools" / "submission" / "submission_checker.py"
GAP_S = 2.0  # > the +2.0 s allowance: a word's detections never fall in the previous window


def _marvin50(ref: Path, sd: Path, ds: Path) -> None:
    with wave.open(str(ref / "marvin_617de221_0.wav")) as w:
        ch = w.getnchannels()
        word = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, ch)[:, 0]
    rng = np.random.default_rng(0)
    parts, windows = [], []
    for k in range(50):
        parts += [rng.normal(0, 30, int(GAP_S * 16000)).astype("<i2"), word]
        start = k * (GAP_S + len(word) / 16000) + GAP_S
        windows.append([start, start + len(word) / 16000])
    mono = np.concatenate(parts)
    with wave.open(str(sd / "marvin50.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.stack([mono, mono], 1).astype("<i2").tobytes())
    (ds / "sww01").mkdir(parents=True)
    (ds / "sww01" / "marvin50.json").write_text(json.dumps([{
        "wav_file": "marvin50.wav", "sample_rate": 16000, "length_sec": len(mono) / 16000,
        "detection_windows": windows}]))


def _official_python() -> str | None:
    for py in filter(None, [os.environ.get("TINYPERF_OFFICIAL_PYTHON"), sys.executable]):
        if subprocess.run([py, "-c", "import pandas"], capture_output=True).returncode == 0:
            return py
    return None


@pytest.fixture(scope="module")
def packaged(tmp_path_factory, reference_dir):
    ref = reference_dir / "sww01"
    tmp = tmp_path_factory.mktemp("sww_pkg")
    sd, ds = tmp / "sd", tmp / "ds"
    sd.mkdir()
    _marvin50(ref, sd, ds)
    script = tmp / "tests.yaml"
    script.write_text("sww01:\n  name: streaming_wakeword\n  model: sww01\n"
                      "  truth_file: marvin50.json\n  script:\n    - stream\n")
    with virtual_sww_bench(sd, energy=True, tflite=ref / "str_ww_ref_model.tflite") as bench:
        rc = main(["run", "--mode", "energy", "--interface", bench.interface_url, "--monitor",
                   bench.monitor, "--voltage", "1.8", "--test-script", str(script),
                   "--dataset-path", str(ds), "--output-dir", str(tmp / "out"),
                   "--no-progress"])
        truth_j = bench.truth_energy_j()
    (session,) = (tmp / "out").iterdir()
    root = tmp / "sub"
    assert main(["package", "init", "--submitter", "ACME", "--system", "BOARD", "--division",
                 "closed", "--root", str(root)]) == 0
    systems = root / "closed" / "ACME" / "systems" / "BOARD.json"
    doc = json.loads(systems.read_text())
    doc.update(demo_system_values())
    systems.write_text(json.dumps(doc, indent=2))
    assert main(["package", "add", str(session), "--system", "BOARD", "--root", str(root)]) == 0
    return rc, session, root, truth_j


@pytest.mark.timeout(180)
def test_the_run_is_valid_and_scores_fifty(packaged):
    rc, session, _, truth_j = packaged
    assert rc == 0
    run = json.loads((session / "run.json").read_text())
    assert (run["figures"]["tp"], run["figures"]["fn"], run["figures"]["fp"]) == (50, 0, 0)
    assert run["figures"]["energy_uj"] == pytest.approx(truth_j * 1e6, rel=1e-3)


@pytest.mark.timeout(180)
def test_tinyperf_check_rescoring_equals_the_run(packaged, capsys):
    _, session, root, _ = packaged
    capsys.readouterr()
    assert main(["package", "check", "--root", str(root)]) == 0
    text = capsys.readouterr().out
    run = json.loads((session / "run.json").read_text())
    rows = [line.split() for line in text.splitlines() if line.strip().startswith("closed")]
    got = {r[4]: (r[5], r[6], r[-1]) for r in rows}
    assert got["accuracy"][2] == "yes" and got["energy"][2] == "yes"
    assert float(got["energy"][1]) == pytest.approx(run["figures"]["power_mw"], rel=1e-6)
    assert float(got["performance"][1]) == pytest.approx(
        run["figures"]["estimated_throughput"], rel=1e-6)
    assert got["accuracy"][:2] == ("1", "1")  # F1 claimed = F1 rescored from results.json


@pytest.mark.timeout(180)
def test_the_official_checker_accepts_it(packaged, tmp_path):
    _, _, root, _ = packaged
    py = _official_python()
    if not OFFICIAL.is_file() or py is None:
        pytest.skip("official checker or an interpreter with pandas not available "
                    "(set TINYPERF_OFFICIAL_PYTHON)")
    out = tmp_path / "official.csv"
    proc = subprocess.run([py, OFFICIAL.name, "--input", str(root), "--version", "v1.3",
                           "--csv", str(out)], cwd=OFFICIAL.parent, capture_output=True,
                          text=True, timeout=120)
    log = proc.stdout + proc.stderr
    assert "ERROR" not in log, log
    assert "SUMMARY: submission looks OK" in log and "Results=1, NoResults=0" in log, log
    assert "sww 55.556000 with power_metric = 11.693800" in log
