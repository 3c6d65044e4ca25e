"""Schema of the rule files; every error names the file and the rule id (``RuleSetError``).

Rules are data: a kind from the closed set in ``tinyperf.rules.checks``, a severity, a message
template with plain ``{name}`` placeholders only (no attribute or index access), params.
"""

from __future__ import annotations

import re
from typing import Any

from tinyperf.formats.errors import ConformanceError

SEVERITIES = ("error", "warning", "info")
_ID = re.compile(r"^TINY-[A-Z0-9]+-[A-Z0-9-]+$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
TOP_KEYS = {"spec", "version", "extends", "settings", "rules", "overrides", "divisions"}
RULE_KEYS = {"id", "kind", "severity", "title", "message", "ref", "params", "scope", "enabled"}
REQUIRED = {"id", "kind", "severity", "title", "message", "ref"}
OVERRIDE_KEYS = {"severity", "enabled", "params", "message"}
SCOPE_KEYS = {"divisions", "benchmarks", "skip_benchmarks", "modes"}


class RuleSetError(ConformanceError):
    """A rule file is malformed. Carries the file and the rule id."""

    def __init__(self, message: str, path: str, rule_id: str | None = None):
        self.path = path
        self.rule_id = rule_id
        where = f"{path}: {rule_id}: " if rule_id else f"{path}: "
        super().__init__(where + message)


def validate_document(doc: Any, path: str, kinds: set[str]) -> None:
    """Check one parsed YAML rule file; raise ``RuleSetError`` on the first problem."""
    if not isinstance(doc, dict):
        raise RuleSetError("top level must be a mapping", path)
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise RuleSetError(f"unknown top-level keys {sorted(unknown)}", path)
    if doc.get("spec") != "1.0":
        raise RuleSetError(f"spec must be \"1.0\", got {doc.get('spec')!r}", path)
    if not isinstance(doc.get("settings", {}), dict):
        raise RuleSetError("settings must be a mapping", path)
    rules = doc.get("rules", [])
    if not isinstance(rules, list):
        raise RuleSetError("rules must be a list", path)
    for rule in rules:
        validate_rule(rule, path, kinds)
    for rid, ov in (doc.get("overrides") or {}).items():
        validate_override(rid, ov, path)
    for div, section in (doc.get("divisions") or {}).items():
        if not isinstance(section, dict) or set(section) - {"overrides"}:
            raise RuleSetError(f"division section {div!r} may only hold 'overrides'", path)
        for rid, ov in (section.get("overrides") or {}).items():
            validate_override(rid, ov, path)


def validate_rule(rule: Any, path: str, kinds: set[str]) -> None:
    if not isinstance(rule, dict):
        raise RuleSetError("each rule must be a mapping", path)
    rid = rule.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        raise RuleSetError(f"bad or missing rule id {rid!r}", path)
    missing = REQUIRED - set(rule)
    if missing:
        raise RuleSetError(f"missing keys {sorted(missing)}", path, rid)
    extra = set(rule) - RULE_KEYS
    if extra:
        raise RuleSetError(f"unknown keys {sorted(extra)}", path, rid)
    if rule["kind"] not in kinds:
        raise RuleSetError(f"unknown check kind {rule['kind']!r}", path, rid)
    _severity(rule["severity"], path, rid)
    _message(rule["message"], path, rid)
    for key in ("title", "ref"):
        if not isinstance(rule[key], str) or not rule[key]:
            raise RuleSetError(f"{key} must be a non-empty string", path, rid)
    if not isinstance(rule.get("params", {}), dict):
        raise RuleSetError("params must be a mapping", path, rid)
    if not isinstance(rule.get("enabled", True), bool):
        raise RuleSetError("enabled must be true or false", path, rid)
    scope = rule.get("scope", {})
    if not isinstance(scope, dict) or set(scope) - SCOPE_KEYS or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in scope.values()):
        raise RuleSetError(f"scope must map {sorted(SCOPE_KEYS)} to lists of names", path, rid)


def validate_override(rid: Any, ov: Any, path: str) -> None:
    if not isinstance(ov, dict) or set(ov) - OVERRIDE_KEYS:
        raise RuleSetError(f"an override may only set {sorted(OVERRIDE_KEYS)}", path, str(rid))
    if "severity" in ov:
        _severity(ov["severity"], path, str(rid))
    if "message" in ov:
        _message(ov["message"], path, str(rid))
    if "params" in ov and not isinstance(ov["params"], dict):
        raise RuleSetError("params must be a mapping", path, str(rid))


def _severity(value: Any, path: str, rid: str) -> None:
    if value not in SEVERITIES:
        raise RuleSetError(f"severity must be one of {SEVERITIES}, got {value!r}", path, rid)


def _message(value: Any, path: str, rid: str) -> None:
    if not isinstance(value, str):
        raise RuleSetError("message must be a string", path, rid)
    for name in _PLACEHOLDER.findall(value):
        if not _NAME.match(name):
            raise RuleSetError(f"placeholder {{{name}}} is not a plain name", path, rid)


def fill(template: str, values: dict[str, Any]) -> str:
    """Fill ``{name}`` placeholders; unknown names stay visible as ``{name}``."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)
