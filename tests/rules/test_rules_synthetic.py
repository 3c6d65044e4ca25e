"""Every rule: one synthetic tree that triggers it, and the valid tree that does not."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from rules_synth import make_eembc_energy, make_eembc_perf, make_tree, system_json
from tinyperf.rules.engine import Report, check
from tinyperf.rules.ruleset import load_ruleset
from tinyperf.submissions.loader import load


def run(tree: Path, ref: Path | None, version: str = "v1.3") -> Report:
    return check(load(tree), load_ruleset(version), ref)


def edit(path: Path, old: str, new: str, count: int = -1) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, count))


def edit_json(path: Path, fn: Callable[[list], object]) -> None:
    data = json.loads(path.read_text())
    out = fn(data)
    path.write_text(json.dumps(data if out is None else out))


def _sysjson(t: Path, **changes: object) -> None:
    (t / "closed/Acme/systems/Board.json").write_text(json.dumps(system_json(**changes)))


def _rename(b: Path, name: str) -> Path:
    new = b.parent / name
    b.rename(new)
    return new


def _eembc(b: Path) -> None:
    shutil.rmtree(b / "performance")
    make_eembc_perf(b / "performance", host_scale=1.10)


def _deep(t: Path) -> None:
    p = t / "closed/Acme/code"
    for i in range(30):
        p = p / f"d{i}"
    p.mkdir(parents=True)
    (p / "x.txt").write_text("x")


def _mkfile(p: Path, data: bytes = b"x") -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def _resub(p: Path, pattern: str, new: str) -> None:
    text = p.read_text()
    assert re.search(pattern, text), pattern
    p.write_text(re.sub(pattern, new, text))


def _median_only(p: Path) -> None:
    """Keep only the ``Median throughput`` block (a real shape: no per-window lines)."""
    p.write_text("".join(ln for ln in p.read_text().splitlines(keepends=True)
                         if "ulp-mlperf:" in ln))


def _oversize(t: Path) -> None:
    with open(t / "closed/Acme/big.bin", "wb") as fh:
        fh.truncate(524_288_001)  # sparse


P, A, E = "performance", "accuracy", "energy"
# rule id -> mutation(tree root, benchmark folder); optional version
CASES: dict[str, tuple[Callable[[Path, Path], object], str]] = {
    "TINY-LAYOUT-001": (lambda t, b: _mkfile(t / "docs/readme.md"), "v1.3"),
    "TINY-LAYOUT-002": (lambda t, b: _mkfile(t / "closed/Other/code/x.c"), "v1.3"),
    "TINY-LAYOUT-003": (lambda t, b: (t / "closed/Acme/systems/Board.json").rename(
        t / "closed/Acme/systems/Other.json"), "v1.3"),
    "TINY-LAYOUT-004": (lambda t, b: _rename(b, "keyword_spotting"), "v1.3"),
    "TINY-LAYOUT-005": (lambda t, b: shutil.rmtree(b / P), "v1.3"),
    "TINY-LAYOUT-006": (lambda t, b: _mkfile(b / "EEMBC_RUNNER", b""), "v1.3"),
    "TINY-LAYOUT-007": (lambda t, b: _mkfile(b / P / "notes.md"), "v1.3"),
    "TINY-LAYOUT-008": (lambda t, b: _rename(b / E, "enegy"), "v1.3"),
    "TINY-LAYOUT-009": (lambda t, b: shutil.copytree(b, b.parent / "ic2"), "v1.4"),
    "TINY-LAYOUT-010": (lambda t, b: _eembc(b), "v1.4"),
    "TINY-LAYOUT-011": (lambda t, b: shutil.rmtree(_rename(b, "sww") / E), "v1.3"),
    "TINY-SYS-001": (lambda t, b: (t / "closed/Acme/systems/Board.json").write_text(
        '{"Status": "Available",}'), "v1.3"),
    "TINY-SYS-002": (lambda t, b: _sysjson(t, Status="Available "), "v1.3"),
    "TINY-SYS-003": (lambda t, b: _sysjson(t, system_type="edge"), "v1.3"),
    "TINY-SYS-004": (lambda t, b: (t / "closed/Acme/systems/Board.json").write_text(
        json.dumps({"Status": "Available", "Division": "Closed", "Submitter": "Acme"})), "v1.3"),
    "TINY-SYS-005": (lambda t, b: _sysjson(t, Division="Open"), "v1.3"),
    "TINY-SYS-006": (lambda t, b: _sysjson(t, Submitter="Acme Corp"), "v1.3"),
    "TINY-ACC-005": (lambda t, b: _resub(b / A / "results.txt", r"AUC = [0-9.]+", "AUC = 0.123"),
                     "v1.3"),
    "TINY-PERF-009": (lambda t, b: _median_only(b / P / "results.txt"), "v1.3"),
    "TINY-HYG-001": (lambda t, b: os.symlink("results.txt", b / P / "link.txt"), "v1.3"),
    "TINY-HYG-002": (lambda t, b: os.symlink("/etc", t / "closed/Acme/code"), "v1.3"),
    "TINY-HYG-003": (lambda t, b: _oversize(t), "v1.3"),
    "TINY-HYG-004": (lambda t, b: _mkfile(t / "closed/Acme/code/__pycache__/x.pyc"), "v1.3"),
    "TINY-HYG-005": (lambda t, b: (t / "closed/Acme/code/empty").mkdir(parents=True), "v1.3"),
    "TINY-HYG-006": (lambda t, b: _mkfile(t / "closed/Acme/code/.hidden"), "v1.3"),
    "TINY-HYG-007": (lambda t, b: _mkfile(t / "closed/Acme/code/a b.txt"), "v1.3"),
    "TINY-HYG-008": (lambda t, b: _mkfile(t / "closed/Acme/code/Thumbs.db"), "v1.3"),
    "TINY-HYG-009": (lambda t, b: _mkfile(Path(os.fsdecode(bytes(t / "closed/Acme/code")
                                                          + b"/\xff.txt"))), "v1.3"),
    "TINY-HYG-010": (lambda t, b: _deep(t), "v1.3"),
    "TINY-RAW-001": (lambda t, b: (b / P / "log.txt").write_bytes(os.urandom(4096) + b"\0" * 64),
                     "v1.3"),
    "TINY-ACC-001": (lambda t, b: (b / A / "results.txt").unlink(), "v1.3"),
    "TINY-ACC-002": (lambda t, b: (b / A / "results.txt").write_text("Top 1% = 100.0\n"), "v1.3"),
    "TINY-ACC-003": (lambda t, b: edit(b / A / "results.txt", "= 100.0", "= 95.0"), "v1.3"),
    "TINY-ACC-004": (lambda t, b: edit_json(b / A / "results.json", lambda d: d[:-1]), "v1.3"),
    "TINY-ACC-KWS": (lambda t, b: edit(b / A / "results.txt", "= 100.0", "= 85.0"), "v1.3"),
    "TINY-ACC-VWW": (lambda t, b: edit(_rename(b, "vww") / A / "results.txt", "= 100.0",
                                       "= 70.0"), "v1.3"),
    "TINY-ACC-IC": (lambda t, b: edit(_rename(b, "ic") / A / "results.txt", "= 100.0",
                                      "= 80.0"), "v1.3"),
    "TINY-ACC-IC2": (lambda t, b: edit(_rename(b, "ic2") / A / "results.txt", "= 100.0",
                                       "= 90.0"), "v1.4"),
    "TINY-ACC-AD": (lambda t, b: edit(_rename(b, "ad") / A / "results.txt", "AUC = 1.000",
                                      "AUC = 0.800"), "v1.3"),
    "TINY-PERF-001": (lambda t, b: edit(b / P / "results.txt", "Median throughput", "Median"),
                      "v1.3"),
    "TINY-PERF-002": (lambda t, b: edit_json(b / P / "results.json",
                                             lambda d: d.append({"error": "error 1", "mode": "p"})),
                      "v1.3"),
    "TINY-PERF-003": (lambda t, b: edit_json(b / P / "results.json", lambda d: d[:4]), "v1.3"),
    "TINY-PERF-004": (lambda t, b: edit_json(b / P / "results.json", lambda d: [
        {**r, "infer": {**r["infer"], "elapsed_time": 5_000_000}} for r in d]), "v1.3"),
    "TINY-PERF-005": (lambda t, b: edit_json(b / P / "results.json", lambda d: [
        {**r, "infer": {**r["infer"], "iterations": 5}} for r in d]), "v1.3"),
    "TINY-PERF-006": (lambda t, b: edit(b / P / "results.txt", "    23.805", "    30.000"), "v1.3"),
    "TINY-PERF-007": (lambda t, b: edit(b / P / "results.txt", "    23.805", "     0.000"), "v1.3"),
    "TINY-PERF-008": (lambda t, b: _eembc(b), "v1.3"),
    "TINY-EN-001": (lambda t, b: edit(b / E / "results.txt", "Median energy cost", "Median"),
                    "v1.3"),
    "TINY-EN-002": (lambda t, b: edit_json(b / E / "results.json", lambda d: d[:4]), "v1.3"),
    "TINY-EN-003": (lambda t, b: edit_json(b / E / "results.json", lambda d: [
        {**r, "power": {**r["power"], "timestamps": [["00", 100], ["01", 5100]]}} for r in d]),
                    "v1.3"),
    "TINY-EN-004": (lambda t, b: edit(b / E / "results.txt", "cost is 127.2000",
                                      "cost is 100.0000"), "v1.3"),
    "TINY-EN-005": (lambda t, b: edit_json(b / E / "results.json", lambda d: [
        {**r, "power": {**r["power"], "timestamps": [["00", 100], ["01", 3000], ["03", 10700]]}}
        for r in d]), "v1.3"),
    "TINY-EN-006": (lambda t, b: (shutil.rmtree(b / E), make_eembc_energy(b / E),
                                  edit(b / E / "results.txt", "is 12.195", "is 13.000")), "v1.3"),
    "TINY-LOG-001": (lambda t, b: edit(b / P / "results.txt", "Runtime: 10.5 sec.",
                                       "Runtime: 10.4 sec."), "v1.3"),
    "TINY-LOG-002": (lambda t, b: edit(b / A / "log.txt", "Fw V1", "Fw V2"), "v1.3"),
    "TINY-LOG-003": (lambda t, b: edit(b / A / "results.txt", "AUC = 1.000",
                                       "AUC = 1.000\n0101.120000 ulp-mlperf: AUC = 1.000"), "v1.3"),
}


@pytest.fixture()
def valid(tmp_path: Path) -> tuple[Path, Path, Path]:
    return make_tree(tmp_path)


@pytest.mark.parametrize("version", ["v1.3", "v1.4"])
def test_valid_tree_triggers_nothing(valid: tuple[Path, Path, Path], version: str) -> None:
    tree, _bench, ref = valid
    report = run(tree, ref, version)
    assert report.findings == []
    assert report.ok and all(r.valid for r in report.rows)


def test_every_rule_has_a_case() -> None:
    ids = {r.id for v in ("v1.3", "v1.4") for r in load_ruleset(v).rules}
    elsewhere = {"TINY-HYG-011"}  # archives: test_hostile.py
    elsewhere |= {"TINY-MODEL-001"}  # test_model_rule.py
    elsewhere |= {"TINY-CHECK-001"}  # damaged archives: tests/checker/test_hostile_corpus.py
    elsewhere |= {"TINY-ACC-006"}  # superseded ic01 list: tests/checker/test_icvww_checker.py
    elsewhere |= {i for i in ids if "SWW" in i}  # test_sww.py (its own case table)
    assert ids - set(CASES) == elsewhere


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_triggers(valid: tuple[Path, Path, Path], rule_id: str) -> None:
    tree, bench, ref = valid
    mutate, version = CASES[rule_id]
    mutate(tree, bench)
    report = run(tree, ref, version)
    hits = [f for f in report.findings if f.rule_id == rule_id]
    assert hits, [(f.rule_id, f.message) for f in report.findings]
    assert all(f.message and not re.search(r"\{[a-z_]+\}", f.message) for f in hits)


def test_waiver_keeps_finding_but_not_verdict(valid: tuple[Path, Path, Path]) -> None:
    tree, bench, ref = valid
    edit(bench / P / "results.txt", "    23.805", "    30.000")
    report = check(load(tree), load_ruleset("v1.3"), ref, waive=["TINY-PERF-006", "TINY-LOG-001"])
    assert [f.waived for f in report.findings if f.rule_id == "TINY-PERF-006"] == [True]
    assert report.ok


def test_open_division_has_no_accuracy_target(tmp_path: Path) -> None:
    tree, bench, ref = make_tree(tmp_path)
    edit(bench / A / "results.txt", "= 100.0", "= 50.0")
    (tree / "closed").rename(tree / "open")
    _sysjson_path = tree / "open/Acme/systems/Board.json"
    _sysjson_path.write_text(json.dumps(system_json(Division="Open")))
    ids = {f.rule_id for f in run(tree, ref).findings}
    assert "TINY-ACC-KWS" not in ids and "TINY-ACC-003" in ids


def test_unverifiable_claim_is_a_warning(valid: tuple[Path, Path, Path]) -> None:
    tree, bench, ref = valid
    (bench / A / "results.json").unlink()
    (bench / A / "log.txt").write_text("")
    report = run(tree, ref)
    acc = [f for f in report.findings if f.rule_id == "TINY-ACC-003"]
    assert acc and acc[0].severity == "warning" and "not verifiable" in acc[0].message
    assert report.ok


def test_eembc_energy_recomputed(valid: tuple[Path, Path, Path]) -> None:
    tree, bench, ref = valid
    shutil.rmtree(bench / E)
    make_eembc_energy(bench / E)
    ids = {f.rule_id for f in run(tree, ref).findings if f.severity == "error"}
    assert not ids & {"TINY-EN-004", "TINY-EN-006", "TINY-EN-002", "TINY-EN-003"}
    shutil.rmtree(bench / E)
    make_eembc_energy(bench / E, claim=90.0)
    assert "TINY-EN-004" in {f.rule_id for f in run(tree, ref).findings}
