"""Energy per window and per inference: pure, vectorised numpy (energy_monitors.md §5).

Numbers in, numbers out; no I/O. The pieces:

- ``energy_between``: joules between two monitor times with sub-sample boundaries
  (§5.3 fractional rule) for uniform streams, linear interpolation for cumulative ones;
- ``detect_edges``: edges of a sampled GPI line with a minimum pulse width;
- ``bracket_windows`` / ``pair_edges``: which two edges delimit each window — the two
  edges of the chosen polarity inside each ``infer`` command (live runs), or consecutive
  pairs after the boot edge (offline files);
- ``evaluate_windows``: energy, power, per-inference figure, validity reasons and the
  §5.5 uncertainty budget of every window; ``summarise``: median and run validity;
- ``mlcommons_window`` / ``eembc_windows``: the reference tools' exact methods, kept
  separate so published results can be reproduced digit for digit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .capture import Capture, Edge
from .errors import MonitorError

MIN_WINDOW_S = 10.0
REQUIRED_WINDOWS = 5
#: Samples converted to float64 at a time: bounds memory on 10^7-sample windows.
_CHUNK = 1 << 22


# -- integration -------------------------------------------------------------------------------


def sample_energy(capture: Capture, k0: int, k1: int) -> np.ndarray:
    """Energy (J, float64) of samples ``k0 .. k1-1`` of a uniform capture."""
    v = np.asarray(capture.values[k0:k1], dtype=np.float64)
    if capture.kind == "energy":
        return v
    if capture.kind == "power":
        return v / capture.fs
    volt = capture.voltage
    if isinstance(volt, np.ndarray):
        return v * np.asarray(volt[k0:k1], dtype=np.float64) / capture.fs
    return v * float(volt) / capture.fs  # type: ignore[arg-type]


@dataclass(frozen=True)
class Integral:
    """Energy between two times and how many samples inside were NaN."""

    energy_j: float
    nan_samples: int
    outside: bool = False  # the interval reaches beyond the capture


def _chunked_sum(capture: Capture, lo: int, hi: int) -> tuple[float, int]:
    total, nans = 0.0, 0
    for start in range(lo, hi, _CHUNK):
        q = sample_energy(capture, start, min(hi, start + _CHUNK))
        bad = np.isnan(q)
        n_bad = int(bad.sum())
        if n_bad:
            nans += n_bad
            q = np.where(bad, 0.0, q)
        total += float(q.sum())  # numpy's pairwise sum: ~1e-16 relative over 10^7 terms
    return total, nans


def _uniform_between(capture: Capture, t0: float, t1: float) -> Integral:
    n = len(capture.values)
    a = (t0 - capture.t0_s) * capture.fs
    b = (t1 - capture.t0_s) * capture.fs
    outside = a < 0 or b > n
    a, b = min(max(a, 0.0), float(n)), min(max(b, 0.0), float(n))
    if b <= a:
        return Integral(0.0, 0, outside)
    ka, kb = math.floor(a), math.floor(b)
    if ka == kb:  # both ends inside one sample
        q = sample_energy(capture, ka, ka + 1)[0]
        return Integral(0.0 if math.isnan(q) else float((b - a) * q), int(math.isnan(q)),
                        outside)
    head = sample_energy(capture, ka, ka + 1)[0] * (ka + 1 - a)
    tail = sample_energy(capture, kb, kb + 1)[0] * (b - kb) if kb < n and b > kb else 0.0
    body, nans = _chunked_sum(capture, ka + 1, kb)
    for part in (head, tail):
        if math.isnan(part):
            nans += 1
    total = body + (0.0 if math.isnan(head) else head) + (0.0 if math.isnan(tail) else tail)
    return Integral(float(total), nans, outside)


def _cumulative_between(capture: Capture, t0: float, t1: float) -> Integral:
    t = np.asarray(capture.time_s, dtype=np.float64)
    c = np.asarray(capture.values, dtype=np.float64)
    outside = bool(len(t) == 0 or t0 < t[0] or t1 > t[-1])
    lo, hi = np.searchsorted(t, [t0, t1])
    nans = int(np.isnan(c[max(lo - 1, 0):hi + 1]).sum())
    ok = ~np.isnan(c)
    if ok.sum() < 2:
        return Integral(float("nan"), nans, True)
    e0, e1 = np.interp([t0, t1], t[ok], c[ok])
    return Integral(float(e1 - e0), nans, outside)


def energy_between(capture: Capture, t0: float, t1: float) -> Integral:
    """Joules delivered in ``[t0, t1)`` (monitor seconds).

    Uniform streams use the fractional-boundary rule of §5.3 (rectangle rule on interval
    means, so sub-sample edges take the matching fraction of their sample); cumulative
    streams interpolate linearly inside the record holding each boundary. NaN samples
    count as zero energy and are reported, never silently dropped.
    """
    if t1 < t0:
        raise ValueError(f"window ends ({t1}) before it starts ({t0})")
    if capture.uniform:
        return _uniform_between(capture, t0, t1)
    return _cumulative_between(capture, t0, t1)


def power_at(capture: Capture, t: float, half_width_s: float = 0.0) -> float:
    """Mean power (W) around monitor time ``t`` (one sample, or ``±half_width_s``)."""
    if capture.uniform:
        width = max(half_width_s, 0.5 / capture.fs)
    else:
        t_arr = np.asarray(capture.time_s)
        step = float(np.median(np.diff(t_arr))) if len(t_arr) > 1 else 1.0
        width = max(half_width_s, step)
    lo, hi = t - width, t + width
    lo, hi = max(lo, capture.start_s), min(hi, capture.end_s)
    if hi <= lo:
        return 0.0
    e = energy_between(capture, lo, hi).energy_j
    return e / (hi - lo) if math.isfinite(e) else 0.0


# -- edges -------------------------------------------------------------------------------------


def detect_edges(bits: np.ndarray, fs: float, *, t0: float = 0.0, phase: float = 0.0,
                 min_width: int = 3) -> tuple[list[Edge], int]:
    """Edges of a sampled digital line, and the number of glitches rejected.

    ``bits[k]`` is the level at time ``t0 + (k + phase)/fs``. A change between samples
    ``j-1`` and ``j`` lies in that sampling interval; its best estimate is the middle,
    with a uniform error of ±0.5 sample (σ = 1/(fs·√12)). Runs shorter than ``min_width``
    samples are glitches: both of their edges are dropped.
    """
    b = np.asarray(bits).astype(np.int8).ravel()
    if b.size < 2:
        return [], 0
    idx = np.flatnonzero(np.diff(b)) + 1  # first sample of each new level
    idx, glitches = drop_short_runs(idx, min_width)
    sigma = 1.0 / (fs * math.sqrt(12.0))
    times = t0 + (idx - 0.5 + phase) / fs
    falling = b[idx] == 0
    edges = [Edge(float(t), bool(f), sigma) for t, f in zip(times, falling)]
    return edges, glitches


def drop_short_runs(idx: np.ndarray, min_width: int) -> tuple[np.ndarray, int]:
    """Remove both transitions around every run shorter than ``min_width`` samples."""
    idx = np.asarray(idx, dtype=np.int64)
    if min_width <= 1 or idx.size < 2:
        return idx, 0
    short = np.flatnonzero(np.diff(idx) < min_width)
    if not short.size:
        return idx, 0
    drop = np.zeros(idx.size, dtype=bool)
    drop[short] = True
    drop[short + 1] = True
    return idx[~drop], int(short.size)


@dataclass
class WindowEdges:
    """The two edges chosen for one window, with what was wrong in the choice."""

    index: int
    start: Edge | None
    end: Edge | None
    seen: int
    reasons: list[str] = field(default_factory=list)


def _polarity(falling: bool) -> str:
    return "falling" if falling else "rising"


def bracket_windows(edges: Sequence[Edge], spans: Sequence[tuple[float, float]],
                    falling: bool = True) -> list[WindowEdges]:
    """For each ``infer`` span (monitor times), the two edges of one polarity inside it.

    Exactly two are expected (the DUT's start and end timestamps). With fewer the window
    has no energy; with more the first and the last are used and the window is invalid.
    Edges outside every span (the boot timestamp, noise between windows) are ignored.
    """
    chosen = sorted((e for e in edges if e.falling == falling), key=lambda e: e.time_s)
    times = np.array([e.time_s for e in chosen])
    out = []
    for i, (lo, hi) in enumerate(spans):
        inside = [chosen[j] for j in np.flatnonzero((times >= lo) & (times <= hi))]
        w = WindowEdges(i, None, None, len(inside))
        pol = _polarity(falling)
        if len(inside) < 2:
            w.reasons.append(f"missing edge: {len(inside)} {pol} edge(s) inside the infer "
                             "command, 2 expected")
        else:
            w.start, w.end = inside[0], inside[-1]
            if len(inside) > 2:
                w.reasons.append(f"extra edges: {len(inside)} {pol} edges inside the infer "
                                 "command, 2 expected")
        out.append(w)
    return out


def pair_edges(edges: Sequence[Edge], falling: bool = True,
               skip_first: bool | None = None) -> list[WindowEdges]:
    """Consecutive pairs of edges of one polarity (offline captures with no host spans).

    With an odd count the first edge is taken as the boot/session timestamp and skipped
    (``skip_first=None``); pass True/False to force it.
    """
    chosen = sorted((e for e in edges if e.falling == falling), key=lambda e: e.time_s)
    if skip_first is None:
        skip_first = len(chosen) % 2 == 1
    if skip_first and chosen:
        chosen = chosen[1:]
    out = []
    for i in range(0, len(chosen) - 1, 2):
        out.append(WindowEdges(i // 2, chosen[i], chosen[i + 1], 2))
    if len(chosen) % 2:
        out.append(WindowEdges(len(out), chosen[-1], None, 1,
                               [f"missing edge: unpaired {_polarity(falling)} edge at "
                                f"{chosen[-1].time_s:.6f} s"]))
    return out


# -- accuracy and per-window evaluation ----------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    """A monitor's error model for §5.5. ``None`` means not known (left out, and said so)."""

    gain_rel: float | None = None
    offset_a: float = 0.0
    voltage_rel: float = 0.0  # only used when the voltage is a set point, not measured
    note: str = ""


@dataclass
class WindowEnergy:
    """Everything energy.json says about one window."""

    index: int
    start_s: float | None
    end_s: float | None
    duration_s: float | None
    inferences: int
    energy_j: float | None
    mean_power_w: float | None
    energy_per_inference_j: float | None
    uncertainty_j: float | None
    uncertainty_per_inference_j: float | None
    budget: dict[str, float] = field(default_factory=dict)
    edges: dict[str, Any] = field(default_factory=dict)
    nan_samples: int = 0
    range_changes: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.reasons

    @property
    def uj_per_inference(self) -> float | None:
        e = self.energy_per_inference_j
        return None if e is None else e * 1e6

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["valid"] = self.valid
        return d


def _count_in(times: np.ndarray, lo: float, hi: float) -> int:
    t = np.asarray(times, dtype=float)
    return int(((t >= lo) & (t < hi)).sum())


def _gap_overlap(gaps: Sequence[tuple[float, float]], lo: float, hi: float) -> float:
    return float(sum(max(0.0, min(hi, g1) - max(lo, g0)) for g0, g1 in gaps))


def _budget(capture: Capture, w: WindowEdges, energy: float, duration: float,
            missing_s: float, accuracy: Accuracy) -> dict[str, float]:
    """The §5.5 terms (J, k=1) for one window; combined in quadrature by the caller."""
    assert w.start is not None and w.end is not None
    terms: dict[str, float] = {}
    if accuracy.gain_rel is not None:
        terms["gain"] = abs(accuracy.gain_rel * energy)
    volt = capture.voltage
    v_mean = float(np.nanmean(volt)) if isinstance(volt, np.ndarray) else float(volt or 0.0)
    if accuracy.offset_a and v_mean:
        terms["offset"] = accuracy.offset_a * v_mean * duration
    p0 = power_at(capture, w.start.time_s)
    p1 = power_at(capture, w.end.time_s)
    terms["edge_timing"] = math.hypot(p0 * w.start.sigma_s, p1 * w.end.sigma_s)
    if capture.kind == "current" and not capture.voltage_measured:
        terms["voltage_assumption"] = abs(accuracy.voltage_rel * energy)
    if missing_s:
        terms["missing_samples"] = (energy / duration if duration else 0.0) * missing_s
    return terms


def evaluate_window(capture: Capture, w: WindowEdges, inferences: int,
                    accuracy: Accuracy | None = None,
                    min_duration_s: float = MIN_WINDOW_S) -> WindowEnergy:
    """Energy, power, per-inference figure, uncertainty and validity of one window."""
    accuracy = accuracy or Accuracy()
    reasons = list(w.reasons)
    if w.start is None or w.end is None:
        return WindowEnergy(w.index, None, None, None, inferences, None, None, None, None,
                            None, reasons=reasons)
    t0, t1 = w.start.time_s, w.end.time_s
    duration = t1 - t0
    integral = energy_between(capture, t0, t1)
    energy = integral.energy_j
    if integral.outside:
        reasons.append("window reaches beyond the captured data")
    if integral.nan_samples:
        reasons.append(f"{integral.nan_samples} NaN sample(s) inside the window")
    missing = _gap_overlap(capture.gaps, t0, t1)
    if missing:
        reasons.append(f"gap in the data: {missing * 1e3:.3f} ms of samples lost inside "
                       "the window")
    glitches = _count_in(capture.glitches_s, t0, t1)
    if glitches:
        reasons.append(f"{glitches} unfiltered current-range switch glitch(es) inside the "
                       "window")
    if duration < min_duration_s:
        reasons.append(f"duration {duration:.3f} s is below the minimum {min_duration_s:g} s")
    if inferences < 1:
        reasons.append("no inference count for the window")
    terms = _budget(capture, w, energy, duration, missing, accuracy)
    unc = math.sqrt(sum(v * v for v in terms.values()))
    per = energy / inferences if inferences > 0 else None
    edges = {"start_s": t0, "end_s": t1, "start_sigma_s": w.start.sigma_s,
             "end_sigma_s": w.end.sigma_s, "start_label": w.start.label,
             "end_label": w.end.label, "polarity": _polarity(w.start.falling),
             "edges_in_span": w.seen}
    return WindowEnergy(
        index=w.index, start_s=t0, end_s=t1, duration_s=duration, inferences=inferences,
        energy_j=energy, mean_power_w=energy / duration if duration > 0 else None,
        energy_per_inference_j=per, uncertainty_j=unc,
        uncertainty_per_inference_j=unc / inferences if inferences > 0 else None,
        budget=terms, edges=edges, nan_samples=integral.nan_samples,
        range_changes=_count_in(capture.range_changes_s, t0, t1), reasons=reasons)


def evaluate_windows(capture: Capture, windows: Sequence[WindowEdges],
                     inferences: Sequence[int] | int, accuracy: Accuracy | None = None,
                     min_duration_s: float = MIN_WINDOW_S) -> list[WindowEnergy]:
    """``evaluate_window`` for each window; ``inferences`` per window or one for all."""
    counts = [inferences] * len(windows) if isinstance(inferences, int) else list(inferences)
    if len(counts) != len(windows):
        raise ValueError(f"{len(counts)} inference counts for {len(windows)} windows")
    return [evaluate_window(capture, w, n, accuracy, min_duration_s)
            for w, n in zip(windows, counts)]


@dataclass
class EnergySummary:
    """The run's figure (median µJ/inference over windows) and its validity."""

    median_uj_per_inference: float | None
    windows: list[WindowEnergy]
    reasons: list[str]

    @property
    def valid(self) -> bool:
        return not self.reasons


def summarise(windows: Sequence[WindowEnergy], required: int = REQUIRED_WINDOWS) -> EnergySummary:
    """Median over the windows that have a figure; every invalid window is a reason."""
    reasons = []
    if len(windows) != required:
        reasons.append(f"{len(windows)} energy windows, exactly {required} required")
    for w in windows:
        reasons += [f"window {w.index}: {r}" for r in w.reasons]
    per = [w.uj_per_inference for w in windows if w.uj_per_inference is not None]
    median = float(np.median(per)) if per else None
    if median is None:
        reasons.append("no window has an energy figure")
    return EnergySummary(median, list(windows), reasons)


# -- the reference tools' methods -----------------------------------------------------------------


@dataclass(frozen=True)
class MlcWindow:
    """One window as the MLCommons runner computes it (protocol.md 3.3)."""

    elapsed_s: float
    energy_j: float
    power_w: float
    uj_per_inference: float
    start_index: int
    end_index: int


def mlcommons_window(samples: Sequence[float], timestamps: Sequence[Sequence[Any]],
                     iterations: int) -> MlcWindow:
    """The runner's method: last two events, 1000 Hz hard-coded, half-open sum.

    ``timestamps`` are ``[event id string, sample index]`` pairs as in results.json.
    """
    if len(timestamps) < 2:
        raise MonitorError(f"{len(timestamps)} timestamp event(s) in the window, 2 needed")
    ids = np.array([int(t[0]) for t in timestamps])
    if not np.all(np.diff(ids) == 1):
        raise MonitorError("Timestamps are not consecutive")
    i0, i1 = int(timestamps[-2][1]), int(timestamps[-1][1])
    elapsed = i1 / 1000 - i0 / 1000  # the runner converts each index to seconds first
    # Python's left-to-right sum, as the runner: numpy's pairwise sum differs in the last
    # bits, enough to flip a printed third decimal (v1.3 ad01 window 3: 160.426).
    energy = float(sum(float(x) for x in samples[i0:i1]))
    return MlcWindow(elapsed, energy, energy / elapsed if elapsed else float("nan"),
                     energy / iterations * 1e6, i0, i1)


def mlcommons_median(windows: Sequence[MlcWindow]) -> float:
    """``Median energy cost is …`` of the runner (µJ/inference)."""
    return float(np.median([w.uj_per_inference for w in windows]))


def eembc_windows(samples_j: np.ndarray, fs: float, times_s: Sequence[float],
                  inferences: int) -> list[MlcWindow]:
    """The EEMBC EnergyRunner's windows from ``trace1`` files (protocol.md 3.4).

    The first timestamp is the session's initial one; then start/stop pairs. Each window
    sums the samples from ``round(t0·fs)`` to ``round(t1·fs)`` (half open). The published
    timestamps are rounded to 1 ms, so the runner's own boundaries can differ by one
    sample at either end (see the fixture test for the size of that effect).
    """
    t = list(times_s)
    if len(t) % 2:
        t = t[1:]
    s = np.asarray(samples_j, dtype=np.float64)
    out = []
    for k in range(0, len(t) - 1, 2):
        i0, i1 = round(t[k] * fs), round(t[k + 1] * fs)
        energy = float(s[i0:i1].sum())
        elapsed = t[k + 1] - t[k]
        out.append(MlcWindow(elapsed, energy, energy / elapsed, energy / inferences * 1e6,
                             i0, i1))
    return out
