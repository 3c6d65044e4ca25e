"""tinyperf.harness.analysis.compare: the regression gate on virtual-DUT sessions."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from tinyperf.formats.errors import ConfigError
from tinyperf.harness.analysis import compare
from tinyperf.harness.analysis.history import History
from tinyperf.harness.analysis.session_reader import read_session

from tinyperf.cli import compare as compare_cli

from .conftest import add_energy, add_latency, copy_session


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tinyperf")
    sub = parser.add_subparsers(dest="command")
    compare_cli.register(sub)
    args = parser.parse_args(["compare", *argv])
    return args.handler(args)


def test_identical_rerun_gives_identical_windows(sessions):
    a, b = read_session(sessions.kws_perf), read_session(sessions.kws_perf_rerun)
    assert a.window_throughput == b.window_throughput


def test_compare_flags_a_ten_percent_slowdown(sessions, tmp_path, capsys):
    junit = tmp_path / "out.xml"
    rc = _cli([str(sessions.kws_perf), str(sessions.kws_perf_slow), "--junit", str(junit)])
    out = capsys.readouterr().out
    assert rc == 1 and "FAIL throughput" in out and "SLO BREACHED" in out
    result = compare.compare(read_session(sessions.kws_perf),
                             read_session(sessions.kws_perf_slow))
    (check,) = result.checks
    assert check.change == pytest.approx(-10.0, abs=0.3)
    assert check.interval[1] < -9.0  # the whole interval is a slowdown
    assert check.p_value == pytest.approx(2 / 252)  # exact Mann-Whitney, 5 vs 5, disjoint
    root = ET.parse(junit).getroot()
    case = root.find("testsuite/testcase")
    assert case.get("name") == "throughput" and case.find("failure") is not None
    assert root.find("testsuite").get("failures") == "1"


def test_compare_passes_an_identical_rerun(sessions, tmp_path, capsys):
    junit = tmp_path / "out.xml"
    assert _cli([str(sessions.kws_perf), str(sessions.kws_perf_rerun),
                 "--junit", str(junit)]) == 0
    assert "PASS throughput" in capsys.readouterr().out
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case.find("failure") is None and case.find("skipped") is None


def test_compare_through_history_tags_and_ids(sessions, tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        h.add(sessions.kws_perf, tags=["main"])
        slow = h.add(sessions.kws_perf_slow)
    assert _cli(["main", str(slow), "--db", str(db)]) == 1
    assert _cli(["main", str(sessions.kws_perf_rerun), "--db", str(db)]) == 0
    capsys.readouterr()


def test_slo_file_limits_and_errors(sessions, tmp_path):
    slo = tmp_path / "slo.yaml"
    slo.write_text("throughput: {regress_pct: 15}\nalpha: 0.01\n")
    assert _cli([str(sessions.kws_perf), str(sessions.kws_perf_slow), "--slo", str(slo)]) == 0
    for text, key in [("throughput: {regres_pct: 3}", "throughput.regres_pct"),
                      ("speed: {x: 1}", "speed"), ("latency: {p99_ms: fast}", "latency.p99_ms"),
                      ("alpha: 2", "alpha"), ("- 1", None)]:
        slo.write_text(text)
        with pytest.raises(ConfigError) as err:
            compare.load_slo(slo)
        assert str(slo) in str(err.value)
        if key:
            assert f"[{key}]" in str(err.value)


def test_modes_must_match(sessions):
    with pytest.raises(ConfigError, match="cannot compare a performance session"):
        compare.compare(read_session(sessions.kws_perf), read_session(sessions.kws_acc))


def _worse_copy(src, dst, files: int):
    """A copy of an accuracy session where the first ``files`` correct files go wrong."""
    folder = copy_session(src, dst)
    records = json.loads((folder / "results.json").read_text())
    flipped = 0
    for r in records:
        res = r["infer"]["results"]
        label = int(r["class"])
        if flipped < files and int(np.argmax(res)) == label:
            res[label], res[(label + 1) % len(res)] = 0.0, 1.0
            flipped += 1
    (folder / "results.json").write_text(json.dumps(records))
    return folder


def test_accuracy_uses_mcnemar_on_paired_files(sessions, tmp_path):
    base = read_session(sessions.kws_acc)
    same = compare.compare(base, base)
    assert same.checks[0].p_value == 1.0 and not same.breached
    worse = read_session(_worse_copy(sessions.kws_acc, tmp_path / "w", 10))
    (check,) = compare.compare(base, worse).checks
    assert check.change == pytest.approx(-100 * 10 / 120)
    assert check.p_value == pytest.approx(2 * 0.5 ** 10)  # exact McNemar, b=10, c=0
    assert check.status == "fail" and "McNemar" in check.test
    one = read_session(_worse_copy(sessions.kws_acc, tmp_path / "one", 1))
    assert compare.compare(base, one).checks[0].status == "pass"  # 0.83 pt, not significant


def test_ad01_auc_uses_a_paired_permutation_test(sessions):
    base = read_session(sessions.ad_acc)
    (check,) = compare.compare(base, base).checks
    assert check.metric.startswith("accuracy (AUC") and check.p_value == 1.0
    assert "permutation" in check.test and check.status == "pass"


def test_energy_and_latency_checks(sessions, tmp_path):
    a = copy_session(sessions.kws_perf, tmp_path / "a")
    b = copy_session(sessions.kws_perf_rerun, tmp_path / "b")
    add_energy(a, [50.0, 50.2, 49.9, 50.1, 50.0])
    add_energy(b, [55.0, 55.2, 54.9, 55.1, 55.0])
    add_latency(b, [43.0] * 95 + [80.0] * 5)
    slo = compare.parse_slo({"energy_uj": {"regress_pct": 5}, "latency": {"p99_ms": 40}})
    result = compare.compare(read_session(a), read_session(b), slo)
    by = {c.metric: c for c in result.checks}
    assert by["energy_uj"].change == pytest.approx(10.0) and by["energy_uj"].failed
    assert by["latency p99"].failed and by["latency p99"].candidate == pytest.approx(80.0)
    assert by["throughput"].status == "pass"  # not gated by this SLO
    back = compare.compare(read_session(b), read_session(a), slo)
    assert {c.metric: c.status for c in back.checks}["latency p99"] == "skip"
    xml = compare.junit_xml(back)
    assert "<skipped" in xml
