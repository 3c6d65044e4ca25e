"""Load and layer the rule files: common -> version chain (``extends``) -> division sections.

YAML is read with the safe loader only (libyaml's ``CSafeLoader`` when PyYAML has it: the
same constructor, ~10x faster than the pure-Python parser on every ``check``): tags such as
``!!python/object`` are refused, never constructed.

A packaged rule set, once layered and validated, is kept in a cache file together with
everything it is derived from (the rule files' bytes, this module's and the schema's source,
the check kinds, the tinyperf version), as Python keeps bytecode: a ``check`` then reads one
small file instead of importing PyYAML and parsing six (~30 ms before the first folder is
read). The file is used only while those inputs are byte for byte the stored ones; a cache
that cannot be read or written is ignored.
"""

from __future__ import annotations

import contextlib
import copy
import os
import pickle
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.rules import schema
from tinyperf.rules.schema import RuleSetError, validate_document

import tinyperf

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Where layered packaged rule sets are cached; set to an empty string: no cache.
ENV_CACHE_DIR = "TINYPERF_RULES_CACHE_DIR"
DEFAULT_CACHE_DIR = Path("~/.cache/tinyperf/rules")
VERSIONS = ("v1.0", "v1.1", "v1.2", "v1.3", "v1.4")
DEFAULT_VERSION = "v1.4"


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    severity: str
    title: str
    message: str
    ref: str
    params: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, list[str]] = field(default_factory=dict)
    enabled: bool = True
    source: str = ""


@dataclass
class RuleSet:
    """Rules of one version, settings merged, division overrides kept for the engine."""

    version: str
    rules: list[Rule]
    settings: dict[str, Any]
    division_overrides: dict[str, dict[str, dict[str, Any]]]

    def for_division(self, division: str) -> dict[str, Rule]:
        out = {}
        for rule in self.rules:
            ov = self.division_overrides.get(division, {}).get(rule.id)
            out[rule.id] = _apply(rule, ov) if ov else rule
        return out


