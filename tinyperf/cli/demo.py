"""``tinyperf demo``: the classic benchmarks and sww01 end to end on the virtual DUT (what
``make demo`` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EXAMPLE = """example:
  tinyperf demo --output-dir demo_sessions
  tinyperf demo --models kws01 --no-energy
"""


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo", help="run the whole suite end to end on the virtual DUT",
        description="Performance and accuracy runs of kws01, ad01, ic01 and vww01 (energy "
                    "too for kws01/ad01) and an sww01 energy run on the virtual DUT with the "
                    "real reference models and the demo data, a report, and a checked "
                    "submission tree.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(handler=_handle)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options (``tinyperf demo`` and ``python -m tinyperf.demo``)."""
    parser.add_argument("--output-dir", type=Path, default=Path("demo_sessions"),
                        help="where the sessions, the report and the tree go")
    parser.add_argument("--dataset-path", type=Path, help="default: the committed demo sets")
    parser.add_argument("--baud", type=int, help="emulate this baud rate on the virtual link")
    parser.add_argument("--models", default="kws01,ad01,ic01,vww01,sww01",
                        help="comma-separated model ids (sww01: energy mode on the virtual "
                             "streaming bench)")
    parser.add_argument("--no-energy", action="store_true", help="skip the energy runs")


def _handle(args: argparse.Namespace) -> int:
    from tinyperf.demo import run_from_args
    return run_from_args(args)
