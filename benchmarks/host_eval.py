"""Host reference evaluation of 1000 kws01 inputs: batched vs one sample at a time.

Inputs: the committed kws01 demo set (120 files) tiled to 1000 inputs, every copy after the
first perturbed by ±1-2 LSB of int8 noise so the runtime sees distinct data. All of it is in
memory, so the figures are inference + scoring only (no file I/O).

Three ways, side by side in one run, same model and the same kernels:

- loop: the DUT path, one input at a time (``dut_outputs.kws01_results``: invoke one
  sample, dequantize, truncate to the printed values), then the runner's top-1 / AUC;
- batched, 1 interpreter: ``evaluate.infer_batched`` with one interpreter (one invoke of
  batch 1000);
- batched, N interpreters: the same split over N interpreters in threads (the default of
  ``tinyperf models evaluate``).

Prints seconds, inputs/s, the ratios, and checks that the three give identical outputs and
the same top-1 / AUC. Needs the reference model: set ``TINYPERF_REFERENCE_DIR``.

``--model ic01|vww01|images`` (images = both) times the image benchmarks instead, on the
official set sizes (ic01 200 inputs, vww01 1,000), built from the procedural demo sets the
same way (tiled, ±2 LSB of noise): TFLite Micro one input at a time (the virtual DUT's
engine, what reference devices compute), LiteRT BUILTIN_REF one at a time, and batched LiteRT
(``BUILTIN_REF`` and the XNNPACK default); inputs/s, the ratios to TFLM, and how many inputs
get another int8 output / another argmax than under TFLM (spec ic_vww 6.3).

``--dut-cost`` prints the virtual DUT's host cost per inference for kws01, ad01 (one
window), ic01 and vww01: the ``infer_fn`` the sim calls (input conversion, model, printed
values) under the default engine, median of ``--calls`` calls.

Usage: python benchmarks/host_eval.py [--model kws01|ic01|vww01|images] [--inputs N]
       [--kernels reference|xnnpack] [--workers 2] [--repeat 3] [--dut-cost [--calls 20]]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from tinyperf.formats import metrics
from tinyperf.reference_models import bins, dut_outputs, evaluate, registry, runtime
from tinyperf.reference_models.demo import demo_data_dir

#: The official accuracy set sizes (spec ic_vww 0).
IMAGE_INPUTS = {"ic01": 200, "vww01": 1000}


def make_inputs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` int8 kws01 inputs (n, 49, 10) and labels from the demo set, tiled + perturbed."""
    folder = demo_data_dir() / "kws01"
    rows = bins.read_y_labels(folder / "y_labels.csv", "kws01")
    base = np.stack([bins.read_bin(folder / r.file, "kws01") for r in rows])
    labels = np.array([r.label for r in rows])
    reps = -(-n // len(base))
    x = np.tile(base, (reps, 1, 1))[:n].astype(np.int16)
    noise = np.random.default_rng(seed).integers(-2, 3, size=x.shape)
    noise[: len(base)] = 0  # the first copy is the demo set itself
    return np.clip(x + noise, -128, 127).astype(np.int8), np.tile(labels, reps)[:n]


def make_image_inputs(model: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 ``.bin`` images of ``model`` and labels: the demo set tiled + perturbed."""
    folder = demo_data_dir() / model
    rows = bins.read_y_labels(folder / "y_labels.csv", model)
    base = np.stack([bins.read_bin(folder / r.file, model) for r in rows])
    labels = np.array([r.label for r in rows])
    reps = -(-n // len(base))
    x = np.tile(base, (reps, 1, 1, 1))[:n].astype(np.int16)
    noise = np.random.default_rng(seed).integers(-2, 3, size=x.shape)
    noise[: len(base)] = 0
    return np.clip(x + noise, 0, 255).astype(np.uint8), np.tile(labels, reps)[:n]


def image_benchmark(model: str, n: int, repeat: int) -> bool:
    """TFLM vs LiteRT-REF vs batched LiteRT on ``n`` inputs of ``model``; prints a table."""
    path = registry.resolve_model_file(model, download=False)
    raw, y = make_image_inputs(model, n)
    x = (raw ^ 0x80).view(np.int8)  # the reference port's byte - 128
    ways: list[tuple[str, str, bool]] = [("TFLM, one at a time (virtual DUT)", "tflm", False),
                                         ("LiteRT-REF, one at a time", "litert-ref", False),
                                         ("LiteRT-REF, batched", "litert-ref", True),
                                         ("LiteRT XNNPACK, batched", "xnnpack", True)]
    if not runtime.tflm_available():
        ways = ways[1:]
    rows, outputs = [], {}
    for name, engine, batched in ways:
        m = runtime.load_model(path, engine)
        if batched:
            t, out = best_of(repeat, lambda m=m: m.invoke_batch(x))
        else:
            t, out = best_of(repeat, lambda m=m: np.stack([m.invoke(s) for s in x]))
        outputs[name] = np.asarray(out)
        rows.append((name, t))
    base_name, base_t = rows[0]
    base = outputs[base_name]
    print(f"\n{model} host inference, {len(x)} inputs, best of {repeat}")
    print(f"{'method':<36} {'seconds':>8} {'inputs/s':>9} {'vs ' + base_name.split(',')[0]:>10}"
          f" {'outputs differ':>15} {'argmax differs':>15}")
    for name, t in rows:
        out = outputs[name]
        differ = int(np.count_nonzero(np.any(out != base, axis=1)))
        argmax = int(np.count_nonzero(np.argmax(out, 1) != np.argmax(base, 1)))
        print(f"{name:<36} {t:>8.3f} {len(x) / t:>9,.1f} {base_t / t:>9.2f}x {differ:>15} "
              f"{argmax:>15}")
    printed = evaluate.image_printed(base, runtime.load_model(path, "litert-ref"))
    mlc = metrics.mlc_accuracy(y, printed)
    eembc = metrics.eembc_accuracy(y, printed)
    print(f"{base_name.split(',')[0]} scores (procedural demo images: a pipeline check): "
          f"MLC top-1 {mlc[0]:.1f} % AUC {mlc[1]:.3f}; EEMBC top-1 {eembc[0]:.1f} % "
          f"AUC {eembc[1]:.2f}")
    return True


def dut_cost(calls: int) -> None:
    """The virtual DUT's host time per inference (median of ``calls``) for each model."""
    from tinyperf.firmware_interface.sim.model import build_infer_fn, infer_engine

    print(f"\nvirtual DUT host cost per inference (median of {calls} calls)")
    print(f"{'model':<7} {'engine':<15} {'ms/inference':>13} {'max inf/s':>10}")
    for model in ("kws01", "ad01", "ic01", "vww01"):
        infer = build_infer_fn(model, download=False)
        spec = registry.get_model(model)
        raw = np.random.default_rng(1).integers(0, 256, spec.dut_input_bytes, dtype=np.uint8)
        if model == "ad01":  # float32 features in a plausible range, not random bit patterns
            raw = np.random.default_rng(1).normal(-20, 5, 640).astype("<f4").view(np.uint8)
        data = raw.tobytes()
        infer(data)
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            infer(data)
            times.append(time.perf_counter() - start)
        ms = 1e3 * float(np.median(times))
        print(f"{model:<7} {infer_engine(infer) or '?':<15} {ms:>13.3f} {1e3 / ms:>10,.0f}")


def best_of(repeat: int, fn: object) -> tuple[float, object]:
    """Fastest wall time of ``repeat`` calls and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=None,
                        help="default: kws01 1000; ic01 200 and vww01 1000 (official sets)")
    parser.add_argument("--kernels", choices=("reference", "xnnpack"), default="reference")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", choices=("kws01", "ic01", "vww01", "images"),
                        default="kws01")
    parser.add_argument("--dut-cost", action="store_true",
                        help="also time the virtual DUT's inference per model")
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    if args.model != "kws01":
        models = ("ic01", "vww01") if args.model == "images" else (args.model,)
        for model in models:
            image_benchmark(model, args.inputs or IMAGE_INPUTS[model], args.repeat)
        if args.dut_cost:
            dut_cost(args.calls)
        return 0

    path = registry.resolve_model_file("kws01", download=False)
    x, y = make_inputs(args.inputs or 1000)
    one = evaluate.open_models(path, args.kernels, 1)
    many = evaluate.open_models(path, args.kernels, args.workers)

    def loop() -> tuple[np.ndarray, float, float | None]:
        records = [(str(i), int(label), dut_outputs.kws01_results(one[0], sample.tobytes()))
                   for i, (sample, label) in enumerate(zip(x, y))]
        fs = metrics.file_scores(records)
        return fs.y_pred, metrics.top1(fs.y_true, fs.y_pred), metrics.accuracy_auc(
            fs.y_true, fs.y_pred)

    def batched(models: list) -> tuple[np.ndarray, float, float | None]:
        out = evaluate.infer_batched(models, x)
        printed = evaluate.kws01_printed(out, models[0])
        _, top1, auc = evaluate.kws01_scores(y, out, printed)
        return printed, top1, auc

    t_loop, r_loop = best_of(args.repeat, loop)
    t_one, r_one = best_of(args.repeat, lambda: batched(one))
    t_many, r_many = best_of(args.repeat, lambda: batched(many))
    same = all(np.array_equal(np.vstack([metrics.normalise(v) for v in r[0]]), r_loop[0])
               and r[1] == r_loop[1] and r[2] == r_loop[2] for r in (r_one, r_many))

    n = len(x)
    print(f"kws01 host evaluation, {n} inputs, {args.kernels} kernels, best of {args.repeat}")
    print(f"{'method':<34} {'seconds':>9} {'inputs/s':>10} {'vs loop':>8}")
    for name, t in (("loop (one at a time, DUT path)", t_loop),
                    ("batched, 1 interpreter", t_one),
                    (f"batched, {args.workers} interpreters (default)", t_many)):
        print(f"{name:<34} {t:>9.3f} {n / t:>10,.0f} {t_loop / t:>7.2f}x")
    print(f"top-1 {r_many[1]:.2f} %, AUC {r_many[2]:.4f}; identical results: {same}")
    if args.dut_cost:
        dut_cost(args.calls)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
