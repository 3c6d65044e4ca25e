"""Streaming wakeword (sww01): scoring edge cases, results parsing, every sww rule.

The synthetic result (``sww_synth``) is built from known detections and truth windows, so
the expected 44 TP / 6 FN / 4 FP are known by construction; each rule gets one mutation
that triggers it, and the valid tree triggers nothing.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sww_synth import SAMPLE_J, WINDOWS, SwwCase, default_case, fmt, make_sww_tree, write_folder
from tinyperf.rules.engine import Report, check
from tinyperf.rules.render import summary_csv, text
from tinyperf.rules.ruleset import load_ruleset
from tinyperf.submissions.claims import official_values, parse_sww
from tinyperf.submissions.loader import load
from tinyperf.submissions.sww import DutyCycle, SwwDataError, duty_cycle, general_tolerance, score


def run(tree: Path, version: str = "v1.3") -> Report:
    return check(load(tree), load_ruleset(version), None)


def edit(path: Path, old: str, new: str) -> None:
    text_ = path.read_text()
    assert old in text_, (path, old)
    path.write_text(text_.replace(old, new))


def edit_json(path: Path, fn: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    fn(data[0])
    path.write_text(json.dumps(data))


def ids(report: Report, severity: str | None = None) -> set[str]:
    return {f.rule_id for f in report.findings if severity in (None, f.severity)}


# -- scoring (protocol.md 7.4), pure ----------------------------------------------------------


def test_detection_exactly_at_end_plus_two_seconds_is_a_true_positive() -> None:
    assert (score([0, 14_500], [(10.0, 12.5)]).tp, score([0, 14_500], [(10.0, 12.5)]).fp) == \
        (1, 0)
    late = score([0, 14_501], [(10.0, 12.5)])
    assert (late.tp, late.fn, late.fp, late.missed) == (0, 1, 1, [10.0])
    early = score([0, 9_999, 10_000], [(10.0, 12.5)])  # start is inclusive too
    assert (early.tp, early.fp) == (1, 1)


def test_origin_pulse_is_the_time_origin_and_not_a_detection() -> None:
    s = score([85, 10_085 + 400], [(10.0, 10.75)])
    assert (s.tp, s.fn, s.fp) == (1, 0, 0)
    only_origin = score([85], [(10.0, 10.75), (33.0, 33.75)])
    assert (only_origin.tp, only_origin.fn, only_origin.fp) == (0, 2, 0)


def test_two_detections_in_one_window_count_once_and_are_both_removed() -> None:
    s = score([0, 10_200, 12_400], [(10.0, 10.75)])
    assert (s.tp, s.fn, s.fp) == (1, 0, 0)


def test_claimed_detections_are_not_reused_by_an_overlapping_window() -> None:
    s = score([0, 12_100], [(10.0, 10.5), (12.0, 12.5)])  # 12.1 s is in both intervals
    assert (s.tp, s.fn, s.fp, s.missed) == (1, 1, 0, [12.0])


def test_debounce_at_exactly_1000_ms_vs_1001_ms() -> None:
    assert score([0, 5_000, 6_000], []).fp == 1
    assert score([0, 5_000, 6_001], []).fp == 2
    # a removed detection does not extend the debounce: 5800 goes, 6500 survives
    assert score([0, 5_000, 5_800, 6_500], []).false_ms == [5_000, 6_500]
    # "later" is strict: an equal time is not hidden by its twin
    assert score([0, 5_000, 5_000], []).fp == 2


def test_empty_detection_list_cannot_be_scored() -> None:
    with pytest.raises(SwwDataError, match="empty"):
        score([], WINDOWS)


def test_unsorted_detections_are_scored_in_time_order_and_reported() -> None:
    s = score([0, 20_000, 10_100], [(10.0, 10.5)])
    assert (s.tp, s.fp) == (1, 1) and "time order" in s.problems[0]


def test_duty_cycle_truncates_unequal_lists_and_uses_100_frames() -> None:
    starts = [0.032 * i for i in range(120)]
    stops = [s + 0.016 for s in starts[:110]]
    d = duty_cycle(starts, stops)
    assert isinstance(d, DutyCycle) and d.frames == 100
    assert d.truncated and "120 start times and 110 stop times" in d.truncated
    assert d.duty_cycle == pytest.approx(0.5) and d.throughput == pytest.approx(62.5)
    assert d.variation < 1e-9
    with pytest.raises(SwwDataError, match="at least 2"):
        duty_cycle([0.0], [0.01, 0.05])


def test_general_format_and_exponent_forms() -> None:
    assert fmt(1.2345e-05) == "1.2345e-05" and fmt(123456.0) == "1.2346e+05"
    assert general_tolerance(0.55937) == pytest.approx(5e-6)
    assert general_tolerance(1.2345e-05) == pytest.approx(5e-10)
    txt = ("Accuracy: 44 True positives, 6 False negatives, 4 False positives\n"
           "Average duty cycle: 1.2345e-05\nAverage period: 0.032 s\n"
           "Estimated throughput: 1.2346e+05 inf./sec.\n")
    c = parse_sww(txt)
    assert (c.tp, c.fn, c.fp) == (44, 6, 4)
    assert c.duty_cycle == 1.2345e-05 and c.throughput == 123460.0 and c.period == 0.032
    official = official_values(txt)
    assert official["sww_duty"] == "1.2345"  # truncated at the exponent (P-sww_duty_exp)
    assert official["sww_throughput"] is None  # fixed suffix: no match at all
    assert (official["sww_tp"], official["sww_fn"], official["sww_fp"]) == ("44", "6", "4")


# -- the checker on the synthetic result ------------------------------------------------------


@pytest.fixture()
def sww(tmp_path: Path) -> tuple[Path, Path, SwwCase]:
    return make_sww_tree(tmp_path)


@pytest.mark.parametrize("version", ["v1.3", "v1.4"])
def test_valid_sww_result_triggers_nothing(sww: tuple[Path, Path, SwwCase],
                                           version: str) -> None:
    tree, _bench, case = sww
    report = run(tree, version)
    assert report.findings == [] and report.ok
    rows = {r.mode: r for r in report.rows}
    assert set(rows) == {"accuracy", "performance", "energy"}
    assert rows["accuracy"].claimed == 88 / 98 and rows["accuracy"].recomputed == 88 / 98
    duty, _period, tput = case.duty
    assert rows["performance"].recomputed == pytest.approx(tput, rel=1e-12)
    assert abs(rows["performance"].claimed - tput) <= general_tolerance(tput)
    assert rows["energy"].unit == "mW" and rows["energy"].claimed == 25.0
    assert rows["energy"].recomputed == pytest.approx(SAMPLE_J * 1e6, rel=1e-9)  # J/ms -> mW
    assert rows["accuracy"].extra == {"FalsePositives": "4", "FalseNegatives": "6",
                                      "DutyCycle": fmt(duty)}


def test_summary_csv_has_the_sww_columns(sww: tuple[Path, Path, SwwCase]) -> None:
    tree, bench, case = sww
    lines = summary_csv(run(tree)).splitlines()
    assert lines[0].endswith("Power,PowerUnit,HostProcessorModelName,HostProcessorFrequency,"
                             "HostProcessorMemory,AcceleratorModelName,AcceleratorFrequency,"
                             "AcceleratorMemory,HardwareNotes,InferenceFramework,"
                             "SoftwareLibraries,SoftwareNotes,FalsePositives,FalseNegatives,"
                             "DutyCycle,RecomputedResult,RecomputedAccuracy,RecomputedPower,"
                             "Verdict")
    duty, _p, tput = case.duty
    assert lines[1].startswith(f'"Acme","available","closed","Board-1","Board","sww","sww",'
                               f'"{fmt(tput)}","inf./sec.","0.8979591836734694","True","25.0",'
                               f'"mW",')
    assert f'"4","6","{fmt(duty)}",' in lines[1] and lines[1].endswith('"valid"')
    # performance/ only: no power (P-sww_perf_only); LAYOUT-011 warns but the row stays
    shutil.rmtree(bench / "energy")
    write_folder(bench / "performance", case, mode="p")
    report = run(tree)
    assert ids(report) == {"TINY-LAYOUT-011"} and report.ok
    row = summary_csv(report).splitlines()[1]
    assert '"True"' not in row and '"False","0","mW"' in row
    assert "Results:" in text(report) and [r.mode for r in report.rows] == ["accuracy",
                                                                          "performance"]


def _rescore(b: Path, case: SwwCase, **claims: int) -> None:
    shutil.rmtree(b / "energy")
    write_folder(b / "energy", case, **claims)


def _more_fps(b: Path, c: SwwCase, n: int) -> None:
    c.detections += [c.detections[0] + int((17.0 + 23.0 * k) * 1000) for k in range(n)]
    c.detections[1:] = sorted(c.detections[1:])
    _rescore(b, c, fp=c.fp + n)


def _unequal_lists(b: Path) -> None:
    edit_json(b / "energy/results.json", lambda r: r["dutycycle"]["stop_times_s"].pop())


def _jitter(b: Path) -> None:  # one frame 5 % late: variation over 2 %
    edit_json(b / "energy/results.json", lambda r: r["dutycycle"]["start_times_s"].__setitem__(
        50, r["dutycycle"]["start_times_s"][50] + 0.0016))


E = "energy/results.txt"
# rule id -> mutation(benchmark folder, case); expected message fragment
CASES: dict[str, tuple[Callable[[Path, SwwCase], object], str]] = {
    "TINY-ACC-SWW": (lambda b, c: _more_fps(b, c, 5), "9 false positives"),
    "TINY-ACC-SWW-COUNT": (lambda b, _c: edit(b / E, "44 True positives", "40 True positives"),
                           "= 46"),
    "TINY-SWW-001": (lambda b, _c: edit(b / E, "Average duty cycle", "Duty cycle"),
                     "no 'Average duty cycle"),
    "TINY-SWW-002": (lambda b, c: write_folder(b / "performance", c, mode="p"),
                     "performance/ is ignored"),
    "TINY-SWW-003": (lambda b, _c: edit(b / E, "44 True positives, 6 False negatives",
                                       "45 True positives, 5 False negatives"),
                     "claimed true positives 45 but raw data gives 44"),
    "TINY-SWW-004": (lambda b, c: edit(b / E, f"duty cycle: {fmt(c.duty[0])}",
                                       "duty cycle: 0.6"), "claimed duty cycle 0.6"),
    "TINY-SWW-005": (lambda b, _c: edit(b / E, "25.0000 mW.", "26.0000 mW."),
                     "claimed power (mW) 26.0 but raw data gives 25"),
    "TINY-SWW-006": (lambda b, _c: _unequal_lists(b), "100 start times and 99 stop times"),
    # a detection edited in results.json only: the log keeps what the board reported
    "TINY-SWW-007": (lambda b, _c: edit_json(b / "energy/results.json", lambda r: r["infer"][
        "detections"].__setitem__(3, r["infer"]["detections"][3] + 1)),
                     "stream 0: results.json detections differ from log.txt at position 3"),
}


def test_every_sww_rule_has_a_case() -> None:
    sww_ids = {r.id for v in ("v1.3", "v1.4") for r in load_ruleset(v).rules if "SWW" in r.id}
    assert sww_ids == set(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_sww_rule_triggers(sww: tuple[Path, Path, SwwCase], rule_id: str) -> None:
    tree, bench, case = sww
    mutate, fragment = CASES[rule_id]
    mutate(bench, case)
    hits = [f for f in run(tree).findings if f.rule_id == rule_id]
    assert hits and any(fragment in f.message for f in hits), [f.message for f in hits]
    assert all(not re.search(r"\{[a-z_]+\}", f.message) for f in hits)


def test_fp_limit_boundary_and_open_division(tmp_path: Path) -> None:
    tree, bench, case = make_sww_tree(tmp_path / "closed8")
    _more_fps(bench, case, 4)  # exactly 8 false positives: allowed (P-sww_fp8)
    report = run(tree)
    assert report.findings == [] and report.ok
    tree, bench, case = make_sww_tree(tmp_path / "open", division="open")
    _more_fps(bench, case, 5)  # 9 in open: info, still valid (P-sww_fp9_open)
    report = run(tree)
    acc = [f for f in report.findings if f.rule_id == "TINY-ACC-SWW"]
    assert [f.severity for f in acc] == ["info"] and report.ok
    assert next(r for r in report.rows if r.mode == "accuracy").target == "none (open)"


def test_count_rule_invalidates_every_sww_row(sww: tuple[Path, Path, SwwCase]) -> None:
    tree, bench, _case = sww
    edit(bench / E, "44 True positives", "40 True positives")
    report = run(tree)
    assert not report.ok and not any(r.valid for r in report.rows)
    assert summary_csv(report).count("\n") == 1  # header only


def test_exponent_forms_are_flagged(sww: tuple[Path, Path, SwwCase]) -> None:
    tree, bench, case = sww
    edit(bench / E, f"duty cycle: {fmt(case.duty[0])}", "duty cycle: 5.5937e-01")
    edit(bench / E, f"throughput: {fmt(case.duty[2])}", "throughput: 5.5866e+01")
    msgs = [f.message for f in run(tree).findings if f.rule_id == "TINY-SWW-001"]
    assert any("'5.5937e-01' (exponent notation): the official checker reads '5.5937'" in m
               for m in msgs), msgs
    assert any("'5.5866e+01' is not a plain decimal" in m for m in msgs), msgs
    # the values themselves are right: no recomputation mismatch
    assert "TINY-SWW-004" not in ids(run(tree))


def test_no_sww_folder_at_all(sww: tuple[Path, Path, SwwCase]) -> None:
    tree, bench, _case = sww
    shutil.rmtree(bench / "energy")
    (bench / "accuracy").mkdir()
    (bench / "accuracy/results.txt").write_text("x\n")
    report = run(tree)
    hits = [f for f in report.findings if f.rule_id == "TINY-SWW-001"]
    assert hits and "neither energy/ nor performance/" in hits[0].message and not report.ok


def test_period_variation_over_two_percent_warns(sww: tuple[Path, Path, SwwCase]) -> None:
    tree, bench, _case = sww
    _jitter(bench)
    report = run(tree)
    warn = [f for f in report.findings if f.rule_id == "TINY-SWW-006"]
    assert warn and warn[0].severity == "warning" and "exceeds 2%" in warn[0].message
    # the claims were printed from the unjittered lists: the duty figures now disagree
    assert "TINY-SWW-004" in ids(report, "error")


def test_empty_detection_list_is_an_error_not_a_crash(sww: tuple[Path, Path, SwwCase]) -> None:
    tree, bench, _case = sww
    edit_json(bench / "energy/results.json", lambda r: r["infer"].__setitem__("detections", []))
    hits = [f for f in run(tree).findings if f.rule_id == "TINY-SWW-003"]
    assert hits and all(f.severity == "error" for f in hits)
    assert "cannot score" in hits[0].message and "empty" in hits[0].message


def test_garbage_raw_data_is_reported(sww: tuple[Path, Path, SwwCase]) -> None:
    tree, bench, _case = sww
    edit_json(bench / "energy/results.json", lambda r: (
        r["infer"].__setitem__("detection_windows", "all of them"),
        r["dutycycle"].__setitem__("start_times_s", ["a", "b"])))
    msgs = [f.message for f in run(tree).findings if f.severity == "error"]
    assert any("detection_windows: not a list of [start, end] pairs" in m for m in msgs), msgs
    assert any("start_times_s: not a list of numbers" in m for m in msgs), msgs


def test_missing_raw_data_is_not_verifiable(sww: tuple[Path, Path, SwwCase]) -> None:
    tree, bench, _case = sww
    (bench / "energy/results.json").unlink()
    report = run(tree)
    warn = {f.rule_id: f for f in report.findings if "not verifiable" in f.message}
    assert {"TINY-SWW-003", "TINY-SWW-004", "TINY-SWW-005"} <= set(warn)
    assert all(f.severity == "warning" for f in warn.values())
    assert "true positives 44, false negatives 6, false positives 4" in \
        warn["TINY-SWW-003"].message
    assert report.ok


def test_energy_rules_apply_to_the_sww_stream(sww: tuple[Path, Path, SwwCase]) -> None:
    tree, bench, _case = sww
    edit(bench / E, "  Power         : 25.0000 mW.\n", "")
    hits = [f for f in run(tree).findings if f.rule_id == "TINY-EN-001"]
    assert hits and "'Power : ... mW'" in hits[0].message
    data = json.loads((bench / "energy/results.json").read_text())
    (bench / "energy/results.json").write_text(json.dumps(data + data))  # two streams
    hits = [f for f in run(tree).findings if f.rule_id == "TINY-EN-002"]
    assert hits and "2 windows, exactly 1 required" in hits[0].message


def test_medium_test_file_fails_the_count(tmp_path: Path) -> None:
    case = default_case()
    case.windows = WINDOWS[:8]
    case.detections = [d for d in case.detections if d - case.detections[0] < 190_000]
    case.tp, case.fn, case.fp = 7, 1, 1  # windows 0-7, window 3 missed, one FP at 130 s
    tree, _bench, _ = make_sww_tree(tmp_path, case=case)
    report = run(tree)
    assert ids(report, "error") == {"TINY-ACC-SWW-COUNT"}


def test_sww_energy_plot_is_listed(sww: tuple[Path, Path, SwwCase]) -> None:
    """The official checker file-lists sww energy/ with energy_inf_000.png: a warning."""
    tree, bench, _case = sww
    (bench / "energy" / "energy_inf_000.png").unlink()
    hits = [f for f in run(tree).findings if f.rule_id == "TINY-LAYOUT-007"]
    assert [(f.severity, "energy_inf_000.png" in f.message) for f in hits] == [("warning", True)]


def test_log_detection_lists_are_read_per_stream() -> None:
    from tinyperf.submissions.sww import log_detection_lists

    log = "\n".join(["Device model retrieved: sww01", "[1, 2]",  # before any stream: ignored
                     "Playing a.wav (length = 3.0s) at 01:02:03...", "... done",
                     "No activation data found.", "[85, 9937, 9969]", "[7]",
                     "Playing b.wav (length = 3.0s) at 01:02:09...", "[]",
                     "False negatives: [1.0]"])
    assert log_detection_lists(log) == [[85, 9937, 9969], []]
