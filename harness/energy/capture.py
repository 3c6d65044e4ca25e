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
