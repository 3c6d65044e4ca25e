"""``tinyperf data``: build official-format input sets (``.bin`` + ``y_labels.csv``).

``data prepare --model-id kws01|ad01 --raw-path DIR --output-dir DIR`` converts a real Speech
Commands v2 or DCASE 2020 ToyCar download; ``data demo --output-dir DIR [--seed N]``
synthesises the small demo sets with the same code (``--evaluate`` also scores them with the
int8 reference models).
"""

from __future__ import annotations

import argparse
from typing import Any

from tinyperf.cli import options as o

_MODELS = o.BENCHMARK_MODELS
#: ``data demo`` also writes the sww01 demo stream (a WAV + truth file, no .bin set).
_DEMO_MODELS = (*_MODELS, "sww01")


def register(subparsers: Any) -> None:
    """Add the ``data`` subcommand and its ``prepare`` / ``demo`` actions."""
    # reference_models (numpy/scipy) is imported in the handlers only, so building the
    # parser for other subcommands stays fast.
    p = o.add_parser(subparsers, "data", help="prepare .bin input sets and y_labels.csv",
                     example=("tinyperf data prepare --model-id kws01 --raw-path "
                              "speech_commands_v0.02 --output-dir datasets/kws01",
                              "tinyperf data demo --output-dir datasets"))
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    sub.required = True

    prep = o.add_parser(
        sub, "prepare", help="convert a raw dataset to .bin inputs + y_labels.csv",
        example=("tinyperf data prepare --model-id kws01 --raw-path speech_commands_v0.02 "
                 "--output-dir datasets/kws01",
                 "tinyperf data prepare --model-id ad01 --raw-path dev_data/ToyCar "
                 "--output-dir datasets/ad01 --official-subset"))
    o.add_model_id(prep, choices=_MODELS, required=True, positional=True,
                   help="benchmark whose inputs to write")
    o.add_raw_path(prep, deprecated=("--raw",), required=True,
                   help="kws01: extracted Speech Commands v2 folder (<word>/*.wav); "
                        "ad01: DCASE 2020 ToyCar folder (test/*.wav)")
    o.add_output_dir(prep, deprecated=("--out",), required=True,
                     help="output folder for the .bin inputs and y_labels.csv, e.g. "
                          "datasets/kws01")
    prep.add_argument("--max-per-class", type=int, default=None,
                      help="kws01: keep at most N clips per class")
    prep.add_argument("--official-subset", action="store_true",
                      help="ad01: keep only file indices 3, 13, 23, ... "
                           "(the benchmark's selection)")
    prep.set_defaults(handler=handle_prepare)

    demo = o.add_parser(sub, "demo", help="synthesise the demo input sets (needs espeak-ng)",
                        example=("tinyperf data demo --output-dir datasets",
                                 "tinyperf data demo --output-dir datasets --model-id kws01 "
                                 "--evaluate"))
    o.add_output_dir(demo, deprecated=("--out",), required=True,
                     help="output folder; sets go to DIR/kws01, DIR/ad01 and DIR/sww01 "
                          "(a ~60 s stereo WAV stream + its truth JSON)")
    demo.add_argument("--seed", type=int, default=None,
                      help="random seed (default: tinyperf.reference_models.demo.DEFAULT_SEED, "
                           "the seed of the committed demo data)")
    o.add_model_id(demo, choices=_DEMO_MODELS, deprecated=("--model",), action="append",
                   help="only this benchmark (repeatable; default all)")
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
    """Run :func:`tinyperf.reference_models.prepare.prepare_kws01` / ``prepare_ad01``."""
    from tinyperf.reference_models import prepare

    if o.require(args, "model_id", "--model-id") == "kws01":
        report = prepare.prepare_kws01(args.raw_path, args.output_dir,
                                       max_per_class=args.max_per_class)
    else:
        report = prepare.prepare_ad01(args.raw_path, args.output_dir,
                                      official_subset=args.official_subset)
    _print_report(report)
    return 0


def handle_demo(args: argparse.Namespace) -> int:
    """Run :func:`tinyperf.reference_models.demo.make_demo` (and optionally ``evaluate_demo``)."""
    from tinyperf.reference_models import demo

    models = tuple(args.model_id) if args.model_id else _DEMO_MODELS
    seed = demo.DEFAULT_SEED if args.seed is None else args.seed
    reports = demo.make_demo(args.output_dir, seed=seed, models=models)
    for report in reports.values():
        _print_report(report)
    if "sww01" in models:
        sww = args.output_dir / "sww01"
        print(f"sww01: wrote {demo.SWW_WAV} + {demo.SWW_TRUTH} to {sww} (synthetic stream: "
              "espeak-ng words incl. 'marvin' over noise)")
    if args.evaluate:
        scores = demo.evaluate_demo(args.output_dir)
        if scores.kws01_top1 is not None:
            print(f"kws01: top-1 {100 * scores.kws01_top1:.1f} % on {scores.kws01_files} files "
                  "(pipeline check, not an MLPerf result)")
        if scores.ad01_auc is not None:
            print(f"ad01: AUC {scores.ad01_auc:.3f} on {scores.ad01_files} files "
                  "(pipeline check, not an MLPerf result)")
        if scores.sww01 is not None:
            tp, fn, fp = scores.sww01
            print(f"sww01: {tp} True positives, {fn} False negatives, {fp} False positives "
                  f"on {scores.sww01_wakewords} wakewords (host pipeline, pipeline check, "
                  "not an MLPerf result)")
    return 0
