"""ic01/vww01 accuracy claims recomputed from raw logs (issue 17, ic_vww.md 3.2, 4, 5).

Real trees: the v0.7 Andes and v1.2 bosch ic folders (EEMBC runner, current list). Synthetic
trees reproduce each printed format of published logs, both runners, the superseded ic01
list and a foreign vww set. Expected claims are computed here independently of the
product (scikit-learn for the MLCommons runner, the spec's loop for the EEMBC runner).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from icvww_synth import (
    eembc_accuracy,
    integers,
    mlc_accuracy,
    mlc_results_json,
    one_hot,
    read_labels,
    signed_logits,
    six_decimals_trailing_comma,
    system,
    three_decimals,
)
from tinyperf.rules import engine
from tinyperf.rules.engine import Report, check
from tinyperf.rules.ruleset import load_ruleset
from tinyperf.submissions.loader import load

sklearn_metrics = pytest.importorskip("sklearn.metrics")

ANDES = "closed/Andes/results/AndesCore_d45_tflite_micro_framework/ic"
BOSCH = "closed/bosch/results/NUCLEO_H7A3ZI_float/ic"


def figures(root: Path, version: str, ref: Path) -> dict:
    rs = load_ruleset(version)
    return engine.recompute_tree(load(root), rs.settings, engine.reference_labels(rs, ref), ref)


def findings(report: Report, rule_id: str) -> list:
    return [f for f in report.findings if f.rule_id == rule_id]


def accuracy_row(report: Report, bench: str = "ic"):
    return next(r for r in report.rows if r.benchmark == bench and r.mode == "accuracy")


@pytest.mark.parametrize(("round_", "rel", "top1", "auc"), [
    ("v0.7", ANDES, 87.0, 0.9798),  # printed Top-1: 87.0%, AUC: 0.98
    ("v1.2", BOSCH, 87.0, 0.9805),  # the float model: same printed figures
])
def test_real_ic_claims_match_with_the_eembc_formulas(hard: Path, reference_dir: Path,
                                                      round_: str, rel: str, top1: float,
                                                      auc: float) -> None:
    figs = figures(hard / round_, "v1.0" if round_ == "v0.7" else round_, reference_dir)[rel]
    assert figs.top1.claimed == 87.0 and figs.top1.recomputed == top1 and figs.top1.agrees
    assert figs.auc.claimed == 0.98 and figs.auc.recomputed == pytest.approx(auc, abs=5e-5)
    assert figs.auc.agrees and "EEMBC runner formulas" in figs.auc.source
    assert figs.scored.label_file == "y_labels.csv" and not figs.scored.superseded
    assert "emu_s_002009.bin (row 0 of y_labels.csv)" in figs.scored.list_evidence
    assert (figs.scored.files, figs.scored.missing, figs.scored.extra) == (200, [], [])


def test_real_ic_folders_have_no_accuracy_finding(hard: Path, reference_dir: Path) -> None:
    for round_, version in (("v0.7", "v1.0"), ("v1.2", "v1.2")):
        report = check(load(hard / round_), load_ruleset(version), reference_dir)
        assert not [f for f in report.findings if f.rule_id.startswith("TINY-ACC")]
        assert accuracy_row(report).valid


# -- synthetic trees --------------------------------------------------------------------------


def literal_eembc(y: list[int], v: np.ndarray) -> tuple[float, float]:
    """ic_vww.md 4.2 as written (raw argmax, 100-threshold trapezoid AUC, class mean)."""
    yy = np.asarray(y)
    top1 = 100.0 * float(np.mean(np.argmax(v, axis=1) == yy))
    aucs = []
    for k in range(v.shape[1]):
        pos, neg = v[yy == k, k], v[yy != k, k]
        tpr = [1.0] + [float(np.mean(pos > 0.01 * j)) if pos.size else 0.0 for j in range(1, 101)]
        fpr = [1.0] + [float(np.mean(neg > 0.01 * j)) if neg.size else 0.0 for j in range(1, 101)]
        aucs.append(sum(0.5 * (tpr[j] + tpr[j + 1]) * (fpr[j] - fpr[j + 1]) for j in range(100)))
    return top1, float(np.mean(aucs))


def ic_rows(labels: list[tuple[str, int]], wrong_every: int = 8) -> list[tuple[str, list[float]]]:
    """Confident outputs, every ``wrong_every``-th one on the wrong class."""
    return [(name, one_hot(label, 10, wrong=i % wrong_every == 0))
            for i, (name, label) in enumerate(labels)]


def parsed(text: str) -> np.ndarray:
    return np.array([float(x) for x in text.split(",") if x.strip()])


@pytest.mark.parametrize("printer", [three_decimals, six_decimals_trailing_comma, integers,
                                     signed_logits])
def test_eembc_ic_every_printed_format(tmp_path: Path, reference_dir: Path, printer) -> None:
    labels = read_labels(reference_dir / "ic01" / "y_labels.csv")
    rows = ic_rows(labels)
    # what the EEMBC runner computes from the values as printed
    values = np.vstack([parsed(printer(v)) for _n, v in rows])
    top1, auc = literal_eembc([lab for _n, lab in labels], values)
    bench = system(tmp_path, "v1.1", "closed", "Acme", "Board") / "ic"
    eembc_accuracy(bench / "accuracy", "ic01", rows,
                   [f"Top-1: {top1:.1f}%", f"AUC: {auc:.2f}"], printer)
    figs = figures(tmp_path / "v1.1", "v1.1", reference_dir)["closed/Acme/results/Board/ic"]
    assert figs.top1.recomputed == pytest.approx(87.5) and figs.top1.agrees
    assert figs.auc.recomputed == pytest.approx(auc, abs=1e-12) and figs.auc.agrees


def test_eembc_vww_trailing_comma_and_integers(tmp_path: Path, reference_dir: Path) -> None:
    labels = read_labels(reference_dir / "vww01" / "y_labels.csv")
    rows = [(n, [0.2, 0.8] if (lab == 1) != (i % 10 == 0) else [0.9, 0.1])
            for i, (n, lab) in enumerate(labels)]
    bench = system(tmp_path, "v1.1", "closed", "Acme", "Board") / "vww"
    values = np.vstack([parsed(integers(v)) for _n, v in rows])
    top1, auc = literal_eembc([lab for _n, lab in labels], values)
    assert top1 == 90.0
    eembc_accuracy(bench / "accuracy", "vww01", rows, [f"Top-1: {top1:.1f}%", f"AUC: {auc:.2f}"],
                   integers)
    figs = figures(tmp_path / "v1.1", "v1.1", reference_dir)["closed/Acme/results/Board/vww"]
    assert figs.top1.recomputed == 90.0 and figs.top1.agrees
    assert figs.auc.recomputed == pytest.approx(auc) and figs.auc.agrees


def test_mlc_vww_log_echo_scored_with_sklearn_formula(tmp_path: Path,
                                                      reference_dir: Path) -> None:
    labels = read_labels(reference_dir / "vww01" / "y_labels.csv")
    rng = np.random.default_rng(3)
    rows = []
    for name, lab in labels:
        p = float(np.clip(rng.normal(0.7 if lab else 0.3, 0.2), 0.0, 1.0))
        rows.append((name, [round(1 - p, 3), round(p, 3)]))
    v = np.array([r[1] for r in rows])
    w = v / v.sum(axis=1, keepdims=True)
    y = np.array([lab for _n, lab in labels])
    top1 = 100 * float(np.mean(np.argmax(w, axis=1) == y))
    auc = sklearn_metrics.roc_auc_score(y, w[:, 1])
    bench = system(tmp_path, "v1.3", "closed", "Acme", "Board") / "vww"
    mlc_accuracy(bench / "accuracy", rows, [f"Top 1% = {top1:2.1f}", f"AUC = {auc:.3f}"])
    figs = figures(tmp_path / "v1.3", "v1.3", reference_dir)["closed/Acme/results/Board/vww"]
    assert figs.top1.recomputed == pytest.approx(top1) and figs.top1.agrees
    assert figs.auc.recomputed == pytest.approx(auc, abs=1e-12) and figs.auc.agrees
    assert "MLCommons runner formulas" in figs.auc.source


def test_a_false_ic_claim_is_an_error(tmp_path: Path, reference_dir: Path) -> None:
    labels = read_labels(reference_dir / "ic01" / "y_labels.csv")
    bench = system(tmp_path, "v1.1", "closed", "Acme", "Board") / "ic"
    eembc_accuracy(bench / "accuracy", "ic01", ic_rows(labels), ["Top-1: 91.0%", "AUC: 0.93"])
    report = check(load(tmp_path / "v1.1"), load_ruleset("v1.1"), reference_dir)
    [acc] = findings(report, "TINY-ACC-003")
    assert acc.severity == "error" and "claimed top1 91.0 but raw data gives 87.5" in acc.message
    assert "vs y_labels.csv (EEMBC runner formulas)" in acc.evidence
    assert not accuracy_row(report).valid


@pytest.mark.parametrize("runner", ["eembc", "mlc"])
def test_superseded_ic01_list_recognised_scored_and_reported(tmp_path: Path,
                                                             reference_dir: Path,
                                                             runner: str) -> None:
    old = read_labels(reference_dir / "ic01" / "y_labels_superseded.csv")
    rows = [(name, one_hot(label, 10, wrong=i % 200 < 27)) for i, (name, label) in enumerate(old)]
    bench = system(tmp_path, "v1.1", "closed", "Acme", "Board") / "ic"
    if runner == "eembc":  # 173 of 200 right: 86.5 %, the reference device on the old list
        eembc_accuracy(bench / "accuracy", "ic01", rows, ["Top-1: 86.5%", "AUC: 0.93"])
    else:
        mlc_accuracy(bench / "accuracy", rows, ["Top 1% = 86.5", "AUC = 0.928"])
    report = check(load(tmp_path / "v1.1"), load_ruleset("v1.1"), reference_dir)
    [old_list] = findings(report, "TINY-ACC-006")
    assert old_list.severity == "warning"
    assert "superseded list y_labels_superseded.csv (200 files), not y_labels.csv" in \
        old_list.message and "not a false claim" in old_list.message
    assert "first file loaded lippizaner_s_000613.bin (row 0 of y_labels_superseded.csv)" \
        in old_list.evidence
    if runner == "eembc":
        assert "singleInputFn lippizaner_s_000613.bin" in old_list.evidence
    assert not findings(report, "TINY-ACC-003") and not findings(report, "TINY-ACC-004")
    row = accuracy_row(report)
    assert row.recomputed == pytest.approx(86.5) and row.valid


def test_superseded_list_is_not_accepted_for_other_benchmarks() -> None:
    """ic2 (v1.4) shares ic01's folder but never had the old list."""
    settings = load_ruleset("v1.4").settings["benchmarks"]
    assert "superseded_label_files" not in settings["ic2"]
    assert settings["ic"]["superseded_label_files"] == ["y_labels_superseded.csv"]


