"""Streaming wakeword (sww01): the reference runner's scoring and duty-cycle math, recomputed.

Owns (protocol.md 7.4, 7.5): scoring a board detection list against the truth windows
(origin pulse, admissible interval ``[s, e + 2.0]``, removal of every detection inside,
1 s debounce of the rest in integer ms), the duty-cycle figures from the start/stop tick
lists, and the comparison of all sww claims of a results.txt with the raw data of
results.json (``infer.detections``/``detection_windows``, ``dutycycle``, ``power``).
Pure: loaded records in, ``Figure`` records out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tinyperf.submissions.model import Benchmark, ModeRun
from tinyperf.submissions.recompute import Figure, printed_tolerance

#: The admissible interval of a truth window ends this long after its end. The runner's
#: README says 1 s; its code adds the allowance twice (protocol.md 7.4 step 2).
ALLOWANCE_S = 2.0
#: False positives closer than this to a surviving earlier one are merged (integer ms).
DEBOUNCE_MS = 1000
#: The runner computes duty-cycle figures from the first frames only.
MAX_FRAMES = 100
#: ``WARNING: Frame period variation exceeds 2%`` threshold of the runner.
PERIOD_VARIATION = 0.02
#: ``{:1.5}``: five significant digits.
SIGNIFICANT = 5


class SwwDataError(ValueError):
    """Raw sww data that cannot be scored (names the field)."""


@dataclass
class Score:
    """Outcome of scoring one stream: counts plus what the runner logs."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    missed: list[float] = field(default_factory=list)  # truth-window starts (s)
    false_ms: list[int] = field(default_factory=list)  # surviving FPs, ms from the origin
    problems: list[str] = field(default_factory=list)

    def __add__(self, other: Score) -> Score:
        return Score(self.tp + other.tp, self.fn + other.fn, self.fp + other.fp,
                     self.missed + other.missed, self.false_ms + other.false_ms,
                     self.problems + other.problems)


def score(detections_ms: list[int], windows_s: list[tuple[float, float]]) -> Score:
    """Score one stream exactly as the reference runner does (protocol.md 7.4 steps 1-3).

    ``detections_ms``: the board list in ms, its first entry the forced first-frame pulse
    (the time origin, not a detection). ``windows_s``: truth ``[start, end]`` in seconds.
    """
    if not detections_ms:
        raise SwwDataError("detections: empty list (the runner aborts: no origin pulse)")
    origin = detections_ms[0]
    rel = [d - origin for d in detections_ms[1:]]
    out = Score()
    if rel != sorted(rel):
        out.problems.append("detections are not in time order (scored in time order)")
        rel.sort()
    left = rel  # ms from the origin; the interval test is in seconds, as in the runner
    for start, end in windows_s:
        inside = [t for t in left if start <= t / 1000 <= end + ALLOWANCE_S]
        if inside:
            out.tp += 1
            left = [t for t in left if not start <= t / 1000 <= end + ALLOWANCE_S]
        else:
            out.fn += 1
            out.missed.append(start)
    for t in left:  # debounce: a survivor hides later ones within 1 s (t < t' <= t + 1000);
        last = out.false_ms[-1] if out.false_ms else None  # an equal time is not "later"
        if last is None or t == last or t > last + DEBOUNCE_MS:
            out.false_ms.append(t)
    out.fp = len(out.false_ms)
    return out


@dataclass
class DutyCycle:
    """Duty-cycle figures of the runner from the start/stop lists (seconds)."""

    duty_cycle: float
    period: float
    processing_time: float
    throughput: float
    frames: int
    variation: float  # (max - min) / mean of the frame periods
    truncated: str | None = None  # why the lists were cut to equal length


def duty_cycle(starts: list[float], stops: list[float]) -> DutyCycle:
    """protocol.md 7.4 step 4: equal-length lists, first 100 frames, means of on/period."""
    n = min(len(starts), len(stops))
    truncated = None
    if len(starts) != len(stops):
        truncated = (f"{len(starts)} start times and {len(stops)} stop times: both cut to "
                     f"{n} (the runner warns and truncates)")
    n = min(n, MAX_FRAMES)
    if n < 2:
        raise SwwDataError(f"dutycycle: {n} complete frame(s), at least 2 needed for a period")
    start = np.asarray(starts[:n], dtype=float)
    stop = np.asarray(stops[:n], dtype=float)
    on = stop - start
    periods = np.diff(start)
    mean_p, mean_on = float(np.mean(periods)), float(np.mean(on))
    if mean_p <= 0 or mean_on <= 0:
        raise SwwDataError(f"dutycycle: mean period {mean_p:g} s, mean processing time "
                           f"{mean_on:g} s (both must be > 0)")
    return DutyCycle(mean_on / mean_p, mean_p, mean_on, 1.0 / mean_on, n,
                     float((periods.max() - periods.min()) / mean_p), truncated)


