"""EEMBC EnergyRunner file formats (protocol.md 6.7, 3.4): pure readers, no I/O.

At the bottom layer so that both the checker (``submissions``) and the session analysis
(``harness.analysis``) read published EEMBC logs with one parser.

Owns: log.txt lines ``{SSSSS.mmm} {source}: {message}``, results.txt of the runner
(performance, accuracy, energy blocks), ``trace1-timestamps.json`` and
``trace1-energy.bin`` (0xF1, then float32 LE: sample rate, then uJ per sample).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# 00011.469 dut: m-lap-us-28408553
_RE_LOG = re.compile(r"^(\d{5,}\.\d{3}) ([A-Za-z_-]+): ?(.*)$")
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


@dataclass(slots=True)  # an accuracy log holds one per input: no per-object __dict__
class Infer:
    """One ``dut infer N W`` of an EEMBC log with what the DUT answered."""

    iterations: int
    warmups: int
    host_s: float
    file: str | None = None
    offset: int | None = None
    laps: list[tuple[float, int]] = field(default_factory=list)  # (host s, DUT us)
    results: list[tuple[float, ...]] = field(default_factory=list)


@dataclass
class EembcLog:
    """What an EEMBC log.txt says: config, firmware identity, every infer, oddities."""

    config: dict[str, str] = field(default_factory=dict)
    profile: str | None = None
    model: str | None = None
    infers: list[Infer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lines: int = 0
    current: Infer | None = field(default=None, repr=False)  # infer awaiting DUT lines


# The log is read by four literal-prefix regex scans of each chunk (commands, ``m-`` tokens,
# ``e-[`` errors, newlines: C-speed searches, ~100 MB/s for the whole parse), never by a
# Python loop over its lines: an accuracy log holds ~22 lines per input, and a round ~900,000
# lines. Parser commands split the log into intervals; every DUT result and
# lap belongs to the last command before it. Lines end at "\n" only: the runner logs DUT
# lines with bare CRs and a command echo before the DUT's output
# ("12345.678 dut: \rtimestampm-lap-us-486366686\r", "infer 100 1%m-warmup-start-1"), so a
# DUT token is found anywhere in its line. A DUT line with no host time (written after a
# DUT text line without a newline) takes the host time of the nearest timed line above it.

# A command line, with the arguments of the two that matter read in the same match:
# ``dut infer N W`` (groups 1, 2) and ``bload dut "FILE" OFFSET SIZE`` (groups 3, 4; the
# file's path, whose base name is taken after its last "/" or "\\", whichever system wrote
# it: in Python, cheaper than the regex backtracking to the last separator).
_RE_CMD = re.compile(r'parser: Command "(?:(?:io )?dut infer (\d+)(?: (\d+))?"'
                     r'|bloadp? (?:dut )?"([^"\n]*)"(?: (\d+) \d+)?")?'
                     r'[^\n]*')
# Every ``m-`` token of interest in one scan (not one scan per token). The token is read in
# a lookahead, so a match consumes only "m-" and a token inside another token's text is
# still seen; per kind, a match starting before the end of the previous one of its kind is
# skipped, which is exactly what a separate finditer per token would find.
_TOKENS = (r"m-(?=results-\[([^\]\n]*)\]|lap-us-(\d+)|profile-\[([^\]\n]*)\]"
           r"|model-\[([^\]\n]*)\]|bm-cfg-name\[[^\]\n]*\]-key\[([^\]\n]*)\]-val\[([^\n]*)\])")
_RE_TOKEN = re.compile(_TOKENS)
_RE_TOKEN_NO_LAP = re.compile(_TOKENS.replace(r"|lap-us-(\d+)", r"|lap-us-()(?!)"))  # accuracy
_RESULT, _LAP, _PROFILE, _MODEL, _CFG = 1, 2, 3, 4, 6  # lastindex of each kind
_CFG_SOURCE = "parser: "  # a config line is the parser's
_RE_ERR = re.compile(r"e-\[[^\n]*\]")  # an error only where the DUT's output starts
_RE_HOST = re.compile(r"(\d{5,}\.\d{3}) ")


def parse_log(text: str, laps: bool = True, extras: bool = True) -> EembcLog:
    """Parse an EEMBC log.txt held in memory (see :func:`parse_log_chunks`)."""
    return parse_log_chunks([text], laps, extras)


def parse_log_chunks(chunks: Iterable[str], laps: bool = True,
                     extras: bool = True) -> EembcLog:
    """Parse an EEMBC log.txt given as text chunks (split anywhere); never fatal.

    Only what the checker needs is kept (config, identity, every ``infer`` with its
    results and, with ``laps``, its ``m-lap-us`` stamps; error lines), so memory does not
    grow with the log's length. ``laps=False`` skips the stamps (accuracy logs: two per
    input, never used for a figure). ``extras=False`` skips the line count and the DUT's
    ``e-[...]`` error lines, which the session analysis reports and the checker never
    reads (two scans of the whole text).
    """
    out = EembcLog()
    state = _LogState()
    rest = ""
    for chunk in chunks:
        text = rest + chunk
        cut = text.rfind("\n") + 1
        if cut:
            _scan(out, state, text[:cut], laps, extras)
        rest = text[cut:]
    if rest:
        _scan(out, state, rest + "\n", laps, extras)
    out.current = state.current
    return out


@dataclass
class _LogState:
    pending: tuple[str, int | None] | None = None
    current: Infer | None = None
    host: float = 0.0
    # one tuple per distinct results line of this log: an int8 kws01 DUT prints ~100
    # different lines for 1,000 inputs (a hit saves ~1 us; bounded, it never grows past)
    results: dict[str, tuple[float, ...] | None] = field(default_factory=dict)


def _host_at(text: str, pos: int, st: _LogState) -> float:
    """Host seconds of the line holding ``pos`` (else of the nearest timed line above)."""
    start = text.rfind("\n", 0, pos) + 1
    while True:
        m = _RE_HOST.match(text, start)
        if m is not None:
            return float(m.group(1))
        if start == 0:
            return st.host
        start = text.rfind("\n", 0, start - 1) + 1


_NEVER = 1 << 62  # a text position no chunk reaches


def _scan(out: EembcLog, st: _LogState, text: str, with_laps: bool, extras: bool) -> None:
    # An accuracy log holds one infer per ~1 kB: this loop is the checker's hottest Python,
    # hence locals rather than helpers.
    if extras:
        out.lines += text.count("\n")  # cheap: a memchr-speed count
        out.errors += [m.group(0).rstrip("\r") for m in _RE_ERR.finditer(text)
                       if m.start() == 0 or not (text[m.start() - 1].isalpha()
                                                 or text[m.start() - 1] == "-")]
    # commands, in order: the infer each interval belongs to (None after another command)
    positions: list[int] = []
    owners: list[Infer | None] = []
    infers = out.infers
    pending = st.pending
    for m in _RE_CMD.finditer(text):
        positions.append(m.start())
        iterations, warmups, loaded, offset = m.group(1, 2, 3, 4)
        if iterations is not None:
            # the host time of an accuracy infer is never used: not parsed there
            inf = Infer(int(iterations), int(warmups or 0),
                        _host_at(text, m.start(), st) if with_laps else 0.0)
            if pending is not None:
                inf.file, inf.offset = pending
            infers.append(inf)
            owners.append(inf)
        else:
            if loaded is not None:
                base = loaded[max(loaded.rfind("/"), loaded.rfind("\\")) + 1:]
                pending = (base, int(offset) if offset else None)
            owners.append(None)  # e.g. "dut timestamp": its lap belongs to no window
    st.pending = pending
    # Every token belongs to the last command at or before it (before the first: to the
    # infer the previous chunk ended in). Tokens come in text order, so the owner is found
    # by walking the command list alongside.
    owner = st.current
    k, count = 0, len(positions)
    next_cmd = positions[0] if count else _NEVER
    seen = st.results
    free_result = free_lap = free_profile = free_model = free_cfg = 0  # per kind: next start
    for m in (_RE_TOKEN if with_laps else _RE_TOKEN_NO_LAP).finditer(text):
        at = m.start()
        while at >= next_cmd:
            owner = owners[k]
            k += 1
            next_cmd = positions[k] if k < count else _NEVER
        kind = m.lastindex
        if kind == _RESULT:
            if at >= free_result:
                free_result = m.end(kind) + 1
                if owner is not None:
                    raw = m.group(kind)
                    values = seen.get(raw, _MISSING)
                    if values is _MISSING:
                        values = _floats(raw)
                        if len(seen) < RESULTS_SEEN:
                            seen[raw] = values
                    if values is not None:  # a damaged results line scores nothing (the
                        owner.results.append(values)  # set check sees the input missing)
        elif kind == _LAP:
            if with_laps and at >= free_lap:
                free_lap = m.end(kind)
                if owner is not None:
                    owner.laps.append((_host_at(text, at, st), int(m.group(kind))))
        elif kind == _CFG:
            at -= len(_CFG_SOURCE)
            if at >= free_cfg and text.startswith(_CFG_SOURCE, at):
                free_cfg = m.end(kind) + 1
                out.config[m.group(5)] = m.group(6)
        elif kind == _PROFILE:  # profile, model: the last one counts
            if at >= free_profile:
                free_profile = m.end(kind) + 1
                out.profile = m.group(kind)
        elif at >= free_model:
            free_model = m.end(kind) + 1
            out.model = m.group(kind)
    if owners:
        st.current = owners[-1]
    last = text.rfind("\n", 0, len(text) - 1) + 1
    while last > 0 and _RE_HOST.match(text, last) is None:
        last = text.rfind("\n", 0, last - 1) + 1
    st.host = _host_at(text, last, st)


RESULTS_SEEN = 4096
_MISSING: Any = object()


def _floats(values: str) -> tuple[float, ...] | None:
    """``m-results-[...]`` values; empty items are skipped, a damaged line gives None."""
    try:
        return tuple(map(float, values.split(",")))  # the common case, at C speed
    except ValueError:
        pass
    try:
        return tuple(float(x) for x in values.split(",") if x.strip())
    except ValueError:
        return None


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
    repeated_windows: int = 0  # identical window blocks printed again (dropped)


def parse_results(text: str) -> EembcResults:
    """Parse an EEMBC results.txt into its claims; unknown lines are ignored.

    Some runners print every line (or every window block) more than once: a line equal to
    the one before it is read once, and a window block equal to an earlier block of the
    same window number is dropped (the copies are a cosmetic finding, not extra windows).
    """
    out = EembcResults()
    previous = None
    for raw in text.split("\n"):
        line = raw.strip()
        if not line or line == previous:
            continue
        previous = line
        m = _RE_RES.match(line.replace("\r", ""))
        if m is None:
            continue
        out.code = out.code or m.group(2)
        _results_line(out, m.group(3))
    out.repeated_windows = _drop_repeats(out.perf_windows) + _drop_repeats(out.energy_windows)
    return out


def _drop_repeats(windows: list[dict[str, float]]) -> int:
    kept: list[dict[str, float]] = []
    for w in windows:
        if w not in kept:
            kept.append(w)
    dropped = len(windows) - len(kept)
    windows[:] = kept
    return dropped


def _results_line(out: EembcResults, msg: str) -> None:
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
    if not isinstance(data, list) or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in data):
        raise ValueError("expected a JSON array of numbers")
    out = [float(x) for x in data]
    bad = next((i for i, x in enumerate(out) if not math.isfinite(x) or x < 0), None)
    if bad is not None:
        raise ValueError(f"timestamp {bad} is {data[bad]!r}: seconds must be finite and >= 0")
    if any(b < a for a, b in itertools.pairwise(out)):
        raise ValueError("timestamps decrease: not one trace's GPIO edges in order")
    return out


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


def window_times(timestamps: list[float]) -> list[tuple[float, float]]:
    """(start s, end s) of each energy window: after the first timestamp (the trace's start
    mark), the GPIO edges in pairs."""
    return [(timestamps[k - 1], timestamps[k]) for k in range(2, len(timestamps), 2)]


def sample_span(rate: float, start: float, end: float) -> tuple[int, int]:
    """Sample indices [i0, i1) of a window of the trace (each edge to its nearest sample)."""
    return round(start * rate), round(end * rate)


def span_energy(samples: np.ndarray, i0: int, i1: int) -> float:
    """uJ in samples [i0, i1), an index below 0 read as 0."""
    return float(samples[max(i0, 0):max(i1, 0)].sum())


U32 = 2**32


def lap_us(first: int, last: int) -> int:
    """µs between two ``m-lap-us`` stamps: the DUT's 32-bit counter may wrap once."""
    return last - first if last >= first else last + U32 - first


def is_eembc_log(text: str) -> bool:
    """True when the first non-empty lines look like the EEMBC runner's log."""
    for raw in text[:4096].split("\n")[:5]:
        if raw.strip():
            return _RE_LOG.match(raw.strip()) is not None
    return False
