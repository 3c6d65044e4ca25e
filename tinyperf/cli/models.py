"""``tinyperf models``: inspect, evaluate and verify ``.tflite`` models.

- ``models info FILE.tflite|ID [--json]``: ops, tensors and quantization, parameters, MACs,
  flash bytes and activation memory (:mod:`tinyperf.reference_models.tflite_info`); a
  registry id (``sww01``) also prints its registry record.
- ``models evaluate MODEL.tflite|--model-id ID --dataset-path DIR [--labels FILE]``: host
  reference evaluation on the official ``.bin`` layout
  (:mod:`tinyperf.reference_models.evaluate`).
- ``models evaluate sww01 [--wav W] [--truth T | --dataset-path DIR] [--allowance readme]``:
  stream WAVs through the sww01 device pipeline on the host and score them with the
  runner's rules (:mod:`tinyperf.reference_models.sww.evaluate`); no data given = the
  registry's short test stream.
- ``models verify SUBMITTED.tflite --model-id ID [--reference PATH]``: closed-division
  equivalence with the reference model or one of its float companions
  (:mod:`tinyperf.reference_models.verify`); exit 1 when not equivalent.
- ``models build --model-id kws01|ad01 --raw-path DIR [--epochs N] [--output-dir DIR]
  [--calibration PATH]``: train the reference architecture, int8-quantize, export and
  evaluate, with a JSON run record (:mod:`tinyperf.reference_models.train`; needs the
  ``train`` extra, i.e. TensorFlow).

Human-readable tables by default, ``--json`` for the same data as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tinyperf.cli import options as o


def _error(message: str, **where: Any) -> Exception:
    """A :class:`tinyperf.formats.errors.ConfigError` (imported when one is raised)."""
    from tinyperf.formats.errors import ConfigError

    return ConfigError(message, **where)


def register(subparsers: Any) -> None:
    """Add the ``models`` subcommand with its ``info`` / ``evaluate`` / ``verify`` actions."""
    p = o.add_parser(subparsers, "models", help="inspect, evaluate and verify .tflite models",
                     example=("tinyperf models info kws_ref_model.tflite",
                              "tinyperf models evaluate --model-id kws01 --dataset-path datasets",
                              "tinyperf models verify mine.tflite --model-id kws01"))
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    sub.required = True

    info = o.add_parser(sub, "info", help="graph, sizes, MACs and activation memory of a model",
                        example=("tinyperf models info kws_ref_model.tflite",
                                 "tinyperf models info mine.tflite --json > footprint.json"))
    info.add_argument("file", type=Path, metavar="MODEL.tflite",
                      help=".tflite file, or a registry model id (kws01, ad01, sww01, ...)")
    info.add_argument("--json", action="store_true", help="print JSON instead of tables")
    info.add_argument("--tensors", action="store_true", help="also list every tensor")
    info.set_defaults(handler=handle_info)

    ev = o.add_parser(sub, "evaluate", help="host reference evaluation on .bin inputs",
                      example=("tinyperf models evaluate --model-id kws01 "
                               "--dataset-path datasets",
                               "tinyperf models evaluate mine.tflite --dataset-path datasets/ad01 "
                               "--rounding exact --json",
                               "tinyperf models evaluate sww01 --wav short_wav_easy10s.wav "
                               "--truth sww_short_test.json",
                               "tinyperf models evaluate vww01 --dataset-path datasets "
                               "--engine tflm"))
    ev.add_argument("model", nargs="?", type=Path, default=None, metavar="MODEL.tflite",
                    help=".tflite file (or --model-id)")
    o.add_model_id(ev, help="registry model id instead of a file (kws01, ad01, kws01_fp32, ...)")
    o.add_dataset_path(ev, help="folder with y_labels.csv and the .bin files (or its "
                                "parent); sww01: a folder of truth JSON files and WAVs")
    ev.add_argument("--labels", default="y_labels.csv",
                    help="label file name in that folder, or a path (e.g. y_labels_alt.csv)")
    ev.add_argument("--kernels", choices=("reference", "xnnpack"), default=None,
                    help="interpreter kernels (default: reference for int8 models, "
                         "xnnpack for float models)")
    ev.add_argument("--engine", choices=("auto", "tflm", "litert-ref", "litert-builtin",
                                         "xnnpack"), default=None,
                    help="runtime (ic01/vww01 default auto: TFLite Micro, what reference "
                         "devices run, when installed, else LiteRT BUILTIN_REF; kws01/ad01 "
                         "default: --kernels)")
    ev.add_argument("--rounding", choices=("printed", "exact"), default="printed",
                    help="ad01: average window scores as printed with %%0.3f (runner) or "
                         "unrounded (reference Python)")
    ev.add_argument("--workers", type=int, default=None,
                    help="interpreters run in parallel threads (default: up to 2)")
    ev.add_argument("--wav", type=Path, default=None, metavar="WAV",
                    help="sww01: one 16 kHz 16-bit WAV stream to score (with --truth)")
    ev.add_argument("--truth", type=Path, default=None, metavar="JSON",
                    help="sww01: runner truth file; alone: every entry whose WAV sits next "
                         "to it (or in --dataset-path)")
    ev.add_argument("--allowance", choices=("code", "readme"), default="code",
                    help="sww01: admissible window after a wakeword, the runner code's "
                         "+2.0 s (default) or its README's +1.0 s")
    ev.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ev.set_defaults(handler=handle_evaluate)

    ver = o.add_parser(sub, "verify", help="closed-division equivalence with the reference model",
                       example=("tinyperf models verify mine.tflite --model-id kws01",
                                "tinyperf models verify mine.tflite --reference ref.tflite "
                                "--tolerance 0.01"))
    ver.add_argument("submitted", type=Path, metavar="SUBMITTED.tflite",
                     help="submitted .tflite file")
    o.add_model_id(ver, help="registry model id of the reference")
    ver.add_argument("--reference", type=Path, default=None, metavar="PATH",
                     help="reference .tflite (checked against the registry sha256 when "
                          "--model-id is given)")
    ver.add_argument("--tolerance", type=float, default=None,
                     help="max weight error as a fraction of each layer's range "
                          "(default 1/127, one int8 step)")
    ver.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ver.set_defaults(handler=handle_verify)

    bld = o.add_parser(sub, "build", help="train, int8-quantize, export and evaluate a reference "
                                          "model (needs TensorFlow: pip install -e '.[train]')",
                       example=("tinyperf models build --model-id kws01 --raw-path "
                                "speech_commands_v0.02 --epochs 36 --output-dir build/kws01",
                                "tinyperf models build --model-id ad01 --raw-path "
                                "DCASE2020/dev_data/ToyCar --legacy-fold"))
    o.add_model_id(bld, choices=o.BENCHMARK_MODELS, required=True, positional=True,
                   help="reference model to build")
    o.add_raw_path(bld, deprecated=("--data-dir",), required=True,
                   help="kws01: extracted Speech Commands v2; ad01: folder with "
                        "dev_data/ToyCar/{train,test}")
    bld.add_argument("--epochs", type=int, default=None,
                     help="training epochs (default: the spec's, kws01 36, ad01 100)")
    o.add_output_dir(bld, deprecated=("--out",), default=None,
                     help="output folder (default: build/<model_id>)")
    bld.add_argument("--calibration", type=Path, default=None,
                     help="quant_cal_idxs.txt / calibration.txt or a folder holding it "
                          "(default: $TINYPERF_REFERENCE_DIR, else a seeded fallback)")
    bld.add_argument("--seed", type=int, default=None, help="random seed (default 1234)")
    bld.add_argument("--test-dir", type=Path, default=None,
                     help="kws01: separate test set folder (the v0.02 test archive)")
    bld.add_argument("--legacy-fold", action="store_true",
                     help="ad01: fold BN with the reference's bias-dropping rule")
    bld.add_argument("--max-calibration", type=int, default=None,
                     help="ad01: subsample the calibration vectors to this many (seeded)")
    bld.add_argument("--json", action="store_true", help="print the run record as JSON")
    bld.set_defaults(handler=handle_build)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=_json_default)
    sys.stdout.write("\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# -- info ---------------------------------------------------------------------------------------


def _shape(shape: Any) -> str:
    return "x".join(str(d) for d in shape) if len(shape) else "scalar"


def _quant(q: dict[str, Any] | None) -> str:
    if q is None:
        return "-"
    if q["per_channel"]:
        return f"per-channel({q['channels']}, axis {q['axis']})"
    return f"{q['scale']:.6g} / {q['zero_point']}"


def _options(op: dict[str, Any]) -> str:
    o = op["options"]
    name = op["op"]
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        kernel = next((i["shape"] for i in op["inputs"][1:2]), [0, 0, 0, 0])
        text = f"{kernel[1]}x{kernel[2]} s{o['stride_h']}x{o['stride_w']} {o['padding']}"
        if name == "DEPTHWISE_CONV_2D":
            text += f" dm{o['depth_multiplier']}"
        return f"{text} {o['fused_activation_function']}"
    if name.endswith("POOL_2D"):
        return (f"{o['filter_height']}x{o['filter_width']} s{o['stride_h']}x{o['stride_w']} "
                f"{o['padding']} {o['fused_activation_function']}")
    if name == "FULLY_CONNECTED" or "fused_activation_function" in o:
        return str(o["fused_activation_function"])
    if name == "SOFTMAX":
        return f"beta {o['beta']:g}"
    return ""


def _weights(op: dict[str, Any], tensors: list[dict[str, Any]]) -> str:
    consts = [i for i in op["inputs"] if i["constant"]]
    if not consts:
        return "-"
    t = tensors[consts[0]["tensor"]]
    q = t["quantization"]
    if q is None or t["dtype"] in ("float32", "float16"):
        return t["dtype"]
    return f"{t['dtype']} " + (f"per-channel({q['channels']})" if q["per_channel"]
                               else "per-tensor")


def format_info(s: dict[str, Any], with_tensors: bool = False) -> str:
    """Render :func:`tinyperf.reference_models.tflite_info.summary` as text tables."""
    lines = [f"{s['file']}: {s['file_bytes']:,} bytes (flash), schema v{s['schema_version']}"
             + (f", {s['description']!r}" if s["description"] else "")]
    for kind in ("inputs", "outputs"):
        for t in s[kind]:
            lines.append(f"  {kind[:-1]:<6} {t['name']!r} {_shape(t['shape'])} {t['dtype']} "
                         f"quant {_quant(t['quantization'])}")
    lines.append("")
    header = (f"{'#':>3}  {'op':<18} {'v':>2}  {'input -> output':<26} {'options':<24} "
              f"{'weights':<20} {'output quant':<22} {'const':>7}")
    lines += [header, "-" * len(header)]
    tensors = s["tensors"]
    for op in s["operators"]:
        act_in = next((i for i in op["inputs"] if not i["constant"]), None)
        out = op["outputs"][0] if op["outputs"] else None
        flow = f"{_shape(act_in['shape']) if act_in else '-'} -> " \
               f"{_shape(out['shape']) if out else '-'}"
        lines.append(f"{op['index']:>3}  {op['op']:<18} {op['version']:>2}  {flow:<26} "
                     f"{_options(op):<24} {_weights(op, tensors):<20} "
                     f"{_quant(out['quantization'] if out else None):<22} "
                     f"{op['constant_elements']:>7,}")
    counts = ", ".join(f"{n} {name}" for name, n in s["op_counts"].items())
    m, a = s["macs"], s["activation_bytes"]
    lines += [
        "",
        f"ops               {s['op_count']} ({counts})",
        f"parameters        {s['parameter_count']:,} constant elements "
        f"({s['constant_bytes']:,} bytes)",
        f"flash             {s['file_bytes']:,} bytes (.tflite file)",
        f"MACs/inference    {m['total']:,} (conv {m['conv']:,}, depthwise {m['depthwise']:,}, "
        f"fully connected {m['fully_connected']:,})"
        + (f" + {m['pool_adds']:,} pooling adds" if m["pool_adds"] else ""),
        f"activations       {a['sum']:,} bytes summed; {a['peak_planned']:,} bytes peak "
        f"(greedy offset plan over tensor lifetimes, {a['alignment']}-byte alignment; "
        "tensor data only, not the full TFLM arena); lower bound "
        f"{a['live_set_lower_bound']:,} bytes (largest live set at one op)",
    ]
    if with_tensors:
        lines += ["", f"{'#':>3}  {'name':<50} {'shape':<14} {'dtype':<8} {'bytes':>8}  quant"]
        for t in tensors:
            kind = "const" if t["constant"] else ""
            lines.append(f"{t['index']:>3}  {t['name'][:50]:<50} {_shape(t['shape']):<14} "
                         f"{t['dtype']:<8} {t['bytes']:>8,}  {_quant(t['quantization'])} {kind}")
    return "\n".join(lines)


def _registry_id(value: Path | None) -> str | None:
    """``value`` as a registry model id when it names one and is not a file on disk."""
    from tinyperf.reference_models import registry

    if value is None or value.exists() or str(value) not in registry.model_ids():
        return None
    return str(value)


def format_registry(spec: Any, path: Path) -> str:
    """The registry record of a model: id, file, checksums, data files."""
    lines = [f"{spec.model_id}: {spec.description}",
             f"  file    {path}",
             f"  sha256  {spec.sha256}" + (f"  md5 {spec.md5}" if spec.md5 else ""),
             f"  source  {spec.url}"]
    lines += [f"  data    {d.file} ({d.size:,} bytes, sha256 {d.sha256[:16]}...)"
              for d in spec.data_files]
    return "\n".join(lines)


def _tflm_arena(path: Path) -> dict[str, Any]:
    """The arena TFLM's interpreter plans for ``path``, or why it is not available."""
    from tinyperf.formats.errors import ModelError
    from tinyperf.reference_models import runtime

    if not runtime.tflm_available():
        return {"available": False, "reason": "tflite-micro is not installed"}
    try:
        arena = runtime.tflm_arena(path)
    except ModelError as exc:
        return {"available": False, "reason": str(exc).split(": ", 1)[-1]}
    return {"available": True, "total": arena.total, "head": arena.head, "tail": arena.tail}


