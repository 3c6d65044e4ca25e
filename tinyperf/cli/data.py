"""``tinyperf data``: build official-format input sets (``.bin`` + ``y_labels.csv``).

``data prepare --model-id kws01|ad01|ic01|vww01 --raw-path DIR --output-dir DIR`` converts a
real Speech Commands v2, DCASE 2020 ToyCar, CIFAR-10 or COCO/VWW download; ``data check``
tells a prepared ic01/vww01 set written planar (CHW) or BGR from a right one; ``data demo
--output-dir DIR [--seed N]`` synthesises the small demo sets with the same code
(``--evaluate`` also scores them with the int8 reference models).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tinyperf.cli import options as o

_MODELS = tuple(dict.fromkeys((*o.BENCHMARK_MODELS, "ic01", "vww01")))
_IMAGE_MODELS = ("ic01", "vww01")
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
                        "ad01: DCASE 2020 ToyCar folder (test/*.wav); "
                        "ic01: CIFAR-10 python test_batch (or its folder) or a folder of "
                        "32x32 PNGs; vww01: person/ + non_person/ image folders, or COCO "
                        "images with --annotations")
    o.add_output_dir(prep, deprecated=("--out",), required=True,
                     help="output folder for the .bin inputs and y_labels.csv, e.g. "
                          "datasets/kws01")
    prep.add_argument("--max-per-class", type=int, default=None,
                      help="kws01: keep at most N clips per class")
    prep.add_argument("--official-subset", action="store_true",
                      help="ad01: keep only file indices 3, 13, 23, ... "
                           "(the benchmark's selection)")
    prep.add_argument("--labels", type=Path, metavar="CSV", default=None,
                      help="ic01/vww01: the label list whose inputs to write, in its order "
                           "(default: the benchmark's y_labels.csv from the registry; e.g. "
                           "ic01's y_labels_superseded.csv)")
    prep.add_argument("--all", dest="every_image", action="store_true",
                      help="ic01/vww01: write every image found, labelled from the source, "
                           "instead of the label list's inputs")
    prep.add_argument("--annotations", type=Path, metavar="JSON", default=None,
                      help="vww01: COCO instances JSON (then --raw-path is its image folder); "
                           "person = a non-crowd person box > 2.5 %% of the image")
    prep.set_defaults(handler=handle_prepare)

    chk = o.add_parser(
        sub, "check", help="check a prepared ic01/vww01 set's byte layout (HWC RGB)",
        example=("tinyperf data check --model-id ic01 --dataset-path datasets/ic01",
                 "tinyperf data check --model-id vww01 --dataset-path datasets/vww01 "
                 "--no-model"))
    o.add_model_id(chk, choices=_IMAGE_MODELS, required=True,
                   help="benchmark whose prepared set to check")
    o.add_dataset_path(chk, required=True,
                       help="folder holding y_labels.csv and the .bin inputs")
    chk.add_argument("--no-model", action="store_true",
                     help="only the model-free smoothness test (HWC vs planar), not the "
                          "int8 reference model's top-1 under HWC, BGR and planar readings")
    chk.add_argument("--limit", type=int, default=200, metavar="N",
                     help="score at most the first N inputs with the model (default 200)")
    chk.set_defaults(handler=handle_check)

    demo = o.add_parser(sub, "demo", help="synthesise the demo input sets (needs espeak-ng)",
                        example=("tinyperf data demo --output-dir datasets",
                                 "tinyperf data demo --output-dir datasets --model-id kws01 "
                                 "--evaluate"))
    o.add_output_dir(demo, deprecated=("--out",), required=True,
                     help="output folder; sets go to DIR/kws01, DIR/ad01, DIR/ic01, "
                          "DIR/vww01 (procedural pictures) and DIR/sww01 (a ~60 s stereo "
                          "WAV stream + its truth JSON)")
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
    """Run :func:`tinyperf.reference_models.prepare.prepare_kws01` / ``prepare_ad01``, or
    :mod:`tinyperf.reference_models.prepare_images` for ic01 / vww01."""
    from tinyperf.reference_models import prepare

    model = o.require(args, "model_id", "--model-id")
    if model in _IMAGE_MODELS:
        return _prepare_images(args, model)
    if model == "kws01":
        report = prepare.prepare_kws01(args.raw_path, args.output_dir,
                                       max_per_class=args.max_per_class)
    else:
        report = prepare.prepare_ad01(args.raw_path, args.output_dir,
                                      official_subset=args.official_subset)
    _print_report(report)
    return 0


def _prepare_images(args: argparse.Namespace, model: str) -> int:
    from tinyperf.reference_models import prepare_images

    if model == "ic01":
        report = prepare_images.prepare_ic01(args.raw_path, args.output_dir, labels=args.labels,
                                             every_image=args.every_image)
    else:
        report = prepare_images.prepare_vww01(args.raw_path, args.output_dir,
                                              annotations=args.annotations,
                                              labels=args.labels, every_image=args.every_image)
    _print_report(report)
    return 0


def handle_check(args: argparse.Namespace) -> int:
    """Layout of a prepared ic01/vww01 set: exit 1 when it reads better planar or BGR."""
    from tinyperf.reference_models import prepare_images

    model = o.require(args, "model_id", "--model-id")
    names, labels, pixels = prepare_images.read_set(args.dataset_path, model)
    layout, scores = prepare_images.layout_verdict(pixels)
    print(f"{model}: {len(names)} inputs; neighbour difference read as HWC "
          f"{scores['HWC']:.1f}, as planar CHW {scores['CHW']:.1f}: bytes look {layout}")
    bad = [] if layout == "HWC" else ["the bytes look planar (CHW), not HWC"]
    if not args.no_model:
        predict, engine = prepare_images.reference_predictor(model)
        n = max(1, args.limit)
        tops, wrong = prepare_images.misread(pixels[:n], labels[:n], predict)
        shown = ", ".join(f"{k} {v:.1f} %" for k, v in tops.items())
        print(f"{model}: int8 reference model ({engine}) top-1 on {min(n, len(names))} inputs "
              f"if the bytes are {shown}")
        if wrong is not None:
            bad.append(f"the model scores {tops[wrong]:.1f} % if the bytes are {wrong} but "
                       f"{tops['HWC RGB']:.1f} % as written (sign test p < "
                       f"{prepare_images.LAYOUT_P_VALUE}): the set was written {wrong}")
    for reason in bad:
        print(f"{model}: NOT the reference layout: {reason}")
    if not bad:
        print(f"{model}: layout OK (HWC, RGB, uint8)")
    return 1 if bad else 0


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
        for model, top1, files in (("ic01", scores.ic01_top1, scores.ic01_files),
                                   ("vww01", scores.vww01_top1, scores.vww01_files)):
            if top1 is not None:
                print(f"{model}: top-1 {100 * top1:.1f} % on {files} procedural pictures "
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
