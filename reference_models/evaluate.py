"""Host-side reference evaluation of a kws01 / ad01 / ic01 / vww01 model on the official
``.bin`` layout.

Owns ``tinyperf models evaluate``: read ``y_labels.csv`` and its ``.bin`` inputs, run the
model in large batches (optionally split over a few interpreters in threads), and score the
outputs exactly as a reference DUT + the MLCommons runner would:

- **kws01** (spec §1.8, 1.9): top-1 = argmax over the raw model outputs (int8 for the
  reference model; first index on ties); AUC = one-vs-rest macro AUC over the 12 values a
  DUT prints (dequantized, truncated to 3 decimals), each vector divided by its sum, as the
  runner does. Float models get the int8 ``.bin`` inputs dequantized with the int8 reference
  model's input quantization (spec §1.4).
- **ad01** (spec §2.8, 2.9): per window the firmware's score (quantize with C ``round``,
  invoke, dequantize, MSE against the *float* window), computed for all windows of a file in
  one batched invoke; per file the mean over windows of the values as printed with ``%0.3f``
  (``rounding="printed"``, the runner) or unrounded (``rounding="exact"``, the reference
  Python). Reported: the pooled AUC over all files (benchmark definition), the AUC per
  machine id and their mean (training scripts' definition), and the runner's "Top 1%".

- **ic01 / vww01** (ic_vww spec 2.3, 3.1, 4): the ``.bin`` bytes become ``byte - 128``
  (int8 models) or ``byte / divisor`` (float companions: ic01 1, vww01 255); the values a
  reference DUT prints (``(q + 128) / 256`` as ``%0.3f``) are scored with *both* runners'
  formulas from :mod:`tinyperf.formats.metrics` (MLCommons: normalise, argmax, sklearn AUC;
  EEMBC: raw argmax, 100-threshold AUC). The engine defaults to TFLite Micro (the reference
  device's outputs, spec 6.3) when installed, else LiteRT ``BUILTIN_REF``.

Kernels: ``"reference"`` = the interpreter's builtin kernels without delegates (bit-exact
with TFLite Micro for kws01, spec §3.3; DUT-comparable); ``"xnnpack"`` = the runtime default
(fast, fine for accuracy). The default is reference kernels for int8 models and XNNPACK for
float ones.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
from tinyperf.formats import metrics
from tinyperf.formats.errors import DatasetError, ModelError
from tinyperf.reference_models import bins, dut_outputs, registry

Kernels = Literal["reference", "xnnpack"]
Rounding = Literal["printed", "exact"]

KWS01_ELEMENTS = 49 * 10
AD01_WINDOW = 640
#: Input elements of the image benchmarks' models (one raw uint8 ``.bin`` each).
IMAGE_ELEMENTS = {32 * 32 * 3: "ic01", 96 * 96 * 3: "vww01"}
#: Machine id in a DCASE / ad01 file name: ``normal_id_01_00000003_hist_librosa.bin``.
MACHINE_ID = re.compile(r"_id_(\d+)_")
DEFAULT_WORKERS = 2

T = TypeVar("T")


# -- model and dataset lookup ------------------------------------------------------------------


def detect_benchmark(model: Any) -> str:
    """``"kws01"`` or ``"ad01"`` from a loaded model's input tensor (490 or 640 elements)."""
    elements = int(np.prod(model.input.shape[1:]))
    if elements == KWS01_ELEMENTS:
        return "kws01"
    if elements == AD01_WINDOW:
        return "ad01"
    raise ModelError(f"{model.path}: input shape {model.input.shape} is neither kws01 "
                     f"({KWS01_ELEMENTS} values) nor ad01 ({AD01_WINDOW} values)")


def default_kernels(model_path: str | Path) -> Kernels:
    """Reference kernels for int8-input models, XNNPACK for float ones."""
    from tinyperf.reference_models.tflite_info import read_model

    info = read_model(model_path)
    dtype = info.tensors[info.inputs[0]].dtype if info.inputs else "float32"
    return "reference" if dtype in ("int8", "uint8", "int16") else "xnnpack"


def dataset_folder(dataset_path: str | Path, benchmark: str,
                   labels: str | Path = "y_labels.csv") -> tuple[Path, Path]:
    """(folder of the ``.bin`` files, label file) for ``dataset_path``.

    ``dataset_path`` may be the folder that holds the label file, or a dataset root with a
    ``<benchmark>/`` sub-folder (the runner's layout). ``labels`` is a file name in that
    folder or a path.
    """
    root = Path(dataset_path)
    label_name = Path(labels)
    for folder in (root, root / benchmark):
        candidate = label_name if label_name.is_absolute() else folder / label_name
        if candidate.is_file():
            return folder, candidate
    raise DatasetError(f"no {label_name} in {root} or {root / benchmark}", path=root)