def format_arena(arena: dict[str, Any], peak_planned: int) -> str:
    """One line: TFLM's planned arena next to our own activation estimate."""
    if not arena.get("available"):
        return f"TFLM arena        n/a ({arena.get('reason', 'unknown')})"
    return (f"TFLM arena        {arena['total']:,} bytes planned by the TFLite Micro "
            f"interpreter (head {arena['head']:,} activations + tail {arena['tail']:,} "
            f"structs, 64-bit host); our estimate of the head: {peak_planned:,} bytes")


def handle_info(args: argparse.Namespace) -> int:
    """Print the footprint report of one ``.tflite`` file (or of a registry model)."""
    from tinyperf.reference_models import registry, tflite_info

    model_id = _registry_id(args.file)
    path = registry.resolve_model_file(model_id) if model_id else args.file
    s = tflite_info.summary(tflite_info.read_model(path))
    s["tflm_arena"] = _tflm_arena(path)
    if args.json:
        if model_id:
            spec = registry.get_model(model_id)
            s = {**s, "registry": {"model_id": model_id, "sha256": spec.sha256, "md5": spec.md5,
                                   "url": spec.url,
                                   "data_files": [d.file for d in spec.data_files]}}
        _print_json(s)
    else:
        if model_id:
            print(format_registry(registry.get_model(model_id), path) + "\n")
        print(format_info(s, args.tensors))
        print(format_arena(s["tflm_arena"], s["activation_bytes"]["peak_planned"]))
    return 0


