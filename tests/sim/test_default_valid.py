"""A run with no test script and no --iterations is valid by default.

The reference script's ``infer 70 10`` gives 3 s windows on a 23 inf/s board: not valid.
Without a script, performance and energy size N from the DUT (``auto``, 11 s target);
with a script its N is kept and a short window's reason names the N that would do.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.harness.energy.run import EnergyOptions, run_energy_session
from tinyperf.harness.run import scenarios
from tinyperf.harness.run.runner import AUTO_TARGET_S, RunConfig, run_session
from tinyperf.reference_models.demo import demo_data_dir

from tests.energy.conftest import THROUGHPUT, make_bench

RATE = 23.0


@pytest.fixture
def kws_sim(reference_dir):
    dut = make_virtual_dut("kws01", throughput=RATE, jitter_us=500.0, seed=3,
                           reference_dir=reference_dir)
    with SimServer(dut, pty=True, baud=None) as server:
        yield server


@pytest.fixture
def bench():
    yield from make_bench()


def expected_n(rate: float) -> int:
    return math.ceil(AUTO_TARGET_S * rate)


@pytest.mark.timeout(120)
def test_performance_default_is_valid(kws_sim, tmp_path):
    config = RunConfig(mode="performance", dataset_path=demo_data_dir(), output_dir=tmp_path,
                       port=kws_sim.url, progress=False)
    result = run_session(config)
    assert result.valid, result.reasons
    auto = result.figures["iterations_auto"]
    assert "no test script" in auto["why"]
    assert auto["iterations"] == pytest.approx(expected_n(RATE), rel=0.03)
    assert set(result.figures["iterations"]) == {auto["iterations"]}
    saved = json.loads((result.session / "run.json").read_text())
    assert saved["figures"]["iterations_auto"] == auto
    assert "iterations auto (no test script" in (result.session / "log.txt").read_text()


@pytest.mark.timeout(60)
def test_script_n_is_kept_and_the_reason_names_a_valid_n(kws_sim, tmp_path):
    entry = scenarios.reference_entry("kws01", "performance")
    config = RunConfig(mode="performance", dataset_path=demo_data_dir(), output_dir=tmp_path,
                       entries={"kws01": entry}, port=kws_sim.url, progress=False)
    result = run_session(config)
    assert not result.valid
    assert set(result.figures["iterations"]) == {70}  # the script's N, honoured
    assert "iterations_auto" not in result.figures
    (hint,) = [r for r in result.reasons if "would make them valid" in r]
    n = int(re.search(r"N=(\d+)", hint).group(1))
    assert n == pytest.approx(expected_n(RATE), rel=0.03)
    assert n / RATE >= 10.0


@pytest.mark.timeout(120)
def test_energy_default_is_valid(bench, tmp_path):
    cfg = RunConfig(mode="energy", dataset_path=demo_data_dir(), output_dir=tmp_path,
                    progress=False)
    opts = EnergyOptions(interface=bench.board.url, monitor=f"lpm01a:{bench.lpm.url}",
                         voltage=1.8)
    result = run_energy_session(cfg, opts)
    assert result.valid, result.reasons
    auto = result.figures["iterations_auto"]
    assert "no test script" in auto["why"]
    # timed by the DUT's timestamp edges on the monitor, not by m-lap-us lines
    assert auto["iterations"] == pytest.approx(expected_n(THROUGHPUT), rel=0.03)
    assert all(s >= 10.0 for s in result.figures["window_seconds"])
