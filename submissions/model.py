"""Typed records of a loaded submission tree (what rules read instead of the filesystem).

Paths (``rel``) are relative to the tree root, ``/``-separated, as the walk saw them
(non-UTF-8 names keep their surrogate escapes; ``shown()`` makes them printable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats.eembc_log import EembcLog
from tinyperf.submissions.claims import Claims
from tinyperf.submissions.safeio import JsonDoc

MODES = ("accuracy", "performance", "energy")
#: OS junk names (macOS AppleDouble ``._*``, Office locks ``~$*``, folder caches).
JUNK_NAMES = (".DS_Store", "Thumbs.db")
JUNK_PREFIXES = ("._", "~$")


def is_junk(name: str) -> bool:
    """OS junk: reported once by the hygiene rule, never read as data (a 177-byte
    AppleDouble ``._model.tflite`` is not a model, ``._log.txt`` not a log)."""
    return name.startswith(JUNK_PREFIXES) or name in JUNK_NAMES


_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7f, *range(0x80, 0xa0))}


def shown(text: str) -> str:
    """A printable one-line form of a path or message that may hold undecodable bytes or
    control characters: a newline in a folder name must not inject a report line."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") \
        .translate(_CONTROLS)


@dataclass(frozen=True)
class Entry:
    """One walked filesystem entry. ``kind``: file, dir, symlink or other."""

    rel: str
    kind: str
    size: int = 0
    link_target: str | None = None
    link_escapes: bool = False
    link_to_dir: bool = False

    @property
    def name(self) -> str:
        return self.rel.rsplit("/", 1)[-1]


@dataclass
class ModeRun:
    """One mode folder (accuracy/performance/energy or an unknown name) and its parsed files."""

    name: str
    rel: str
    files: dict[str, int] = field(default_factory=dict)  # plain files: name -> size
    claims: Claims | None = None
    log_text: str | None = None
    eembc_log: EembcLog | None = None
    mlc_log_results: list[tuple[str, int, list[float]]] = field(default_factory=list)
    mlc_log_windows: list[dict[str, Any]] = field(default_factory=list)
    identity: dict[str, str] = field(default_factory=dict)
    results_json: JsonDoc | None = None
    timestamps: list[float] | None = None
    energy_trace: tuple[float, np.ndarray] | None = None
    unreadable: dict[str, str] = field(default_factory=dict)  # file -> problem
    skipped: dict[str, str] = field(default_factory=dict)  # file -> why not parsed
    unread: bool = False  # listed by the walk, files not parsed yet (``loader.read_benchmark``)

    def drop_raw(self) -> None:
        """Drop the per-input and per-sample data once the figures are recomputed from it.

        What stays is what rules read: claims, identity, files and problems, the JSON
        document's duplicate keys and error, the MLC log text, and the timed ``infer``
        commands (``iterations > 1``) of an EEMBC log. A round's accuracy logs hold ~10^5
        inputs and its energy files ~10^7 samples: the checker keeps one folder's at a time.
        """
        if self.eembc_log is not None:
            self.eembc_log.infers = [i for i in self.eembc_log.infers if i.iterations > 1]
            self.eembc_log.current = None
        if self.results_json is not None and self.name in ("accuracy", "energy"):
            self.results_json.value = None  # per-input results, ``power.samples``
        self.mlc_log_results = []
        self.timestamps = None
        self.energy_trace = None

    @property
    def runner(self) -> str | None:
        """Runner by content: EEMBC files/lines, else MLC files/lines, else unknown."""
        if "script.async" in self.files or "trace1-energy.bin" in self.files:
            return "eembc"
        if self.eembc_log is not None or (self.claims and self.claims.runner == "eembc"):
            return "eembc"
        if "results.json" in self.files or self.claims is not None:
            return "mlc"
        return None


@dataclass
class Benchmark:
    """A ``results/<system>/<benchmark>`` folder, or a sub-model folder nested in one
    (``ad/AD08/performance``: ``name`` ``ad``, ``label`` ``ad/AD08``)."""

    name: str
    rel: str
    modes: dict[str, ModeRun] = field(default_factory=dict)
    other_dirs: list[str] = field(default_factory=list)  # unknown mode folder names
    marker: bool = False  # EEMBC_RUNNER at benchmark level
    label: str = ""  # how rows and findings name it (default: ``name``)
    submodels: list[str] = field(default_factory=list)  # nested sub-model folder names

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    @property
    def nested(self) -> bool:
        return self.label != self.name


@dataclass
class System:
    name: str
    rel: str
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)
    json_rel: str = ""
    json: JsonDoc | None = None  # None when the file is absent


@dataclass
class Submitter:
    division: str
    name: str
    rel: str
    has_results: bool = False
    systems: dict[str, System] = field(default_factory=dict)


@dataclass
class Tree:
    """A loaded submission tree: every entry once, the result structure, walk problems."""

    label: str
    entries: list[Entry] = field(default_factory=list)
    top_dirs: list[str] = field(default_factory=list)
    submitters: list[Submitter] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (flag, rel, detail)
    version_hint: str | None = None
    root: Path | None = None  # the folder ``rel`` paths start from (None: not on disk)

    def benchmarks(self) -> list[tuple[Submitter, System, Benchmark]]:
        return [(s, y, b) for s in self.submitters for y in s.systems.values()
                for b in y.benchmarks.values()]