def test_a_foreign_vww_set_is_counted_not_called_a_false_claim(tmp_path: Path,
                                                               reference_dir: Path) -> None:
    """GreenWaves v1.0 (ic_vww.md 5.4): COCO_val2014_* names, most in no vww01 list."""
    labels = read_labels(reference_dir / "vww01" / "y_labels.csv")
    rows = [(n, [0.1, 0.9]) for n, _lab in labels[:62]]
    rows += [(f"COCO_val2014_{i:012d}.bin", [0.9, 0.1]) for i in range(100)]
    bench = system(tmp_path, "v1.0", "closed", "Acme", "Board") / "vww"
    eembc_accuracy(bench / "accuracy", "vww01", rows, ["Top-1: 83.2%", "AUC: 0.90"])
    report = check(load(tmp_path / "v1.0"), load_ruleset("v1.0"), reference_dir)
    [acc_set] = findings(report, "TINY-ACC-004")
    assert "100 in no reference list (e.g. COCO_val2014_000000000000.bin)" in acc_set.message
    assert "938 missing" in acc_set.message and acc_set.severity == "error"
    [acc] = findings(report, "TINY-ACC-003")
    assert acc.severity == "warning" and "100 of 162 scored files are in no reference " \
        "label list (y_labels.csv)" in acc.message


