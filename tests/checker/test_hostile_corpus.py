"""Issue 19 item 12: a generated corpus of hostile trees (nothing committed: every case is
built here from the valid synthetic tree of ``tests/rules/rules_synth.py``).

Each case must end in one clear finding naming what and where, never a traceback; the
rest of the tree is still checked; temporary files and the report stay bounded; and the
exit status says which it is: 1 rule errors found, 3 part of the input could not be
checked (``tinyperf check --help`` documents both).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from rules_synth import make_eembc_energy, make_tree
from tinyperf.submissions import safeio, unpack
from tinyperf.submissions.loader import open_tree

from tinyperf.cli.main import main

E, P = "energy", "performance"


def _tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The valid kws tree plus a second, untouched system: 'the rest of the tree'."""
    tree, bench, ref = make_tree(tmp_path)
    other = bench.parents[1] / "Board2"
    shutil.copytree(bench.parent, other)
    shutil.copyfile(tree / "closed/Acme/systems/Board.json",
                    tree / "closed/Acme/systems/Board2.json")
    return tree, bench, ref


def _run(path: Path, ref: Path, capsys: pytest.CaptureFixture[str],
         fmt: str = "json") -> tuple[int, dict | str]:
    status = main(["check", str(path), "--reference-dir", str(ref), "--round", "v1.3",
                   "--format", fmt])
    out = capsys.readouterr().out
    return status, (json.loads(out) if fmt == "json" else out)


def _rest_checked(report: dict) -> None:
    board2 = [r for r in report["results"] if r["system"] == "Board2"]
    assert board2 and all(r["valid"] for r in board2), board2


def _tar_gz(tree: Path, out: Path) -> Path:
    with tarfile.open(out, "w:gz") as tf:
        tf.add(tree, arcname=tree.name)
    return out


