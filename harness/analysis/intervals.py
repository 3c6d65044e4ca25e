"""Confidence intervals for tinyperf figures. Pure: numbers in, ``Interval`` records out.

What each figure gets (issue 9), and why:

- **Median of the performance windows** — a distribution-free interval from order
  statistics. For n i.i.d. windows, the true median lies in ``[X(j), X(n+1-j)]`` with
  probability ``sum_{k=j}^{n-j} C(n,k) / 2^n`` whatever the distribution. With the 5 MLPerf
  windows the widest choice (min, max) gives ``1 - 2 * 0.5**5 = 93.75 %``; no 95 % interval
  exists from 5 values, and the function says so by returning the achieved confidence.
- **Any statistic** — percentile bootstrap with a fixed seed (reproducible figures).
- **Top-1** — Wilson score interval (good coverage near 0 % and 100 %, unlike Wald).
- **AUC** — bootstrap over files, stratified by label so every resample has both classes.

The textbook parts are scipy's: binomial probabilities (``scipy.stats.binom``), the normal
quantile, the Wilson interval (``binomtest(...).proportion_ci(method="wilson")``, no
continuity correction) and the percentile bootstrap (``scipy.stats.bootstrap``). The seed
semantics are ours: ``np.random.default_rng(seed)`` is handed to scipy, which draws the
resample indices exactly as :func:`stratified_indices` does, so the same seed gives the same
figures as before and as :mod:`tinyperf.harness.analysis.compare`'s paired resamples.
- **Energy** — the per-window spread (min/median/max, order-statistic interval of the
  median) plus the monitor's own uncertainty from the §5.5 budget of
  ``energy_monitors.md``: independent terms combined in quadrature, reported at k=1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 20240509
DEFAULT_RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """An estimate with its interval. ``confidence`` is what the method achieves."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interval:
        return cls(float(data["estimate"]), float(data["low"]), float(data["high"]),
                   float(data["confidence"]), str(data["method"]))

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _checked_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return confidence


# -- median of windows: order statistics ----------------------------------------------------------


def order_statistic_coverage(n: int, j: int) -> float:
    """P(X(j) <= median <= X(n+1-j)) for n i.i.d. continuous values (1-based ``j``)."""
    if n < 1 or not 1 <= j <= (n + 1) // 2:
        raise ValueError(f"need 1 <= j <= (n+1)//2 for n={n}, got j={j}")
    return float(_coverages(n)[j - 1])


