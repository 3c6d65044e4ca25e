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
from dataclasses import dataclass
from typing import Any

# The pure scoring lives in formats.sww_score; re-exported here for existing callers.
from tinyperf.formats.sww_score import (  # noqa: F401
    ALLOWANCE_S,
    DEBOUNCE_MS,
    MAX_FRAMES,
    PERIOD_VARIATION,
    SIGNIFICANT,
    DutyCycle,
    Score,
    SwwDataError,
    duty_cycle,
    f1,
    general_tolerance,
    score,
)
from tinyperf.submissions.model import Benchmark, ModeRun
from tinyperf.submissions.recompute import Figure, printed_tolerance

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
