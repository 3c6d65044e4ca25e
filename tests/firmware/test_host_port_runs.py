"""The harness runs whole MLCommons sessions against the C host firmware through its pty.

The stand-in model makes the results checkable without a runtime (its Python twin computes
the expected values); ``--sim-infer-us`` gives the firmware a deterministic DUT clock, so
10-second performance windows take well under a second of wall time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.reference_models.demo import demo_data_dir

from .standin import standin_values

INFER_US = 50_000


def kws_subset(tmp_path: Path, count: int) -> Path:
    src = demo_data_dir() / "kws01"
    dst = tmp_path / "data" / "kws01"
    dst.mkdir(parents=True)
    rows = (src / "y_labels.csv").read_text().splitlines()[:count]
    (dst / "y_labels.csv").write_text("\n".join(rows) + "\n")
    for row in rows:
        name = row.split(",")[0]
        (dst / name).write_bytes((src / name).read_bytes())
    return tmp_path / "data"


@pytest.mark.timeout(60)
def test_performance_run_on_host_firmware(host_dut_factory, tmp_path: Path) -> None:
    dut = host_dut_factory("--sim-infer-us", str(INFER_US))
    config = RunConfig(mode="performance", dataset_path=demo_data_dir(), output_dir=tmp_path,
                       iterations="auto", port=dut.url, progress=False)
    result = run_session(config)
    assert result.valid, result.reasons
    records = json.loads((result.session / "results.json").read_text())
    assert len(records) == 5
    for rec in records:
        inf = rec["infer"]
        # virtual DUT clock: exactly INFER_US per timed inference
        assert inf["elapsed_time"] == INFER_US * inf["iterations"] >= 10_000_000
        assert inf["throughput"] == pytest.approx(1e6 / INFER_US)
        assert len(inf["results"]) == 12
    log = (result.session / "log.txt").read_text()
    assert "kws01" in log


@pytest.mark.timeout(60)
def test_accuracy_run_on_host_firmware_matches_python_twin(host_dut_factory,
                                                           tmp_path: Path) -> None:
    data = kws_subset(tmp_path, 12)
    dut = host_dut_factory()
    result = run_session(RunConfig(mode="accuracy", dataset_path=data,
                                   output_dir=tmp_path / "s", port=dut.url, progress=False))
    records = json.loads((result.session / "results.json").read_text())
    assert len(records) == 12
    for rec in records:
        raw = (data / "kws01" / rec["file"]).read_bytes()
        expected = [round(v, 3) for v in standin_values(raw, 12)]
        assert rec["infer"]["results"] == pytest.approx(expected, abs=1e-9)
