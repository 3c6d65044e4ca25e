"""``tinyperf robustness``: accuracy / AUC vs SNR with noise mixed into the raw audio."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tinyperf.cli import options as o


def register(subparsers: Any) -> None:
    p = o.add_parser(
        subparsers, "robustness",
        help="accuracy/AUC vs SNR: noise mixed into the raw audio (beyond MLPerf)",
        description="Mix noise into the raw audio at each SNR, run the real feature pipeline "
                    "and evaluate the model on the host. kws01: Speech Commands layout "
                    "(<word>/*.wav); ad01: DCASE ToyCar test WAVs. Beyond MLPerf Tiny.",
        example=("tinyperf robustness --model-id kws01 --raw-path speech_commands_test "
                 "--snr 30,20,10,5,0",
                 "tinyperf robustness --model-id ad01 --raw-path dev_data/ToyCar/test "
                 "--noise pink --tflite mine.tflite --output-dir robustness_ad01"))
    o.add_model_id(p, choices=o.BENCHMARK_MODELS, required=True, positional=True,
                   help="benchmark whose raw audio and pipeline to use")
    o.add_raw_path(p, deprecated=("--dataset-path",), required=True,
                   help="raw audio folder (WAVs, not the .bin set)")
    p.add_argument("--snr", default="30,20,10,5,0",
                   help="comma-separated SNRs in dB (default 30,20,10,5,0)")
    p.add_argument("--noise", default="white", help="white, pink or a 16 kHz WAV file")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    o.add_tflite(p, deprecated=("--model",), help=".tflite to evaluate (default: the reference)")
    p.add_argument("--max-files", type=int, help="only the first N clips")
    o.add_output_dir(p, deprecated=("-o",),
                     help="write robustness.json, robustness.txt and robustness.png here")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.set_defaults(handler=handle)


def parse_snrs(text: str) -> list[float]:
    from tinyperf.formats.errors import ConfigError

    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--snr must be comma-separated numbers, got {text!r}") from None
    if not values:
        raise ConfigError("--snr needs at least one value")
    return values


def handle(args: argparse.Namespace) -> int:
    from tinyperf.reference_models import robustness

    model_id = o.require(args, "model_id", "--model-id")
    result = robustness.sweep(model_id, args.raw_path, parse_snrs(args.snr),
                              noise=args.noise, seed=args.seed, model=args.tflite,
                              max_files=args.max_files)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(robustness.table(result), end="")
    if args.output_dir is not None:
        paths = robustness.write_outputs(result, args.output_dir)
        print(f"wrote {paths['txt']}, {paths['json']}, {paths['png']}",
              file=sys.stderr if args.json else sys.stdout)
    return 0