def open_models(model_path: str | Path, kernels: Kernels, count: int = 1,
                engine: str | None = None) -> list[Any]:
    """``count`` independent interpreters of one model (one per worker thread); ``engine``
    (a ``runtime.ENGINES`` name) replaces the ``kernels`` choice when given."""
    from tinyperf.reference_models.runtime import TfliteModel, load_model  # needs a runtime

    if engine is not None:
        return [load_model(model_path, engine) for _ in range(max(count, 1))]
    return [TfliteModel(model_path, reference_kernels=kernels == "reference")
            for _ in range(max(count, 1))]


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` ranges covering ``range(n)`` in ``parts`` pieces."""
    parts = max(1, min(parts, n))
    edges = np.linspace(0, n, parts + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def _parallel(models: Sequence[Any], n: int, work: Callable[[Any, int, int], T]) -> list[T]:
    """Run ``work(model, start, stop)`` on contiguous chunks, one model per thread, in order.

    The interpreter releases the GIL while it invokes, so a few interpreters scale with the
    CPU cores; each chunk's own result is exactly what one interpreter gives (same kernels).
    """
    chunks = _split(n, len(models))
    if len(chunks) <= 1:
        return [work(models[0], 0, n)] if n else []
    with ThreadPoolExecutor(len(chunks)) as pool:
        futures = [pool.submit(work, m, a, b) for m, (a, b) in zip(models, chunks)]
        return [f.result() for f in futures]


def infer_batched(models: Sequence[Any], x: np.ndarray) -> np.ndarray:
    """Outputs of all rows of ``x``: one batched invoke per model on contiguous chunks."""
    if not len(x):
        return np.empty((0, *models[0].output.shape[1:]), dtype=models[0].output.dtype)
    return np.concatenate(_parallel(models, len(x), lambda m, a, b: m.invoke_batch(x[a:b])))


# -- kws01 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KwsEvaluation:
    """kws01 result: per-file predictions and the runner's two figures."""

    model: str
    kernels: str
    files: list[str]
    labels: np.ndarray
    outputs: np.ndarray  # raw model outputs, files x 12
    predictions: np.ndarray
    top1: float  # percent
    auc: float | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        per_class = {}
        for label, name in enumerate(bins.KWS_LABELS):
            mask = self.labels == label
            if mask.any():
                per_class[name] = float(100 * np.mean(self.predictions[mask] == label))
        return {"benchmark": "kws01", "model": self.model, "kernels": self.kernels,
                "files": len(self.files), "top1_percent": self.top1, "auc": self.auc,
                "per_class_top1_percent": per_class, "seconds": self.seconds}


def kws01_model_inputs(q: np.ndarray, model: Any) -> np.ndarray:
    """Model inputs for int8 ``.bin`` data: verbatim for int8 models, dequantized for float.

    Float models get ``(q - 83) * 0.5847…``: the int8 reference model's input quantization,
    which the ``.bin`` files are encoded with (spec §1.4).
    """
    if np.dtype(model.input.dtype) == np.int8:
        return q.astype(np.int8, copy=False)
    spec = registry.get_model("kws01").input
    assert spec.scale is not None and spec.zero_point is not None
    return ((q.astype(np.float32) - spec.zero_point) * np.float32(spec.scale)).astype(
        model.input.dtype)


def kws01_printed(outputs: np.ndarray, model: Any) -> np.ndarray:
    """The values a DUT prints: dequantized (int8) and truncated to 3 decimals."""
    values = np.asarray(outputs, dtype=np.float64)
    if np.dtype(model.output.dtype) == np.int8:
        values = dut_outputs.dequantize(np.asarray(outputs), model.output)
    factor = 10**dut_outputs.RESULTS_DECIMALS
    return np.floor(values * factor) / factor


def kws01_scores(labels: np.ndarray, outputs: np.ndarray, printed: np.ndarray
                 ) -> tuple[np.ndarray, float, float | None]:
    """(predictions, top-1 %, OvR macro AUC of the normalised printed values)."""
    predictions = np.argmax(outputs, axis=1)  # first index on ties
    top1 = float(100.0 * np.mean(predictions == labels))
    rows = np.vstack([metrics.normalise(row) for row in printed])
    try:
        auc: float | None = metrics.auc_ovr_macro(labels, rows)
    except ValueError:  # a single class: AUC undefined
        auc = None
    return predictions, top1, auc


def evaluate_kws01(
    model_path: str | Path,
    dataset_path: str | Path,
    *,
    labels: str | Path = "y_labels.csv",
    kernels: Kernels | None = None,
    workers: int = DEFAULT_WORKERS,
    engine: str | None = None,
) -> KwsEvaluation:
    """Top-1 and AUC of a kws01 model over a ``y_labels.csv`` input set, batched."""
    path = Path(model_path)
    kernels = kernels or default_kernels(path)
    folder, label_file = dataset_folder(dataset_path, "kws01", labels)
    rows = bins.read_y_labels(label_file, "kws01")
    q = np.stack([bins.read_bin(folder / r.file, "kws01") for r in rows])
    y = np.array([r.label for r in rows])
    models = open_models(path, kernels, workers, engine)
    if engine is not None:
        kernels = models[0].engine  # reported as the engine actually used
    detect = detect_benchmark(models[0])
    if detect != "kws01":
        raise ModelError(f"{path}: a {detect} model cannot be evaluated on kws01 inputs")
    x = kws01_model_inputs(q, models[0])
    start = time.perf_counter()
    outputs = infer_batched(models, x)
    seconds = time.perf_counter() - start
    predictions, top1, auc = kws01_scores(y, outputs, kws01_printed(outputs, models[0]))
    return KwsEvaluation(str(path), kernels, [r.file for r in rows], y, outputs, predictions,
                         top1, auc, seconds)


# -- ad01 -------------------------------------------------------------------------------------


def ad01_window_scores(model: Any, windows: np.ndarray) -> np.ndarray:
    """Unrounded firmware-style score of each row of ``windows`` (n x 640 float32), batched.

    int8 models: :func:`.dut_outputs.ad01_scores` (C-``round`` quantization,
    dequantized output vs the float window). Float models: the output vs the window.
    """
    w = np.asarray(windows, dtype=np.float32)
    if np.dtype(model.input.dtype) == np.int8:
        return dut_outputs.ad01_scores(model, w)
    out = np.asarray(model.invoke_batch(w.astype(model.input.dtype)), dtype=np.float64)
    return np.mean((out.reshape(len(w), -1) - w.astype(np.float64)) ** 2, axis=1)


def ad01_file_windows(features: np.ndarray, window: int = AD01_WINDOW // 128,
                      stride: int = 1) -> np.ndarray:
    """All runner windows of one ad01 file: ``(200, 128)`` frames → ``(196, 640)`` rows.

    Equal to cutting the file's bytes at 2560-byte windows with a 512-byte stride.
    """
    frames = np.asarray(features, dtype=np.float32).reshape(-1, 128)
    count = 0 if len(frames) < window else (len(frames) - window) // stride + 1
    if count == 0:
        return np.empty((0, window * 128), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(frames, (window, 128))[::stride, 0]
    return view.reshape(count, window * 128)


def file_score(window_scores: np.ndarray, rounding: Rounding = "printed") -> float:
    """Per-file score: mean of the per-window values, printed (``%0.3f``) or exact."""
    s = np.asarray(window_scores, dtype=np.float64)
    if rounding == "printed":
        s = np.array([float(f"{v:.{dut_outputs.RESULTS_DECIMALS}f}") for v in s])
    return float(np.mean(s))


def machine_id(file_name: str) -> str | None:
    """Machine id (``"01"``) parsed from ``..._id_01_...`` in a file name, else None."""
    m = MACHINE_ID.search(file_name)
    return m.group(1) if m else None


@dataclass(frozen=True)
class AdEvaluation:
    """ad01 result: per-file scores and both AUC definitions."""

    model: str
    kernels: str
    rounding: str
    files: list[str]
    labels: np.ndarray
    scores: np.ndarray
    windows: int
    auc_pooled: float | None
    auc_per_id: dict[str, float | None]
    auc_mean_of_ids: float | None
    top1_percent: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"benchmark": "ad01", "model": self.model, "kernels": self.kernels,
                "rounding": self.rounding, "files": len(self.files), "windows": self.windows,
                "auc_pooled": self.auc_pooled, "auc_per_id": self.auc_per_id,
                "auc_mean_of_ids": self.auc_mean_of_ids, "top1_percent": self.top1_percent,
                "seconds": self.seconds,
                "file_scores": dict(zip(self.files, map(float, self.scores)))}


def _auc_or_none(labels: np.ndarray, scores: np.ndarray) -> float | None:
    try:
        return metrics.auc_binary(labels, scores)
    except ValueError:
        return None


def ad01_aucs(files: Sequence[str], labels: np.ndarray, scores: np.ndarray
              ) -> tuple[float | None, dict[str, float | None], float | None]:
    """(pooled AUC, AUC per machine id, mean of the defined per-id AUCs).

    Files without an ``_id_XX_`` part are pooled but belong to no id. An id whose files are
    all one class has no AUC (None) and is left out of the mean.
    """
    pooled = _auc_or_none(labels, scores)
    ids = [machine_id(f) for f in files]
    per_id: dict[str, float | None] = {}
    for mid in sorted({i for i in ids if i is not None}):
        mask = np.array([i == mid for i in ids])
        per_id[mid] = _auc_or_none(labels[mask], scores[mask])
    defined = [v for v in per_id.values() if v is not None]
    return pooled, per_id, (float(np.mean(defined)) if defined else None)


def evaluate_ad01(
    model_path: str | Path,
    dataset_path: str | Path,
    *,
    labels: str | Path = "y_labels.csv",
    kernels: Kernels | None = None,
    rounding: Rounding = "printed",
    workers: int = DEFAULT_WORKERS,
    engine: str | None = None,
) -> AdEvaluation:
    """Pooled and per-id AUC of an ad01 model over a ``y_labels.csv`` set (one batch per file)."""
    path = Path(model_path)
    kernels = kernels or default_kernels(path)
    folder, label_file = dataset_folder(dataset_path, "ad01", labels)
    rows = bins.read_y_labels(label_file, "ad01")
    models = open_models(path, kernels, workers, engine)
    if engine is not None:
        kernels = models[0].engine  # reported as the engine actually used
    detect = detect_benchmark(models[0])
    if detect != "ad01":
        raise ModelError(f"{path}: a {detect} model cannot be evaluated on ad01 inputs")
    per_file = [ad01_file_windows(bins.read_bin(folder / r.file, "ad01")) for r in rows]
    for r, w in zip(rows, per_file):
        if not len(w):
            raise DatasetError("file shorter than one window", path=folder / r.file)

    def work(model: Any, a: int, b: int) -> list[np.ndarray]:
        return [ad01_window_scores(model, per_file[i]) for i in range(a, b)]

    start = time.perf_counter()
    window_scores = [s for chunk in _parallel(models, len(rows), work) for s in chunk]
    seconds = time.perf_counter() - start
    scores = np.array([file_score(s, rounding) for s in window_scores])
    y = np.array([r.label for r in rows])
    files = [r.file for r in rows]
    pooled, per_id, mean_ids = ad01_aucs(files, y, scores)
    top1 = metrics.ad_top1_percent(y, scores) if len(scores) else math.nan
    return AdEvaluation(str(path), kernels, rounding, files, y, scores,
                        sum(len(s) for s in window_scores), pooled, per_id, mean_ids, top1,
                        seconds)


# -- entry point ------------------------------------------------------------------------------


# -- ic01 / vww01 -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageEvaluation:
    """ic01 / vww01 result: the printed values per file and both runners' figures."""

    benchmark: str
    model: str
    engine: str
    files: list[str]
    labels: np.ndarray
    printed: np.ndarray  # files x classes, the values a reference DUT prints (%0.3f)
    predictions: np.ndarray  # raw argmax of the printed values (lowest index on ties)
    mlc_top1: float
    mlc_auc: float | None
    eembc_top1: float
    eembc_auc: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        names = registry.get_model(self.benchmark).class_names
        per_class = {}
        for label, name in enumerate(names):
            mask = self.labels == label
            if mask.any():
                per_class[name] = float(100 * np.mean(self.predictions[mask] == label))
        return {"benchmark": self.benchmark, "model": self.model, "engine": self.engine,
                "kernels": self.engine, "files": len(self.files),
                "top1_percent": self.mlc_top1,
                "mlc": {"top1_percent": self.mlc_top1, "auc": self.mlc_auc},
                "eembc": {"top1_percent": self.eembc_top1, "auc": self.eembc_auc},
                "per_class_top1_percent": per_class, "seconds": self.seconds}


def image_model_inputs(raw: np.ndarray, model: Any, benchmark: str) -> np.ndarray:
    """Model inputs for uint8 ``.bin`` pixels: ``byte - 128`` for int8 models (the reference
    port's conversion), ``byte / divisor`` in float32 for the float companions."""
    if np.dtype(model.input.dtype) == np.int8:
        return (raw.astype(np.uint8) ^ 0x80).view(np.int8)
    divisor = registry.get_model(f"{benchmark}_fp32").float_input_divisor or 1.0
    return (raw.astype(np.float32) / np.float32(divisor)).astype(model.input.dtype)


def image_printed(outputs: np.ndarray, model: Any) -> np.ndarray:
    """The values a reference DUT prints for each output row, read back from ``%0.3f``."""
    values = np.asarray(outputs, dtype=np.float64)
    if np.dtype(model.output.dtype) == np.int8:
        values = dut_outputs.dequantize(np.asarray(outputs), model.output)
    decimals = dut_outputs.RESULTS_DECIMALS
    return np.array([dut_outputs.printed_values(row, decimals) for row in values]).reshape(
        values.shape)


def evaluate_image(
    model_path: str | Path,
    dataset_path: str | Path,
    *,
    benchmark: str | None = None,
    labels: str | Path = "y_labels.csv",
    engine: str | None = None,
    workers: int = 1,
) -> ImageEvaluation:
    """Both runners' Top-1 and AUC of an ic01 / vww01 model over a ``y_labels.csv`` set."""
    from tinyperf.reference_models.runtime import load_model

    path = Path(model_path)
    models = [load_model(path, engine) for _ in range(max(workers, 1))]
    elements = int(np.prod(models[0].input.shape[1:]))
    detected = IMAGE_ELEMENTS.get(elements)
    if detected is None or (benchmark is not None and benchmark != detected):
        raise ModelError(f"{path}: input shape {models[0].input.shape} is not "
                         f"{benchmark or 'ic01/vww01'}'s")
    folder, label_file = dataset_folder(dataset_path, detected, labels)
    rows = bins.read_y_labels(label_file, detected)
    if not rows:
        raise DatasetError(f"no input listed in {label_file}", path=label_file)
    raw = np.stack([bins.read_bin(folder / r.file, detected) for r in rows])
    y = np.array([r.label for r in rows])
    x = image_model_inputs(raw, models[0], detected)
    start = time.perf_counter()
    outputs = infer_batched(models, x)
    seconds = time.perf_counter() - start
    printed = image_printed(outputs, models[0])
    mlc_top1 = metrics.accuracy_top1(y, np.vstack([metrics.normalise(v) for v in printed]))
    try:
        mlc_top1, mlc_auc = metrics.mlc_accuracy(y, printed)
    except (ValueError, ZeroDivisionError):  # sklearn needs every class present
        mlc_auc = None
    eembc_top1, eembc_auc = metrics.eembc_accuracy(y, printed)
    return ImageEvaluation(detected, str(path), models[0].engine, [r.file for r in rows], y,
                           printed, np.argmax(printed, axis=1), mlc_top1, mlc_auc, eembc_top1,
                           eembc_auc, seconds)


def evaluate(
    model_path: str | Path,
    dataset_path: str | Path,
    *,
    labels: str | Path = "y_labels.csv",
    kernels: Kernels | None = None,
    rounding: Rounding = "printed",
    workers: int | None = None,
    engine: str | None = None,
) -> KwsEvaluation | AdEvaluation | ImageEvaluation:
    """Evaluate a kws01, ad01, ic01 or vww01 model (detected from its input shape) on
    ``dataset_path``. ``engine``: ic01/vww01 default to TFLM when installed; kws01 and ad01
    use their ``kernels`` choice unless an ``engine`` is given."""
    from tinyperf.reference_models.tflite_info import read_model

    info = read_model(model_path)
    if not info.inputs:
        raise ModelError(f"{model_path}: model has no input tensor")
    elements = info.tensors[info.inputs[0]].elements
    n = workers if workers is not None else min(DEFAULT_WORKERS, os.cpu_count() or 1)
    if elements in IMAGE_ELEMENTS:
        return evaluate_image(model_path, dataset_path, labels=labels, engine=engine,
                              workers=n)
    if elements == KWS01_ELEMENTS:
        return evaluate_kws01(model_path, dataset_path, labels=labels, kernels=kernels,
                              workers=n, engine=engine)
    if elements == AD01_WINDOW:
        return evaluate_ad01(model_path, dataset_path, labels=labels, kernels=kernels,
                             rounding=rounding, workers=n, engine=engine)
    raise ModelError(f"{model_path}: input of {elements} values is none of kws01 "
                     f"({KWS01_ELEMENTS}), ad01 ({AD01_WINDOW}), ic01 (3072) or vww01 (27648)")


__all__ = [
    "AdEvaluation", "ImageEvaluation", "KwsEvaluation", "ad01_aucs", "ad01_file_windows",
    "ad01_window_scores", "dataset_folder", "detect_benchmark", "evaluate", "evaluate_ad01",
    "evaluate_image", "evaluate_kws01", "file_score", "image_model_inputs", "image_printed",
    "infer_batched", "kws01_model_inputs", "kws01_printed", "kws01_scores", "machine_id",
    "open_models",
]
