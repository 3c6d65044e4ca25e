"""TINY-MODEL-001: a closed-division model file in the tree must be the reference model.

Real reference ``.tflite`` files (TINYPERF_REFERENCE_DIR), real perturbations of their
weight buffers, the real verifier. The user cache is pointed at an empty folder so a
developer's cached models cannot change a verdict.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from rules_synth import make_tree, system_json
from tinyperf.reference_models.tflite_info import read_model
from tinyperf.rules.engine import Report, check
from tinyperf.rules.ruleset import load_ruleset
from tinyperf.submissions.equivalence import find_models
from tinyperf.submissions.loader import load

KWS_CODE = "closed/Acme/code/kws/Board/model"


@pytest.fixture(autouse=True)
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYPERF_CACHE_DIR", str(tmp_path / "empty-cache"))


@pytest.fixture()
def tree(tmp_path: Path, reference_dir: Path) -> tuple[Path, Path, Path]:
    """The kws tree, its reference folder holding the labels and the reference models."""
    root, bench, ref = make_tree(tmp_path)
    for model in ("kws01", "ad01"):
        for f in (reference_dir / model).glob("*.tflite"):
            (ref / model).mkdir(exist_ok=True)
            shutil.copyfile(f, ref / model / f.name)
    return root, bench, ref


def _put(root: Path, rel: str, source: Path | bytes) -> Path:
    dest = root / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, bytes):
        dest.write_bytes(source)
    else:
        shutil.copyfile(source, dest)
    return dest


def _model_hits(report: Report) -> list:  # type: ignore[type-arg]
    return [f for f in report.findings if f.rule_id == "TINY-MODEL-001"]


def _perturbed(path: Path) -> bytes:
    """The model with the first conv kernel's int8 weights shifted by 40 steps."""
    info = read_model(path)
    data = bytearray(path.read_bytes())
    op = info.operators[0]
    weights = info.tensors[op.inputs[1]]
    buf = info.buffers[weights.buffer]
    raw = np.frombuffer(bytes(data[buf.offset:buf.offset + buf.size]), dtype=np.int8)
    data[buf.offset:buf.offset + buf.size] = (raw.astype(np.int16) // 2 + 40).clip(
        -128, 127).astype(np.int8).tobytes()
    return bytes(data)


def test_reference_model_passes(tree: tuple[Path, Path, Path]) -> None:
    root, _bench, ref = tree
    _put(root, f"{KWS_CODE}/kws_ref_model.tflite", ref / "kws01/kws_ref_model.tflite")
    report = check(load(root), load_ruleset("v1.3"), ref)
    assert _model_hits(report) == [] and report.ok


def test_perturbed_weights_are_an_error(tree: tuple[Path, Path, Path]) -> None:
    root, _bench, ref = tree
    _put(root, f"{KWS_CODE}/kws_ref_model.tflite",
         _perturbed(ref / "kws01/kws_ref_model.tflite"))
    report = check(load(root), load_ruleset("v1.3"), ref)
    hits = _model_hits(report)
    assert [h.severity for h in hits] == ["error"] and not report.ok
    assert "not equivalent to the reference kws01 (kws)" in hits[0].message
    assert "1 constant tensor(s) out of tolerance; op 0 CONV_2D weights" in hits[0].message
    assert hits[0].key == ("closed", "Acme", "Board", "kws")
    assert not any(r.valid for r in report.rows if r.benchmark == "kws")


def test_ad01_model_submitted_for_kws_is_an_error(tree: tuple[Path, Path, Path]) -> None:
    root, bench, ref = tree
    _put(root, f"{bench.relative_to(root)}/model.tflite", ref / "ad01/ad01_int8.tflite")
    hits = _model_hits(check(load(root), load_ruleset("v1.3"), ref))
    assert [h.severity for h in hits] == ["error"]
    assert "kws01" in hits[0].message and "op change(s)" in hits[0].message
    assert "op 0 CONV_2D removed" in hits[0].message


