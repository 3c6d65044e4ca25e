"""``tinyperf report SESSION… -o report.html``: an HTML page (plots inline) or Markdown.

SESSION: a session folder, history id or tag. ``--format md`` writes Markdown for a pull
request comment (to stdout without ``-o``). ``--footprint FILE.json`` adds a footprint
section from ``tinyperf models info FILE --json`` output.

A folder without results (a failed or interrupted run) is skipped with one line ``skipped
SESSION: reason`` on stderr. Exit code 0 when every session was used, 1 when some were
skipped, 2 when none was usable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tinyperf.cli import options as o


def register(subparsers: Any) -> None:
    """Add the ``report`` subcommand."""
    p = o.add_parser(subparsers, "report", help="HTML or Markdown report of sessions",
                     description=__doc__.split("\n\n", 1)[1].replace("``", ""),
                     example=("tinyperf report sessions/20260101_120000 "
                              "sessions/20260101_121500 -o report.html",
                              "tinyperf report main 42 --format md > comment.md",
                              "tinyperf report 42 -o report.html --footprint footprint.json"))
    p.add_argument("sessions", nargs="+", metavar="SESSION",
                   help="session folder, history id or tag")
    o.add_output_file(p, help="output file (default: stdout for md)")
    p.add_argument("--format", choices=("html", "md"), default=None,
                   help="default: from the -o suffix, else html")
    p.add_argument("--footprint", type=Path, help="`models info --json` output to include")
    p.add_argument("--db", type=Path, default=None, help="history database for ids and tags")
    p.set_defaults(handler=handle)


def _footprint(path: Path | None) -> dict[str, Any] | None:
    from tinyperf.formats.errors import ConfigError

    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read footprint JSON: {exc}", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError("footprint JSON is not an object", path=path)
    return data


def handle(args: argparse.Namespace) -> int:
    from tinyperf.cli.compare import many_status, resolve_many
    from tinyperf.formats.errors import ConfigError
    from tinyperf.harness.analysis import report

    fmt = args.format or ("md" if args.output and args.output.suffix == ".md" else "html")
    if fmt == "html" and args.output is None:
        raise ConfigError("an HTML report needs -o FILE")
    records, skipped = resolve_many(args.sessions, args.db)
    if not records:
        print(f"tinyperf: error: no usable session ({skipped} skipped)", file=sys.stderr)
        return many_status(0, skipped)
    rep = report.build_report(records, footprint=_footprint(args.footprint))
    text = report.render_html(rep) if fmt == "html" else report.render_markdown(rep)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
        print(f"report: {args.output}")
    return many_status(len(records), skipped)
