"""``tinyperf compare BASELINE CANDIDATE``: a regression gate between two sessions.

BASELINE and CANDIDATE are session folders, history ids or tags (a tag resolves to the most
recently tagged session of the candidate's model and mode). Exit code 1 when a check
breaches the SLO, 0 otherwise; ``--junit`` writes one testcase per check.

A NOT VALID session (run.json valid: false), baseline or candidate, fails the gate unless
``--allow-invalid`` (then it is compared with a WARN line). A different model, board (DUT
vendor) or firmware is shown and fails unless ``--allow-mismatch``.

``--slo slo.yaml`` sets the limits (see the example below); a section left out is reported
but not gated. Sections and keys: alpha (0..1); throughput.regress_pct; accuracy.drop_pt;
energy_uj.regress_pct; latency.p50_ms|p90_ms|p99_ms|max_ms|mean_ms (absolute).
"""

from __future__ import annotations

import argparse
import sys
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
                 "tinyperf compare 12 13 --slo slo.yaml --junit compare.xml",
                 "tinyperf compare main sessions/20260101_120000 --allow-invalid",
                 "# slo.yaml (every key optional; a section left out is not gated):",
                 "#   alpha: 0.05",
                 "#   throughput: {regress_pct: 3}",
                 "#   accuracy: {drop_pt: 0.5}",
                 "#   energy_uj: {regress_pct: 5}",
                 "#   latency: {p99_ms: 50, max_ms: 80}"),
        description=__doc__.split("\n\n", 1)[1].replace("``", "")
        + "\n\nTests: Mann-Whitney U on per-window throughput / energy, exact McNemar "
        "(top-1) or a paired permutation test (AUC) on the files both sessions ran; a "
        "breach is beyond the limit and significant.")
    p.add_argument("baseline", help="session folder, history id or tag")
    p.add_argument("candidate", help="session folder, history id or tag")
    p.add_argument("--slo", type=Path, help="slo.yaml (default: throughput regress 3 %%, "
                                            "accuracy drop 0.5 pt, energy regress 5 %%)")
    p.add_argument("--junit", type=Path, help="write JUnit XML here")
    p.add_argument("--allow-invalid", action="store_true",
                   help="compare NOT VALID sessions (a WARN line) instead of failing")
    p.add_argument("--allow-mismatch", action="store_true",
                   help="compare across model/board/firmware (a WARN line) instead of failing")
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


def skip_reason(ref: str, exc: Exception) -> str:
    """The reason of ``exc`` without a leading ``REF: `` (the skip line names REF already)."""
    text = str(exc)
    path = getattr(exc, "path", None)
    if path is not None and Path(path) == Path(ref).resolve() and text.startswith(f"{path}: "):
        text = text[len(path) + 2:]
    return text


def report_skip(ref: str, exc: Exception) -> None:
    """One ``skipped SESSION: reason`` line on stderr."""
    print(f"skipped {ref}: {skip_reason(ref, exc)}", file=sys.stderr)


def resolve_many(refs: list[str], db: Path | None) -> tuple[list[SessionRecord], int]:
    """Every usable session of ``refs`` and the number skipped (each noted on stderr)."""
    from tinyperf.formats.errors import SessionError

    records, skipped = [], 0
    for ref in refs:
        try:
            records.append(resolve(ref, db))
        except SessionError as exc:
            report_skip(ref, exc)
            skipped += 1
    return records, skipped


def many_status(used: int, skipped: int) -> int:
    """0: every session used; 1: some skipped, output produced; 2: nothing usable."""
    if used == 0:
        return 2
    return 1 if skipped else 0


def handle(args: argparse.Namespace) -> int:
    from tinyperf.harness.analysis import compare

    slo = compare.load_slo(args.slo) if args.slo else compare.DEFAULT_SLO
    cand = resolve(args.candidate, args.db)
    base = resolve(args.baseline, args.db, like=cand)
    result = compare.compare(base, cand, slo, allow_invalid=args.allow_invalid,
                             allow_mismatch=args.allow_mismatch)
    print(compare.render_text(result), end="")
    if args.junit:
        args.junit.write_text(compare.junit_xml(result))
    return 1 if result.breached else 0
