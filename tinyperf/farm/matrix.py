"""The farm's matrix file: which benchmark runs in which mode(s) on which place(s).

    version: 1
    defaults:                    # any job key; a job's own value wins
      modes: [accuracy]
      dataset: datasets          # relative to this file
      iterations: 100
    jobs:
      - place: kws-a             # a place by name ...
        benchmark: kws01
      - tags: {bench: ad}        # ... or any place whose tags include these
        benchmark: ad01
        modes: [accuracy, performance]
      - place: bench-1
        benchmark: kws01
        modes: [energy]
        energy: {interface: interface, monitor: monitor, monitor_kind: lpm01a, voltage: 1.8}

Each (job entry, mode) pair is one farm job with a stable id (``01-kws01-accuracy``): the
journal and ``--resume`` key on it. :func:`parse_matrix` is pure; errors name the file, the
line and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tinyperf.formats.errors import ConfigError

MODES = ("performance", "accuracy", "energy", "latency")
_MODE_ALIASES = {"p": "performance", "a": "accuracy", "e": "energy", "l": "latency"}
_BENCHMARK = re.compile(r"^[a-z]+[0-9]{2}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
JOB_KEYS = frozenset({"place", "tags", "benchmark", "mode", "modes", "dataset", "test_script",
                      "iterations", "warmups", "baud", "timeout", "job_timeout", "dut",
                      "energy", "system", "name"})
ENERGY_KEYS = frozenset({"interface", "monitor", "monitor_kind", "voltage", "board"})
DEFAULT_JOB_TIMEOUT_S = 3600.0


class MatrixError(ConfigError):
    """The matrix file is wrong; names the file, the line and the field."""

    def __init__(self, message: str, path: str | Path | None, line: int | None = None,
                 key: str | None = None):
        self.line = line
        where = f"{path}:{line}" if (path is not None and line is not None) else path
        super().__init__(message, path=where, key=key)


@dataclass(frozen=True)
class EnergySetup:
    """Which resources of the place are the interface board and the monitor, and how."""

    interface: str = "interface"
    monitor: str = "monitor"
    monitor_kind: str = "lpm01a"
    voltage: float = 1.8
    board: str | None = None


@dataclass(frozen=True)
class Job:
    """One run of ``tinyperf run`` on one place."""

    id: str
    benchmark: str
    mode: str
    dataset: Path
    place: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    test_script: Path | None = None
    iterations: int | str | None = None
    warmups: int | None = None
    baud: int | None = None
    timeout: float | None = None
    job_timeout: float = DEFAULT_JOB_TIMEOUT_S
    dut: str = "dut"
    energy: EnergySetup | None = None
    system: str | None = None
    line: int | None = None

    def matches(self, place: str, tags: dict[str, str]) -> bool:
        """Whether this job may run on a place of that name and those tags."""
        if self.place is not None:
            return self.place == place
        return all(str(tags.get(k)) == v for k, v in self.tags.items())

    def target(self) -> str:
        """The place or tag match, for messages."""
        if self.place is not None:
            return self.place
        return "tags " + ",".join(f"{k}={v}" for k, v in sorted(self.tags.items()))


def _lines(node: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    """1-based line of every mapping key and sequence item, by path from the root."""
    out: dict[tuple[Any, ...], int] = {}

    def walk(n: yaml.Node, path: tuple[Any, ...]) -> None:
        out[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = k.value
                out[(*path, key)] = k.start_mark.line + 1
                walk(v, (*path, key))
                out[(*path, key)] = k.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    if node is not None:
        walk(node, ())
    return out


class _Ctx:
    """Where we are in the file, to build errors."""

    def __init__(self, path: Path | str, lines: dict[tuple[Any, ...], int]):
        self.path = path
        self.lines = lines

    def error(self, message: str, where: tuple[Any, ...], key: str | None = None) -> MatrixError:
        line = self.lines.get(where)
        probe = where
        while line is None and probe:
            probe = probe[:-1]
            line = self.lines.get(probe)
        return MatrixError(message, self.path, line, key)


def _number(ctx: _Ctx, value: Any, where: tuple[Any, ...], key: str, *, integer: bool,
            allow_auto: bool = False) -> Any:
    if allow_auto and value == "auto":
        return value
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value <= 0:
        kind = "a positive integer" + (" or 'auto'" if allow_auto else "") if integer \
            else "a positive number"
        raise ctx.error(f"must be {kind}, got {value!r}", where, key)
    return value


def _modes(ctx: _Ctx, entry: dict[str, Any], where: tuple[Any, ...]) -> list[str]:
    if "mode" in entry and "modes" in entry:
        raise ctx.error("give 'mode' or 'modes', not both", where, "modes")
    key = "modes" if "modes" in entry else "mode"
    raw = entry.get(key, ["accuracy"])
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ctx.error("no mode given", (*where, key), key)
    modes = []
    for m in items:
        mode = _MODE_ALIASES.get(str(m), str(m))
        if mode not in MODES:
            raise ctx.error(f"unknown mode {m!r} (one of {', '.join(MODES)})", (*where, key), key)
        if mode in modes:
            raise ctx.error(f"mode {mode!r} given twice", (*where, key), key)
        modes.append(mode)
    return modes


def _energy(ctx: _Ctx, raw: Any, where: tuple[Any, ...]) -> EnergySetup:
    if raw is None:
        return EnergySetup()
    if not isinstance(raw, dict):
        raise ctx.error("must be a mapping (interface, monitor, monitor_kind, voltage, board)",
                        where, "energy")
    unknown = sorted(set(raw) - ENERGY_KEYS)
    if unknown:
        raise ctx.error(f"unknown key(s) {', '.join(map(str, unknown))} (known: "
                        f"{', '.join(sorted(ENERGY_KEYS))})", (*where, unknown[0]), "energy")
    values = dict(raw)
    if "voltage" in values:
        values["voltage"] = float(_number(ctx, values["voltage"], (*where, "voltage"),
                                          "energy.voltage", integer=False))
    for key in ("interface", "monitor", "monitor_kind", "board"):
        if key in values and not isinstance(values[key], str):
            raise ctx.error("must be a string", (*where, key), f"energy.{key}")
    return EnergySetup(**values)


def _path(ctx: _Ctx, value: Any, where: tuple[Any, ...], key: str, base: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise ctx.error("must be a path", where, key)
    p = Path(value)
    return p if p.is_absolute() else base / p


def _target(ctx: _Ctx, entry: dict[str, Any], where: tuple[Any, ...]
            ) -> tuple[str | None, dict[str, str]]:
    has_place, has_tags = "place" in entry, "tags" in entry
    if has_place == has_tags:
        raise ctx.error("give exactly one of 'place' (a name) or 'tags' (a mapping)", where,
                        "place")
    if has_place:
        place = entry["place"]
        if not isinstance(place, str) or not _NAME.match(place):
            raise ctx.error(f"not a place name: {place!r}", (*where, "place"), "place")
        return place, {}
    tags = entry["tags"]
    if not isinstance(tags, dict) or not tags:
        raise ctx.error("must be a non-empty mapping of tag: value", (*where, "tags"), "tags")
    return None, {str(k): str(v) for k, v in tags.items()}


def _entry_jobs(ctx: _Ctx, entry: dict[str, Any], index: int, base: Path) -> list[Job]:
    where: tuple[Any, ...] = ("jobs", index)
    unknown = sorted(set(entry) - JOB_KEYS)
    if unknown:
        raise ctx.error(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(JOB_KEYS))})",
                        (*where, unknown[0]), unknown[0])
    place, tags = _target(ctx, entry, where)
    bench = entry.get("benchmark")
    if not isinstance(bench, str) or not _BENCHMARK.match(bench):
        raise ctx.error(f"must be a model id such as kws01 or ad01, got {bench!r}",
                        (*where, "benchmark"), "benchmark")
    if "dataset" not in entry:
        raise ctx.error("no 'dataset' (in the job or in defaults)", where, "dataset")
    common: dict[str, Any] = {
        "benchmark": bench, "place": place, "tags": tags, "line": ctx.lines.get(where),
        "dataset": _path(ctx, entry["dataset"], (*where, "dataset"), "dataset", base),
    }
    if "test_script" in entry:
        common["test_script"] = _path(ctx, entry["test_script"], (*where, "test_script"),
                                      "test_script", base)
    for key, integer, auto in (("iterations", True, True), ("warmups", True, False),
                               ("baud", True, False), ("timeout", False, False),
                               ("job_timeout", False, False)):
        if key in entry:
            common[key] = _number(ctx, entry[key], (*where, key), key, integer=integer,
                                  allow_auto=auto)
    for key in ("dut", "system", "name"):
        if key in entry and (not isinstance(entry[key], str) or not _NAME.match(entry[key])):
            raise ctx.error(f"must be a plain name, got {entry[key]!r}", (*where, key), key)
    common["dut"] = entry.get("dut", "dut")
    common["system"] = entry.get("system")
    modes = _modes(ctx, entry, where)
    label = entry.get("name", bench)
    jobs = []
    for mode in modes:
        energy = _energy(ctx, entry.get("energy"), (*where, "energy")) if mode == "energy" \
            else None
        jobs.append(Job(id=f"{index + 1:02d}-{label}-{mode}", mode=mode, energy=energy,
                        **common))
    return jobs


def parse_matrix(text: str, path: Path | str = "<matrix>", base: Path | None = None
                 ) -> list[Job]:
    """Every job of a matrix file's text. Relative paths are taken from ``base``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise MatrixError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path,
                          mark.line + 1 if mark else None) from None
    ctx = _Ctx(path, _lines(node))
    base = base if base is not None else Path(path).parent
    if not isinstance(doc, dict):
        raise ctx.error("a matrix file is a mapping with 'jobs' (and optional 'defaults')", ())
    unknown = sorted(set(doc) - {"version", "defaults", "jobs"})
    if unknown:
        raise ctx.error(f"unknown top-level key {unknown[0]!r} (version, defaults, jobs)",
                        (unknown[0],), unknown[0])
    if doc.get("version", 1) != 1:
        raise ctx.error(f"version {doc['version']!r} is not supported (1)", ("version",),
                        "version")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ctx.error("must be a mapping of job keys", ("defaults",), "defaults")
    bad = sorted(set(defaults) - (JOB_KEYS - {"place", "tags", "name"}))
    if bad:
        raise ctx.error(f"unknown or per-job key {bad[0]!r}", ("defaults", bad[0]), bad[0])
    entries = doc.get("jobs")
    if not isinstance(entries, list) or not entries:
        raise ctx.error("'jobs' must be a non-empty list", ("jobs",), "jobs")
    jobs: list[Job] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ctx.error("a job is a mapping (place or tags, benchmark, modes, ...)",
                            ("jobs", i), "jobs")
        merged = {**defaults, **entry}
        if "modes" in entry or "mode" in entry:  # a job's own mode list replaces the default
            merged.pop("modes" if "mode" in entry else "mode", None)
        jobs.extend(_entry_jobs(ctx, merged, i, base))
    return jobs


def load_matrix(path: Path, base: Path | None = None) -> list[Job]:
    """Read and parse a matrix file; also checks that the datasets it names exist."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MatrixError("matrix file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MatrixError(f"cannot read the matrix file: {exc}", path) from exc
    jobs = parse_matrix(text, path, base)
    for job in jobs:
        if not job.dataset.is_dir():
            raise MatrixError(f"dataset folder {job.dataset} does not exist", path, job.line,
                              "dataset")
        if job.test_script is not None and not job.test_script.is_file():
            raise MatrixError(f"test script {job.test_script} does not exist", path, job.line,
                              "test_script")
    return jobs
