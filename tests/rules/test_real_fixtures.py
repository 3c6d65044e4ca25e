"""The real published trees: every result found, parsed, recomputed, matching the claims.

Tolerances: half a unit of the printed last decimal (throughput 0.0005 inf/s, MLC energy
0.00005 uJ/inf, top-1 0.05 %, MLC AUC 0.0005); EEMBC energy additionally +-1 sample at each
window edge (its timestamps are printed to 1 ms = 1 sample).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from tinyperf.rules.engine import Report, check
from tinyperf.rules.render import summary_csv, text, to_json
from tinyperf.rules.ruleset import load_ruleset
from tinyperf.submissions.loader import load, rounds_in

from tinyperf.cli import check as check_cli


def _report(root: Path, ref: Path | None) -> Report:
    tree = load(root)
    return check(tree, load_ruleset(tree.version_hint or "v1.4"), ref)


def _row(report: Report, bench: str, mode: str):  # type: ignore[no-untyped-def]
    return next(r for r in report.rows if r.benchmark == bench and r.mode == mode)


def test_v13_st_recomputed(v13: Path, reference_dir: Path) -> None:
    report = _report(v13.parents[3], reference_dir)
    assert report.version == "v1.3" and len(report.rows) == 6
    perf = _row(report, "kws", "performance")
    assert perf.claimed == 23.032 and abs(perf.recomputed - 23.032) <= 0.0005
    energy = _row(report, "kws", "energy")
    assert energy.claimed == 1430.6681 and abs(energy.recomputed - 1430.6681) <= 0.00005
    acc = _row(report, "kws", "accuracy")
    assert acc.claimed == 90.2 and abs(acc.recomputed - 90.2) < 1e-9 and acc.valid
    assert abs(_row(report, "ad", "performance").recomputed - 208.608) <= 0.0005
    assert abs(_row(report, "ad", "energy").recomputed - 160.4232) <= 0.00005
    # published ad accuracy raw files are absent from the copy: a warning, no guess
    ad_acc = _row(report, "ad", "accuracy")
    assert ad_acc.recomputed is None and ad_acc.valid
    warn = [f for f in report.findings if f.rule_id == "TINY-ACC-003"]
    assert warn and warn[0].severity == "warning" and "not verifiable" in warn[0].message
    assert report.ok and not [f for f in report.findings if f.severity == "error"]


def test_v13_kws_auc_recomputed(v13: Path, reference_dir: Path) -> None:
    from tinyperf.rules.engine import reference_labels
    from tinyperf.submissions.recompute import accuracy

    tree = load(v13.parents[3])
    labels = reference_labels(load_ruleset("v1.3"), reference_dir)["kws01"]
    bench = tree.submitters[0].systems["NUCLEO_L4R5ZI-P"].benchmarks["kws"]
    top, auc, scored = accuracy(bench.modes["accuracy"], "top1", labels, False)
    assert top.recomputed == pytest.approx(90.2, abs=1e-9)
    assert auc.claimed == 0.995 and abs(auc.recomputed - 0.995) <= 0.0005
    assert scored.files == 1000 and not (scored.missing or scored.extra or scored.duplicates)


def test_v11_skymizer_recomputed(v11: Path, reference_dir: Path) -> None:
    report = _report(v11.parents[1], reference_dir)  # the submitter folder
    assert report.version == "v1.1" and len(report.rows) == 6
    perf = _row(report, "kws", "performance")
    assert perf.claimed == 12.195 and abs(perf.recomputed - 12.195) <= 0.0005
    energy = _row(report, "kws", "energy")
    assert energy.claimed == 3454.848 and abs(energy.recomputed - 3454.848) < 0.05
    acc = _row(report, "kws", "accuracy")
    assert acc.claimed == 91.4 and abs(acc.recomputed - 91.4) <= 0.05
    assert abs(_row(report, "ad", "energy").recomputed - 334.536) < 0.01
    ids = {f.rule_id for f in report.findings}
    assert "TINY-LAYOUT-006" in ids  # real v1.1 EEMBC trees carry no marker
    assert "TINY-EN-004" not in ids and "TINY-EN-006" not in ids
    assert report.ok


def test_without_reference_labels_file_set_is_not_verifiable(v11: Path) -> None:
    report = _report(v11.parents[1], None)
    acc = [f for f in report.findings if f.rule_id == "TINY-ACC-003"
           and "kws" in f.path]
    assert acc and acc[0].severity == "warning"


def test_renderings(v13: Path, reference_dir: Path) -> None:
    report = _report(v13.parents[3], reference_dir)
    assert "Verdict: VALID" in text(report)
    assert '"ok": true' in to_json(report)
    lines = summary_csv(report).splitlines()
    assert lines[0].endswith("SoftwareNotes,FalsePositives,FalseNegatives,DutyCycle,"
                             "RecomputedResult,RecomputedAccuracy,RecomputedPower,Verdict")
    assert lines[1].startswith('"STMicroelectronics","available","closed","NUCLEO-L4R5ZI-P",'
                               '"NUCLEO_L4R5ZI-P","ad","ad","208.608","inf./sec.","0.862",'
                               '"True","160.4232","uJ/inf."')


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tinyperf")
    check_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["check", *argv])
    return int(args.handler(args))


def test_cli_exit_codes(v13: Path, reference_dir: Path, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    root = v13.parents[3]
    assert _cli([str(root), "--reference-dir", str(reference_dir)]) == 0
    assert "Verdict: VALID" in capsys.readouterr().out
    out = tmp_path / "s.csv"
    assert _cli([str(root), "--format", "csv", "--version", "v1.4", "-o", str(out),
                 "--submitter", "STMicroelectronics", "--waive", "TINY-PERF-006"]) == 0
    assert out.read_text().count("\n") == 3


GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "check_real_submissions.txt"


def test_golden_report_on_a_folder_of_rounds(v13: Path, reference_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """``tinyperf check`` on the folder holding the v1.1 and v1.3 rounds: each round is checked
    under its own rules, and the whole text report is pinned (regenerate the golden file with
    ``TINYPERF_UPDATE_GOLDEN=1`` after a deliberate change, and review the diff)."""
    import os

    from tinyperf.cli.main import main

    rounds = v13.parents[4]
    assert rounds_in(rounds) == [rounds / "v1.1", rounds / "v1.3"]
    assert main(["check", str(rounds), "--reference-dir", str(reference_dir)]) == 0
    out = capsys.readouterr().out.replace(str(rounds), "<real_submissions>")
    assert "(rules v1.1)" in out and "(rules v1.3)" in out
    if os.environ.get("TINYPERF_UPDATE_GOLDEN"):
        GOLDEN.write_text(out, encoding="utf-8")
    assert out == GOLDEN.read_text(encoding="utf-8")
    # one CSV for both rounds: a single header, every row as wide as it
    assert main(["check", str(rounds), "--reference-dir", str(reference_dir),
                 "--format", "csv"]) == 0
    import csv
    import io

    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][0] == "Organization" and len(rows) == 5
    assert {len(r) for r in rows} == {len(rows[0])}


def test_no_results_is_not_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tinyperf.cli.main import main

    (tmp_path / "closed").mkdir()
    assert main(["check", str(tmp_path)]) == 1
    assert "Verdict: NO RESULTS FOUND" in capsys.readouterr().out
