"""Pure metric functions: throughput, top-1, AUC, the ad01 "Top 1%", dispersion, validity.

Everything here is numbers in, numbers out, computed exactly as the MLCommons runner
does (spec 4.6, 4.7) unless a function says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

MIN_WINDOW_S = 10.0
REQUIRED_WINDOWS = 5


@dataclass(frozen=True)
class Spread:
    """Dispersion of per-window figures: min / median / max and the count."""

    minimum: float
    median: float
    maximum: float
    count: int

    def as_dict(self) -> dict[str, float | int]:
        return {"min": self.minimum, "median": self.median, "max": self.maximum,
                "n": self.count}


def spread(values: Sequence[float]) -> Spread:
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        raise ValueError("no values")
    return Spread(float(arr.min()), float(np.median(arr)), float(arr.max()), int(arr.size))


def throughput(iterations: int, elapsed_us: int | None) -> float:
    """Inferences per second of one window; 0 when the time is missing (as the runner)."""
    if not elapsed_us:
        return 0.0
    return iterations / (elapsed_us / 1e6)


def median_throughput(values: Sequence[float]) -> float:
    return float(np.median(np.asarray(values, dtype=float)))


def normalise(results: Sequence[float]) -> np.ndarray:
    """One value stays as is; more are divided by their sum (no softmax, no clipping).

    A zero sum, where the runner would produce NaN, leaves the vector unchanged.
    """
    v = np.asarray(results, dtype=float)
    if v.size <= 1:
        return v
    total = v.sum()
    return v / total if total != 0 else v


@dataclass(frozen=True)
class FileScores:
    """Per-file scores: records grouped by file name in first-seen order, mean vector."""

    files: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray  # files x outputs
    windows: list[int]


def file_scores(records: Sequence[tuple[str, int, Sequence[float]]]) -> FileScores:
    """Group ``(file, label, results)`` by file and average the normalised vectors."""
    order: dict[str, int] = {}
    sums: list[np.ndarray] = []
    counts: list[int] = []
    labels: list[int] = []
    for name, label, results in records:
        vec = normalise(results)
        if name not in order:
            order[name] = len(sums)
            sums.append(vec.astype(float).copy())
            counts.append(1)
            labels.append(int(label))
            continue
        i = order[name]
        if sums[i].shape != vec.shape:
            raise ValueError(f"{name}: results of {vec.size} values after {sums[i].size}")
        sums[i] += vec
        counts[i] += 1
    if not sums:
        raise ValueError("no records")
    widths = {s.size for s in sums}
    if len(widths) != 1:
        raise ValueError(f"result vectors of different lengths: {sorted(widths)}")
    pred = np.vstack([s / c for s, c in zip(sums, counts)])
    return FileScores(list(order), np.asarray(labels), pred, counts)


def top1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Percentage of rows whose argmax (first index on ties) equals the label."""
    return float(100.0 * np.mean(np.argmax(y_pred, axis=1) == y_true))


def auc_binary(y_true: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """ROC AUC of ``scores`` for labels 0/1, ties counted half (equals sklearn's).

    Computed as the Mann-Whitney U statistic of the positives over all pairs.
    """
    y = np.asarray(y_true).astype(int)
    s = np.asarray(scores, dtype=float)
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if pos == 0 or neg == 0:
        raise ValueError("AUC needs both classes")
    ranks = rankdata(s)  # average ranks for ties
    u = ranks[y == 1].sum() - pos * (pos + 1) / 2.0
    return float(u / (pos * neg))


def auc_ovr_macro(y_true: np.ndarray, probs: np.ndarray) -> float:
    """One-vs-rest macro AUC over the classes present in ``y_true`` (sklearn ``ovr``)."""
    y = np.asarray(y_true).astype(int)
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("AUC needs at least two classes")
    aucs = [auc_binary((y == c).astype(int), probs[:, c]) for c in classes]
    return float(np.mean(aucs))


def accuracy_auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The runner's AUC: binary on the score (ad01), on column 1 (vww01), else OvR macro."""
    if y_pred.shape[1] == 1:
        return auc_binary(y_true, y_pred[:, 0])
    if y_pred.shape[1] == 2:
        return auc_binary(y_true, y_pred[:, 1])
    return auc_ovr_macro(y_true, y_pred)


def ad_top1_percent(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The runner's ad01 "Top 1%": best (precision + recall) / 2 over 100 thresholds.

    Neither accuracy nor F1; reproduced because published results.txt files carry it.
    """
    y = np.asarray(y_true).astype(int)
    s = np.asarray(scores, dtype=float).ravel()
    lo, hi = s.min(), s.max()
    thresholds = lo + np.arange(100) * 0.01 * (hi - lo)
    pred = s[None, :] > thresholds[:, None]
    tp = (pred & (y == 1)).sum(axis=1)
    fp = (pred & (y == 0)).sum(axis=1)
    fn = (~pred & (y == 1)).sum(axis=1)
    precision = tp / (tp + fp + 1e-8)
    recall = tp / (tp + fn + 1e-8)
    return float(np.max(100.0 * (precision + recall) / 2.0))


def accuracy_top1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The runner's "Top 1%" figure for any benchmark."""
    if y_pred.shape[1] == 1:
        return ad_top1_percent(y_true, y_pred[:, 0])
    return top1(y_true, y_pred)


@dataclass(frozen=True)
class Validity:
    """Whether a run is valid for submission, and every reason it is not."""

    valid: bool
    reasons: tuple[str, ...]


def performance_validity(window_seconds: Sequence[float | None],
                         minimum_s: float = MIN_WINDOW_S,
                         required: int = REQUIRED_WINDOWS) -> Validity:
    """Exactly ``required`` windows, each at least ``minimum_s`` by the DUT's clock."""
    reasons = []
    if len(window_seconds) != required:
        reasons.append(f"{len(window_seconds)} windows, exactly {required} required")
    for i, s in enumerate(window_seconds, start=1):
        if s is None:
            reasons.append(f"window {i}: no DUT timestamps")
        elif s < minimum_s:
            reasons.append(f"window {i}: {s:.3f} s by the DUT clock, at least "
                           f"{minimum_s:g} s required")
    return Validity(not reasons, tuple(reasons))
