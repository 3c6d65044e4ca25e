"""MLCommons runner file formats (spec 6.1-6.4): render and parse, byte for byte.

Rendering is pure: figures in, text out. The same module parses the published files, so a
round trip (parse a real session, render it again) proves the writers exact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CODE = "ulp-mlperf"
DASHES = "-" * 57
SUMMARY_RULE = "-" * 20


def stamp(moment: datetime) -> str:
    """The runner's ``{MMDD.HHMMSS}`` local-time stamp (no year)."""
    return moment.strftime("%m%d.%H%M%S")


def session_name(moment: datetime) -> str:
    return moment.strftime("%Y%m%d_%H%M%S")


# -- results.json ------------------------------------------------------------------------------


def infer_record(*, start_time: int | None, end_time: int | None, results: Sequence[float],
                 elapsed_time: int | None, total_inferences: int, iterations: int,
                 warmups: int, throughput: float | None, mode: str) -> dict[str, Any]:
    """The ``infer`` object in the runner's key order; ``throughput`` only in mode ``p``."""
    rec: dict[str, Any] = {}
    if mode in ("a", "p"):
        rec["start_time"] = start_time
        rec["end_time"] = end_time
    rec["results"] = list(results)
    if mode in ("a", "p"):
        rec["elapsed_time"] = elapsed_time
    rec["total_inferences"] = total_inferences
    rec["iterations"] = iterations
    rec["warmups"] = warmups
    if mode == "p":
        rec["throughput"] = throughput
    return rec


def window_record(*, file: str, classes: str, label: str, bytes_to_send: str | None,
                  stride: str | None, total_length: int | None, infer: dict[str, Any],
                  mode: str, power: dict[str, Any] | None = None) -> dict[str, Any]:
    """One results.json record in the runner's key order."""
    rec: dict[str, Any] = {"file": file, "classes": classes, "class": label,
                           "bytes_to_send": bytes_to_send, "stride": stride,
                           "total_length": total_length, "infer": infer}
    if power is not None:
        rec["power"] = power
    rec["mode"] = mode
    return rec


def results_json(records: Sequence[dict[str, Any]]) -> str:
    """``json.dump`` with default settings: ``", "``/``": "`` separators, no newline."""
    return json.dumps(list(records))


# -- results.txt -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PerfWindow:
    """What a performance block of results.txt shows for one window."""

    iterations: int
    elapsed_us: int | None
    throughput: float


def performance_txt(windows: Sequence[PerfWindow], median: float, ts: str,
                    errors: Sequence[str] = (), notes: Sequence[str] = ()) -> str:
    """Performance results.txt. ``errors`` are ``"error 1"``/``"error 2"``: ERROR 1 wins
    and replaces the median block. ``notes`` are extra invalidity reasons (tinyperf)."""
    lines = []
    for k, w in enumerate(windows, start=1):
        runtime = (w.elapsed_us or 0) / 1e6
        lines += [f"Performance results for window {k}",
                  f"    # Inferences : {w.iterations}",
                  f"    Runtime: {runtime!r} sec.",
                  f"    Throughput: {w.throughput!r} inf./sec."]
        if runtime > 10.0:
            lines.append("    Runtime requirements have been met.")
    if "error 1" in errors:
        lines.append(f"{ts} {CODE}: ERROR 1 - loop_count was not exactly 5.")
    elif "error 2" in errors:
        lines.append(f"{ts} {CODE}: ERROR 2 - loop exited before 10 seconds elapsed.")
    else:
        lines += [f"{ts} {CODE}: {DASHES}",
                  f"{ts} {CODE}: Median throughput is {median:>10.3f} inf./sec.",
                  f"{ts} {CODE}: {DASHES}"]
    lines += [f"{ts} {CODE}: ERROR - not valid for submission: {n}" for n in notes]
    return "\n".join(lines) + "\n"


def accuracy_txt(top1: float, auc: float, ts: str, notes: Sequence[str] = ()) -> str:
    lines = [f"{ts} {CODE}: Top 1% = {top1:2.1f}", f"{ts} {CODE}: AUC = {auc:.3f}"]
    lines += [f"{ts} {CODE}: ERROR - not valid for submission: {n}" for n in notes]
    return "\n".join(lines) + "\n"


# -- log.txt lines -----------------------------------------------------------------------------


def log_loading(ts: str, file: str, segment: int) -> str:
    return f"{ts} {CODE}: Loading file {file} segment {segment}"


