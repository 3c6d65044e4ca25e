"""The checker's side of packaging: the gate the packager asks, and the check of a tree
the packager wrote (the rule set plus the packager's own ``TINYPERF-PKG-*`` findings).

The packager (``tinyperf.submissions.package``) sits below the checker in the data flow;
it is handed a ``RuleChecker`` so it can refuse what the checker would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinyperf.rules.engine import Finding, Report
from tinyperf.rules.engine import check as engine_check
from tinyperf.rules.ruleset import load_ruleset
from tinyperf.submissions import package as pk
from tinyperf.submissions import systems_template as tpl
from tinyperf.submissions.loader import load


class RuleChecker:
    """``tinyperf.submissions.package.Checker`` backed by the versioned rule set."""

    def benchmarks(self, version: str) -> list[str]:
        return list(load_ruleset(version).settings["benchmarks"])

    def check(self, root: Path, version: str, reference_dir: Path | None,
              waive: Iterable[str]) -> Report:
        return engine_check(load(Path(root)), load_ruleset(version), reference_dir, list(waive))


def _extra_findings(root: Path, version: str) -> list[Any]:
    """Packager findings the rule set does not have: placeholders, stale manifests."""
    out = []
    for path in sorted(Path(root).glob("*/*/systems/*.json")):
        rel = path.relative_to(root).as_posix()
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # TINY-SYS-001 reports it
        left = tpl.placeholders(doc)
        if left:
            out.append(Finding("TINYPERF-PKG-001", "error", rel,
                               f"{len(left)} field(s) still say '{tpl.PLACEHOLDER}'",
                               ", ".join(left[:6]) + (" ..." if len(left) > 6 else ""),
                               tuple(path.parts[-4:-2])))
        missing = tpl.missing_keys(doc, version)
        if missing:
            out.append(Finding("TINYPERF-PKG-002", "warning", rel,
                               f"{len(missing)} key(s) of the {version} template missing",
                               ", ".join(missing[:6]), tuple(path.parts[-4:-2])))
    for path in sorted(Path(root).glob("*/*/README.md")):
        if tpl.PLACEHOLDER in path.read_text(encoding="utf-8", errors="replace"):
            out.append(Finding("TINYPERF-PKG-003", "warning", path.relative_to(root).as_posix(),
                               f"README still has '{tpl.PLACEHOLDER}' sections to complete"))
    for path in sorted(Path(root).glob("*/*/code/*/*/manifest.json")):
        base = path.parent
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            out.append(Finding("TINYPERF-PKG-004", "error", path.relative_to(root).as_posix(),
                               f"manifest unreadable: {exc}"))
            continue
        listed = dict(manifest.get("code", {}).get("files", {}))
        listed.update({k: v["sha256"] for k, v in manifest.get("models", {}).items()})
        for rel, digest in sorted(listed.items()):
            p = base / rel
            if not p.is_file() or pk.sha256_file(p) != digest:
                out.append(Finding("TINYPERF-PKG-004", "error", (base / rel).relative_to(
                    root).as_posix(), "file missing or changed since its sha256 was recorded"))
    return out


def check_packaged(root: Path, reference_dir: Path | None = None, waive: Iterable[str] = (),
                   version: str | None = None) -> Report:
    """Run the checker on a packaged tree: the rule set's findings plus the packager's own
    (``TINYPERF-PKG-*``: placeholders left, manifest sha256s)."""
    root = Path(root)
    version = version or pk.read_meta(root)["version"]
    divisions = [d for d in pk.DIVISIONS if (root / d).is_dir()]
    if not divisions:
        raise pk.PackageError(f"{root}: no closed/ or open/ folder yet")
    tree = load(root, label=str(root))
    report = engine_check(tree, load_ruleset(version), reference_dir, list(waive))
    waived = set(waive)
    for f in _extra_findings(root, version):
        f.waived = f.rule_id in waived
        report.findings.append(f)
    report.findings.sort(key=lambda f: (f.path, f.rule_id))
    return report