# -- evaluate -----------------------------------------------------------------------------------


def format_image_evaluation(r: dict[str, Any], dataset: str) -> str:
    """Render an ic01 / vww01 evaluation: both runners' figures, and the engine used."""
    rate = r["files"] / r["seconds"] if r["seconds"] > 0 else float("inf")
    mlc, eembc = r["mlc"], r["eembc"]
    auc = "n/a (a class has no input)" if mlc["auc"] is None else f"{mlc['auc']:.3f}"
    return "\n".join([
        f"model      {r['model']}",
        f"engine     {r['engine']}",
        f"dataset    {dataset}: {r['files']} files",
        f"MLCommons  Top 1% = {mlc['top1_percent']:2.1f}  AUC = {auc}  "
        "(normalised values; sklearn AUC)",
        f"EEMBC      Top-1: {eembc['top1_percent']:.1f}%  AUC: {eembc['auc']:.2f}  "
        "(raw values; 100-threshold AUC)",
        "per class  " + ", ".join(f"{k} {v:.0f}%" for k, v in
                                  r["per_class_top1_percent"].items()),
        f"time       {r['seconds']:.3f} s inference ({rate:,.0f} inputs/s)",
    ])


def format_evaluation(r: dict[str, Any], dataset: str) -> str:
    """Render an evaluation's ``as_dict()`` as text."""
    if r["benchmark"] in ("ic01", "vww01"):
        return format_image_evaluation(r, dataset)
    rate = r["files"] / r["seconds"] if r["seconds"] > 0 else float("inf")
    lines = [f"model      {r['model']} ({r['kernels']} kernels)",
             f"dataset    {dataset}: {r['files']} files"]
    if r["benchmark"] == "kws01":
        auc = "n/a (one class)" if r["auc"] is None else f"{r['auc']:.4f}"
        lines += [
            f"top-1      {r['top1_percent']:.2f} %  (argmax over the model outputs)",
            f"AUC        {auc}  (one-vs-rest macro over the printed values, runner definition)",
            "per class  " + ", ".join(f"{k} {v:.0f}%" for k, v in
                                      r["per_class_top1_percent"].items()),
            f"time       {r['seconds']:.3f} s inference ({rate:,.0f} inputs/s)",
        ]
    else:
        fmt = lambda v: "n/a" if v is None else f"{v:.4f}"  # noqa: E731
        per_id = ", ".join(f"id {k} {fmt(v)}" for k, v in r["auc_per_id"].items()) or "none"
        lines += [
            f"windows    {r['windows']:,}; per-file score = mean of window scores "
            f"({'as printed %0.3f' if r['rounding'] == 'printed' else 'unrounded'})",
            f"AUC pooled           {fmt(r['auc_pooled'])}  (all files, benchmark runner)",
            f"AUC per machine id   {per_id}",
            f"AUC mean of ids      {fmt(r['auc_mean_of_ids'])}  (training scripts)",
            f"Top 1%               {r['top1_percent']:.2f}  (runner, informational)",
            f"time       {r['seconds']:.3f} s inference "
            f"({r['windows'] / max(r['seconds'], 1e-9):,.0f} windows/s)",
        ]
    return "\n".join(lines)


