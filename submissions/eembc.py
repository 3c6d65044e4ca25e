"""EEMBC EnergyRunner file formats (protocol.md 6.7, 3.4): pure readers, no I/O.

Owns: log.txt lines ``{SSSSS.mmm} {source}: {message}``, results.txt of the runner
(performance, accuracy, energy blocks), ``trace1-timestamps.json`` and
``trace1-energy.bin`` (0xF1, then float32 LE: sample rate, then uJ per sample).
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field

import numpy as np
from tinyperf.formats.protocol import Kind, parse_line, strip_dut_prefix

# 00011.469 dut: m-lap-us-28408553
_RE_LOG = re.compile(r"^(\d{5,}\.\d{3}) ([A-Za-z_-]+): ?(.*)$")
# 00011.219 parser: m-bm-cfg-name[ulp-mlperf]-key[iterInfer]-val[200]
_RE_CFG = re.compile(r"^m-bm-cfg-name\[([^\]]*)\]-key\[([^\]]*)\]-val\[(.*)\]$")
# parser: Command "dut infer 200 1"  /  Command "io dut infer 800 1"
_RE_INFER_CMD = re.compile(r'^Command "(?:io )?dut infer (\d+)(?: (\d+))?"$')
# parser: Command "bload dut "C:\...\tst_000000_Stop_7.bin"" (ad01: ... 0 2560)
_RE_BLOAD = re.compile(r'^Command "bloadp? (?:dut )?"([^"]*)"(?: (\d+) (\d+))?"$')
# 00094.431 ulp-mlperf: Performance results for window 2:
_RE_RES = re.compile(r"^(\d{5,}\.\d{3}) (ulp-mlperf|ulp-ml): (.*)$")
_RE_WINDOW = re.compile(r"^Performance results for window (\d+):$")
_RE_INFERENCES = re.compile(r"^\s*# Inferences :\s+(\d+)$")
_RE_RUNTIME = re.compile(r"^\s*Runtime\s+:\s+([0-9.]+) sec\.$")
_RE_THROUGHPUT = re.compile(r"^\s*Throughput\s+:\s+([0-9.]+) inf\./sec\.$")
_RE_MEDIAN_T = re.compile(r"^Median throughput is ([0-9.]+) inf\./sec\.$")
_RE_EWIN = re.compile(r"^Energy data for window (\d+) at time ([0-9.]+) for ([0-9.]+) sec\.:$")
_RE_ENERGY = re.compile(r"^\s*Energy\s+:\s+([0-9.]+) uJ$")
_RE_POWER = re.compile(r"^\s*Power\s+:\s+([0-9.]+) uW$")
_RE_EPI = re.compile(r"^\s*Energy/Inf\.\s+:\s+([0-9.]+) uJ/inf\.$")
_RE_MEDIAN_E = re.compile(r"^Median energy cost is ([0-9.]+) uJ/inf\.$")
_RE_TOP1 = re.compile(r"^Top-1: ([0-9.]+)%$")
_RE_AUC = re.compile(r"^AUC: ([0-9.]+)$")
RUNTIME_MET = "Runtime requirements have been met."
RUNTIME_ERROR = "e-[The run must take at least 10 seconds and 10 iterations to be valid]"


@dataclass
class Infer:
    """One ``dut infer N W`` of an EEMBC log with what the DUT answered."""

    iterations: int
    warmups: int
    host_s: float
    file: str | None = None
    offset: int | None = None
    laps: list[tuple[float, int]] = field(default_factory=list)  # (host s, DUT us)
    results: list[tuple[float, ...]] = field(default_factory=list)
    done: bool = False


@dataclass
class EembcLog:
    """What an EEMBC log.txt says: config, firmware identity, every infer, oddities."""

    config: dict[str, str] = field(default_factory=dict)
    profile: str | None = None
    model: str | None = None
    infers: list[Infer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lines: int = 0
    unparsed: int = 0
    current: Infer | None = field(default=None, repr=False)  # infer awaiting DUT lines


def _basename(path: str) -> str:
    return re.split(r"[\\/]", path.replace("\\\\", "\\"))[-1]


def parse_log(text: str) -> EembcLog:
    """Parse an EEMBC log.txt. Garbage lines are counted, never fatal."""
    out = EembcLog()
    pending: tuple[str, int | None] | None = None
    for raw in text.splitlines():
        out.lines += 1
        m = _RE_LOG.match(raw.strip())
        if m is None:
            out.unparsed += 1
            continue
        host, source, msg = float(m.group(1)), m.group(2), m.group(3)
        if source == "parser":
            pending = _parser_line(out, msg, host, pending)
        elif source in ("dut", "io"):
            _dut_line(out, strip_dut_prefix(msg) if source == "io" else msg, host)
    return out


def _parser_line(out: EembcLog, msg: str, host: float,
                 pending: tuple[str, int | None] | None) -> tuple[str, int | None] | None:
    if c := _RE_CFG.match(msg):
        out.config[c.group(2)] = c.group(3)
    elif b := _RE_BLOAD.match(msg):
        return (_basename(b.group(1)), int(b.group(2)) if b.group(2) else None)
    elif i := _RE_INFER_CMD.match(msg):
        inf = Infer(int(i.group(1)), int(i.group(2) or 0), host)
        if pending is not None:
            inf.file, inf.offset = pending
        out.infers.append(inf)
        out.current = inf
    elif msg.startswith('Command "'):
        out.current = None  # e.g. "dut timestamp": its lap belongs to no window
    return pending


def _dut_line(out: EembcLog, msg: str, host: float) -> None:
    parsed = parse_line(msg)
    current = out.current
    if parsed.kind is Kind.PROFILE:
        out.profile = str(parsed.value)
    elif parsed.kind is Kind.MODEL:
        out.model = str(parsed.value)
    elif parsed.kind is Kind.ERROR:
        out.errors.append(msg)
    elif current is None:
        return
    elif parsed.kind is Kind.LAP_US:
        current.laps.append((host, int(parsed.value)))  # type: ignore[arg-type]
    elif parsed.kind is Kind.RESULTS and parsed.value is not None:
        current.results.append(parsed.value)  # type: ignore[arg-type]
    elif parsed.kind is Kind.INFER_DONE:
        current.done = True


@dataclass
class EembcResults:
    """What an EEMBC results.txt claims (performance, accuracy or energy)."""

    perf_windows: list[dict[str, float]] = field(default_factory=list)
    median_throughput: float | None = None
    energy_windows: list[dict[str, float]] = field(default_factory=list)
    median_energy: float | None = None
    top1: float | None = None
    auc: float | None = None
    runtime_errors: list[int] = field(default_factory=list)  # windows with the e-[...] line
    code: str | None = None


def parse_results(text: str) -> EembcResults:
    """Parse an EEMBC results.txt into its claims; unknown lines are ignored."""
    out = EembcResults()
    for raw in text.splitlines():
        m = _RE_RES.match(raw.strip())
        if m is None:
            continue
        out.code = out.code or m.group(2)
        _results_line(out, m.group(3))
    return out


def _results_line(out: EembcResults, msg: str) -> None:  # noqa: C901 - a flat line table
    pw = out.perf_windows[-1] if out.perf_windows else None
    ew = out.energy_windows[-1] if out.energy_windows else None
    if w := _RE_WINDOW.match(msg):
        out.perf_windows.append({"window": int(w.group(1))})
    elif (v := _RE_INFERENCES.match(msg)) and pw is not None:
        pw["iterations"] = int(v.group(1))
    elif (v := _RE_RUNTIME.match(msg)) and pw is not None:
        pw["runtime_s"] = float(v.group(1))
    elif (v := _RE_THROUGHPUT.match(msg)) and pw is not None:
        pw["throughput"] = float(v.group(1))
    elif msg.strip() == RUNTIME_ERROR and pw is not None:
        out.runtime_errors.append(int(pw["window"]))
    elif v := _RE_MEDIAN_T.match(msg):
        out.median_throughput = float(v.group(1))
    elif w := _RE_EWIN.match(msg):
        out.energy_windows.append({"window": int(w.group(1)), "at_s": float(w.group(2)),
                                   "duration_s": float(w.group(3))})
    elif (v := _RE_ENERGY.match(msg)) and ew is not None:
        ew["energy_uj"] = float(v.group(1))
    elif (v := _RE_POWER.match(msg)) and ew is not None:
        ew["power_uw"] = float(v.group(1))
    elif (v := _RE_EPI.match(msg)) and ew is not None:
        ew["uj_per_inf"] = float(v.group(1))
    elif v := _RE_MEDIAN_E.match(msg):
        out.median_energy = float(v.group(1))
    elif v := _RE_TOP1.match(msg):
        out.top1 = float(v.group(1))
    elif v := _RE_AUC.match(msg):
        out.auc = float(v.group(1))


def parse_timestamps(text: str) -> list[float]:
    """``trace1-timestamps.json``: a JSON array of seconds from trace start."""
    data = json.loads(text)
    if not isinstance(data, list) or not all(isinstance(x, (int, float)) for x in data):
        raise ValueError("expected a JSON array of numbers")
    return [float(x) for x in data]


ENERGY_MAGIC = 0xF1


def parse_energy_bin(data: bytes) -> tuple[float, np.ndarray]:
    """``trace1-energy.bin`` -> (sample rate Hz, samples in uJ per sample period)."""
    if len(data) < 5 or data[0] != ENERGY_MAGIC:
        raise ValueError(f"not an EEMBC energy trace (first byte {data[:1].hex() or 'none'}, "
                         f"expected f1)")
    if (len(data) - 1) % 4:
        raise ValueError(f"{len(data) - 1} bytes after the marker, not a float32 multiple")
    (rate,) = struct.unpack_from("<f", data, 1)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"sample rate {rate!r} is not positive")
    samples = np.frombuffer(data, dtype="<f4", offset=5).astype(np.float64)
    return float(rate), samples


def is_eembc_log(text: str) -> bool:
    """True when the first non-empty lines look like the EEMBC runner's log."""
    for raw in text.splitlines()[:5]:
        if raw.strip():
            return _RE_LOG.match(raw.strip()) is not None
    return False
