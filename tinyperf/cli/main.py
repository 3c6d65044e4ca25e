"""The ``tinyperf`` command: one console script, one module per subcommand.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``handler`` (a function ``(args) -> int`` exit code) as the parser default. Subcommand
modules import only the standard library and :mod:`tinyperf.cli.options` at module level:
their handlers import the harness, numpy and the interpreter when they run, so building the
parser (``tinyperf --help``) stays cheap. The option spellings are in
:mod:`tinyperf.cli.options`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

import tinyperf
from tinyperf.cli.options import HelpFormatter, examples

#: Subcommand modules under ``tinyperf.cli``, in help order.
SUBCOMMANDS = ("run", "demo", "sim", "devices", "data", "models", "energy", "firmware", "check",
               "package", "history", "compare", "report", "robustness", "farm")

EXAMPLE = examples(
    "tinyperf demo",
    "tinyperf run --port /dev/ttyACM0 --mode performance --dataset-path datasets",
    "tinyperf check submission/v1.3 --round v1.3",
    "tinyperf COMMAND --help",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with ``only`` just that subcommand's parser (the others
    are not imported: registering all of them costs ~40 ms, which a ``tinyperf check``
    of a whole round would pay before its first file)."""
    parser = argparse.ArgumentParser(
        prog="tinyperf",
        description="MLPerf Tiny-compatible conformance suite (performance, accuracy, energy).",
        epilog=EXAMPLE, formatter_class=HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--version", action="version", version=f"tinyperf {tinyperf.__version__}",
                        help="print tinyperf's version and exit (the MLPerf Tiny round is "
                             "--round)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in [only] if only in SUBCOMMANDS else SUBCOMMANDS:
        importlib.import_module(f"tinyperf.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    return _main(argv)[0]


def entry() -> None:
    """The ``tinyperf`` console script and ``python -m tinyperf``: :func:`main`, then exit.

    A command that sets ``quick_exit`` (``check``) leaves without the interpreter's
    teardown once its output is flushed: freeing a whole round's objects one by one takes
    ~30 ms and writes nothing (the same shortcut as mypy's). Any other command, or a flush
    that fails (a closed pipe), exits the usual way.
    """
    code, quick = _main(None)
    if quick:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:
            sys.exit(code)
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


def _main(argv: Sequence[str] | None) -> tuple[int, bool]:
    """(exit code, whether the process may skip its teardown)."""
    from tinyperf.formats.errors import ConformanceError

    parser = build_parser(_named_subcommand(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args)), bool(getattr(args, "quick_exit", False))
    except ConformanceError as exc:
        print(f"tinyperf: error: {exc}", file=sys.stderr)
        return 2, False
    except KeyboardInterrupt as exc:
        session = getattr(exc, "session", None)  # a run keeps its session folder
        if session is not None:
            print(f"tinyperf: interrupted; session {session} kept (run.json says so). "
                  f"Resume with:\n  tinyperf run --resume {session}", file=sys.stderr)
        else:
            print("tinyperf: interrupted", file=sys.stderr)
        return 130, False


def _named_subcommand(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names, if any: the first word that is not a top-level option
    (those take no value). Anything else (none, a typo) gets the whole parser, so help and
    "invalid choice" errors list every subcommand."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in SUBCOMMANDS else None


if __name__ == "__main__":
    entry()