def test_reference_not_available_is_a_warning(tree: tuple[Path, Path, Path]) -> None:
    root, _bench, ref = tree
    _put(root, f"{KWS_CODE}/kws_ref_model.tflite",
         _perturbed(ref / "kws01/kws_ref_model.tflite"))
    report = check(load(root), load_ruleset("v1.3"), None)
    hits = _model_hits(report)
    assert [h.severity for h in hits] == ["warning"] and report.ok
    assert "claim not verifiable" in hits[0].message and "kws01" in hits[0].message


def test_garbage_model_file_is_an_error_not_a_crash(tree: tuple[Path, Path, Path]) -> None:
    root, _bench, ref = tree
    good = (ref / "kws01/kws_ref_model.tflite").read_bytes()
    _put(root, f"{KWS_CODE}/truncated.tflite", good[:3000])
    _put(root, f"{KWS_CODE}/text.tflite", b"not a model at all\n" * 10)
    hits = _model_hits(check(load(root), load_ruleset("v1.3"), ref))
    assert len(hits) == 2 and all(h.severity == "error" for h in hits)
    assert all("not a readable .tflite model" in h.message for h in hits)


def test_open_division_models_are_not_checked(tree: tuple[Path, Path, Path]) -> None:
    root, _bench, ref = tree
    (root / "closed").rename(root / "open")
    (root / "open/Acme/systems/Board.json").write_text(json.dumps(system_json(Division="Open")))
    _put(root, "open/Acme/code/kws/Board/model/kws.tflite",
         _perturbed(ref / "kws01/kws_ref_model.tflite"))
    assert _model_hits(check(load(root), load_ruleset("v1.3"), ref)) == []


def test_unassociated_and_unknown_reference(tree: tuple[Path, Path, Path]) -> None:
    root, _bench, ref = tree
    model = ref / "kws01/kws_ref_model.tflite"
    _put(root, "closed/Acme/code/model.tflite", model)  # no benchmark in the path
    # vww01 is in the registry (issue 17) but this tree's reference dir has no vww01 file
    _put(root, "closed/Acme/code/vww_96_int8.tflite", model)
    hits = {h.path: h for h in _model_hits(check(load(root), load_ruleset("v1.3"), ref))}
    assert hits["closed/Acme/code/model.tflite"].severity == "info"
    assert "not associated" in hits["closed/Acme/code/model.tflite"].message
    vww = hits["closed/Acme/code/vww_96_int8.tflite"]
    assert vww.severity == "warning" and "claim not verifiable: model vww01" in vww.message
    assert "vww_96_int8.tflite for vww01 not found" in vww.message


def test_association_rules(tmp_path: Path) -> None:
    root, bench, _ref = make_tree(tmp_path, "v1.4")
    shutil.copytree(bench, bench.parent / "ic")
    for rel in ("code/keyword_spotting/x.tflite", "code/ic01/x.tflite", "code/kws_ad/x.tflite",
                "code/ad/Board/model/ad01_int8.tflite", "code/Other/kws/m.TFLITE",
                "results/Board/kws/model.tflite", "code/notes.txt"):
        _put(root, f"closed/Acme/{rel}", b"x")
    found = {m.rel.split("/", 2)[2]: m for m in find_models(load(root),
                                                            load_ruleset("v1.4").settings)}
    assert "code/notes.txt" not in found
    assert (found["code/keyword_spotting/x.tflite"].model_id,
            found["code/keyword_spotting/x.tflite"].results) == ("kws01", [("Board", "kws")])
    ic = found["code/ic01/x.tflite"]  # ic and ic2 share ic01; only ic has results here
    assert ic.model_id == "ic01" and ic.benchmarks == ["ic", "ic2"]
    assert ic.results == [("Board", "ic")]
    assert found["code/kws_ad/x.tflite"].model_id is None
    assert found["code/kws_ad/x.tflite"].candidates == ["ad", "kws"]
    assert found["code/ad/Board/model/ad01_int8.tflite"].model_id == "ad01"
    assert found["code/ad/Board/model/ad01_int8.tflite"].results == []  # no ad result
    assert found["code/Other/kws/m.TFLITE"].results == [("Board", "kws")]
    assert found["results/Board/kws/model.tflite"].results == [("Board", "kws")]
