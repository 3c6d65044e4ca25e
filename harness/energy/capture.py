"""The capture model every monitor hands to the integration code (spec 5.1).

A capture is a sample stream in monitor time plus the timestamp edges seen on the same
clock. Three sample semantics cover every monitor we support:

- ``energy``: uniform stream, each sample is the energy (J) of its period (LPM01A
  ``output energy``, EEMBC ``trace1-energy.bin``);
- ``power`` / ``current``: uniform stream of interval means in W, or in A with a
  per-sample or nominal voltage (Joulescope, PPK2);
- ``cumulative``: irregular records of cumulative energy (J) at ``time_s`` (TI
  EnergyTrace, live Joulescope integration records).

Sample ``k`` of a uniform stream covers ``[t0 + k/fs, t0 + (k+1)/fs)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("energy", "power", "current", "cumulative")


@dataclass(frozen=True)
class Edge:
    """One timestamp edge in monitor time. ``sigma_s`` is its standard uncertainty."""

    time_s: float
    falling: bool = True
    sigma_s: float = 0.0
    label: str = ""


@dataclass
class Capture:
    """Samples and edges from one acquisition (see the module docstring for ``kind``)."""

    kind: str
    values: np.ndarray
    fs: float = 0.0
    t0_s: float = 0.0
    voltage: np.ndarray | float | None = None
    voltage_measured: bool = True
    time_s: np.ndarray | None = None
    edges: list[Edge] = field(default_factory=list)
    #: Monitor-time ranges ``(start, end)`` whose samples were lost (not NaN-marked).
    gaps: list[tuple[float, float]] = field(default_factory=list)
    #: Monitor times of unfiltered current-range switch glitches.
    glitches_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Monitor times of current-range changes (information only).
    range_changes_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    monitor: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"capture kind {self.kind!r} is not one of {KINDS}")
        if self.kind == "cumulative":
            if self.time_s is None or len(self.time_s) != len(self.values):
                raise ValueError("a cumulative capture needs one time per record")
        elif not self.fs > 0:
            raise ValueError("a uniform capture needs a sample rate > 0")
        if self.kind == "current" and self.voltage is None:
            raise ValueError("a current capture needs a voltage (per sample or nominal)")

    @property
    def uniform(self) -> bool:
        return self.kind != "cumulative"

    @property
    def duration_s(self) -> float:
        if self.kind == "cumulative":
            assert self.time_s is not None
            return float(self.time_s[-1] - self.time_s[0]) if len(self.time_s) else 0.0
        return len(self.values) / self.fs

    @property
    def end_s(self) -> float:
        if self.kind == "cumulative":
            assert self.time_s is not None
            return float(self.time_s[-1]) if len(self.time_s) else self.t0_s
        return self.t0_s + len(self.values) / self.fs

    @property
    def start_s(self) -> float:
        if self.kind == "cumulative":
            assert self.time_s is not None
            return float(self.time_s[0]) if len(self.time_s) else self.t0_s
        return self.t0_s

    def falling_edges(self, falling: bool = True) -> list[Edge]:
        return [e for e in self.edges if e.falling == falling]


#: Local edge times are rounded to 1/this s (1 ns): far below any monitor's resolution.
LOCAL_TICKS_PER_S = 1e9


def _local(t: float, origin: float) -> float:
    """``t - origin`` rounded to 1 ns, so the result does not carry the float error of
    the subtraction, which depends on where the window sat in the acquisition."""
    return round((t - origin) * LOCAL_TICKS_PER_S) / LOCAL_TICKS_PER_S


def window_capture(capture: Capture, t_lo: float, t_hi: float) -> Capture:
    """The part of ``capture`` in ``[t_lo, t_hi)``, re-based so ``t_lo`` is time 0.

    Why: a window evaluated on its own slice gives the same figures whatever the slice's
    absolute position in the acquisition (float sums and differences included), so a
    window measured in a resumed run's new acquisition matches the uninterrupted run.
    Uniform streams are cut at whole samples (``t_lo`` rounded to the sample grid).
    """
    if capture.uniform:
        k0 = max(0, round((t_lo - capture.t0_s) * capture.fs))
        k1 = min(len(capture.values), max(k0, round((t_hi - capture.t0_s) * capture.fs)))
        origin = capture.t0_s + k0 / capture.fs
        end = capture.t0_s + k1 / capture.fs
        volt = capture.voltage
        if isinstance(volt, np.ndarray):
            volt = volt[k0:k1]
        values, times = capture.values[k0:k1], None
    else:
        assert capture.time_s is not None
        keep = (capture.time_s >= t_lo) & (capture.time_s <= t_hi)
        origin, end = t_lo, t_hi
        values, times = capture.values[keep], capture.time_s[keep] - t_lo
        volt = capture.voltage
    edges = [Edge(_local(e.time_s, origin), e.falling, e.sigma_s, e.label)
             for e in capture.edges if origin <= e.time_s < end]
    gaps = [(_local(max(a, origin), origin), _local(min(b, end), origin))
            for a, b in capture.gaps if a < end and b > origin]

    def _shift(times_s: np.ndarray) -> np.ndarray:
        t = np.asarray(times_s, dtype=float)
        t = t[(t >= origin) & (t < end)] - origin
        return np.round(t * LOCAL_TICKS_PER_S) / LOCAL_TICKS_PER_S

    return Capture(capture.kind, values, fs=capture.fs, t0_s=0.0, voltage=volt,
                   voltage_measured=capture.voltage_measured, time_s=times, edges=edges,
                   gaps=gaps, glitches_s=_shift(capture.glitches_s),
                   range_changes_s=_shift(capture.range_changes_s), monitor=capture.monitor,
                   source=capture.source, meta={"window_origin_s": origin})
