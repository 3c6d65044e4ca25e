"""``tinyperf compare BASELINE CANDIDATE``: a regression gate between two sessions.

BASELINE and CANDIDATE are session folders, history ids or tags (a tag resolves to the most
recently tagged session of the candidate's model and mode). Exit code 1 when a check
breaches the SLO, 0 otherwise; ``--junit`` writes one testcase per check.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyperf.cli import options as o

if TYPE_CHECKING:
    from tinyperf.harness.analysis.session_reader import SessionRecord


def register(subparsers: Any) -> None:
    """Add the ``compare`` subcommand."""
    p = o.add_parser(
        subparsers, "compare", help="regression gate: compare a candidate session with a baseline",
        example=("tinyperf compare baseline sessions/20260101_120000",
                 "tinyperf compare 12 13 --slo slo.yaml --junit compare.xml"),
        description=__doc__.split("\n\n", 1)[1].replace("``", "")
        + "\n\nTests: Mann-Whitney U on per-window throughput / energy, exact McNemar "
        "(top-1) or a paired permutation test (AUC) on the files both sessions ran; a "
        "breach is beyond the limit and significant.")
    p.add_argument("baseline", help="session folder, history id or tag")
    p.add_argument("candidate", help="session folder, history id or tag")
    p.add_argument("--slo", type=Path, help="slo.yaml (default: throughput regress 3 %%, "
                                            "accuracy drop 0.5 pt, energy regress 5 %%)")
    p.add_argument("--junit", type=Path, help="write JUnit XML here")
    p.add_argument("--db", type=Path, default=None, help="history database for ids and tags")
    p.set_defaults(handler=handle)


def resolve(ref: str, db: Path | None, like: SessionRecord | None = None) -> SessionRecord:
    """A folder is read directly; anything else is looked up in the history."""
    from tinyperf.harness.analysis.session_reader import read_session

    if Path(ref).is_dir():
        return read_session(ref)
    from tinyperf.harness.analysis.history import History

    with History(db) as h:
        entry = h.resolve(ref, model=like.model if like else None,
                          mode=like.mode if like else None)
    return entry.to_record()


def handle(args: argparse.Namespace) -> int:
    from tinyperf.harness.analysis import compare

    slo = compare.load_slo(args.slo) if args.slo else compare.DEFAULT_SLO
    cand = resolve(args.candidate, args.db)
    base = resolve(args.baseline, args.db, like=cand)
    result = compare.compare(base, cand, slo)
    print(compare.render_text(result), end="")
    if args.junit:
        args.junit.write_text(compare.junit_xml(result))
    return 1 if result.breached else 0
