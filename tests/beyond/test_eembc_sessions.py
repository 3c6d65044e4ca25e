"""Session folders written by the EEMBC EnergyRunner are read like tinyperf's own (#19 item 7).

Real failure: ``report``, ``history`` and ``compare`` refused EEMBC runner session folders
(``log.txt results.txt script.async`` and, in energy mode, ``trace1-energy.bin`` +
``trace1-timestamps.json``: no ``run.json``). The folders here are real published v1.1
sessions (Skymizer, NUCLEO-L4R5ZI); every figure is recomputed from the raw log and traces
(accuracy against the registry's labels) and compared with what the runner printed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tinyperf.harness.analysis.session_reader import read_session

from tinyperf.cli.main import main

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / \
    "real_submissions" / "v1.1" / "closed" / "Skymizer" / "results" / "NUCLEO_L4R5ZI-mbed_os"


@pytest.fixture
def eembc_sessions(tmp_path: Path, reference_dir: Path, monkeypatch) -> dict[str, Path]:
    if not FIXTURE.is_dir():
        pytest.skip("the real v1.1 fixtures are not in ../shared/fixtures")
    monkeypatch.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
    out = {}
    for bench in ("kws", "ad"):
        for mode in ("performance", "accuracy", "energy"):
            src = FIXTURE / bench / mode
            if (src / "log.txt").is_file():  # ad/accuracy was published without its log
                out[f"{bench}/{mode}"] = shutil.copytree(src, tmp_path / bench / mode)
    return out


def test_figures_equal_what_the_runner_printed(eembc_sessions):
    perf = read_session(eembc_sessions["kws/performance"])
    assert (perf.mode, perf.model, perf.firmware, perf.valid) == \
        ("performance", "kws01", "ULPMark for tinyML Firmware V0.0.1", True)
    assert f"{perf.median_throughput:.3f}" == "12.195"  # "Median throughput is 12.195"
    assert perf.started == "2023-05-17T10:31:40"  # m-session-start-id[20230517103140]
    assert f"{read_session(eembc_sessions['ad/performance']).median_throughput:.3f}" == \
        "123.875"
    acc = read_session(eembc_sessions["kws/accuracy"])
    # "Top-1: 91.4%", "AUC: 0.96": the EEMBC formulas (printed values, 100-threshold AUC)
    assert (acc.mode, acc.top1, f"{acc.auc:.2f}") == ("accuracy", 91.4, "0.96")
    assert acc.scores is not None and len(acc.scores.files) == 1000
    for key, printed in (("kws/energy", 3454.848), ("ad/energy", 334.536)):
        energy = read_session(eembc_sessions[key])
        assert energy.mode == "energy" and energy.valid
        # the trace's timestamps are printed to the ms: within 0.01 % of the runner's median
        assert energy.energy_median_uj == pytest.approx(printed, rel=1e-4)


def test_report_history_and_compare_take_eembc_sessions(eembc_sessions, tmp_path, capsys):
    folders = [str(p) for p in eembc_sessions.values()]
    assert main(["report", *folders, "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "12.19" in out and "91.4" in out
    db = tmp_path / "history.db"
    assert main(["history", "add", *folders, "--db", str(db)]) == 0
    added = capsys.readouterr().out.splitlines()  # one "<id>\t<folder>" line per session
    assert len(added) == len(folders) and all("\t" in line for line in added)
    perf = str(eembc_sessions["kws/performance"])
    assert main(["compare", perf, perf]) == 0


def test_a_log_without_an_infer_is_named(tmp_path):
    (tmp_path / "log.txt").write_text(
        "00010.707 session: m-session-start-id[20230517103140]\n"
        "00011.228 dut: m-model-[kws01]\n")
    with pytest.raises(Exception, match="holds no infer command"):
        read_session(tmp_path)