def _model_path(model: Path | None, model_id: str | None) -> Path:
    from tinyperf.reference_models import registry

    if model is not None:
        return model
    if model_id is None:
        raise _error("give a MODEL.tflite file or --model-id")
    return registry.resolve_model_file(model_id)


def handle_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a kws01 / ad01 model on an input set and print the runner's figures."""
    from tinyperf.reference_models import evaluate

    positional_id = _registry_id(args.model)
    if positional_id is not None:
        if args.model_id is not None and args.model_id != positional_id:
            raise _error(f"model {positional_id} and --model-id {args.model_id} disagree")
        args.model, args.model_id = None, positional_id
    if _is_sww(args):
        return handle_evaluate_sww(args)
    if args.dataset_path is None:
        raise _error("required for kws01/ad01/ic01/vww01 evaluation", key="--dataset-path")
    path = _model_path(args.model, args.model_id)
    if args.workers is not None and args.workers < 1:
        raise _error("must be at least 1", key="--workers")
    result = evaluate.evaluate(path, args.dataset_path, labels=args.labels,
                               kernels=args.kernels, rounding=args.rounding,
                               workers=args.workers, engine=args.engine)
    data = result.as_dict()
    if args.json:
        _print_json(data)
    else:
        _, labels = evaluate.dataset_folder(args.dataset_path, data["benchmark"],
                                                 args.labels)
        print(format_evaluation(data, str(labels)))
    return 0


