"""``tinyperf history``: list, index and tag sessions in the local run history.

- ``tinyperf history [--model-id M] [--board B] [--mode MODE] [--tag T]``: list, newest first.
- ``tinyperf history add SESSION… [--firmware-git DESCRIBE] [--tag T] [--board B]``; a
  folder without results (failed or interrupted run) is skipped with one line ``skipped
  SESSION: reason`` on stderr; exit 0 all added, 1 some skipped, 2 none usable.
- ``tinyperf history tag SESSION NAME`` (SESSION: folder, history id or tag).

``--db PATH`` (before or after the action) chooses the database; default
``$TINYPERF_HISTORY`` or ``~/.local/share/tinyperf/history.sqlite``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyperf.cli import options as o

if TYPE_CHECKING:
    from tinyperf.harness.analysis.history import Entry


def _db_option(p: argparse.ArgumentParser, default: Any = None) -> None:
    p.add_argument("--db", type=Path, default=default,
                   help="history database (default $TINYPERF_HISTORY or "
                        "~/.local/share/tinyperf/history.sqlite)")


def register(subparsers: Any) -> None:
    """Add ``history`` with its ``add`` and ``tag`` actions (listing is the default)."""
    p = o.add_parser(subparsers, "history",
                     help="list, index and tag sessions in the run history",
                     description=__doc__.split("\n\n")[0],
                     example=("tinyperf history --model-id kws01 --mode performance",
                              "tinyperf history add sessions/* --tag main",
                              "tinyperf history tag sessions/20260101_120000 release-1.0"))
    _db_option(p)
    o.add_model_id(p, deprecated=("--model",), help="only sessions of this model")
    for flag in ("--board", "--mode", "--tag"):
        p.add_argument(flag, help=f"only sessions with this {flag[2:]}")
    p.add_argument("--limit", type=int, default=None, help="at most N rows")
    p.set_defaults(handler=handle_list, history_command=None)
    sub = p.add_subparsers(dest="history_command", metavar="ACTION")
    add = o.add_parser(sub, "add", help="index finished session folders (idempotent)",
                       description="Index finished session folders (idempotent). A folder "
                       "without results (failed or interrupted run) is skipped with one line "
                       "'skipped SESSION: reason' on stderr; the others are added. Exit code "
                       "0 all added, 1 some skipped, 2 none usable.",
                       example=("tinyperf history add sessions/* --tag main "
                                "--firmware-git v1.2-3-gabc123",
                                "tinyperf history add sessions/20260101_120000 --board nucleo"))
    add.add_argument("sessions", nargs="+", type=Path, metavar="SESSION")
    add.add_argument("--firmware-git", help="`git describe` of the firmware that ran")
    add.add_argument("--tag", action="append", default=[], dest="tags", help="tag (repeatable)")
    add.add_argument("--board", dest="board_name", help="board name (default: the DUT's name)")
    add.add_argument("--model-sha256", help="sha256 of the model the firmware runs")
    _db_option(add, argparse.SUPPRESS)
    add.set_defaults(handler=handle_add)
    tag = o.add_parser(sub, "tag", help="tag a session (folder, id or tag)",
                       example=("tinyperf history tag 42 baseline",
                                "tinyperf history tag sessions/20260101_120000 release-1.0"))
    tag.add_argument("session", metavar="SESSION")
    tag.add_argument("name", metavar="NAME")
    _db_option(tag, argparse.SUPPRESS)
    tag.set_defaults(handler=handle_tag)


def format_entries(entries: list[Entry]) -> str:
    """A fixed-width table of history entries."""
    header = f"{'id':>4}  {'started':19}  {'model':6} {'mode':11} {'board':14} " \
             f"{'figure':>22}  {'valid':5}  tags / path"
    lines = [header]
    for e in entries:
        name, value = e.primary()
        iv = e.intervals.get({"top1": "top1", "auc": "auc"}.get(name, name)) or {}
        fig = "-" if value is None else f"{name} {value:.3f}"
        if iv:
            fig += f" ±{(iv['high'] - iv['low']) / 2:.3g}"
        lines.append(f"{e.id:>4}  {(e.started or '-')[:19]:19}  {e.model:6} {e.mode:11} "
                     f"{(e.board or '-')[:14]:14} {fig:>22}  {'yes' if e.valid else 'no':5}  "
                     f"{','.join(e.tags) or '-'}  {e.path}")
    return "\n".join(lines)


def handle_list(args: argparse.Namespace) -> int:
    from tinyperf.harness.analysis.history import History

    with History(args.db) as h:
        entries = h.list(model=args.model_id, board=args.board, mode=args.mode, tag=args.tag,
                         limit=args.limit)
    print(format_entries(entries) if entries else f"no sessions in {h.path}")
    return 0


def handle_add(args: argparse.Namespace) -> int:
    """Read every folder first (unusable ones are skipped with one line on stderr), then
    index each usable one in its own transaction: a failure never half-writes a row nor
    undoes the ones already added. Exit 0 all added, 1 some skipped, 2 none usable."""
    from tinyperf.cli.compare import many_status, report_skip
    from tinyperf.formats.errors import SessionError
    from tinyperf.harness.analysis.history import History, check_tag
    from tinyperf.harness.analysis.session_reader import read_session

    for name in args.tags:  # a bad tag is refused before anything is written
        check_tag(name)
    records, skipped = [], 0
    for folder in args.sessions:
        try:
            records.append((folder, read_session(folder)))
        except SessionError as exc:
            report_skip(str(folder), exc)
            skipped += 1
    added = 0
    if records:
        with History(args.db) as h:
            for folder, rec in records:
                try:
                    sid = h.add(rec, firmware_git=args.firmware_git, tags=args.tags,
                                board=args.board_name, model_sha256=args.model_sha256)
                except SessionError as exc:
                    report_skip(str(folder), exc)
                    skipped += 1
                    continue
                added += 1
                print(f"{sid}\t{folder}")
    if not added:
        print(f"tinyperf: error: no usable session ({skipped} skipped)", file=sys.stderr)
    return many_status(added, skipped)


def handle_tag(args: argparse.Namespace) -> int:
    from tinyperf.harness.analysis.history import History

    with History(args.db) as h:
        sid = h.tag(args.session, args.name)
    print(f"{sid}\t{args.name}")
    return 0