def shown_path(path: Path) -> str:
    """A rule file as messages name it: ``rules/data/v1.3.yaml`` for the packaged ones
    (never the install path), else the path as given."""
    try:
        return f"rules/data/{path.relative_to(DATA_DIR).as_posix()}"
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> Any:
    import yaml  # only when a rule set is not cached: ~12 ms of a check's start

    try:
        return yaml.load(path.read_text(encoding="utf-8"),
                         Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise RuleSetError("rule file not found", shown_path(path)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RuleSetError(f"not loadable as safe YAML: {exc}", shown_path(path)) from exc


_RE_ROUND = re.compile(r"^v(\d+)\.(\d+)$")
_RE_CACHE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _round_key(version: str) -> tuple[int, int]:
    m = _RE_ROUND.match(version)
    if m is None:
        raise RuleSetError(f"'{version}' is not a round name (vX.Y)", "--round")
    return int(m.group(1)), int(m.group(2))


def resolve_version(version: str) -> tuple[str, str]:
    """The rule set that checks round ``version``: its own, else the nearest later one
    (v0.5 and v0.7 had no rule file and no official checker config), else the latest.
    Returns ``(rule set version, why)``; ``why`` is empty when the round has its own."""
    if version in VERSIONS:
        return version, ""
    key = _round_key(version)
    later = [v for v in VERSIONS if _round_key(v) > key]
    if later:
        return later[0], (f"no {version} rule file exists (nor an official checker config): "
                          f"checked with the nearest later rule set, {later[0]}")
    return VERSIONS[-1], (f"{version} is newer than every rule file: checked with the "
                          f"latest rule set, {VERSIONS[-1]}")


def load_ruleset(version: str = DEFAULT_VERSION, data_dir: Path = DATA_DIR) -> RuleSet:
    """The layered rule set of ``version`` (``v1.3``) from ``data_dir`` (the packaged one
    through the cache)."""
    from tinyperf.rules.checks import KINDS  # the closed set of kinds

    if Path(data_dir) != DATA_DIR:
        return _layered(version, Path(data_dir), set(KINDS))
    inputs = _cache_inputs(version, KINDS)
    cache = _cache_file(version, inputs)
    if cache is not None:
        try:
            stored, cached = pickle.loads(cache.read_bytes())
            if stored == inputs and isinstance(cached, RuleSet):
                return cached
        except Exception:  # absent, truncated, from another Python: parse the files
            pass
    ruleset = _layered(version, DATA_DIR, set(KINDS))
    if cache is not None:
        _store(cache, pickle.dumps((inputs, ruleset), pickle.HIGHEST_PROTOCOL))
    return ruleset


def cache_dir() -> Path | None:
    """``$TINYPERF_RULES_CACHE_DIR`` or ``~/.cache/tinyperf/rules``; None: caching is off."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env is not None:
        return Path(env).expanduser() if env else None
    return DEFAULT_CACHE_DIR.expanduser()


def _cache_inputs(version: str, kinds: Iterable[str]) -> bytes | None:
    """Everything a packaged rule set is derived from, as bytes (None: unreadable)."""
    parts = [f"{version}\0{tinyperf.__version__}\0{sorted(kinds)}".encode()]
    try:
        for name in sorted(p.name for p in DATA_DIR.glob("*.yaml")):
            parts.append(name.encode() + b"\0" + (DATA_DIR / name).read_bytes())
        for module in (__file__, schema.__file__):  # the code that layers and validates
            parts.append(Path(module).read_bytes())
    except OSError:
        return None
    return b"\0\0".join(parts)


def _cache_file(version: str, inputs: bytes | None) -> Path | None:
    """The cache file for these inputs. The name's checksum only spreads versions and
    edits over files: a cached set is used only if its stored inputs equal these, byte for
    byte (no hash import on the start path, no collision to trust)."""
    folder = cache_dir()
    if folder is None or inputs is None or not _RE_CACHE_NAME.match(version):
        return None  # off, unreadable, or a version name that is no file name part
    return folder / f"ruleset-{version}-{zlib.crc32(inputs):08x}{zlib.adler32(inputs):08x}.pickle"


def _store(path: Path, data: bytes) -> None:
    """Write atomically: a concurrent check reads the old file or the new one, never half."""
    import tempfile  # only when a rule set was not cached

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ruleset-")
    except OSError:  # a read-only home: the files are parsed again next time
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _layered(version: str, data_dir: Path, kinds: set[str]) -> RuleSet:
    """Read, validate and layer the rule files of ``version`` (no cache)."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    name: str | None = version if version.endswith(".yaml") else f"{version}.yaml"
    seen = set()
    while name:
        path = data_dir / (name if name.endswith(".yaml") else f"{name}.yaml")
        if path in seen:
            raise RuleSetError("'extends' loops back to this file", shown_path(path))
        seen.add(path)
        doc = read_yaml(path)
        validate_document(doc, shown_path(path), kinds)
        chain.append((path, doc))
        name = doc.get("extends")
    settings: dict[str, Any] = {}
    rules: dict[str, Rule] = {}
    divisions: dict[str, dict[str, dict[str, Any]]] = {}
    for path, doc in reversed(chain):
        settings = _merge(settings, doc.get("settings") or {})
        for raw in doc.get("rules") or []:
            rules[raw["id"]] = Rule(**{k: copy.deepcopy(v) for k, v in raw.items()},
                                    source=path.name)
        for rid, ov in (doc.get("overrides") or {}).items():
            if rid not in rules:
                raise RuleSetError("override of an unknown rule", shown_path(path), rid)
            rules[rid] = _apply(rules[rid], ov)
        for div, section in (doc.get("divisions") or {}).items():
            for rid, ov in (section.get("overrides") or {}).items():
                if rid not in rules:
                    raise RuleSetError("division override of an unknown rule", shown_path(path),
                                       rid)
                divisions.setdefault(div, {}).setdefault(rid, {}).update(ov)
    return RuleSet(version, sorted(rules.values(), key=lambda r: r.id), settings, divisions)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and value:
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _apply(rule: Rule, ov: dict[str, Any]) -> Rule:
    fields = {k: getattr(rule, k) for k in Rule.__dataclass_fields__}
    for key, value in ov.items():
        fields[key] = {**rule.params, **value} if key == "params" else value
    return Rule(**fields)
