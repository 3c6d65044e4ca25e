"""Walk a submission tree once into ``model.Tree`` records, reading defensively.

Owns the filesystem side of checking: one ``os.scandir`` walk that never follows a
symlink (links are recorded with where they point), caps depth, entry count and read
sizes, tolerates binary garbage and non-UTF-8 names, and parses the runner files of
every mode folder. Archives are unpacked only inside a temporary folder. Nothing is
ever written into the tree.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tinyperf.formats import eembc_log, mlc
from tinyperf.submissions import claims as claims_mod
from tinyperf.submissions import safeio
from tinyperf.submissions.model import (
    MODES,
    Benchmark,
    Entry,
    ModeRun,
    Submitter,
    System,
    Tree,
    is_junk,
)

MAX_DEPTH = 24
MAX_ENTRIES = 500_000
DIVISIONS = ("closed", "open")
_RE_VERSION = re.compile(r"^v\d+\.\d+$")


def detect_version(path: Path) -> str | None:
    """``v1.3`` when a component of ``path`` names a round (``…/v1.3/closed/…``)."""
    for part in reversed(Path(os.path.abspath(path)).parts):
        if _RE_VERSION.match(part):
            return part
    return None


@contextmanager
def open_tree(path: Path, *, read: bool = True) -> Iterator[Tree]:
    """Load ``path`` (a folder, or a ``.zip``/``.tar.gz`` unpacked to a temp folder);
    ``read=False``: see :func:`load`."""
    if safeio.is_archive(path):
        from tinyperf.submissions.unpack import unpacked  # tarfile, zipfile: archives only

        with unpacked(path) as ext:
            inner = _single_child(ext.root)
            tree = load(inner, label=path.name, read=read)
            tree.version_hint = detect_version(inner) or detect_version(path)
            tree.problems += [("archive_rejected", name, why) for name, why in ext.rejected]
            tree.problems += [("check_failed", name, f"archive member {name}: {why}")
                              for name, why in ext.unreadable]
            if ext.failed:
                tree.problems.append(("check_failed", path.name, ext.failed))
            yield tree
        return
    yield load(path, read=read)


def _single_child(root: Path) -> Path:
    """Archives usually hold one top folder; descend into it unless it is a division."""
    kids = [p for p in root.iterdir() if not p.is_symlink()]
    while len(kids) == 1 and kids[0].is_dir() and kids[0].name not in DIVISIONS \
            and not (kids[0] / "results").is_dir():
        root = kids[0]
        kids = [p for p in root.iterdir() if not p.is_symlink()]
    return root


def load(path: Path, label: str | None = None, *, read: bool = True) -> Tree:
    """Walk ``path`` (a round, a division or a submitter folder) into a ``Tree``.

    ``read=False`` walks only: every mode folder is listed (``ModeRun.unread``) and its
    runner files are parsed later by :func:`read_benchmark`, one benchmark at a time (what
    the checker does, so that folders can be read in parallel and their per-input data
    dropped once their figures are recomputed).
    """
    path = Path(path)
    prefix = _prefix_for(path)
    tree = Tree(label=label or str(path), version_hint=detect_version(path))
    children: dict[str, list[Entry]] = defaultdict(list)
    parts = [p for p in prefix.split("/") if p]
    for i in range(len(parts)):  # the folders above the walked one, as the structure sees them
        children["/".join(parts[:i])].append(Entry("/".join(parts[:i + 1]), "dir"))
    _walk(os.fspath(path), prefix, 0, tree, children)
    _structure(path, prefix, tree, children)
    if read:
        for _sub, _sys, bench in tree.benchmarks():
            read_benchmark(tree.root, bench)  # type: ignore[arg-type]
    return tree


def read_benchmark(root: Path, bench: Benchmark) -> None:
    """Parse the runner files of every mode folder of ``bench`` not read yet."""
    for run in bench.modes.values():
        if run.unread:
            _read_run(root, run)


def read_cost(bench: Benchmark) -> int:
    """Bytes :func:`read_benchmark` would parse (what reading a folder costs, roughly)."""
    return sum(size for run in bench.modes.values() if run.unread
               for name, size in run.files.items()
               if name in _READERS and size <= safeio.READ_CAP)


def _prefix_for(path: Path) -> str:
    if (path / "results").is_dir() and not (path / "results").is_symlink():
        return f"{path.parent.name}/{path.name}"
    if path.name in DIVISIONS:
        return path.name
    return ""


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _walk(folder: str, rel: str, depth: int, tree: Tree,
          children: dict[str, list[Entry]]) -> None:
    # plain str paths: a Path per folder (a round has ~700) costs ~4 ms of a check's start
    if depth > MAX_DEPTH:
        tree.problems.append(("too_deep", rel, f"nesting deeper than {MAX_DEPTH} levels"))
        return
    try:
        items = sorted(os.scandir(folder), key=lambda d: d.name)
    except OSError as exc:
        tree.problems.append(("unreadable", rel, str(exc)))
        return
    for item in items:
        if len(tree.entries) >= MAX_ENTRIES:
            tree.problems.append(("too_many", rel, f"more than {MAX_ENTRIES} entries"))
            return
        entry = _entry(item, _join(rel, item.name), folder)
        tree.entries.append(entry)
        children[rel].append(entry)
        if entry.kind == "dir":
            _walk(item.path, entry.rel, depth + 1, tree, children)


def _entry(item: os.DirEntry[str], rel: str, folder: str) -> Entry:
    if item.is_symlink():
        target = os.readlink(item.path)
        resolved = os.path.realpath(os.path.join(folder, target))
        inside = os.path.commonpath([resolved, os.path.realpath(folder)]) == \
            os.path.realpath(folder) if os.path.isabs(resolved) else False
        return Entry(rel, "symlink", 0, target, not inside or ".." in Path(target).parts,
                     os.path.isdir(resolved))
    if item.is_dir(follow_symlinks=False):
        return Entry(rel, "dir")
    if item.is_file(follow_symlinks=False):
        return Entry(rel, "file", item.stat(follow_symlinks=False).st_size)
    return Entry(rel, "other")


def _dirs(children: dict[str, list[Entry]], rel: str) -> list[Entry]:
    return [e for e in children.get(rel, []) if e.kind == "dir"]


def _structure(root: Path, prefix: str, tree: Tree, children: dict[str, list[Entry]]) -> None:
    base = root
    for _ in [p for p in prefix.split("/") if p]:
        base = base.parent
    tree.root = base
    tree.top_dirs = [e.name for e in _dirs(children, "")]
    for div in (d for d in DIVISIONS if d in tree.top_dirs):
        for sub in _dirs(children, div):
            tree.submitters.append(_submitter(base, div, sub, children))


def _submitter(base: Path, div: str, sub: Entry, children: dict[str, list[Entry]]) -> Submitter:
    out = Submitter(div, sub.name, sub.rel)
    names = {e.name: e for e in children.get(sub.rel, [])}
    results = names.get("results")
    out.has_results = results is not None and results.kind == "dir"
    if not out.has_results:
        return out
    system_files = {e.name: e for e in children.get(f"{sub.rel}/systems", [])}
    for sysdir in _dirs(children, results.rel):  # type: ignore[union-attr]
        system = System(sysdir.name, sysdir.rel, json_rel=f"{sub.rel}/systems/{sysdir.name}.json")
        jf = system_files.get(f"{sysdir.name}.json")
        if jf is not None and jf.kind == "file":
            text = _text(base / jf.rel, jf.size)
            system.json = safeio.load_json(text) if text is not None else \
                safeio.JsonDoc(error="too large to read")
        for bench in _dirs(children, sysdir.rel):
            parent = _benchmark(bench, children)
            nested = [_benchmark(d, children, parent.name)
                      for d in _dirs(children, bench.rel) if d.name in parent.submodels]
            if parent.modes or parent.other_dirs or not nested:
                system.benchmarks[parent.label] = parent
            for sub_model in nested:
                system.benchmarks[sub_model.label] = sub_model
        out.systems[sysdir.name] = system
    return out


def _benchmark(bench: Entry, children: dict[str, list[Entry]],
               parent: str | None = None) -> Benchmark:
    """A benchmark folder; ``parent`` set: a sub-model folder nested in benchmark
    ``parent`` (``ad/AD08``), read as a benchmark of its own with its own rows."""
    out = Benchmark(parent or bench.name, bench.rel,
                    label=f"{parent}/{bench.name}" if parent else "")
    for e in children.get(bench.rel, []):
        if e.name == "EEMBC_RUNNER" and e.kind in ("file", "dir"):
            out.marker = True
        elif e.kind == "dir" and e.name in MODES:
            out.modes[e.name] = _mode(e, children)
        elif e.kind == "dir" and parent is None and any(
                d.kind == "dir" and d.name in MODES for d in children.get(e.rel, [])):
            out.submodels.append(e.name)  # results/<system>/ad/AD08/performance
        elif e.kind == "dir":
            out.other_dirs.append(e.name)
    return out


def _text(path: Path, size: int) -> str | None:
    if size > safeio.READ_CAP:
        return None
    data, truncated = safeio.read_bytes(path)
    return safeio.decode(data, truncated).text


def _mode(folder: Entry, children: dict[str, list[Entry]]) -> ModeRun:
    run = ModeRun(folder.name, folder.rel, unread=True)
    for e in children.get(folder.rel, []):
        if e.kind == "file" and not is_junk(e.name):  # junk: the hygiene rule's, not data
            run.files[e.name] = e.size
    return run


def _read_run(base: Path, run: ModeRun) -> None:
    run.unread = False
    for name, size in run.files.items():
        if size > safeio.READ_CAP:
            run.skipped[name] = f"{size} bytes, over the {safeio.READ_CAP}-byte read cap"
            continue
        reader = _READERS.get(name)
        if reader is not None:
            try:
                reader(run, base / run.rel / name)
            except (OSError, ValueError, ArithmeticError, TypeError, RecursionError,
                    MemoryError) as exc:
                # damaged raw data is one finding on that file, never a traceback
                run.unreadable[name] = f"{type(exc).__name__}: {str(exc)[:200]}"
    _mlc_log_fallbacks(run)
    return run


def _garbage(run: ModeRun, name: str, tf: safeio.TextFile | safeio.DecodeCounts) -> None:
    chars = tf.chars if isinstance(tf, safeio.DecodeCounts) else len(tf.text)
    if tf.nul_bytes or tf.replaced > max(8, chars // 1000):
        run.unreadable[name] = (f"binary garbage: {tf.nul_bytes} NUL bytes, {tf.replaced} "
                                "undecodable bytes")


def _read_results_txt(run: ModeRun, path: Path) -> None:
    tf = safeio.decode(*safeio.read_bytes(path))
    _garbage(run, "results.txt", tf)
    run.claims = claims_mod.parse_claims(tf.text)


def _read_log(run: ModeRun, path: Path) -> None:
    head = safeio.decode(*safeio.read_bytes(path, cap=safeio.HEAD_BYTES)).text
    if eembc_log.is_eembc_log(head):
        # streamed: an EEMBC accuracy log has ~18 lines per input; only events are kept
        counts = safeio.DecodeCounts()
        # no line count or DUT error lines: no rule reads them (the session analysis does)
        run.eembc_log = eembc_log.parse_log_chunks(safeio.text_chunks(path, counts),
                                                   laps=run.name != "accuracy", extras=False)
        _garbage(run, "log.txt", counts)
        run.identity = {k: v for k, v in (("profile", run.eembc_log.profile),
                                          ("model", run.eembc_log.model)) if v}
        return
    tf = safeio.decode(*safeio.read_bytes(path))
    _garbage(run, "log.txt", tf)
    run.log_text = tf.text
    run.identity = claims_mod.mlc_identity(tf.text)


def _mlc_log_fallbacks(run: ModeRun) -> None:
    """The per-input results and window blocks of an MLC log.txt, read only when
    results.json does not hold them (it is the runner's own record of the same run)."""
    if run.log_text is None:
        return
    doc = run.results_json
    records = doc.value if doc is not None and isinstance(doc.value, list) else []
    code = {"accuracy": "a", "performance": "p", "energy": "e"}.get(run.name)
    if not any(isinstance(r, dict) and r.get("mode") == code for r in records):
        run.mlc_log_results = mlc.parse_log_results(run.log_text)
        run.mlc_log_windows = claims_mod.mlc_log_windows(run.log_text)


def _read_results_json(run: ModeRun, path: Path) -> None:
    tf = safeio.decode(*safeio.read_bytes(path))
    run.results_json = safeio.load_json(tf.text, power_samples=run.name == "energy")
    if run.results_json.error:
        run.unreadable["results.json"] = run.results_json.error
    elif not isinstance(run.results_json.value, list):  # e.g. ``null``: no record at all
        run.unreadable["results.json"] = (f"top level is {type(run.results_json.value).__name__}"
                                          ", not the runner's list of records")


def _read_timestamps(run: ModeRun, path: Path) -> None:
    run.timestamps = eembc_log.parse_timestamps(safeio.decode(*safeio.read_bytes(path)).text)


def _read_energy(run: ModeRun, path: Path) -> None:
    run.energy_trace = eembc_log.parse_energy_bin(safeio.read_bytes(path)[0])


_READERS = {"results.txt": _read_results_txt, "log.txt": _read_log,
            "results.json": _read_results_json, "trace1-timestamps.json": _read_timestamps,
            "trace1-energy.bin": _read_energy}


def rounds_in(path: Path) -> list[Path]:
    """The round folders (``v1.1/``, ``v1.3/`` …, each holding a division) below ``path``
    when ``path`` is a folder of several rounds rather than one round; else ``[]``."""
    if not path.is_dir() or path.is_symlink() or any((path / d).is_dir() for d in DIVISIONS):
        return []
    return [child for child in sorted(path.iterdir())
            if child.is_dir() and not child.is_symlink() and detect_version(child) == child.name
            and any((child / d).is_dir() for d in DIVISIONS)]