def _coverages(n: int) -> np.ndarray:
    """Coverage of ``[X(j), X(n+1-j)]`` for j = 1 .. (n+1)//2: ``P(j <= K <= n-j)``,
    K ~ Binomial(n, 1/2), i.e. ``1 - 2 P(K <= j-1)`` by symmetry (decreasing in j)."""
    j = np.arange(1, (n + 1) // 2 + 1)
    return 1.0 - 2.0 * stats.binom.cdf(j - 1, n, 0.5)


def median_interval(values: Sequence[float],
                    confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Order-statistic interval for the median: the narrowest symmetric pair that reaches
    ``confidence``, or (min, max) with its lower achieved confidence when none does."""
    _checked_confidence(confidence)
    x = np.sort(np.asarray(values, dtype=float))
    n = int(x.size)
    if n == 0:
        raise ValueError("no values")
    median = float(np.median(x))
    if n == 1:
        return Interval(median, median, median, 0.0, "order statistic (1 value)")
    coverages = _coverages(n)
    reaching = np.flatnonzero(coverages >= confidence)
    best_j = int(reaching[-1]) + 1 if reaching.size else 1  # narrowest pair still reaching it
    achieved = float(coverages[best_j - 1])
    return Interval(median, float(x[best_j - 1]), float(x[n - best_j]), achieved,
                    f"order statistic X({best_j})..X({n + 1 - best_j}) of {n}")


# -- bootstrap ------------------------------------------------------------------------------------


def bootstrap_interval(values: Sequence[float],
                       statistic: Callable[[np.ndarray], float] = np.median,
                       confidence: float = DEFAULT_CONFIDENCE,
                       resamples: int = DEFAULT_RESAMPLES,
                       seed: int = DEFAULT_SEED) -> Interval:
    """Percentile bootstrap of ``statistic`` (``scipy.stats.bootstrap``); the same seed gives
    the same interval. ``statistic`` may take ``axis`` (vectorised) or one 1-D array."""
    _checked_confidence(confidence)
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("no values")
    estimate = float(statistic(x))
    if x.size == 1:  # scipy needs two values; every resample of one value is that value
        low = high = estimate
    else:
        res = stats.bootstrap((x,), statistic, n_resamples=resamples,
                              confidence_level=confidence, method="percentile",
                              rng=np.random.default_rng(seed))
        low, high = res.confidence_interval
    return Interval(estimate, float(low), float(high), confidence,
                    f"percentile bootstrap ({resamples} resamples, seed {seed})")


# -- top-1: Wilson score ------------------------------------------------------------------------


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile (1.959964 for 95 %)."""
    return float(stats.norm.ppf(0.5 + _checked_confidence(confidence) / 2))


def wilson_interval(successes: int, n: int,
                    confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Wilson score interval for a proportion ``successes / n`` (as fractions, not %),
    without continuity correction: scipy's ``method="wilson"`` (``"wilsoncc"`` has it)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}/{n}")
    ci = stats.binomtest(int(successes), int(n)).proportion_ci(
        confidence_level=_checked_confidence(confidence), method="wilson")
    return Interval(successes / n, max(0.0, float(ci.low)), min(1.0, float(ci.high)),
                    confidence, "Wilson score")


# -- AUC and other per-file metrics: stratified bootstrap ----------------------------------------


def stratified_indices(labels: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """``resamples`` rows of indices; each row resamples every label group within itself.

    The rows themselves, for paired comparisons (two models scored on the same resamples);
    :func:`stratified_percentile` draws the same rows through ``scipy.stats.bootstrap``."""
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    return np.hstack([g[rng.integers(0, g.size, (resamples, g.size))] for g in groups])


def file_bootstrap_interval(y_true: Sequence[int] | np.ndarray, y_pred: np.ndarray,
                            metric: Callable[[np.ndarray, np.ndarray], float],
                            confidence: float = DEFAULT_CONFIDENCE,
                            resamples: int = DEFAULT_RESAMPLES,
                            seed: int = DEFAULT_SEED) -> Interval:
    """Percentile bootstrap of ``metric(y_true, y_pred)`` resampling files within labels."""
    _checked_confidence(confidence)
    y = np.asarray(y_true).astype(int)
    pred = np.asarray(y_pred, dtype=float)
    if pred.ndim == 1:
        pred = pred[:, None]
    low, high = stratified_percentile(
        y, lambda rows: np.array([metric(y[r], pred[r]) for r in rows]),
        confidence, resamples, seed)
    return Interval(float(metric(y, pred)), float(low), float(high), confidence,
                    f"stratified file bootstrap ({resamples} resamples, seed {seed})")


def stratified_percentile(labels: np.ndarray,
                          statistic_rows: Callable[[np.ndarray], np.ndarray],
                          confidence: float, resamples: int, seed: int) -> tuple[float, float]:
    """Percentile interval of ``statistic_rows`` (rows of file indices -> one value per row)
    over stratified resamples, by ``scipy.stats.bootstrap``.

    One bootstrap sample per label, resampled independently (``paired=False``), is the
    stratified resample; the statistic gets the label groups' resampled file indices and
    rejoins them into the rows :func:`stratified_indices` gives for the same seed.
    """
    groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    if not groups:
        raise ValueError("no files")
    # scipy resamples only samples of two or more; a label with one file is that file in
    # every resample (and, as in stratified_indices, draws no random numbers)
    drawn = [g for g in groups if g.size > 1]
    if not drawn:
        value = float(statistic_rows(np.hstack(groups)[None, :])[0])
        return value, value

    def statistic(*resampled: np.ndarray, axis: int = -1) -> np.ndarray:  # noqa: ARG001 (always -1)
        parts = iter(resampled)
        r = resampled[0].shape[:-1]
        return statistic_rows(np.concatenate(
            [next(parts) if g.size > 1 else np.broadcast_to(g, (*r, 1)) for g in groups],
            axis=-1))

    res = stats.bootstrap(tuple(drawn), statistic, n_resamples=resamples, vectorized=True,
                          paired=False, confidence_level=confidence, method="percentile",
                          rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def auc_rows(y_rows: np.ndarray, s_rows: np.ndarray) -> np.ndarray:
    """Binary AUC of every row (ties counted half), as ``metrics.auc_binary`` per row."""
    pos = (y_rows == 1).sum(axis=1)
    neg = y_rows.shape[1] - pos
    ranks = stats.rankdata(s_rows, axis=1)
    u = (ranks * (y_rows == 1)).sum(axis=1) - pos * (pos + 1) / 2.0
    return u / (pos * neg)


def auc_interval(y_true: Sequence[int] | np.ndarray, y_pred: np.ndarray,
                 confidence: float = DEFAULT_CONFIDENCE, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED) -> Interval:
    """Bootstrap interval of the runner's AUC (binary on the score for ad01, column 1 for
    two outputs, one-vs-rest macro for kws01), resampling files within each label.

    Vectorised over resamples; equals ``file_bootstrap_interval(..., accuracy_auc)``."""
    from tinyperf.formats.metrics import accuracy_auc

    _checked_confidence(confidence)
    y = np.asarray(y_true).astype(int)
    pred = np.asarray(y_pred, dtype=float)
    pred = pred[:, None] if pred.ndim == 1 else pred
    classes = np.unique(y)

    def aucs(rows: np.ndarray) -> np.ndarray:
        yr = y[rows]
        if pred.shape[1] <= 2:
            return auc_rows(yr, pred[rows, pred.shape[1] - 1])
        return np.mean([auc_rows((yr == c).astype(int), pred[rows, c]) for c in classes],
                       axis=0)

    low, high = stratified_percentile(y, aucs, confidence, resamples, seed)
    return Interval(float(accuracy_auc(y, pred)), float(low), float(high), confidence,
                    f"stratified file bootstrap ({resamples} resamples, seed {seed})")


# -- energy: spread plus monitor uncertainty ------------------------------------------------------


def quadrature(terms: Mapping[str, float] | Sequence[float]) -> float:
    """Combine independent standard uncertainties: ``sqrt(sum u_i^2)`` (§5.5)."""
    values = terms.values() if isinstance(terms, Mapping) else terms
    return math.sqrt(sum(float(v) ** 2 for v in values))


@dataclass(frozen=True)
class EnergyInterval:
    """Energy per inference over the windows: spread, median interval, monitor U (k=1).

    ``combined`` widens the order-statistic interval of the median by ``k * monitor_u``
    on each side: the window-to-window spread says how well the median is pinned down, the
    monitor's error (gain, offset, edges) moves every window together and does not
    average out over windows.
    """

    median: float
    minimum: float
    maximum: float
    n: int
    median_interval: Interval
    monitor_u: float | None
    combined: Interval

    def as_dict(self) -> dict[str, Any]:
        return {"median": self.median, "min": self.minimum, "max": self.maximum,
                "n": self.n, "median_interval": self.median_interval.as_dict(),
                "monitor_u": self.monitor_u, "combined": self.combined.as_dict()}


def energy_interval(per_window: Sequence[float],
                    per_window_u: Sequence[float | None] | None = None,
                    confidence: float = DEFAULT_CONFIDENCE, k: float = 1.0) -> EnergyInterval:
    """``per_window``: µJ/inference of each window; ``per_window_u``: each window's monitor
    uncertainty (k=1, same unit), e.g. ``quadrature`` of its §5.5 budget. The monitor U of
    the median is the median of the known window uncertainties (None when none is known)."""
    values = np.asarray(per_window, dtype=float)
    mi = median_interval(values, confidence)
    known = [float(u) for u in (per_window_u or []) if u is not None and math.isfinite(u)]
    monitor_u = float(np.median(known)) if known else None
    widen = k * (monitor_u or 0.0)
    method = mi.method + (f" widened by {k:g} x monitor U (k=1)" if monitor_u is not None
                          else " (monitor uncertainty unknown)")
    combined = Interval(mi.estimate, mi.low - widen, mi.high + widen, mi.confidence, method)
    return EnergyInterval(float(np.median(values)), float(values.min()), float(values.max()),
                          int(values.size), mi, monitor_u, combined)
