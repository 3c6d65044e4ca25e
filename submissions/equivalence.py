"""Closed-division model equivalence of the ``.tflite`` files found in a submission tree.

Owns which benchmark a model file stands for and the verdict of
``tinyperf.reference_models.verify`` on it. Association (documented in rules/README.md):

1. a model file anywhere below ``results/<system>/<benchmark>/`` belongs to that system's
   benchmark;
2. elsewhere (``code/``, ...) the path below the submitter folder is split into lower-case
   words; a word equal to a benchmark name (``kws``) or a model id (``kws01``), or a long
   benchmark name in the path (``keyword_spotting``), names the benchmark. A path component
   equal to a system name restricts it to that system, otherwise every system of the
   submitter with that benchmark is concerned;
3. names matching benchmarks of different models, or none, leave the file unassociated (an
   info finding: not checked).

Model files are only parsed (a pure-Python flatbuffer reader), never run, and only up to
the size cap. The reference comes from the reference folder or the user cache, never from
the network; when it is absent the verdict is "not verifiable".
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.formats.errors import ConformanceError
from tinyperf.submissions.model import Tree, is_junk

_WORD = re.compile(r"[^a-z0-9]+")


@dataclass
class ModelFile:
    """A model file of the tree and what it was associated with."""

    rel: str
    division: str
    submitter: str
    size: int
    model_id: str | None = None
    benchmarks: list[str] = field(default_factory=list)  # canonical names
    results: list[tuple[str, str]] = field(default_factory=list)  # (system, bench folder)
    candidates: list[str] = field(default_factory=list)  # why unassociated


@dataclass
class ModelVerdict:
    """``status``: equivalent, different, unreadable, unverifiable or unassociated."""

    file: ModelFile
    status: str
    detail: str = ""
    evidence: str = ""


def find_models(tree: Tree, settings: dict[str, Any]) -> list[ModelFile]:
    """Every model file of every submitter with results, associated (pure: tree records)."""
    cfg = settings.get("model_files") or {}
    suffixes = tuple(s.lower() for s in cfg.get("extensions", [".tflite"]))
    subs = {(s.division, s.name): s for s in tree.submitters if s.has_results}
    out = []
    for e in tree.entries:
        parts = e.rel.split("/")
        if e.kind != "file" or not e.name.lower().endswith(suffixes) or len(parts) < 3 \
                or is_junk(e.name):  # ._model.tflite: an AppleDouble file, not a model
            continue
        sub = subs.get((parts[0], parts[1]))
        if sub is not None:
            out.append(_associate(ModelFile(e.rel, parts[0], parts[1], e.size), parts[2:], sub,
                                  settings))
    return out


def _associate(mf: ModelFile, below: list[str], sub: Any, settings: dict[str, Any]) -> ModelFile:
    benches = settings.get("benchmarks") or {}
    aliases = settings.get("aliases") or {}
    hints = {**(settings.get("model_files") or {}).get("name_hints", {}), **aliases}
    if below[0] == "results" and len(below) >= 4:  # results/<system>/<bench>/.../file
        system, folder = below[1], below[2]
        bench = aliases.get(folder, folder)
        if bench in benches:
            mf.benchmarks, mf.results = [bench], [(system, folder)]
            mf.model_id = benches[bench].get("model")
        else:
            mf.candidates = [f"benchmark folder '{folder}' is not a benchmark"]
        return mf
    path = "/".join(below).lower()
    words = set(_WORD.split(path))
    named = {b for b in benches if b in words} | {b for h, b in hints.items() if h in path}
    named = {b for b in named if b in benches}
    if not named:  # model ids name several benchmarks at once (ic01: ic and ic2)
        named = {b for b, s in benches.items() if s.get("model") in words}
    models = {benches[b].get("model") for b in named}
    if len(models) != 1:
        mf.candidates = sorted(named) or ["no benchmark name or model id in the path"]
        return mf
    mf.benchmarks, mf.model_id = sorted(named), models.pop()
    systems = [y for y in sub.systems.values() if y.name in below]
    for system in systems or list(sub.systems.values()):
        for folder, bench in system.benchmarks.items():
            if aliases.get(bench.name, bench.name) in named:
                mf.results.append((system.name, folder))
    return mf


def _references(model_id: str, ref_dir: Path | None) -> tuple[list[Path], str | None]:
    """The reference ``.tflite`` and its float companions available locally (no download)."""
    from tinyperf.reference_models import registry

    if model_id not in registry.model_ids():
        return [], f"tinyperf has no reference model for {model_id}"
    wanted = registry.reference_artifacts(model_id)
    found, why = [], None
    for mid in wanted:
        try:  # "" (not None): an unset reference folder must not fall back to the env var
            found.append(registry.resolve_model_file(
                mid, reference_dir=str(ref_dir) if ref_dir else "", download=False))
        except ConformanceError as exc:
            why = why or str(exc)
    return found, (None if found else why)


def verify_models(files: list[ModelFile], root: Path | None, ref_dir: Path | None,
                  max_bytes: int, max_files: int) -> list[ModelVerdict]:
    """Run ``tinyperf.reference_models.verify`` on every associated model file (I/O: reads files).

    At most ``max_files`` files are parsed: a hostile tree cannot make the check slow.
    """
    refs: dict[str, tuple[list[Path], str | None]] = {}
    out = []
    parsed = 0
    for mf in files:
        if mf.model_id is None:
            out.append(ModelVerdict(mf, "unassociated", "matches " + ", ".join(mf.candidates)))
            continue
        if root is None:
            out.append(ModelVerdict(mf, "unverifiable", "tree not on disk"))
            continue
        if mf.size > max_bytes:
            out.append(ModelVerdict(mf, "unverifiable", f"{mf.size} bytes, over the "
                                                        f"{max_bytes}-byte cap: not read"))
            continue
        parsed += 1
        if parsed > max_files:
            out.append(ModelVerdict(mf, "unverifiable", f"more than {max_files} model files: "
                                                        "not read"))
            continue
        if mf.model_id not in refs:
            refs[mf.model_id] = _references(mf.model_id, ref_dir)
        paths, why = refs[mf.model_id]
        if not paths:
            out.append(ModelVerdict(mf, "unverifiable", why or "no reference model"))
            continue
        # imported at the first file to verify: a tree without one (most) skips ~30 ms
        from tinyperf.reference_models import verify

        try:
            # a float QUANTIZE/DEQUANTIZE interface around the reference network is
            # accepted by verify itself (verify.IO_WRAPPERS)
            report = verify.verify_any(root / mf.rel, list(paths))
        except (ConformanceError, ValueError, IndexError, KeyError, struct.error,
                RecursionError, OverflowError) as exc:  # hostile bytes: report, never crash
            out.append(ModelVerdict(mf, "unreadable", f"{type(exc).__name__}: {exc}"))
            continue
        evidence = f"compared with {', '.join(p.name for p in paths)}; tolerance " \
                   f"{report.tolerance:.5f} of each layer's range"
        if report.equivalent:
            out.append(ModelVerdict(mf, "equivalent", report.reference, evidence))
        else:
            counts = [(len(report.op_changes), "op change(s)"),
                      (len(report.mismatches), "shape/option mismatch(es)"),
                      (len(report.weight_failures), "constant tensor(s) out of tolerance")]
            summary = ", ".join(f"{n} {what}" for n, what in counts if n)
            failures = report.failures()
            more = f" (+{len(failures) - 2} more)" if len(failures) > 2 else ""
            out.append(ModelVerdict(mf, "different", f"{summary}; " + "; ".join(failures[:2])
                                    + more, evidence))
    return out
