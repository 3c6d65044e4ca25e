"""The ``tinyperf`` command: one console script, one module per subcommand.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``handler`` (a function ``(args) -> int`` exit code) as the parser default.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from harness.errors import ConformanceError

#: Subcommand modules under ``harness.cli``, in help order.
SUBCOMMANDS = ("run", "sim", "devices", "data", "models", "energy", "firmware", "check",
               "package", "history", "compare", "report", "robustness")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinyperf",
        description="MLPerf Tiny-compatible conformance suite (performance, accuracy, energy).",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"harness.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args))
    except ConformanceError as exc:
        print(f"tinyperf: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinyperf: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
