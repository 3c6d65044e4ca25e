"""TI EnergyTrace CSV exports (Code Composer Studio) -> cumulative-energy ``Capture``.

Columns ``Time (ns), Current (nA), Voltage (mV), Energy (uJ)`` (spelling, case and
spaces vary: matched loosely). Records are irregular; energy is cumulative and is what we
integrate (the current column is filtered). EnergyTrace has no GPIO channel, so windows
come from ``sync_pulse_windows`` (power sync pulses + a linear DUT→monitor time map that
absorbs clock drift) or ``threshold_windows`` (one burst per inference), energy_monitors.md §2.4.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tinyperf.harness.energy.capture import Capture, Edge
from tinyperf.harness.energy.errors import CaptureFileError
from tinyperf.harness.energy.integrate import Accuracy, WindowEdges

#: TI: ±2 % ±500 nA below 25 mA (±5 % up to 75 mA).
ACCURACY = Accuracy(gain_rel=0.02, offset_a=500e-9, note="TI EnergyTrace, I < 25 mA")
_COLUMNS = {"time": "ns", "current": "na", "voltage": "mv", "energy": "uj"}


def _column_map(header: Sequence[str], path: Path) -> dict[str, int]:
    found = {}
    for i, name in enumerate(header):
        key = re.sub(r"[^a-z]", "", name.lower())
        for col, unit in _COLUMNS.items():
            if key.startswith(col) and key.endswith(unit):
                found[col] = i
    missing = [c for c in ("time", "energy") if c not in found]
    if missing:
        raise CaptureFileError(f"not an EnergyTrace export: no {', '.join(missing)} column "
                               f"in header {list(header)!r}", path)
    return found


def read_energytrace_csv(path: str | Path) -> Capture:
    """Parse an EnergyTrace CSV; rows that do not parse are an error naming the line."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureFileError(f"cannot read: {exc}", path) from exc
    if len(rows) < 3:
        raise CaptureFileError("fewer than two records", path)
    cols = _column_map(rows[0], path)
    width = max(cols.values()) + 1
    data = np.empty((len(rows) - 1, 4))
    for n, row in enumerate(rows[1:], start=2):
        if len(row) < width:
            raise CaptureFileError(f"line {n}: {len(row)} fields, {width} expected "
                                   "(truncated file?)", path)
        try:
            data[n - 2] = [float(row[cols[c]]) if c in cols else np.nan
                           for c in ("time", "current", "voltage", "energy")]
        except ValueError as exc:
            raise CaptureFileError(f"line {n}: {exc}", path) from exc
    t = data[:, 0] * 1e-9
    if np.any(np.diff(t) <= 0):
        raise CaptureFileError("time column is not strictly increasing", path)
    volt = float(np.nanmean(data[:, 2])) * 1e-3 if "voltage" in cols else None
    return Capture("cumulative", data[:, 3] * 1e-6, time_s=t, voltage=volt,
                   monitor="energytrace", source=str(path),
                   meta={"records": len(t)})


def derived_power(capture: Capture, smooth_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Power (W) between records, at the records' midpoints; optional moving mean."""
    t = np.asarray(capture.time_s)
    e = np.asarray(capture.values)
    p = np.diff(e) / np.diff(t)
    mid = (t[1:] + t[:-1]) / 2
    if smooth_s > 0 and len(t) > 2:
        n = max(1, int(round(smooth_s / float(np.median(np.diff(t))))))
        p = np.convolve(p, np.ones(n) / n, mode="same")
    return mid, p


@dataclass(frozen=True)
class Pulse:
    start_s: float
    end_s: float


def detect_pulses(capture: Capture, threshold_w: float, min_duration_s: float,
                  merge_gap_s: float = 0.0) -> list[Pulse]:
    """Runs of derived power above ``threshold_w`` lasting at least ``min_duration_s``."""
    _mid, p = derived_power(capture)
    above = np.concatenate([[False], p > threshold_w, [False]])
    change = np.flatnonzero(np.diff(above.astype(np.int8)))
    t = np.asarray(capture.time_s)
    runs = [(t[a], t[b]) for a, b in zip(change[0::2], change[1::2])]  # record boundaries
    merged: list[list[float]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= merge_gap_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [Pulse(a, b) for a, b in merged if b - a >= min_duration_s]


@dataclass(frozen=True)
class TimeMap:
    """``t_monitor = alpha + beta · t_dut`` fitted through sync points."""

    alpha: float
    beta: float
    residual_s: float

    def __call__(self, t_dut_s: float) -> float:
        return self.alpha + self.beta * t_dut_s


def fit_time_map(dut_s: Sequence[float], monitor_s: Sequence[float]) -> TimeMap:
    """Least-squares line through two or more (DUT time, monitor time) pairs."""
    x, y = np.asarray(dut_s, dtype=float), np.asarray(monitor_s, dtype=float)
    if x.size < 2 or x.size != y.size:
        raise ValueError("a time map needs two or more matching sync points")
    beta, alpha = np.polyfit(x, y, 1)
    res = float(np.max(np.abs(alpha + beta * x - y)))
    return TimeMap(float(alpha), float(beta), res)


def sync_pulse_windows(capture: Capture, pulses_dut_s: Sequence[tuple[float, float]],
                       windows_dut_s: Sequence[tuple[float, float]], threshold_w: float,
                       min_duration_s: float) -> tuple[list[WindowEdges], TimeMap]:
    """Windows from DUT-clock times mapped to monitor time through detected sync pulses.

    ``pulses_dut_s`` are the sync pulses' (start, end) on the DUT clock, in order; the
    same number must be found in the capture. Both ends of each pulse are sync points.
    """
    found = detect_pulses(capture, threshold_w, min_duration_s)
    if len(found) != len(pulses_dut_s):
        raise CaptureFileError(f"{len(found)} sync pulse(s) found above {threshold_w} W, "
                               f"{len(pulses_dut_s)} expected", capture.source)
    dut = [t for pair in pulses_dut_s for t in pair]
    mon = [t for p in found for t in (p.start_s, p.end_s)]
    tmap = fit_time_map(dut, mon)
    step = float(np.median(np.diff(np.asarray(capture.time_s))))
    sigma = float(np.hypot(tmap.residual_s, step / np.sqrt(12)))
    out = [WindowEdges(i, Edge(tmap(a), True, sigma), Edge(tmap(b), True, sigma), 2)
           for i, (a, b) in enumerate(windows_dut_s)]
    return out, tmap


def threshold_windows(capture: Capture, threshold_w: float, min_duration_s: float,
                      inferences: int, merge_gap_s: float = 0.0) -> tuple[WindowEdges, int]:
    """One window from the first to the last burst; invalid unless bursts == inferences."""
    bursts = detect_pulses(capture, threshold_w, min_duration_s, merge_gap_s)
    if not bursts:
        return WindowEdges(0, None, None, 0, ["no burst above the threshold"]), 0
    step = float(np.median(np.diff(np.asarray(capture.time_s))))
    sigma = step / np.sqrt(12)
    w = WindowEdges(0, Edge(bursts[0].start_s, True, sigma), Edge(bursts[-1].end_s, True, sigma),
                    2)
    if len(bursts) != inferences:
        w.reasons.append(f"threshold segmentation found {len(bursts)} bursts, "
                         f"{inferences} inferences expected")
    return w, len(bursts)