def test_no_labels_message_names_the_benchmark(tmp_path: Path, reference_dir: Path) -> None:
    labels = read_labels(reference_dir / "ic01" / "y_labels.csv")
    bench = system(tmp_path, "v1.1", "closed", "Acme", "Board") / "ic"
    eembc_accuracy(bench / "accuracy", "ic01", ic_rows(labels), ["Top-1: 87.5%", "AUC: 0.93"])
    ref = tmp_path / "ref"
    shutil.copytree(reference_dir / "kws01", ref / "kws01")
    report = check(load(tmp_path / "v1.1"), load_ruleset("v1.1"), ref)
    [acc] = findings(report, "TINY-ACC-003")
    assert "ic01 has no label file in the reference folder" in acc.message
    assert "ic01/y_labels.csv" in acc.message


@pytest.mark.parametrize("version", ["v1.0", "v1.1", "v1.2", "v1.3", "v1.4"])
def test_closed_targets_per_round(version: str) -> None:
    """ic 85 and vww 80 top-1 in every round's closed division (ic_vww.md 4.3); ic2 91
    from v1.4; the open division has none."""
    rs = load_ruleset(version)
    targets = {r.id: r.params["minimum"] for r in rs.rules if r.kind == "claim_at_least"}
    assert targets["TINY-ACC-IC"] == 85 and targets["TINY-ACC-VWW"] == 80
    assert ("TINY-ACC-IC2" in targets) == (version == "v1.4")
    for rule_id in ("TINY-ACC-IC", "TINY-ACC-VWW"):
        assert rs.for_division("closed")[rule_id].scope["divisions"] == ["closed"]