def log_load_complete(ts: str) -> str:
    return f"{ts} {CODE}: Load complete."


def log_running(warmups: int, iterations: int) -> str:
    return f"Running inference with {warmups}/{iterations} (warmup/measured) iterations ..."


def log_window(ts: str, number: int, iterations: int, runtime_s: float, throughput: float,
               results: Sequence[float]) -> list[str]:
    """The per-infer block the runner logs in modes ``a`` and ``p``."""
    head = f"{ts} {CODE}: "
    return [f"{head}Performance results for window {number}:",
            f"{head}  # Inferences : {iterations:>13}",
            f"{head}  Runtime      : {runtime_s:>10.3f} sec.",
            f"{head}  Throughput   : {throughput:>10.3f} inf./sec.",
            f"{head}  m-results    : {list(results)!r}"]


# -- parsing published files ---------------------------------------------------------------------

_TS = r"(\d{4}\.\d{6}) " + CODE + r": "
_RE_WINDOW = re.compile(r"^Performance results for window (\d+)$")
_RE_INFERENCES = re.compile(r"^\s*# Inferences : (\d+)$")
_RE_RUNTIME = re.compile(r"^\s*Runtime: ([0-9.eE+-]+) sec\.$")
_RE_THROUGHPUT = re.compile(r"^\s*Throughput: ([0-9.eE+-]+|inf|nan) inf\./sec\.$")
_RE_MEDIAN = re.compile("^" + _TS + r"Median throughput is\s+([0-9.]+) inf\./sec\.$")
_RE_ERROR_N = re.compile("^" + _TS + r"ERROR (\d) - (.*)$")
_RE_TOP1 = re.compile("^" + _TS + r"Top 1% = ([0-9.]+)$")
_RE_AUC = re.compile("^" + _TS + r"AUC = ([0-9.]+)$")
_RE_STAMP = re.compile("^" + _TS)


@dataclass
class ResultsTxt:
    """What an MLCommons-runner results.txt claims."""

    windows: list[dict[str, Any]]
    median_throughput: float | None = None
    top1: float | None = None
    auc: float | None = None
    errors: list[str] | None = None
    stamp: str | None = None


def parse_results_txt(text: str) -> ResultsTxt:
    """Parse performance or accuracy results.txt (CRLF or LF)."""
    out = ResultsTxt(windows=[], errors=[])
    for line in text.splitlines():
        if (m := _RE_STAMP.match(line)) and out.stamp is None:
            out.stamp = m.group(1)
        if m := _RE_WINDOW.match(line):
            out.windows.append({"window": int(m.group(1)), "met": False})
        elif (m := _RE_INFERENCES.match(line)) and out.windows:
            out.windows[-1]["iterations"] = int(m.group(1))
        elif (m := _RE_RUNTIME.match(line)) and out.windows:
            out.windows[-1]["runtime_s"] = float(m.group(1))
            out.windows[-1]["runtime_text"] = m.group(1)
        elif (m := _RE_THROUGHPUT.match(line)) and out.windows:
            out.windows[-1]["throughput"] = float(m.group(1))
            out.windows[-1]["throughput_text"] = m.group(1)
        elif line.strip() == "Runtime requirements have been met." and out.windows:
            out.windows[-1]["met"] = True
        elif m := _RE_MEDIAN.match(line):
            out.median_throughput = float(m.group(2))
        elif m := _RE_ERROR_N.match(line):
            out.errors.append(f"error {m.group(2)}")  # type: ignore[union-attr]
        elif m := _RE_TOP1.match(line):
            out.top1 = float(m.group(2))
        elif m := _RE_AUC.match(line):
            out.auc = float(m.group(2))
    return out


_RE_LOG_RESULTS = re.compile("^" + _TS + r"  m-results    : \[(.*)\]$")
_RE_LOG_LOADING = re.compile("^" + _TS + r"Loading file (.+) segment (\d+)$")


def parse_log_results(text: str) -> list[tuple[str, int, list[float]]]:
    """``(file, segment, results)`` per inference window from an MLCommons log.txt."""
    out: list[tuple[str, int, list[float]]] = []
    current: tuple[str, int] | None = None
    for line in text.splitlines():
        if m := _RE_LOG_LOADING.match(line):
            current = (m.group(2), int(m.group(3)))
        elif (m := _RE_LOG_RESULTS.match(line)) and current is not None:
            values = [float(v) for v in m.group(2).split(",") if v.strip()]
            out.append((current[0], current[1], values))
    return out
