"""Session folders written by the MLCommons runner are read like tinyperf's own (#19 item 7).

Real failure: ``report``, ``history`` and ``compare`` refused the runner's session folders
(``no run.json``), so a user's existing sessions got no report, history or regression gate.
The folders here are real published v1.3 runner sessions (the fixtures); every figure is
recomputed from their raw ``results.json`` and must equal what the runner printed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tinyperf.harness.analysis.session_reader import read_session

from tinyperf.cli.main import main

FIXTURE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / \
    "real_submissions" / "v1.3" / "closed" / "STMicroelectronics" / "results" / "NUCLEO_L4R5ZI-P"


@pytest.fixture
def runner_sessions(tmp_path: Path) -> dict[str, Path]:
    if not FIXTURE.is_dir():
        pytest.skip("the real v1.3 fixtures are not in ../shared/fixtures")
    out = {}
    for bench in ("kws", "ad"):
        for mode in ("performance", "accuracy", "energy"):
            src = FIXTURE / bench / mode
            if (src / "results.json").is_file():  # ad/accuracy was published without it
                out[f"{bench}/{mode}"] = shutil.copytree(src, tmp_path / bench / mode)
    return out


def test_figures_equal_what_the_runner_printed(runner_sessions):
    perf = read_session(runner_sessions["kws/performance"])
    assert (perf.mode, perf.model, perf.vendor, perf.valid) == \
        ("performance", "kws01", "STMicroelectronics", True)
    assert f"{perf.median_throughput:10.3f}" == "    23.032"  # "Median throughput is     23.032"
    acc = read_session(runner_sessions["kws/accuracy"])
    assert (acc.top1, round(acc.auc, 3)) == (90.2, 0.995)  # "Top 1% = 90.2", "AUC = 0.995"
    assert acc.scores is not None and len(acc.scores.files) == 1000
    energy = read_session(runner_sessions["kws/energy"])
    assert f"{energy.energy_median_uj:.4f}" == "1430.6681"  # "Median energy cost is 1430.6681"
    ad = read_session(runner_sessions["ad/energy"])
    assert f"{ad.energy_median_uj:.4f}" == "160.4232"


def test_report_history_and_compare_take_runner_sessions(runner_sessions, tmp_path, capsys):
    folders = [str(p) for p in runner_sessions.values()]
    assert main(["report", *folders, "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "23.03" in out and "90.2" in out
    db = tmp_path / "history.db"
    assert main(["history", "add", *folders, "--db", str(db)]) == 0
    capsys.readouterr()
    perf = str(runner_sessions["kws/performance"])
    assert main(["compare", perf, perf]) == 0


def test_a_folder_that_is_neither_is_named(tmp_path):
    (tmp_path / "log.txt").write_text("hello\n")
    with pytest.raises(Exception, match="nor an MLCommons runner session"):
        read_session(tmp_path)