def _is_sww(args: argparse.Namespace) -> bool:
    from tinyperf.reference_models import registry

    if args.wav is not None or args.truth is not None:
        return True
    return args.model_id is not None and registry.get_model(args.model_id).metric == "detections"


def format_sww_evaluation(r: dict[str, Any]) -> str:
    """Render an sww01 :class:`Evaluation` ``as_dict()`` as text."""
    window = "+2.0 s (runner code)" if r["allowance"] == "code" else "+1.0 s (runner README)"
    lines = [f"model      {r['model']} ({r['kernels']} kernels)",
             f"scoring    runner rules: window end {window}, 1 s false-positive debounce"]
    for s in r["streams"]:
        steps = s["steps"]
        rate = steps / max(s["features_s"] + s["model_s"], 1e-9)
        lines += [
            "",
            f"stream     {s['wav']}: {steps} steps ({steps * 0.032:.2f} s of audio), "
            f"{len(s['detection_windows'])} wakeword window(s)",
            f"  pulses   {len(s['detection_steps'])} (step 0 = origin): "
            + _ranges(s["detection_steps"]),
            f"  score    {s['tp']} TP, {s['fn']} FN, {s['fp']} FP",
            f"  missed   {s['false_negatives_s']}" if s["false_negatives_s"] else "  missed   none",
            f"  false    {s['false_positives_s']}" if s["false_positives_s"] else "  false    none",
            f"  time     features {s['features_s']:.3f} s, model {s['model_s']:.3f} s "
            f"({rate:,.0f} steps/s)",
        ]
    lines += ["", f"total      {r['tp']} True positives, {r['fn']} False negatives, "
                  f"{r['fp']} False positives ({len(r['streams'])} stream(s))"]
    lines += [f"skipped    {s}" for s in r["skipped"]]
    return "\n".join(lines)


