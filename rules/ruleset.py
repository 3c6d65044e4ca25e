"""Load and layer the rule files: common -> version chain (``extends``) -> division sections.

YAML is read with the safe loader only (libyaml's ``CSafeLoader`` when PyYAML has it: the
same constructor, ~10x faster than the pure-Python parser on every ``check``): tags such as
``!!python/object`` are refused, never constructed.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tinyperf.rules.schema import RuleSetError, validate_document

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DATA_DIR = Path(__file__).resolve().parent / "data"
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
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except FileNotFoundError:
        raise RuleSetError("rule file not found", shown_path(path)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RuleSetError(f"not loadable as safe YAML: {exc}", shown_path(path)) from exc


_RE_ROUND = re.compile(r"^v(\d+)\.(\d+)$")


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
    """The layered rule set of ``version`` (``v1.3``) from ``data_dir``."""
    from tinyperf.rules.checks import KINDS  # the closed set of kinds

    chain: list[tuple[Path, dict[str, Any]]] = []
    name: str | None = version if version.endswith(".yaml") else f"{version}.yaml"
    seen = set()
    while name:
        path = data_dir / (name if name.endswith(".yaml") else f"{name}.yaml")
        if path in seen:
            raise RuleSetError("'extends' loops back to this file", shown_path(path))
        seen.add(path)
        doc = read_yaml(path)
        validate_document(doc, shown_path(path), set(KINDS))
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