def test_mlc_results_json_ic_scored_with_sklearn_ovr(tmp_path: Path, reference_dir: Path) -> None:
    """v1.3 MLC runner: results.json records (file, class, results), ic01 one-vs-rest AUC."""
    labels = read_labels(reference_dir / "ic01" / "y_labels.csv")
    rng = np.random.default_rng(5)
    v = rng.dirichlet(np.ones(10), size=len(labels))
    y = np.array([lab for _n, lab in labels])
    v[np.arange(len(y)), y] += rng.uniform(0, 0.8, len(y))  # better than chance
    v = np.round(v / v.sum(axis=1, keepdims=True), 3)
    w = v / v.sum(axis=1, keepdims=True)
    top1 = 100 * float(np.mean(np.argmax(w, axis=1) == y))
    auc = sklearn_metrics.roc_auc_score(y, w, multi_class="ovr")
    bench = system(tmp_path, "v1.3", "closed", "Acme", "Board") / "ic"
    mlc_results_json(bench / "accuracy", [(n, lab, list(row)) for (n, lab), row in
                                          zip(labels, v)],
                     [f"Top 1% = {top1:2.1f}", f"AUC = {auc:.3f}"])
    figs = figures(tmp_path / "v1.3", "v1.3", reference_dir)["closed/Acme/results/Board/ic"]
    assert figs.top1.recomputed == pytest.approx(top1) and figs.top1.agrees
    assert figs.auc.recomputed == pytest.approx(auc, abs=1e-12) and figs.auc.agrees
    assert figs.top1.source == "results.json vs y_labels.csv (MLCommons runner formulas)"