def _ranges(steps: list[int]) -> str:
    """``0, 43-66, 156``: consecutive steps collapsed."""
    out: list[str] = []
    last = -2
    for k in steps:
        if out and k == last + 1:
            out[-1] = f"{out[-1].split('-')[0]}-{k}"
        else:
            out.append(str(k))
        last = k
    return ", ".join(out) or "none"


def handle_evaluate_sww(args: argparse.Namespace) -> int:
    """``models evaluate sww01``: stream WAVs through the device pipeline and score them."""
    from tinyperf.reference_models import registry
    from tinyperf.reference_models.sww import evaluate as sww

    if args.kernels == "xnnpack":
        raise _error("sww01 runs the TFLite reference kernels only (the spec's goldens)",
                     key="--kernels")
    model = _model_path(args.model, args.model_id or "sww01")
    progress = (lambda m: print(m, file=sys.stderr)) if not args.json else None
    if args.wav is not None:
        if args.truth is None:
            raise _error("--wav needs --truth (the stream's detection windows)")
        result = sww.evaluate_wav(model, args.wav, args.truth, args.allowance)
    elif args.truth is not None:
        result = sww.evaluate_truth(model, args.truth, args.dataset_path, args.allowance,
                                    progress)
    elif args.dataset_path is not None:
        result = sww.evaluate_folder(model, args.dataset_path, args.allowance, progress)
    else:  # the registry's short test stream (reference dir, cache or download)
        wav = registry.resolve_data_file("sww01", "short_wav_easy10s.wav")
        truth = registry.resolve_data_file("sww01", "sww_short_test.json")
        result = sww.evaluate_wav(model, wav, truth, args.allowance)
    if not result.streams:
        raise _error("no stream scored: none of the truth file's WAVs was found ("
                     + "; ".join(result.skipped) + ")")
    data = result.as_dict()
    if args.json:
        _print_json(data)
    else:
        print(format_sww_evaluation(data))
    return 0


