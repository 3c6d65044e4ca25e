"""``tinyperf data``: build official-format input sets (``.bin`` + ``y_labels.csv``).

``data prepare kws01|ad01 --raw DIR --out DIR`` converts a real Speech Commands v2 or DCASE
2020 ToyCar download; ``data demo --out DIR [--seed N]`` synthesises the small demo sets with
the same code (``--evaluate`` also scores them with the int8 reference models).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

_MODELS = ("kws01", "ad01")


def register(subparsers: Any) -> None:
    """Add the ``data`` subcommand and its ``prepare`` / ``demo`` actions."""
    # reference_models (numpy/scipy) is imported in the handlers only, so building the
    # parser for other subcommands stays fast.
    p = subparsers.add_parser("data", help="prepare .bin input sets and y_labels.csv")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    sub.required = True

    prep = sub.add_parser("prepare", help="convert a raw dataset to .bin inputs + y_labels.csv")
    prep.add_argument("model", choices=_MODELS, help="benchmark whose inputs to write")
    prep.add_argument("--raw", required=True, type=Path,
                      help="kws01: extracted Speech Commands v2 folder (<word>/*.wav); "
                           "ad01: DCASE 2020 ToyCar folder (test/*.wav)")
    prep.add_argument("--out", required=True, type=Path, help="output folder")
    prep.add_argument("--max-per-class", type=int, default=None,
                      help="kws01: keep at most N clips per class")
    prep.add_argument("--official-subset", action="store_true",
                      help="ad01: keep only file indices 3, 13, 23, ... "
                           "(the benchmark's selection)")
    prep.set_defaults(handler=handle_prepare)

    demo = sub.add_parser("demo", help="synthesise the demo input sets (needs espeak-ng)")
    demo.add_argument("--out", required=True, type=Path,
                      help="output folder; sets go to OUT/kws01 and OUT/ad01")
    demo.add_argument("--seed", type=int, default=None,
                      help="random seed (default: reference_models.demo.DEFAULT_SEED, "
                           "the seed of the committed demo data)")
    demo.add_argument("--model", choices=_MODELS, action="append", default=None,
                      help="only this benchmark (repeatable; default both)")
    demo.add_argument("--evaluate", action="store_true",
                      help="score the sets with the int8 reference models afterwards "
                           "(models from $TINYPERF_REFERENCE_DIR or the cache)")
    demo.set_defaults(handler=handle_demo)


def _print_report(report: Any) -> None:
    counts = ", ".join(f"{label}:{n}" for label, n in report.class_counts.items())
    print(f"{report.model}: wrote {len(report.files)} inputs + y_labels.csv to {report.out_dir}"
          f" (label:count {counts})")
    if report.overflow_values:
        print(f"{report.model}: {report.overflow_values} value(s) saturated to int8")


def handle_prepare(args: argparse.Namespace) -> int:
    """Run :func:`reference_models.prepare.prepare_kws01` / ``prepare_ad01``."""
    from reference_models import prepare

    if args.model == "kws01":
        report = prepare.prepare_kws01(args.raw, args.out, max_per_class=args.max_per_class)
    else:
        report = prepare.prepare_ad01(args.raw, args.out, official_subset=args.official_subset)
    _print_report(report)
    return 0


def handle_demo(args: argparse.Namespace) -> int:
    """Run :func:`reference_models.demo.make_demo` (and optionally ``evaluate_demo``)."""
    from reference_models import demo

    models = tuple(args.model) if args.model else _MODELS
    seed = demo.DEFAULT_SEED if args.seed is None else args.seed
    reports = demo.make_demo(args.out, seed=seed, models=models)
    for report in reports.values():
        _print_report(report)
    if args.evaluate:
        scores = demo.evaluate_demo(args.out)
        if scores.kws01_top1 is not None:
            print(f"kws01: top-1 {100 * scores.kws01_top1:.1f} % on {scores.kws01_files} files "
                  "(pipeline check, not an MLPerf result)")
        if scores.ad01_auc is not None:
            print(f"ad01: AUC {scores.ad01_auc:.3f} on {scores.ad01_files} files "
                  "(pipeline check, not an MLPerf result)")
    return 0