def general_tolerance(value: float | None) -> float:
    """Half a unit of the 5th significant digit: what ``{:1.5}`` keeps of ``value``."""
    if value is None or value == 0 or not math.isfinite(value):
        return 0.0
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - (SIGNIFICANT - 1))


def f1(tp: int, fp: int, fn: int) -> float | None:
    """The official checker's sww "accuracy": 2TP / (2TP + FP + FN)."""
    den = 2 * tp + fp + fn
    return 2 * tp / den if den else None


# -- claims vs raw data --------------------------------------------------------------------------


@dataclass
class SwwFigures:
    """Every sww figure of the folder the official checker reads (energy/ else performance/)."""

    folder: str
    tp: Figure
    fn: Figure
    fp: Figure
    duty_cycle: Figure
    period: Figure
    throughput: Figure
    power: Figure
    f1: Figure
    duty: DutyCycle | None = None
    score: Score | None = None

    def figures(self, names: list[str]) -> list[Figure]:
        return [getattr(self, n) for n in names]


_RE_INT_LIST = re.compile(r"^\[\s*(?:-?\d+\s*(?:,\s*-?\d+\s*)*)?\]$")


def log_detection_lists(log_text: str) -> list[list[int]]:
    """The board detection list the runner logs for each stream (protocol.md 7.5): the
    first line that is a bare list of integers after each ``Playing {wav} ...`` line."""
    lists: list[list[int]] = []
    waiting = False
    for raw in log_text.splitlines():
        line = raw.strip()
        if line.startswith("Playing "):
            waiting = True
        elif waiting and _RE_INT_LIST.match(line):
            inner = line[1:-1].strip()
            lists.append([int(v) for v in inner.split(",")] if inner else [])
            waiting = False
    return lists


def detections_vs_log(run: ModeRun) -> str | None:
    """Why results.json's detection lists disagree with log.txt's, or None when they agree
    (or cannot be compared: no log, no results.json; those are reported elsewhere)."""
    if run.log_text is None:
        return None
    records = _records(run)
    if not records:
        return None
    logged = log_detection_lists(run.log_text)
    if len(logged) != len(records):
        return (f"log.txt lists detections for {len(logged)} stream(s), results.json has "
                f"{len(records)}")
    for k, (rec, seen) in enumerate(zip(records, logged)):
        try:
            claimed = _ints(rec["infer"].get("detections"), f"results.json[{k}].detections")
        except SwwDataError as exc:
            return str(exc)
        if claimed != seen:
            diff = next((i for i, (a, b) in enumerate(zip(claimed, seen)) if a != b),
                        min(len(claimed), len(seen)))
            return (f"stream {k}: results.json detections differ from log.txt at position "
                    f"{diff} ({len(claimed)} vs {len(seen)} values)")
    return None


def read_folder(bench: Benchmark) -> ModeRun | None:
    """The folder the official checker reads for sww (submission_rules.md 4.6)."""
    return bench.modes.get("energy") or bench.modes.get("performance")


def _records(run: ModeRun) -> list[dict[str, Any]]:
    doc = run.results_json
    if doc is None or not isinstance(doc.value, list):
        return []
    return [r for r in doc.value if isinstance(r, dict) and isinstance(r.get("infer"), dict)]


def _ints(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in value):
        raise SwwDataError(f"{where}: not a list of numbers")
    return [int(v) for v in value]


def _windows(value: Any, where: str) -> list[tuple[float, float]]:
    try:
        out = [(float(w[0]), float(w[1])) for w in value]
    except (TypeError, ValueError, IndexError, KeyError):
        raise SwwDataError(f"{where}: not a list of [start, end] pairs") from None
    if not all(math.isfinite(s) and math.isfinite(e) for s, e in out):
        raise SwwDataError(f"{where}: non-finite window bound")
    return out


