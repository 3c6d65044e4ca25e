"""The virtual DUT's power model: what an energy monitor would see, with a known answer.

Owns the DUT's supply current over DUT time and its timestamp GPIO. The DUT draws
``idle_a`` when powered, ``active_a`` while busy (every ``clock.advance`` of the virtual
DUT: warm-ups and timed inferences) and ``sync_a`` during sync pulses; the timestamp pin
idles high and is pulled low for ``pulse_us`` at every ``th_timestamp`` (EEMBC falling
edge). From that, it renders monitor streams at any rate — energy per sample (LPM01A),
mean current and voltage per sample (Joulescope), sampled GPI bits — as exact integrals
of the piecewise-constant current, with optional noise, monitor clock drift and lost
samples, and gives the analytic energy of any interval as ground truth.

Writers at the end produce real files: ``.jls`` through pyjls (minding its traps: F32
arrays only, U1 written packed in multiples of 8, UTC entries on every signal) and TI
EnergyTrace-style CSV.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .clock import SimClock

#: Fraction of a sample by which a time may fall short of a sample boundary and still be
#: on it (float error of ``(t_us - origin) * 1e-6 * fs``; far below any real resolution).
EDGE_EPS = 1e-6


class BusyClock(SimClock):
    """A ``SimClock`` that tells the power model whenever the DUT is busy."""

    def __init__(self, model: PowerModel, offset_us: int = 0, *, follow_wall: bool = False):
        super().__init__(offset_us, follow_wall=follow_wall)
        self._model = model

    def advance(self, us: int) -> None:
        if us > 0:
            self._model.add_busy(self.now_us(), us)
        super().advance(us)

    def idle(self, us: int) -> None:
        """Let ``us`` of DUT time pass with the DUT idle (e.g. its UART sending a reply)."""
        super().advance(us)


def _cumulative(intervals: Sequence[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints of t -> total length of ``intervals`` before t (sorted, disjoint)."""
    if not intervals:
        return np.array([0.0, 1.0]), np.array([0.0, 0.0])
    xs, ys, acc = [], [], 0.0
    for a, b in sorted(intervals):
        xs += [a, b]
        ys += [acc, acc + (b - a)]
        acc += b - a
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


