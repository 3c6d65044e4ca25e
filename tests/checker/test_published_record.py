"""Issue 18: the checker on the whole published record, one test per point (1-12).

Points 1-4, 10-12 run on the real trees of ``../shared/fixtures/real_submissions_hard``
(v0.7 Andes ic: bare CRs; v1.2 bosch ic: duplicated blocks; v0.7 Alibaba kws: signed
logits); 5-9 on small synthetic trees that reproduce the real shapes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from rules_synth import make_tree
from sww_synth import make_sww_tree
from tinyperf.formats import metrics
from tinyperf.reference_models.verify import io_wrappers_only
from tinyperf.rules.engine import Report, check
from tinyperf.rules.ruleset import load_ruleset, resolve_version
from tinyperf.rules.schema import RuleSetError
from tinyperf.submissions import eembc
from tinyperf.submissions.loader import load

from tinyperf import check_rounds
from tinyperf.cli.main import main

ANDES = "closed/Andes/results/AndesCore_d45_tflite_micro_framework/ic"
ALIBABA = "open/Alibaba/results/Alibaba Cloud Sinian Platform (Xuantie RISC-V)/kws"
BOSCH = "closed/bosch/results/NUCLEO_H7A3ZI_float/ic"


def _rounds(hard: Path, reference_dir: Path | None) -> dict[str, Report]:
    return {r.round: r for r in check_rounds(hard, reference_dir=reference_dir)}


def _row(report: Report, bench: str, mode: str, submitter: str | None = None):
    return next(r for r in report.rows if r.benchmark == bench and r.mode == mode
                and (submitter is None or r.submitter == submitter))


def _ids(report: Report, severity: str | None = None) -> set[str]:
    return {f.rule_id for f in report.findings if severity is None or f.severity == severity}


# -- 1: rounds without a rule file; a folder of rounds -----------------------------------------


def test_1_round_without_rule_file_uses_the_nearest_later_set(hard: Path,
                                                              reference_dir: Path) -> None:
    reports = _rounds(hard, reference_dir)
    assert list(reports) == ["v0.7", "v1.2"]
    v07 = reports["v0.7"]
    assert v07.version == "v1.0" and "no v0.7 rule file" in v07.rules_note
    assert "nearest later rule set, v1.0" in v07.rules_note
    assert reports["v1.2"].version == "v1.2" and reports["v1.2"].rules_note == ""
    assert resolve_version("v0.5") == ("v1.0", resolve_version("v0.5")[1])
    assert resolve_version("v9.9")[0] == "v1.4"
    with pytest.raises(RuleSetError, match=r"^rules/data/v0\.7\.yaml: rule file not found"):
        load_ruleset("v0.7")


def test_1_folder_of_rounds_reports_every_round_then_a_summary(
        hard: Path, reference_dir: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    rounds = tmp_path / "rounds"
    shutil.copytree(hard / "v0.7", rounds / "v0.5")  # an older round, no rule file either
    shutil.copytree(hard / "v1.2", rounds / "v1.2")
    status = main(["check", str(rounds), "--reference-dir", str(reference_dir)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("tinyperf check: ") == 2 and "(rules v1.0)" in out
    table = out[out.index("Summary of the rounds:"):].splitlines()
    assert table[1].split()[:2] == ["round", "rules"]
    assert table[2].split()[:6] == ["v0.5", "v1.0", "2", "2", "0", "0"]
    assert table[3].split()[:6] == ["v1.2", "v1.2", "1", "1", "0", "0"]
    assert table[4].split()[:5] == ["total", "3", "3", "0", "0"]
    # --format json is the data the table renders
    main(["check", str(rounds), "--reference-dir", str(reference_dir), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert [s["round"] for s in data["summary"]] == ["v0.5", "v1.2"]
    assert [s["folders"] for s in data["summary"]] == [2, 1]
    assert data["rounds"][0]["rules_note"].startswith("no v0.5 rule file")


# -- 2: bare carriage returns inside EEMBC log lines ------------------------------------------


def test_2_bare_cr_lines_give_the_claimed_median(hard: Path, reference_dir: Path) -> None:
    report = _rounds(hard, reference_dir)["v0.7"]
    perf = _row(report, "ic", "performance", "Andes")
    assert perf.valid and perf.claimed == 4.392
    assert perf.recomputed == pytest.approx(4.392, abs=5e-4)
    assert not {"TINY-PERF-006", "TINY-LOG-001", "TINY-PERF-003"} & _ids(report)
    log = eembc.parse_log((hard / "v0.7" / ANDES / "performance/log.txt").read_text())
    assert [len(i.laps) for i in log.infers] == [2] * 5
    assert log.profile == "ULPMark for tinyML Firmware V0.0.1" and log.model == "ic01"


def test_2_closing_lap_without_host_time_is_kept() -> None:
    text = "\n".join([
        '00010.000 parser: Command "dut infer 100 1"',
        "00010.100 dut: m-lap-us-1000000",
        "00022.200 dut: some text the DUT printed without a newline",
        "m-lap-us-13100000",  # the runner wrote no host time on this line
        "00022.300 dut: m-infer-done", ""])
    for chunks in ([text], [text[:70], text[70:]]):  # any chunk split
        inf = eembc.parse_log_chunks(chunks).infers[0]
        assert inf.laps == [(10.1, 1_000_000), (22.2, 13_100_000)]


# -- 3: duplicated results.txt blocks ---------------------------------------------------------


def test_3_duplicated_blocks_are_cosmetic(hard: Path, reference_dir: Path) -> None:
    report = _rounds(hard, reference_dir)["v1.2"]
    perf = _row(report, "ic", "performance")
    assert perf.valid and perf.recomputed == pytest.approx(8.05, abs=5e-4)
    assert "TINY-LOG-001" not in _ids(report) and "TINY-LOG-003" in _ids(report, "warning")
    assert report.ok
    claims = eembc.parse_results((hard / "v1.2" / BOSCH / "performance/results.txt").read_text())
    assert [w["window"] for w in claims.perf_windows] == [2, 4, 6, 8, 10]


# -- 4: signed logits -------------------------------------------------------------------------


def test_4_signed_logits_keep_their_argmax(hard: Path, reference_dir: Path) -> None:
    report = _rounds(hard, reference_dir)["v0.7"]
    acc = _row(report, "kws", "accuracy", "Alibaba")
    assert acc.valid and acc.claimed == 90.7 and acc.recomputed == pytest.approx(90.7)
    logits = [-6.113, -5.613, -4.504, -5.758, -5.922, -9.195, -5.898, 6.418, -4.734, -6.723,
              -8.461, -3.781]
    assert np.argmax(metrics.normalise(logits)) == 7  # a negative sum divides nothing
    rng = np.random.default_rng(4)
    for _ in range(200):  # normalising never changes the top-1 class
        v = rng.normal(size=12) * rng.choice([0.1, 1, 10]) + rng.choice([-5, 0, 5])
        assert np.argmax(metrics.normalise(v)) == np.argmax(v)
    fs = metrics.file_scores([("a", 7, logits), ("b", 0, [0.9, 0.1] + [0.0] * 10)])
    assert metrics.top1(fs.y_true, fs.y_pred) == 100.0


# -- 5: OS junk is never read as data --------------------------------------------------------


def test_5_appledouble_model_is_junk_not_a_model(tmp_path: Path, reference_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYPERF_CACHE_DIR", str(tmp_path / "empty-cache"))
    tree, bench, ref = make_tree(tmp_path)
    models = tree / "closed/Acme/code/kws/Board/models"
    models.mkdir(parents=True)
    shutil.copyfile(reference_dir / "kws01/kws_ref_model.tflite", models / "model.tflite")
    # the macOS AppleDouble companion: magic 00 05 16 07, 177 bytes
    (models / "._model.tflite").write_bytes(b"\x00\x05\x16\x07" + b"\x00\x02" + b"\0" * 171)
    (bench / "performance/._log.txt").write_bytes(b"\x00\x05\x16\x07" + b"\0" * 173)
    shutil.copytree(reference_dir / "kws01", ref / "kws01", dirs_exist_ok=True)
    report = check(load(tree), load_ruleset("v1.3"), ref)
    junk = [f for f in report.findings if f.rule_id == "TINY-HYG-008"]
    assert sorted(f.path.rsplit("/", 1)[-1] for f in junk) == ["._log.txt", "._model.tflite"]
    assert not [f for f in report.findings if f.rule_id in ("TINY-MODEL-001", "TINY-LAYOUT-007",
                                                            "TINY-RAW-001")], report.findings


# -- 6: the reference network with float I/O wrappers ----------------------------------------


def test_6_float_wrapped_reference_model_passes_and_other_weights_fail(
        tmp_path: Path, reference_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tinyperf.reference_models.tflite_info import read_model

    monkeypatch.setenv("TINYPERF_CACHE_DIR", str(tmp_path / "empty-cache"))
    wrapped = reference_dir / "ad01/model_ToyCar_quant_fullint.tflite"
    if not wrapped.is_file():
        pytest.skip("the shipped float-wrapped ad01 model is not in the reference folder")
    tree, _bench, ref = make_tree(tmp_path)
    shutil.copytree(reference_dir / "ad01", ref / "ad01")
    target = tree / "closed/Acme/code/ad/Board/model_ToyCar_quant_fullint.tflite"
    target.parent.mkdir(parents=True)
    shutil.copyfile(wrapped, target)
    hits = [f for f in check(load(tree), load_ruleset("v1.3"), ref).findings
            if f.rule_id == "TINY-MODEL-001"]
    assert hits == [], hits
    # the same file with other weights in its first FULLY_CONNECTED: fails, naming the op
    info = read_model(target)
    op_index = next(i for i, op in enumerate(info.operators) if op.op == "FULLY_CONNECTED")
    weights = info.tensors[info.operators[op_index].inputs[1]]
    buf = info.buffers[weights.buffer]
    data = bytearray(target.read_bytes())
    raw = np.frombuffer(bytes(data[buf.offset:buf.offset + buf.size]), dtype=np.int8)
    data[buf.offset:buf.offset + buf.size] = (raw.astype(np.int16) // 2 + 40).clip(
        -128, 127).astype(np.int8).tobytes()
    target.write_bytes(bytes(data))
    hits = [f for f in check(load(tree), load_ruleset("v1.3"), ref).findings
            if f.rule_id == "TINY-MODEL-001"]
    assert hits and hits[0].severity == "error" and "FULLY_CONNECTED" in hits[0].message


def test_6_only_edge_quantize_dequantize_count_as_wrappers() -> None:
    from tinyperf.reference_models.verify import OpChange

    def added(j: int, op: str) -> OpChange:
        return OpChange("added", None, j, None, op)

    assert io_wrappers_only([added(0, "QUANTIZE"), added(11, "DEQUANTIZE")], 12)
    assert not io_wrappers_only([added(5, "QUANTIZE")], 12)  # in the middle
    assert not io_wrappers_only([added(0, "QUANTIZE"), added(11, "AVERAGE_POOL_2D")], 12)
    assert not io_wrappers_only([OpChange("replaced", 3, 3, "AVERAGE_POOL_2D", "MAX_POOL_2D")],
                                12)
    assert not io_wrappers_only([], 12)


# -- 7: nested sub-model folders --------------------------------------------------------------


def test_7_nested_submodels_get_rows_of_their_own(tmp_path: Path) -> None:
    tree, bench, ref = make_tree(tmp_path)
    for name in ("KWS_A", "kws_int8"):
        shutil.copytree(bench, bench.parent / "nest" / name)
    shutil.rmtree(bench)
    (bench.parent / "nest").rename(bench)
    (bench / "kws_int8/performance/results.txt").unlink()
    report = check(load(tree), load_ruleset("v1.3"), ref)
    rows = {(r.benchmark, r.mode): r for r in report.rows}
    assert {b for b, _m in rows} == {"kws/KWS_A", "kws/kws_int8"}
    assert rows[("kws/KWS_A", "performance")].valid
    bad = rows[("kws/kws_int8", "performance")]
    assert not bad.valid and "missing results.txt" in bad.reason
    nested = [f for f in report.findings if f.rule_id == "TINY-LAYOUT-008"]
    assert {f.severity for f in nested} == {"warning"} and len(nested) == 2


# -- 8: a results.txt with only the median line -----------------------------------------------


def test_8_median_only_results_txt_is_a_finding(tmp_path: Path) -> None:
    tree, bench, ref = make_tree(tmp_path)
    p = bench / "performance/results.txt"
    p.write_text("".join(ln for ln in p.read_text().splitlines(keepends=True)
                         if "ulp-mlperf:" in ln))
    report = check(load(tree), load_ruleset("v1.3"), ref)
    hits = [f for f in report.findings if f.rule_id == "TINY-PERF-009"]
    assert len(hits) == 1 and "results.json" in hits[0].message
    assert not {"TINY-PERF-003", "TINY-PERF-006"} & _ids(report)  # windows from results.json


# -- 9: one rule for all benchmarks: an sww folder error invalidates its rows ------------------


def test_9_sww_mode_error_invalidates_every_sww_row(tmp_path: Path) -> None:
    tree, bench, _case = make_sww_tree(tmp_path)
    (bench / "energy/results.json").write_text("{not json")
    report = check(load(tree), load_ruleset("v1.3"))
    assert "TINY-RAW-001" in _ids(report, "error")
    assert report.rows and not any(r.valid for r in report.rows) and not report.ok


# -- 10: which benchmark lacks labels -----------------------------------------------------------


def test_10_missing_labels_name_the_benchmark(hard: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "kws01").mkdir()  # a reference folder without ic01 labels
    report = _rounds(hard, tmp_path)["v1.2"]
    messages = [f.message for f in report.findings if f.rule_id in ("TINY-ACC-003",
                                                                    "TINY-ACC-004")]
    assert any("ic01 has no label file in the reference folder (looked for "
               "ic01/y_labels.csv)" in m for m in messages), messages
    assert not any("set --reference-dir" in m for m in messages)
    monkeypatch.delenv("TINYPERF_REFERENCE_DIR", raising=False)
    unset = _rounds(hard, None)["v1.2"]
    assert any("set --reference-dir" in f.message for f in unset.findings)


# -- 11: the EEMBC runner's AUC -----------------------------------------------------------------


@pytest.mark.parametrize(("round_", "path", "claimed"), [
    ("v0.7", ANDES, 0.98), ("v1.2", BOSCH, 0.98), ("v0.7", ALIBABA, 0.95)])
def test_11_eembc_auc_matches_the_printed_digits(hard: Path, reference_dir: Path, round_: str,
                                                 path: str, claimed: float) -> None:
    from tinyperf.rules.engine import recompute_tree, reference_labels

    rules = load_ruleset(resolve_version(round_)[0])
    tree = load(hard / round_)
    figs = recompute_tree(tree, rules.settings, reference_labels(rules, reference_dir),
                          reference_dir)[path]
    assert figs.auc is not None and figs.auc.claimed == claimed
    assert f"{figs.auc.recomputed:.2f}" == f"{claimed:.2f}" and figs.auc.agrees


def test_11_eembc_auc_formula_on_a_hand_computed_case() -> None:
    # 2 classes, values as printed: class 0 column (0.9, 0.2), class 1 column (0.1, 0.8)
    y = np.array([0, 1])
    v = np.array([[0.9, 0.1], [0.2, 0.8]])
    # each class separates perfectly: AUC_k = 1; plus the (1, 1) start adds nothing
    assert metrics.eembc_auc(y, v) == pytest.approx(1.0)
    # a constant column above every threshold: TPR = FPR = 1 throughout -> AUC 0
    assert metrics.eembc_auc(y, np.array([[2.0, 2.0], [2.0, 2.0]])) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        metrics.eembc_auc(y, np.array([[1.0], [0.0]]))


# -- 12: messages name paths relative to the checked tree --------------------------------------


def test_12_no_absolute_paths_in_findings(hard: Path, reference_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for report in check_rounds(hard, reference_dir=reference_dir):
        for f in report.findings:
            for text in (f.path, f.message, f.evidence):
                assert str(hard) not in text and "/work/" not in text, f
    with pytest.raises(SystemExit) as exc:  # a round tinyperf has no rules for: usage error
        main(["check", str(hard / "v0.7"), "--round", "v1.9"])
    assert exc.value.code == 2
    capsys.readouterr()
