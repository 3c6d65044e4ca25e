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
Usage: python benchmarks/host_eval.py [--inputs 1000] [--kernels reference|xnnpack]
       [--workers 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from tinyperf.formats import metrics
from tinyperf.reference_models import bins, dut_outputs, evaluate, registry
from tinyperf.reference_models.demo import demo_data_dir


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
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--kernels", choices=("reference", "xnnpack"), default="reference")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    path = registry.resolve_model_file("kws01", download=False)
    x, y = make_inputs(args.inputs)
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
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
