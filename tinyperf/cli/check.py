"""``tinyperf check``: validate a submission tree (folder, .zip or .tar.gz) against the rules.

Exit codes: 0 every result valid, 1 rule errors found (or no result at all), 2 usage
error (bad option, path not found), 3 could not check (part of the tree or a whole round
unreadable: a damaged archive, a failure inside the checker; the rest is still reported).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Any

from tinyperf.cli import options as o

REFERENCE_ENV = "TINYPERF_REFERENCE_DIR"

EXAMPLE = (
    "tinyperf check submission/v1.3",
    "tinyperf check results.tar.gz --round v1.3 --format csv -o summary.csv",
    "tinyperf check submission/v1.3 --waive TINY-PERF-006 --waive TINY-ACC-003 "
    "--submitter ACME",
    "tinyperf check all_rounds/    # a folder of rounds (v1.1/, v1.3/, ...)",
)


def register(subparsers: Any) -> None:
    p = o.add_parser(
        subparsers, "check", help="check a submission tree against the MLPerf Tiny rules",
        description="Check an MLPerf Tiny submission tree (a round, a division or a submitter "
                    "folder, a .zip/.tar.gz of one, or a folder of rounds): every claim in "
                    "results.txt is recomputed from the raw logs. A round without a rule "
                    "file of its own (v0.5, v0.7) is checked with the nearest later rule set; "
                    "a folder of rounds ends with a summary table.\n\n"
                    "Exit status 0: every result valid.\n\n"
                    "Exit status 1: rule errors found (or no result at all).\n\n"
                    "Exit status 2: usage error (bad option, path not found, unknown rule "
                    "id).\n\n"
                    "Exit status 3: could not check: part of the tree or a whole round was "
                    "unreadable (a damaged archive, a failure inside the checker); the rest "
                    "is still checked and reported (TINY-CHECK-001).",
        example=EXAMPLE)
    p.add_argument("path", type=Path, metavar="PATH",
                   help="round, division or submitter folder, a folder of rounds, or archive")
    o.add_round(p, help=f"rule set (default: from a vX.Y path component, else "
                        f"{o.DEFAULT_ROUND})")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text",
                   help="text report, JSON report (the data the others render), or the "
                        "official summary CSV plus recomputed figures and a verdict")
    p.add_argument("--submitter", help="check only this submitter folder (exact name)")
    p.add_argument("--jobs", type=o.count_arg("--jobs", 1), default=None, metavar="N",
                   help="processes that read and recompute result folders (default: the "
                        "CPUs this process may use; 1: no worker processes)")
    o.add_waive(p)
    o.add_reference_dir(p, REFERENCE_ENV)
    o.add_output_file(p, help="write the report here, not to stdout")
    p.set_defaults(handler=handle, quick_exit=True)  # see cli.main.entry


def handle(args: argparse.Namespace) -> int:
    if "numpy" not in sys.modules:
        # numpy's OpenBLAS starts a thread per CPU at import, which spins ~0.1 s of CPU
        # waiting for work: the check makes no BLAS call, and the spin takes the core its
        # forked workers need (the user's own setting wins)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from tinyperf.api import check_rounds
    from tinyperf.formats.errors import ConfigError
    from tinyperf.rules import render
    from tinyperf.submissions.forkmap import default_jobs

    bar: Any = None

    def on_round(_report: Any, done: int, total: int) -> None:
        # a whole record takes a while: a bar on a terminal, a line per ~10 % in a CI log
        nonlocal bar
        if total < 2:
            return
        if bar is None:
            from tinyperf.formats.progress import progress

            # no tqdm monitor thread: each round forks its workers (forkmap)
            bar = progress(total, desc="check", unit="rounds", threads=False)
        if done:
            bar.update(1)
            gc.collect()  # between rounds: what one round left in cycles, not kept for all
        if done == total:
            bar.close()

    # A round's load builds ~10^5 small objects (one per input of every accuracy log, per
    # JSON record) and no reference cycle worth collecting: the cyclic collector would
    # rescan them again and again (~10 % of a round's time), so this short-lived process
    # runs the check without it. Only here, not in the library: the switch is per process.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        reports = check_rounds(args.path, reference_dir=args.reference_dir, waive=args.waive,
                               version=args.round, submitter=args.submitter,
                               on_round=on_round, jobs=args.jobs or default_jobs())
    finally:
        if was_enabled:
            gc.enable()
    if args.submitter and not any(r.rows or r.findings for r in reports):
        raise ConfigError(f"no submitter folder named {args.submitter!r}", key="--submitter")
    output = render.render_many(reports, args.format)
    if args.output:
        args.output.write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    return exit_status(reports)


def exit_status(reports: list[Any]) -> int:
    """0 valid, 1 rule errors (or no result at all), 3 part of the input not checked."""
    if any(r.incomplete for r in reports):
        return 3
    # no result at all is not a pass: a wrong path must not look like a clean submission
    return 0 if all(r.ok and r.rows for r in reports) else 1