class _Breakpoints:
    """``_cumulative`` of a growing interval list, extended in place when intervals are
    appended in time order (a long sww stream adds one busy interval per 32 ms block; a
    rebuild per monitor catch-up would make the stream quadratic)."""

    def __init__(self) -> None:
        self.source: list[tuple[float, float]] | None = None
        self.count = 0
        self.xs = np.empty(0)
        self.ys = np.empty(0)
        self.used = 0

    def arrays(self, intervals: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
        n = len(intervals)
        new = intervals[self.count:] if intervals is self.source and n >= self.count else None
        in_order = new is not None and self.used > 0 and all(
            a <= b for a, b in new) and all(
            x[0] >= y[1] for x, y in zip(new, [(0.0, self.xs[self.used - 1]), *new[:-1]]))
        if not in_order or self.count == 0:
            xs, ys = _cumulative(intervals)
            self.xs, self.ys, self.used = xs.copy(), ys.copy(), len(xs)
        elif new:
            need = self.used + 2 * len(new)
            if need > len(self.xs):
                size = max(need, 2 * len(self.xs))
                self.xs = np.resize(self.xs, size)
                self.ys = np.resize(self.ys, size)
            acc = float(self.ys[self.used - 1])
            for a, b in new:
                self.xs[self.used:self.used + 2] = (a, b)
                self.ys[self.used:self.used + 2] = (acc, acc + (b - a))
                acc += b - a
                self.used += 2
        self.source, self.count = intervals, n
        return self.xs[:self.used], self.ys[:self.used]


@dataclass
class MonitorView:
    """How a monitor's clock maps to DUT time: sample 0 starts at ``origin_us``.

    ``drift_ppm`` > 0 means the monitor's clock runs fast: one monitor second is
    ``1 / (1 + drift)`` DUT seconds.
    """

    origin_us: float = 0.0
    drift_ppm: float = 0.0

    def to_dut_us(self, t_mon_s: np.ndarray | float) -> np.ndarray | float:
        return self.origin_us + np.asarray(t_mon_s) * 1e6 / (1.0 + self.drift_ppm * 1e-6)

    def to_monitor_s(self, t_dut_us: np.ndarray | float) -> np.ndarray | float:
        return (np.asarray(t_dut_us) - self.origin_us) * 1e-6 * (1.0 + self.drift_ppm * 1e-6)


@dataclass
class PowerModel:
    """Supply current of the virtual DUT over DUT µs, and its timestamp pulses."""

    voltage: float = 1.8
    idle_a: float = 2e-3
    active_a: float = 10e-3
    sync_a: float = 30e-3
    pulse_us: float = 20.0
    noise_rel: float = 0.0
    seed: int = 0
    busy: list[tuple[float, float]] = field(default_factory=list)
    sync: list[tuple[float, float]] = field(default_factory=list)
    edges_us: list[float] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._busy_points = _Breakpoints()
        self._sync_points = _Breakpoints()

    # -- what the DUT does ---------------------------------------------------------------------

    def make_clock(self, offset_us: int = 0, *, follow_wall: bool = False) -> BusyClock:
        """The clock to give the ``VirtualDut`` so its busy time is seen here."""
        return BusyClock(self, offset_us, follow_wall=follow_wall)

    def add_busy(self, start_us: float, duration_us: float) -> None:
        with self.lock:
            self.busy.append((float(start_us), float(start_us + duration_us)))

    def add_sync_pulse(self, start_us: float, duration_us: float) -> None:
        with self.lock:
            self.sync.append((float(start_us), float(start_us + duration_us)))

    def on_timestamp(self, us: int | float) -> None:
        """``th_timestamp`` of an energy build: a falling edge on the timestamp pin."""
        with self.lock:
            self.edges_us.append(float(us))

    # -- ground truth --------------------------------------------------------------------------

    def energy_between_us(self, t0_us: float, t1_us: float) -> float:
        """Analytic energy (J) drawn in ``[t0, t1)`` DUT µs (noise excluded)."""
        return float(np.diff(self._energy_at(np.array([t0_us, t1_us], dtype=np.float64)))[0])

    def energy_per_inference(self, latency_us: float) -> float:
        """J of one inference: ``V · I_active · latency``."""
        return self.voltage * self.active_a * latency_us * 1e-6

    def _energy_at(self, t_us: np.ndarray) -> np.ndarray:
        """Energy (J) drawn from DUT time 0 up to each ``t_us``: exact, piecewise linear."""
        with self.lock:
            bx, by = self._busy_points.arrays(self.busy)
            sx, sy = self._sync_points.arrays(self.sync)
        busy = np.interp(t_us, bx, by, left=0.0, right=by[-1])
        syn = np.interp(t_us, sx, sy, left=0.0, right=sy[-1])
        charge_us = (self.idle_a * t_us + (self.active_a - self.idle_a) * busy
                     + (self.sync_a - self.idle_a) * syn)
        return self.voltage * charge_us * 1e-6

    # -- monitor streams -----------------------------------------------------------------------

    def energy_samples(self, n0: int, n1: int, fs: float,
                       view: MonitorView | None = None) -> np.ndarray:
        """Energy (J) of monitor samples ``n0 .. n1-1`` (exact integral, plus noise)."""
        view = view or MonitorView()
        bounds = view.to_dut_us(np.arange(n0, n1 + 1, dtype=np.float64) / fs)
        e = np.diff(self._energy_at(np.asarray(bounds, dtype=np.float64)))
        if self.noise_rel:
            e = e * (1.0 + self.noise_rel * self._rng.standard_normal(e.size))
        return e

    def current_samples(self, n0: int, n1: int, fs: float,
                        view: MonitorView | None = None) -> np.ndarray:
        """Mean current (A) of each monitor sample."""
        return self.energy_samples(n0, n1, fs, view) * fs / self.voltage

    def gpi_samples(self, n0: int, n1: int, fs: float,
                    view: MonitorView | None = None) -> np.ndarray:
        """Timestamp pin level (uint8) at the start of each monitor sample."""
        view = view or MonitorView()
        t = np.asarray(view.to_dut_us(np.arange(n0, n1, dtype=np.float64) / fs))
        with self.lock:
            edges = np.sort(np.asarray(self.edges_us, dtype=np.float64))
        level = np.ones(t.size, dtype=np.uint8)
        if edges.size:
            k = np.searchsorted(edges, t, side="right") - 1  # last edge at or before t
            has = k >= 0
            low = np.zeros(t.size, dtype=bool)
            low[has] = t[has] - edges[k[has]] < self.pulse_us
            level[low] = 0
        return level

    def edge_samples(self, n0: int, n1: int, fs: float,
                     view: MonitorView | None = None) -> list[tuple[int, float]]:
        """``(sample index, DUT µs)`` of edges inside samples ``n0 .. n1-1``."""
        view = view or MonitorView()
        with self.lock:
            edges = sorted(self.edges_us)
        out = []
        for us in edges:
            # an edge on a sample boundary belongs to the sample that starts there; the
            # epsilon absorbs the float error of the µs -> s conversion
            k = int(np.floor(float(view.to_monitor_s(us)) * fs + EDGE_EPS))
            if n0 <= k < n1:
                out.append((k, us))
        return out


# -- file writers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JlsOptions:
    """What to put in a synthetic Joulescope recording, and which faults to inject."""

    fs: int = 1_000_000
    chunk: int = 1 << 20  # samples per write; a multiple of 8 (U1 packing)
    drop: tuple[tuple[float, float], ...] = ()  # monitor seconds not written (NaN gap)
    nan_at: tuple[float, ...] = ()  # single NaN samples
    range_switch_at: tuple[float, ...] = ()  # current_range changes, glitch not filtered
    gpi_name: str = "gpi[0]"


def write_jls(path: str | Path, model: PowerModel, duration_s: float,
              view: MonitorView | None = None, options: JlsOptions | None = None) -> Path:
    """Write ``duration_s`` of current/voltage/GPI as a Joulescope-style JLS v2 file."""
    from pyjls import DataType, SignalType, Writer, time64

    opt = options or JlsOptions()
    view = view or MonitorView()
    fs, total = opt.fs, int(round(duration_s * opt.fs))
    if opt.chunk % 8:
        raise ValueError("JLS chunk must be a multiple of 8 samples (U1 packing)")
    path = Path(path)
    t_utc = time64.now()
    switches = np.sort(np.asarray([round(t * fs) for t in opt.range_switch_at], dtype=np.int64))
    with Writer(str(path)) as w:
        w.source_def(source_id=1, name="JS220-SIM001", vendor="Jetperch", model="JS220",
                     version="", serial_number="SIM001")
        sigs = [(1, "current", DataType.F32, "A"), (2, "voltage", DataType.F32, "V"),
                (3, opt.gpi_name, DataType.U1, ""), (4, "current_range", DataType.U4, "")]
        for sid, name, dtype, units in sigs:
            w.signal_def(signal_id=sid, source_id=1, signal_type=SignalType.FSR,
                         data_type=dtype, sample_rate=fs, name=name, units=units)
        ranging = "off" if opt.range_switch_at else "interp"
        w.user_data(1, {"generator": "tinyperf PowerModel", "current_ranging_type": ranging,
                        "voltage": model.voltage})
        last_utc = -10**18
        for n0 in range(0, total, opt.chunk):
            n1 = min(total, n0 + opt.chunk)
            if any(a * fs <= n0 and n1 <= b * fs for a, b in opt.drop):
                continue  # the whole chunk is lost: the reader fills it with NaN
            cur = model.current_samples(n0, n1, fs, view)
            for t in opt.nan_at:
                k = round(t * fs)
                if n0 <= k < n1:
                    cur[k - n0] = np.nan
            for k in switches[(switches >= n0) & (switches < n1)]:
                cur[k - n0] += 0.5  # the raw switching transient the filter would hide
            volt = np.full(n1 - n0, model.voltage, dtype=np.float32)
            gpi = model.gpi_samples(n0, n1, fs, view)
            rng = (np.searchsorted(switches, np.arange(n0, n1), side="right") % 2 + 3)
            w.fsr_f32(1, n0, np.ascontiguousarray(cur, dtype=np.float32))
            w.fsr_f32(2, n0, volt)
            w.fsr(3, n0, _pack(gpi, 1))
            w.fsr(4, n0, _pack(rng.astype(np.uint8), 4))
            if n0 - last_utc >= 50 * fs or n1 == total:
                for sid in (1, 2, 3, 4):
                    w.utc(sid, n0, t_utc + int(n0 / fs * time64.SECOND))
                last_utc = n0
        for sid in (1, 2, 3, 4):
            w.utc(sid, total, t_utc + int(total / fs * time64.SECOND))
    return path


def _pack(values: np.ndarray, bits: int) -> np.ndarray:
    """U1 (8 per byte, LSB first) or U4 (2 per byte, low nibble first) packing for pyjls."""
    v = np.asarray(values, dtype=np.uint8)
    if bits == 1:
        return np.packbits(v, bitorder="little")
    if v.size % 2:
        v = np.append(v, 0)
    return (v[0::2] & 0x0F) | ((v[1::2] & 0x0F) << 4)


def write_energytrace_csv(path: str | Path, model: PowerModel, duration_s: float,
                          view: MonitorView | None = None, rate_hz: float = 3700.0,
                          jitter: float = 0.3, seed: int = 1) -> Path:
    """A CCS EnergyTrace export: ``Time (ns),Current (nA),Voltage (mV),Energy (uJ)``.

    Records come at an irregular ~``rate_hz``; energy is cumulative from the first record
    (exact, from the model); current is derived from it, as the probe does.
    """
    view = view or MonitorView()
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    steps = (1.0 + jitter * (rng.random(n) - 0.5)) / rate_hz
    t_mon = np.concatenate([[0.0], np.cumsum(steps)])
    t_mon = t_mon[t_mon <= duration_s]
    e = model._energy_at(np.asarray(view.to_dut_us(t_mon), dtype=np.float64))
    e = e - e[0]
    p = np.gradient(e, t_mon)
    current = p / model.voltage
    with open(path, "w", newline="", encoding="ascii") as fh:
        out = csv.writer(fh)
        out.writerow(["Time (ns)", "Current (nA)", "Voltage (mV)", "Energy (uJ)"])
        for t, i, en in zip(t_mon, current, e):
            out.writerow([int(round(t * 1e9)), int(round(i * 1e9)),
                          int(round(model.voltage * 1e3)), f"{en * 1e6:.4f}"])
    return Path(path)


#: Header tails of the nRF Connect Power Profiler CSV export (spec §4), by layout name.
PPK2_LAYOUTS = {"none": [], "string": ["D0-D7"], "columns": [f"D{n}" for n in range(8)],
                "bits": ["Bits"]}


def write_ppk2_csv(path: str | Path, model: PowerModel, duration_s: float,
                   view: MonitorView | None = None, *, fs: float = 100_000.0,
                   layout: str = "string", channel: int = 0,
                   skip: tuple[tuple[int, int], ...] = ()) -> Path:
    """A PPK2 export: ``Timestamp(ms),Current(uA)`` + the digital channels of ``layout``.

    Current is each sample's mean (µA, from the model's exact integral); the timestamp pin
    drives digital channel ``channel`` (the others read 0). ``skip``: ``(first, count)``
    sample ranges left out of the file (lost samples). Bit strings are D0 first; a
    ``Bits`` field is written as the decimal byte (bit n = Dn).
    """
    if layout not in PPK2_LAYOUTS:
        raise ValueError(f"PPK2 layout {layout!r}: one of {', '.join(PPK2_LAYOUTS)}")
    view = view or MonitorView()
    n = round(duration_s * fs)
    current = model.current_samples(0, n, fs, view)
    level = model.gpi_samples(0, n, fs, view).astype(int) << channel
    lost = np.zeros(n, dtype=bool)
    for first, count in skip:
        lost[first:first + count] = True
    with open(path, "w", newline="", encoding="ascii") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["Timestamp(ms)", "Current(uA)", *PPK2_LAYOUTS[layout]])
        for k in np.flatnonzero(~lost):
            bits = int(level[k])
            row = [f"{k * 1000.0 / fs:.5f}", f"{current[k] * 1e6:.6f}"]
            if layout == "string":
                row.append("".join(str(bits >> b & 1) for b in range(8)))
            elif layout == "columns":
                row += [str(bits >> b & 1) for b in range(8)]
            elif layout == "bits":
                row.append(str(bits))
            out.writerow(row)
    return Path(path)
