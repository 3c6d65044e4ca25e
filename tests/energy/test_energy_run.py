"""End to end: energy mode on the virtual DUT, fake LPM01A and fake interface board."""

from __future__ import annotations

import json
import re

import pytest
from tinyperf.harness.energy import integrate
from tinyperf.harness.energy.run import EnergyOptions, run_energy_session
from tinyperf.harness.run.runner import RunConfig
from tinyperf.reference_models.demo import demo_data_dir

from tinyperf.cli.main import main

#: Each window's two edges are quantised to the LPM01A's 1 ms samples; the edge estimate
#: (middle of the sample) is off by at most ±0.5 ms at each end, at active power:
#: |error| <= P_active · 1 ms / N = 33 mW · 1 ms / 250 = 0.132 µJ/inf (1.7e-4 relative).
TOLERANCE_UJ = 0.14
THROUGHPUT_SIM = 23.0  # the bench's DUT (tests/energy/conftest.py)


def _run(bench, tmp_path, iterations=250, **options):
    cfg = RunConfig(mode="energy", dataset_path=demo_data_dir(), output_dir=tmp_path,
                    iterations=iterations, progress=False)
    opts = EnergyOptions(interface=bench.board.url, monitor=f"lpm01a:{bench.lpm.url}",
                         voltage=1.8, **options)
    return run_energy_session(cfg, opts)


@pytest.mark.timeout(60)
def test_energy_run_matches_ground_truth(bench, tmp_path):
    result = _run(bench, tmp_path)
    assert result.valid, result.reasons
    assert bench.model.voltage == 1.8  # the monitor's `volt 1800m` reached the supply
    truth = bench.truth_uj
    for value in result.figures["uj_per_inference"]:
        assert abs(value - truth) <= TOLERANCE_UJ
    folder = result.session
    text = (folder / "results.txt").read_text()
    assert text.startswith("Power Edition Output\nEnergy data for trial 0\n")
    median = float(re.search(r"Median energy cost is ([\d\.]+) uJ/inf", text).group(1))
    assert abs(median - truth) <= TOLERANCE_UJ
    records = json.loads((folder / "results.json").read_text())
    assert len(records) == 5 and all(r["mode"] == "e" for r in records)
    assert list(records[0]) == ["file", "classes", "class", "bytes_to_send", "stride",
                                "total_length", "infer", "power", "mode"]
    # the runner's own method on our results.json gives the same figure within 1 sample
    for rec, ours in zip(records, result.figures["uj_per_inference"]):
        ref = integrate.mlcommons_window(rec["power"]["samples"], rec["power"]["timestamps"],
                                         rec["infer"]["iterations"])
        assert ref.elapsed_s >= 10.0
        assert abs(ref.uj_per_inference - ours) <= 2 * TOLERANCE_UJ
    energy = json.loads((folder / "energy.json").read_text())
    assert energy["valid"] and len(energy["windows"]) == 5
    w0 = energy["windows"][0]
    assert w0["edges"]["polarity"] == "falling" and w0["uncertainty_j"] > 0
    assert {f"energy_inf_{k:03d}.png" for k in range(5)} <= {p.name for p in folder.iterdir()}
    log = (folder / "log.txt").read_text()
    assert "Captured samples:" in log
    traffic = (folder / "traffic.log").read_text()
    assert "dut db " in traffic  # loads went through the board passthrough


@pytest.mark.timeout(60)
def test_short_windows_are_invalid_with_reason(bench, tmp_path):
    result = _run(bench, tmp_path, iterations=50)
    assert not result.valid
    assert any("below the minimum 10 s" in r for r in result.reasons)
    text = (result.session / "results.txt").read_text()
    assert "<<<< below minimum duration" in text
    assert "ERROR - not valid for submission: window 0: duration" in text


@pytest.mark.timeout(60)
def test_lost_samples_make_the_window_invalid(lossy_bench, tmp_path):
    result = _run(lossy_bench, tmp_path)
    assert not result.valid
    assert any("gap in the data" in r for r in result.reasons)


@pytest.mark.timeout(60)
def test_cli_energy_mode(bench, tmp_path, capsys):
    code = main(["run", "--mode", "energy", "--interface", bench.board.url,
                 "--monitor", f"lpm01a:{bench.lpm.url}", "--voltage", "1.8",
                 "--dataset-path", str(demo_data_dir()), "--iterations", "250",
                 "--output-dir", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "VALID for submission" in out


@pytest.mark.timeout(60)
def test_energy_run_auto_iterations(bench, tmp_path):
    """``--iterations auto`` works in energy mode: N from the DUT's timestamp edges."""
    result = _run(bench, tmp_path, iterations="auto")
    assert result.valid, result.reasons
    auto = result.figures["iterations_auto"]
    assert auto["why"] == "--iterations auto"
    assert auto["iterations"] == pytest.approx(11.0 * THROUGHPUT_SIM, rel=0.03)