def _numbers(value: Any, where: str) -> list[float]:
    if not isinstance(value, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise SwwDataError(f"{where}: not a list of numbers")
    return [float(v) for v in value]


def recompute(bench: Benchmark, energy: Figure | None) -> SwwFigures | None:
    """All sww figures of ``bench``; ``energy`` is the stream's recomputed energy window."""
    run = read_folder(bench)
    if run is None:
        return None
    c = run.claims.sww if run.claims else None
    figs = SwwFigures(
        run.name,
        Figure("true positives", claimed=c.tp if c else None),
        Figure("false negatives", claimed=c.fn if c else None),
        Figure("false positives", claimed=c.fp if c else None),
        Figure("duty cycle", claimed=c.duty_cycle if c else None),
        Figure("period (s)", claimed=c.period if c else None),
        Figure("estimated throughput (inf./sec.)", claimed=c.throughput if c else None),
        Figure("power (mW)", claimed=_power_claim(run)),
        Figure("F1"))
    if c is not None and c.tp is not None and c.fn is not None and c.fp is not None:
        figs.f1.claimed = f1(c.tp, c.fp, c.fn)
    records = _records(run)
    _score(figs, records)
    _duty(figs, records)
    _power(figs, run, energy)
    return figs


def _power_claim(run: ModeRun) -> float | None:
    windows = run.claims.energy_windows if run.claims else []
    return windows[-1].get("power_mw") if windows else None


def _unverifiable(figs: list[Figure], why: str) -> None:
    for f in figs:
        f.unverifiable = why


def _score(figs: SwwFigures, records: list[dict[str, Any]]) -> None:
    counts = [figs.tp, figs.fn, figs.fp]
    if not records:
        _unverifiable([*counts, figs.f1], "no results.json stream record (detections)")
        return
    total = Score()
    for n, rec in enumerate(records):
        inf = rec["infer"]
        where = f"results.json record {n} infer"
        try:
            total += score(_ints(inf.get("detections"), f"{where}.detections"),
                           _windows(inf.get("detection_windows"),
                                    f"{where}.detection_windows"))
        except SwwDataError as exc:
            for f in counts:
                f.problems.append(f"cannot score: {exc}")
            return
    figs.score = total
    for f, value in zip(counts, (total.tp, total.fn, total.fp)):
        f.recomputed, f.source = float(value), "results.json detections vs detection_windows"
    figs.tp.problems += total.problems
    figs.f1.recomputed = f1(total.tp, total.fp, total.fn)
    figs.f1.source = figs.tp.source


def _duty(figs: SwwFigures, records: list[dict[str, Any]]) -> None:
    named = [figs.duty_cycle, figs.period, figs.throughput]
    dc = next((r["dutycycle"] for r in records if isinstance(r.get("dutycycle"), dict)), None)
    if dc is None:
        _unverifiable(named, "no results.json dutycycle start/stop lists")
        return
    try:
        d = duty_cycle(_numbers(dc.get("start_times_s"), "dutycycle.start_times_s"),
                       _numbers(dc.get("stop_times_s"), "dutycycle.stop_times_s"))
    except SwwDataError as exc:
        for f in named:
            f.problems.append(f"cannot recompute: {exc}")
        return
    figs.duty = d
    for f, value in zip(named, (d.duty_cycle, d.period, d.throughput)):
        f.recomputed, f.source = value, "results.json dutycycle start/stop times"
        f.tolerance = general_tolerance(f.claimed)


def _power(figs: SwwFigures, run: ModeRun, energy: Figure | None) -> None:
    fig = figs.power
    if run.name != "energy":
        return  # performance/: no power (the official checker reports 0 mW)
    window = energy.windows[-1] if energy is not None and energy.windows else None
    if window is None or not window.get("seconds") or window.get("energy_uj") is None:
        fig.unverifiable = energy.unverifiable if energy is not None and energy.unverifiable \
            else "no energy window in results.json power data"
        return
    sec, uj = float(window["seconds"]), float(window["energy_uj"])
    fig.recomputed = uj / sec / 1000.0  # uJ/s = uW
    fig.source = "results.json power samples (last two events)"
    # one sample either way at each edge (recompute.energy's bounds, N = 1), plus printing
    spread = max(abs(window.get("uj_per_inf_hi", uj) - uj), abs(uj - window.get(
        "uj_per_inf_lo", uj))) / sec / 1000.0
    fig.tolerance = float(spread) + printed_tolerance(4)  # a plain float: ``agrees is False``