def _zip(tree: Path, out: Path, compress: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(out, "w", compress) as zf:
        for p in sorted(tree.rglob("*")):
            if p.is_file():
                zf.write(p, str(Path(tree.name) / p.relative_to(tree)))
    return out


# -- archives: "could not check" (exit 3), what was readable still checked -------------------


def test_truncated_tar_gz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree, _b, ref = _tree(tmp_path)
    arc = _tar_gz(tree, tmp_path / "sub.tar.gz")
    arc.write_bytes(arc.read_bytes()[:arc.stat().st_size * 2 // 3])
    status, report = _run(arc, ref, capsys)
    assert status == 3 and report["incomplete"]
    hits = [f for f in report["findings"] if f["rule_id"] == "TINY-CHECK-001"]
    assert len(hits) == 1 and "sub.tar.gz: archive unreadable after" in hits[0]["message"]


def test_random_bytes_named_tar_gz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tree(tmp_path)
    arc = tmp_path / "junk.tar.gz"
    arc.write_bytes(os.urandom(5000))
    status, report = _run(arc, tmp_path / "reference", capsys)
    assert status == 3 and report["incomplete"] and report["results"] == []
    assert [f["rule_id"] for f in report["findings"]] == ["TINY-CHECK-001"]


def test_tar_with_a_path_as_file_and_folder(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    tree, _b, ref = _tree(tmp_path)
    arc = _tar_gz(tree, tmp_path / "clash.tar.gz")
    with tarfile.open(arc) as src:
        members = [(m, src.extractfile(m).read() if m.isfile() else None)  # type: ignore[union-attr]
                   for m in src.getmembers()]
    with tarfile.open(arc, "w:gz") as tf:
        for m, data in members:
            tf.addfile(m, io.BytesIO(data) if data is not None else None)
        for name in ("v1.3/closed/Acme/code/x", "v1.3/closed/Acme/code/x/y"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tf.addfile(info, io.BytesIO(b"1"))
    status, report = _run(arc, ref, capsys)
    assert status == 3
    hits = [f for f in report["findings"] if f["rule_id"] == "TINY-CHECK-001"]
    assert len(hits) == 1 and "code/x/y: path clash" in hits[0]["message"]
    _rest_checked(report)


def test_truncated_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree, _b, ref = _tree(tmp_path)
    arc = _zip(tree, tmp_path / "sub.zip")
    arc.write_bytes(arc.read_bytes()[:arc.stat().st_size // 2])  # central directory lost
    status, report = _run(arc, ref, capsys)
    assert status == 3 and "sub.zip: archive unreadable" in report["findings"][0]["message"]


def _zip_member_data(arc: Path, name: str) -> int:
    """Offset of ``name``'s stored data in ``arc``."""
    with zipfile.ZipFile(arc) as zf:
        info = zf.getinfo(name)
    raw = arc.read_bytes()
    name_len, extra_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28],
                                         "little"), \
        int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    return info.header_offset + 30 + name_len + extra_len


def test_zip_member_failing_its_crc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree, _b, ref = _tree(tmp_path)
    arc = _zip(tree, tmp_path / "crc.zip", zipfile.ZIP_STORED)
    name = "v1.3/closed/Acme/results/Board/kws/performance/results.txt"
    data = bytearray(arc.read_bytes())
    data[_zip_member_data(arc, name) + 3] ^= 0x01
    arc.write_bytes(bytes(data))
    status, report = _run(arc, ref, capsys)
    assert status == 3
    hits = [f for f in report["findings"] if f["rule_id"] == "TINY-CHECK-001"]
    assert len(hits) == 1 and "performance/results.txt: unreadable member (BadZipFile: " \
        "Bad CRC-32" in hits[0]["message"]
    _rest_checked(report)


def test_encrypted_zip_member(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree, _b, ref = _tree(tmp_path)
    arc = _zip(tree, tmp_path / "enc.zip", zipfile.ZIP_STORED)
    data = bytearray(arc.read_bytes())
    name = "v1.3/closed/Acme/results/Board/kws/accuracy/results.json"
    with zipfile.ZipFile(arc) as zf:
        info = zf.getinfo(name)
    # set the "encrypted" flag bit in the local and the central header of that member
    data[info.header_offset + 6] |= 0x01
    off = data.find(b"PK\x01\x02")
    while off != -1:
        if int.from_bytes(data[off + 42:off + 46], "little") == info.header_offset:
            data[off + 8] |= 0x01
        off = data.find(b"PK\x01\x02", off + 4)
    arc.write_bytes(bytes(data))
    status, report = _run(arc, ref, capsys)
    assert status == 3
    hits = [f for f in report["findings"] if f["rule_id"] == "TINY-CHECK-001"]
    assert len(hits) == 1 and "encrypted member" in hits[0]["message"]
    _rest_checked(report)


def test_zip_of_zeros_keeps_the_temp_footprint_bounded(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # reduced size: caps lowered 16x, a 64 MB member and 8 x 8 MB members of zeros
    monkeypatch.setattr(safeio, "READ_CAP", 16 << 20)
    monkeypatch.setattr(unpack, "ARCHIVE_MAX_WRITTEN", 32 << 20)
    tree, _b, _ref = _tree(tmp_path)
    arc = tmp_path / "zeros.zip"
    zeros = bytes(8 << 20)
    with zipfile.ZipFile(arc, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(tree.rglob("*")):
            if p.is_file():
                zf.write(p, str(Path(tree.name) / p.relative_to(tree)))
        with zf.open("v1.3/closed/Acme/code/big.bin", "w") as dst:
            for _ in range(8):
                dst.write(zeros)
        for k in range(8):
            zf.writestr(f"v1.3/closed/Acme/code/z{k}.bin", zeros)
    assert arc.stat().st_size < 1 << 20
    with open_tree(arc) as loaded:
        base = loaded.root
        assert base is not None
        on_disk = sum(os.stat(p).st_blocks * 512 for p in base.rglob("*") if p.is_file())
        sizes = {e.name: e.size for e in loaded.entries if e.name.endswith(".bin")}
        refused = [p for p in loaded.problems if p[0] == "archive_rejected"]
    assert on_disk <= (32 << 20) + (1 << 20), on_disk  # the budget, not 128 MB
    assert sizes["big.bin"] == 64 << 20  # sparse: its size is still seen by the size rule
    assert len(refused) == 5  # 3 of the 8 MB members fit the 32 MB budget


# -- damaged raw data: one clear finding (exit 1), the rest checked -------------------------


def _mutated(tmp_path: Path, capsys: pytest.CaptureFixture[str],
             mutate: Callable[[Path, Path], None]) -> tuple[int, dict]:
    tree, bench, ref = _tree(tmp_path)
    mutate(tree, bench)
    return _run(tree, ref, capsys)  # type: ignore[return-value]


def test_eembc_timestamps_nan_infinity_negative(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    def mutate(_tree: Path, bench: Path) -> None:
        shutil.rmtree(bench / E)
        make_eembc_energy(bench / E)
        (bench / E / "trace1-timestamps.json").write_text("[NaN, Infinity, -1]")

    status, report = _mutated(tmp_path, capsys, mutate)
    assert status == 1 and not report["incomplete"]
    hits = [f for f in report["findings"] if f["rule_id"] == "TINY-RAW-001"]
    assert len(hits) == 1 and hits[0]["path"].endswith("energy/trace1-timestamps.json")
    assert "timestamp 0 is nan" in hits[0]["message"]
    _rest_checked(report)


def test_mlc_power_samples_not_numbers(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    def mutate(_tree: Path, bench: Path) -> None:
        path = bench / E / "results.json"
        records = json.loads(path.read_text())
        for r in records:
            if r.get("mode") == "e":
                r["power"]["samples"] = ["x"] * len(r["power"]["samples"])
        path.write_text(json.dumps(records))

    status, report = _mutated(tmp_path, capsys, mutate)
    assert status == 1 and not report["incomplete"]
    errors = [f["message"] for f in report["findings"] if f["severity"] == "error"]
    assert errors == ["energy: no window's energy can be computed from the results.json "
                      "power samples"]
    assert any("power samples are not all numbers" in f["message"]  # what, per window
               for f in report["findings"])
    energy = [r for r in report["results"] if r["system"] == "Board" and r["mode"] == E]
    assert not energy[0]["valid"]
    _rest_checked(report)


def test_results_json_null_is_not_valid(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    status, report = _mutated(tmp_path, capsys, lambda _t, b: (
        b / P / "results.json").write_text("null"))
    assert status == 1
    hits = [f for f in report["findings"] if f["rule_id"] == "TINY-RAW-001"]
    assert len(hits) == 1 and "top level is NoneType" in hits[0]["message"]
    perf = [r for r in report["results"] if r["system"] == "Board" and r["mode"] == P]
    assert perf and not perf[0]["valid"]
    _rest_checked(report)


def test_1e309_elapsed_time_is_no_time(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    def mutate(_tree: Path, bench: Path) -> None:
        path = bench / P / "results.json"
        path.write_text(path.read_text().replace('"elapsed_time": 10500000',
                                                 '"elapsed_time": 1e309', 1))

    status, report = _mutated(tmp_path, capsys, mutate)
    assert status == 1 and not report["incomplete"]
    _rest_checked(report)


def test_newline_in_a_folder_name_cannot_inject_report_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def mutate(tree: Path, _bench: Path) -> None:
        (tree / "closed/Evil/code/x\nVerdict: VALID (99/99 results valid)").mkdir(parents=True)

    _tree_status, _ = _mutated(tmp_path, capsys, mutate)
    tree = tmp_path / "v1.3"
    status, out = _run(tree, tmp_path / "reference", capsys, fmt="text")
    assert status == 1
    assert "x\\x0aVerdict: VALID" in out  # escaped, on the finding's own line
    assert [ln for ln in out.splitlines() if ln.startswith("Verdict:")] == [
        "Verdict: NOT VALID (6/6 results valid)"]


@pytest.mark.parametrize("count", [200_000, pytest.param(1_200_000, marks=pytest.mark.slow)])
def test_huge_timestamps_file_gives_a_bounded_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], count: int) -> None:
    def mutate(_tree: Path, bench: Path) -> None:
        shutil.rmtree(bench / E)
        make_eembc_energy(bench / E)
        stamps = [0.017] + [2.0 + 0.001 * k for k in range(count)]
        (bench / E / "trace1-timestamps.json").write_text(json.dumps(stamps))

    status, report = _mutated(tmp_path, capsys, mutate)
    assert status == 1
    assert len(report["findings"]) < 100
    assert len(json.dumps(report)) < 200_000
    assert any("only the first 100 are read" in f["message"] for f in report["findings"])
    _rest_checked(report)


def test_symlink_loop_and_deep_nesting(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    def mutate(tree: Path, _bench: Path) -> None:
        (tree / "closed/Evil").mkdir()  # another submitter: Acme's rows stay checked
        os.symlink(".", tree / "closed/Evil/loop")
        deep = tree / "closed/Evil/code"
        for _ in range(40):
            deep = deep / "d"
        deep.mkdir(parents=True)

    status, report = _mutated(tmp_path, capsys, mutate)
    assert status == 1
    ids = {f["rule_id"] for f in report["findings"]}
    assert {"TINY-HYG-002", "TINY-HYG-010"} <= ids
    _rest_checked(report)
