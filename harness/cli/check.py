"""``tinyperf check``: validate a submission tree (folder, .zip or .tar.gz) against the rules.

Exit codes: 0 every result valid, 1 rule errors found, 2 the tool could not do its job.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

REFERENCE_ENV = "TINYPERF_REFERENCE_DIR"


def register(subparsers: Any) -> None:
    from rules.ruleset import VERSIONS

    p = subparsers.add_parser(
        "check", help="check a submission tree against the MLPerf Tiny rules",
        description="Check an MLPerf Tiny submission tree (a round, a division or a submitter "
                    "folder, or a .zip/.tar.gz of one): every claim in results.txt is "
                    "recomputed from the raw logs.")
    p.add_argument("path", type=Path,
                   help="round, division or submitter folder, a folder of rounds, or archive")
    p.add_argument("--version", choices=VERSIONS,
                   help="rule set (default: from a vX.Y path component, else v1.4)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text",
                   help="text report, JSON report, or the official summary CSV")
    p.add_argument("--submitter", help="check only this submitter folder (exact name)")
    p.add_argument("--waive", nargs="+", default=[], metavar="RULE-ID",
                   help="rule ids whose findings do not invalidate results")
    p.add_argument("--reference-dir", type=Path,
                   help=f"folder with <model>/y_labels*.csv (default: ${REFERENCE_ENV})")
    p.add_argument("-o", "--output", type=Path, help="write the report here, not to stdout")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rules import render
    from rules.engine import check
    from rules.ruleset import DEFAULT_VERSION, load_ruleset
    from submissions.loader import open_tree

    if not args.path.exists():
        raise ConfigError("no such file or folder", path=args.path)
    ref = args.reference_dir or (Path(os.environ[REFERENCE_ENV])
                                 if os.environ.get(REFERENCE_ENV) else None)
    if ref is not None and not ref.is_dir():
        raise ConfigError("reference folder not found", path=ref, key="--reference-dir")
    known = {r.id for r in load_ruleset(args.version or DEFAULT_VERSION).rules}
    unknown = sorted(set(args.waive) - known)
    if unknown:
        raise ConfigError(f"unknown rule id(s) {unknown}", key="--waive")
    reports = []
    for path in rounds_in(args.path) or [args.path]:
        with open_tree(path) as tree:
            version = args.version or tree.version_hint or DEFAULT_VERSION
            if args.submitter:
                tree.submitters = [s for s in tree.submitters if s.name == args.submitter]
            reports.append(check(tree, load_ruleset(version), ref, args.waive))
    if args.submitter and not any(r.rows or r.findings for r in reports):
        raise ConfigError(f"no submitter folder named {args.submitter!r}", key="--submitter")
    output = render.render_many(reports, args.format)
    if args.output:
        args.output.write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    # no result at all is not a pass: a wrong path must not look like a clean submission
    return 0 if all(r.ok and r.rows for r in reports) else 1


def rounds_in(path: Path) -> list[Path]:
    """The round folders (``v1.1/``, ``v1.3/`` …, each holding a division) below ``path``
    when ``path`` is a folder of several rounds rather than one round; else ``[]``."""
    from submissions.loader import DIVISIONS, detect_version

    if not path.is_dir() or path.is_symlink() or any((path / d).is_dir() for d in DIVISIONS):
        return []
    return [child for child in sorted(path.iterdir())
            if child.is_dir() and not child.is_symlink() and detect_version(child) == child.name
            and any((child / d).is_dir() for d in DIVISIONS)]