# -- verify -------------------------------------------------------------------------------------


def format_verify(report: Any) -> str:
    """Render a :class:`tinyperf.reference_models.verify.VerifyReport` as text."""
    verdict = "EQUIVALENT" if report.equivalent else "NOT EQUIVALENT"
    lines = [f"submitted  {report.submitted}", f"reference  {report.reference}",
             f"tolerance  {report.tolerance:.5f} of each layer's weight range", ""]
    header = f"{'op':>3}  {'type':<18} {'tensor':<8} {'ref dtype':<9} {'sub dtype':<9} " \
             f"{'max |diff|':>11} {'error':>8}  ok"
    lines += [header, "-" * len(header)]
    for w in report.weights:
        lines.append(f"{w.op_index:>3}  {w.op:<18} {w.role:<8} {w.reference_dtype:<9} "
                     f"{w.submitted_dtype:<9} {w.max_abs_diff:>11.4g} {w.error:>8.5f}  "
                     f"{'yes' if w.ok else 'NO'}")
    lines.append("")
    for note in report.notes:
        lines.append(f"note: {note}")
    for failure in report.failures():
        lines.append(f"DIFFERS: {failure}")
    lines.append(f"result: {verdict}")
    return "\n".join(lines)


def handle_verify(args: argparse.Namespace) -> int:
    """Compare a submitted model with the reference; exit 1 when not equivalent."""
    from tinyperf.reference_models import registry, verify

    if args.model_id is None and args.reference is None:
        raise _error("give --model-id (registry reference) or --reference PATH")
    if args.reference is not None:
        references = [registry.resolve_model_file(args.model_id, args.reference)
                      if args.model_id is not None else args.reference]
    else:  # the int8 reference and its published float companions (see verify_any)
        references = [registry.resolve_model_file(mid)
                      for mid in registry.reference_artifacts(args.model_id)]
    if not Path(args.submitted).is_file():
        raise _error("submitted model file not found", path=args.submitted)
    tolerance = verify.DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
    if tolerance < 0:
        raise _error("must be >= 0", key="--tolerance")
    report = verify.verify_any(args.submitted, references, tolerance)
    if args.json:
        _print_json(report.as_dict())
    else:
        print(format_verify(report))
    return 0 if report.equivalent else 1


# -- build --------------------------------------------------------------------------------------


def handle_build(args: argparse.Namespace) -> int:
    """Train + quantize + export + evaluate one reference model; print the run record."""
    import contextlib
    import os
    import sys

    if not getattr(args, "verbose", 0):  # TensorFlow's C++ and absl noise, unless -v
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tinyperf.reference_models import train

    if args.epochs is not None and args.epochs < 1:
        raise _error("must be >= 1", key="--epochs")
    options: dict[str, Any] = {}
    if o.require(args, "model_id", "--model-id") == "kws01":
        if args.legacy_fold or args.max_calibration is not None:
            raise _error("--legacy-fold / --max-calibration apply to ad01 only")
        options["test_dir"] = args.test_dir
    else:
        if args.test_dir is not None:
            raise _error("--test-dir applies to kws01 only (ad01 uses ToyCar/test)")
        options.update(legacy_fold=args.legacy_fold, max_calibration=args.max_calibration)
    out = args.output_dir if args.output_dir is not None else Path("build") / args.model_id
    options["verbose"] = 2  # Keras: one progress line per epoch (readable in a CI log too)
    # Keras prints its epoch lines to stdout: keep them on stderr, stdout holds the record
    with contextlib.redirect_stdout(sys.stderr):
        record = train.build(args.model_id, args.raw_path, out, epochs=args.epochs,
                             seed=train.DEFAULT_SEED if args.seed is None else args.seed,
                             calibration=args.calibration, **options)
    if args.json:
        _print_json(record)
    else:
        print("\n".join(train.iter_record_lines(record)))
    return 0
