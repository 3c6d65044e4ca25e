"""Untrusted input: symlinks out, huge files, garbage, duplicate keys, archives, YAML tags."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from rules_synth import make_tree
from tinyperf.rules.engine import check
from tinyperf.rules.ruleset import load_ruleset
from tinyperf.rules.schema import RuleSetError
from tinyperf.submissions.loader import load, open_tree


def _ids(tree: Path, ref: Path | None = None) -> set[str]:
    return {f.rule_id for f in check(load(tree), load_ruleset("v1.3"), ref).findings}


def test_symlink_out_of_tree_is_reported_not_followed(tmp_path: Path) -> None:
    tree, bench, ref = make_tree(tmp_path)
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "results.txt").write_text("0101.120000 ulp-mlperf: Top 1% = 99.9\n")
    os.symlink(outside, bench.parent / "vww")  # a benchmark folder pointing out
    loaded = load(tree)
    assert "vww" not in loaded.submitters[0].systems["Board"].benchmarks
    link = [e for e in loaded.entries if e.kind == "symlink"][0]
    assert link.link_escapes and link.link_to_dir
    assert "TINY-HYG-002" in _ids(tree, ref)


def test_garbage_and_duplicate_keys(tmp_path: Path) -> None:
    tree, bench, ref = make_tree(tmp_path)
    (bench / "performance/results.txt").write_bytes(os.urandom(20000))
    (bench / "energy/results.json").write_text('[{"mode": "e", "mode": "e"}]')
    (tree / "closed/Acme/systems/Board.json").write_text(
        json.dumps({"Status": "Available"})[:-1] + ', "Status": "Preview"}')
    report = check(load(tree), load_ruleset("v1.3"), ref)
    ids = {f.rule_id for f in report.findings}
    assert {"TINY-RAW-001", "TINY-SYS-001", "TINY-PERF-001"} <= ids
    dup = [f for f in report.findings if f.rule_id == "TINY-SYS-001"]
    assert dup[0].severity == "warning" and "Status" in dup[0].message


def test_huge_file_is_listed_not_read(tmp_path: Path) -> None:
    tree, bench, ref = make_tree(tmp_path)
    with open(bench / "accuracy/log.txt", "wb") as fh:
        fh.truncate(600 * 1024 * 1024)  # sparse: over the size rule and the read cap
    ids = _ids(tree, ref)
    assert {"TINY-HYG-003", "TINY-RAW-001"} <= ids


def test_non_utf8_name_and_deep_nesting_do_not_crash(tmp_path: Path) -> None:
    tree, _bench, ref = make_tree(tmp_path)
    bad = os.fsdecode(bytes(tree / "closed/Acme") + b"/caf\xe9")
    os.mkdir(bad)
    Path(bad, "x.txt").write_text("x")
    p = tree / "closed/Acme/code"
    for i in range(40):
        p = p / "d"
    p.mkdir(parents=True)
    report = check(load(tree), load_ruleset("v1.3"), ref)
    ids = {f.rule_id for f in report.findings}
    assert {"TINY-HYG-009", "TINY-HYG-010"} <= ids
    assert all("\udce9" not in f.path for f in report.findings)  # printable paths


def _tar_with(tmp_path: Path, tree: Path) -> Path:
    out = tmp_path / "sub.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        tf.add(tree, arcname="v1.3")
        data = b"pwned"
        info = tarfile.TarInfo("../escape.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("v1.3/closed/Acme/evil")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    return out


def test_archive_members_outside_are_rejected(tmp_path: Path) -> None:
    tree, _bench, ref = make_tree(tmp_path / "src")
    archive = _tar_with(tmp_path, tree)
    with open_tree(archive) as loaded:
        report = check(loaded, load_ruleset(loaded.version_hint or "v1.3"), ref)
        extracted_root = Path(loaded.label)
    rejected = [f for f in report.findings if f.rule_id == "TINY-HYG-011"]
    assert len(rejected) == 2
    assert not (tmp_path / "escape.txt").exists() and not Path("escape.txt").exists()
    assert any(r.valid for r in report.rows) and extracted_root.name == "sub.tar.gz"


def test_zip_input(tmp_path: Path) -> None:
    tree, _bench, ref = make_tree(tmp_path / "src")
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in tree.rglob("*"):
            zf.write(path, Path("v1.3") / path.relative_to(tree))
        zf.writestr("/abs.txt", "x")
    with open_tree(archive) as loaded:
        report = check(loaded, load_ruleset("v1.3"), ref)
    assert [f.rule_id for f in report.findings] == ["TINY-HYG-011"]
    assert len(report.rows) == 3


def test_checker_never_writes_into_the_tree(tmp_path: Path) -> None:
    tree, _bench, ref = make_tree(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tree.rglob("*")}
    check(load(tree), load_ruleset("v1.3"), ref)
    assert {p: p.stat().st_mtime_ns for p in tree.rglob("*")} == before


def test_yaml_python_tags_are_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    (tmp_path / "evil.yaml").write_text(
        f'spec: "1.0"\nsettings: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(RuleSetError, match="evil.yaml"):
        load_ruleset("evil", data_dir=tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("rule, match", [
    ({"id": "TINY-X-001", "kind": "eval", "severity": "error", "title": "t", "message": "m",
      "ref": "r"}, "TINY-X-001: unknown check kind"),
    ({"id": "TINY-X-002", "kind": "hygiene_flag", "severity": "fatal", "title": "t",
      "message": "m", "ref": "r"}, "TINY-X-002: severity"),
    ({"id": "TINY-X-003", "kind": "hygiene_flag", "severity": "error", "title": "t",
      "message": "{x.__class__}", "ref": "r"}, "TINY-X-003: placeholder"),
    ({"id": "bad id", "kind": "hygiene_flag"}, "bad or missing rule id"),
])
def test_schema_errors_name_file_and_rule(tmp_path: Path, rule: dict, match: str) -> None:
    import yaml

    (tmp_path / "v9.yaml").write_text(yaml.safe_dump({"spec": "1.0", "rules": [rule]}))
    with pytest.raises(RuleSetError, match=match) as err:
        load_ruleset("v9", data_dir=tmp_path)
    assert "v9.yaml" in str(err.value)
