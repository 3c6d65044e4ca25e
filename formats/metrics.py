"""Pure metric functions: throughput, top-1, AUC, the ad01 "Top 1%", dispersion, validity.

Everything here is numbers in, numbers out, computed exactly as the MLCommons runner
does (spec 4.6, 4.7) unless a function says otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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
    return Spread(float(arr.min()), median(arr), float(arr.max()), int(arr.size))


def throughput(iterations: int, elapsed_us: int | None) -> float:
    """Inferences per second of one window; 0 when the time is missing (as the runner)."""
    if not elapsed_us:
        return 0.0
    return iterations / (elapsed_us / 1e6)


def median_throughput(values: Sequence[float]) -> float:
    return median(np.asarray(values, dtype=float))


def median(values: Sequence[float] | np.ndarray) -> float:
    """``float(np.median(values))`` of a 1-D float list or array, to the last bit.

    The same partition and the same ``np.mean`` of the middle one or two values as
    ``np.median``, without its first call's import of ``numpy.ma`` (~10 ms, a check's
    only use of it); empty or NaN input (a warning, NaN) is left to ``np.median`` itself.
    """
    arr = np.asarray(values, dtype=float)
    n = arr.size
    if arr.ndim != 1 or n == 0 or np.isnan(arr).any():
        return float(np.median(arr))
    k = n // 2
    if n % 2:
        return float(np.mean(np.partition(arr, k)[k:k + 1]))
    return float(np.mean(np.partition(arr, (k - 1, k))[k - 1:k + 1]))


def normalise(results: Sequence[float]) -> np.ndarray:
    """One value stays as is; more are divided by their sum (no softmax, no clipping).

    Only a positive sum divides: raw signed logits (``[-6.1, …, 6.4, …]``) can sum below
    zero, and dividing by that would flip the argmax. A zero or negative sum (where the
    runner would produce NaN or a flipped vector) leaves the vector unchanged, so the
    top-1 class of a vector is never changed by normalising it.
    """
    v = np.asarray(results, dtype=float)
    if v.size <= 1:
        return v
    total = v.sum()
    return v / total if total > 0 else v


@dataclass(frozen=True)
class FileScores:
    """Per-file scores: records grouped by file name in first-seen order, mean vector."""

    files: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray  # files x outputs
    windows: list[int]


def file_scores(records: Sequence[tuple[str, int, Sequence[float]]],
                normalised: bool = True) -> FileScores:
    """Group ``(file, label, results)`` by file and average the normalised vectors
    (``normalised=False``: the printed values as they are, as the EEMBC runner scores)."""
    if not records:
        raise ValueError("no records")
    files, labels, values = zip(*records)
    return scores_by_file(files, labels, values, normalised)


def scores_by_file(files: Sequence[str], labels: Sequence[int],
                   values: Sequence[Sequence[float]], normalised: bool = True) -> FileScores:
    """:func:`file_scores` of records given by column: a file's label is its first one.

    Vectorised, with no Python-level loop over records (only over distinct files): a
    round holds tens of thousands of inputs.
    """
    n = len(files)
    if not n:
        raise ValueError("no records")
    if len(set(map(len, values))) != 1:
        width = len(values[0])
        bad = next(k for k, v in enumerate(values) if len(v) != width)
        raise ValueError(f"{files[bad]}: results of {len(values[bad])} values after {width}")
    arr = _matrix(values, n)
    if normalised and arr.shape[1] > 1:
        totals = arr.sum(axis=1)
        positive = totals > 0  # only a positive sum divides: the argmax never changes
        arr[positive] /= totals[positive, None]
    order = dict(zip(dict.fromkeys(files), itertools.count()))  # file -> row, first seen
    if len(order) == n:  # one record per file (no windows): nothing to average
        return FileScores(list(order), np.asarray(list(map(int, labels))), arr, [1] * n)
    rows = np.fromiter(map(order.__getitem__, files), dtype=np.intp, count=n)
    first = np.unique(rows, return_index=True)[1]  # each file's first record: its label
    sums = np.zeros((len(order), arr.shape[1]))
    np.add.at(sums, rows, arr)
    counts = np.bincount(rows, minlength=len(order))
    return FileScores(list(order), np.asarray([int(labels[k]) for k in first.tolist()]),
                      sums / counts[:, None], counts.tolist())


def _matrix(values: Sequence[Sequence[float]], n: int) -> np.ndarray:
    """``np.asarray(values, dtype=float)`` as n rows: the values are streamed into the
    array (~1.5x faster than numpy's nested-sequence discovery); anything that does not
    stream (a nested list, a bad string) takes numpy's own path and its error."""
    width = len(values[0])
    try:
        return np.fromiter(itertools.chain.from_iterable(values), dtype=float,
                           count=n * width).reshape(n, width)
    except (TypeError, ValueError):
        return np.asarray(values, dtype=float).reshape(n, -1)


def top1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Percentage of rows whose argmax (first index on ties) equals the label."""
    return float(100.0 * np.mean(np.argmax(y_pred, axis=1) == y_true))


def _rank_sum(ordered: np.ndarray, values: np.ndarray) -> float:
    """Sum of the 1-based ranks of ``values`` in the sorted ``ordered``, ties given their
    average rank (``scipy.stats.rankdata``'s default: importing scipy.stats costs more than
    a whole check). A value with L smaller and R smaller-or-equal holds ranks L+1..R."""
    left = np.searchsorted(ordered, values, side="left")
    right = np.searchsorted(ordered, values, side="right")
    return float(((left + right + 1) / 2.0).sum())


def _u_auc(ordered: np.ndarray, positives: np.ndarray, negatives: int) -> float:
    """Mann-Whitney U of ``positives`` among all scores (``ordered``), over all pairs."""
    pos = positives.size
    return float((_rank_sum(ordered, positives) - pos * (pos + 1) / 2.0) / (pos * negatives))


def auc_binary(y_true: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """ROC AUC of ``scores`` for labels 0/1, ties counted half (equals sklearn's).

    Computed as the Mann-Whitney U statistic of the positives over all pairs.
    """
    y = np.asarray(y_true).astype(int)
    s = np.asarray(scores, dtype=float)
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if pos == 0 or neg == 0:
        raise ValueError("AUC needs both classes")
    return _u_auc(np.sort(s), s[y == 1], neg)


def auc_ovr_macro(y_true: np.ndarray, probs: np.ndarray) -> float:
    """One-vs-rest macro AUC over the classes present in ``y_true`` (sklearn ``ovr``)."""
    y = np.asarray(y_true).astype(int)
    p = np.asarray(probs, dtype=float)
    # return_counts: the sorting path, not the plain call's, whose first use imports
    # numpy.ma (~10 ms of a check's start); the same sorted classes
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError("AUC needs at least two classes")
    ordered = np.sort(p, axis=0)  # every column at once; each class ranks its own
    aucs = [_u_auc(ordered[:, c], p[y == c, c], y.size - n) for c, n in zip(classes, counts)]
    return float(np.mean(aucs))


def accuracy_auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The runner's AUC: binary on the score (ad01), on column 1 (vww01), else OvR macro."""
    if y_pred.shape[1] == 1:
        return auc_binary(y_true, y_pred[:, 0])
    if y_pred.shape[1] == 2:
        return auc_binary(y_true, y_pred[:, 1])
    return auc_ovr_macro(y_true, y_pred)


EEMBC_AUC_THRESHOLDS = 100


def eembc_auc(y_true: Sequence[int] | np.ndarray, values: np.ndarray) -> float:
    """The EEMBC EnergyRunner's multi-class AUC (ic_vww.md 4.2), printed as ``{:.2f}``.

    For each of the K columns (every class, present or not in ``y_true``): thresholds
    t_j = 0.01 j (j = 1..100) on the values as printed (no normalisation), TPR/FPR of
    ``v > t_j`` one-vs-rest, TPR_0 = FPR_0 = 1, and the trapezoid sum over the 101
    points; the figure is the mean over the K classes. A class with no positive (or no
    negative) input has its rate taken as 0 (0/0 is never printed).
    """
    y = np.asarray(y_true).astype(int)
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != y.size or v.shape[1] < 2:
        raise ValueError(f"need one row of >= 2 values per label, got {v.shape}")
    t = 0.01 * np.arange(1, EEMBC_AUC_THRESHOLDS + 1)
    classes = np.arange(v.shape[1])
    positive = y[:, None] == classes[None, :]  # inputs x classes
    # how many values of each class column lie above each threshold, split by truth
    tpr = np.ones((t.size + 1, classes.size))
    fpr = np.ones((t.size + 1, classes.size))
    for k in classes:
        col = v[:, k]
        pos, neg = np.sort(col[positive[:, k]]), np.sort(col[~positive[:, k]])
        # count of values > t = n - (count of values <= t)
        tpr[1:, k] = (pos.size - np.searchsorted(pos, t, side="right")) / pos.size \
            if pos.size else 0.0
        fpr[1:, k] = (neg.size - np.searchsorted(neg, t, side="right")) / neg.size \
            if neg.size else 0.0
    aucs = np.sum(0.5 * (tpr[:-1] + tpr[1:]) * (fpr[:-1] - fpr[1:]), axis=0)
    return float(np.mean(aucs))


def eembc_accuracy(y_true: Sequence[int] | np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """The EEMBC EnergyRunner's (Top-1 %, AUC) of the values as printed (ic_vww.md 4.2).

    No normalisation: Top-1 is the raw argmax (lowest index on ties), AUC the mean over
    all K classes of the 100-threshold trapezoid AUC (:func:`eembc_auc`). The runner
    prints them as ``Top-1: {:.1f}%`` and ``AUC: {:.2f}``. A one-column score (ad01) has
    no class columns: it is scored as the MLCommons runner does.
    """
    y = np.asarray(y_true).astype(int)
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != y.size:
        raise ValueError(f"need one row of values per label, got {v.shape}")
    if v.shape[1] == 1:
        return accuracy_top1(y, v), accuracy_auc(y, v)
    return top1(y, v), eembc_auc(y, v)


def mlc_accuracy(y_true: Sequence[int] | np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """The MLCommons runner's (Top-1 %, AUC) of one printed vector per file (ic_vww.md 4.1).

    Each row is divided by its sum (:func:`normalise`: only a positive sum divides, so the
    argmax never changes), then Top-1 = argmax, AUC = sklearn ``roc_auc_score``: binary on
    column 1 for two columns (vww01 "person"), one-vs-rest macro for more (ic01, kws01).
    Printed as ``Top 1% = {:2.1f}`` and ``AUC = {:.3f}``.
    """
    y = np.asarray(y_true).astype(int)
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != y.size:
        raise ValueError(f"need one row of values per label, got {v.shape}")
    w = np.vstack([normalise(row) for row in v]) if v.shape[1] > 1 else v
    return accuracy_top1(y, w), accuracy_auc(y, w)


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
