"""sww01 scoring as the MLCommons runner does it, as pure functions (protocol.md 5.4, 7.4).

Owns: the truth file (``sww01/*.json``: a list of ``wav_file``/``sample_rate``/``length_sec``/
``detection_windows`` entries) parsed into records, the scoring of a board detection list
against the truth windows (origin pulse, admissible interval, removal of every detection
inside, 1 s debounce of the rest in integer ms), the duty-cycle figures from the start/stop
lists (first <= 100 frames, 2 % period warning, estimated throughput) and the F1 the
official checker derives. Records in, records out; no I/O except :func:`load_truth`.

The admissible interval: the runner's code ends it at ``e + 2.0`` s (it adds its 1 s
allowance twice), its README says ``e + 1.0`` s. The code is the default
(``allowance=ALLOWANCE_CODE``); ``allowance=ALLOWANCE_README`` scores the README's intent.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats.errors import ConformanceError

#: The runner adds this to a truth window's end, and (in its code) adds it twice.
SUPPRESSION_S = 1.0
#: ``score(..., allowance=...)``: the runner's code, ``[s, (e + 1.0) + 1.0]`` (default) …
ALLOWANCE_CODE = "code"
#: … or its README's stated intent, ``[s, e + 1.0]``.
ALLOWANCE_README = "readme"
ALLOWANCES = (ALLOWANCE_CODE, ALLOWANCE_README)
#: Effective allowance after a window's end with the default rule (seconds).
ALLOWANCE_S = 2.0
#: False positives closer than this to a surviving earlier one are merged (integer ms).
DEBOUNCE_MS = 1000
#: The runner computes duty-cycle figures from the first frames only.
MAX_FRAMES = 100
#: ``WARNING: Frame period variation exceeds 2%`` threshold of the runner.
PERIOD_VARIATION = 0.02
#: ``{:1.5}``: five significant digits.
SIGNIFICANT = 5
#: The only sample rate the board and the reference DUT use.
SAMPLE_RATE = 16_000


class SwwDataError(ConformanceError, ValueError):
    """Raw sww data (detections, duty-cycle lists, a truth file) that cannot be scored;
    the message names the file or field."""


# -- truth file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TruthEntry:
    """One stream of a truth file; ``raw`` keeps the entry's keys in file order (they are
    copied into results.json's ``infer``)."""

    wav_file: str
    sample_rate: int
    length_sec: float
    windows: tuple[tuple[float, float], ...]
    raw: dict[str, Any] = field(compare=False, repr=False)


def _truth_entry(raw: Any, where: str) -> TruthEntry:
    if not isinstance(raw, dict):
        raise SwwDataError(f"{where}: must be an object")
    for key in ("wav_file", "sample_rate", "length_sec", "detection_windows"):
        if key not in raw:
            raise SwwDataError(f"{where}: missing key '{key}'")
    wav, rate, length = raw["wav_file"], raw["sample_rate"], raw["length_sec"]
    if not isinstance(wav, str) or not wav:
        raise SwwDataError(f"{where}.wav_file: must be a non-empty string")
    if isinstance(rate, bool) or not isinstance(rate, int) or rate != SAMPLE_RATE:
        raise SwwDataError(f"{where}.sample_rate: must be {SAMPLE_RATE}, got {rate!r}")
    if isinstance(length, bool) or not isinstance(length, (int, float)) or not (
            math.isfinite(length) and length > 0):
        raise SwwDataError(f"{where}.length_sec: must be a positive number, got {length!r}")
    return TruthEntry(wav, rate, float(length),
                      parse_windows(raw["detection_windows"], f"{where}.detection_windows"),
                      dict(raw))


def parse_windows(value: Any, where: str = "detection_windows") -> tuple[tuple[float, float],
                                                                         ...]:
    """A list of ``[start, end]`` seconds, finite, start <= end; ``SwwDataError`` naming the
    item otherwise."""
    if not isinstance(value, list):
        raise SwwDataError(f"{where}: must be a list of [start, end] pairs")
    out = []
    for i, item in enumerate(value):
        if (not isinstance(item, (list, tuple)) or len(item) != 2 or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) for v in item)):
            raise SwwDataError(f"{where}[{i}]: must be a [start, end] pair of numbers, "
                               f"got {item!r}")
        start, end = float(item[0]), float(item[1])
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
            raise SwwDataError(f"{where}[{i}]: [{start}, {end}] is not a window "
                               "(need 0 <= start <= end, finite)")
        out.append((start, end))
    return tuple(out)


def parse_truth(data: Any, source: str = "truth file") -> list[TruthEntry]:
    """Validate a loaded truth document (a JSON list of stream entries)."""
    if not isinstance(data, list) or not data:
        raise SwwDataError(f"{source}: must be a non-empty JSON list of stream entries")
    return [_truth_entry(raw, f"{source}[{i}]") for i, raw in enumerate(data)]


def load_truth(path: str | Path) -> list[TruthEntry]:
    """Read and validate a truth JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SwwDataError(f"{path}: truth file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SwwDataError(f"{path}: cannot read truth file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise SwwDataError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from exc
    return parse_truth(data, str(path))


# -- detections ---------------------------------------------------------------------------------


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


def window_end(end: float, allowance: str = ALLOWANCE_CODE) -> float:
    """Last admissible time (s) of a truth window ending at ``end``, with the runner's float
    arithmetic: ``(end + 1.0) + 1.0`` for the code, ``end + 1.0`` for the README."""
    if allowance not in ALLOWANCES:
        raise ValueError(f"allowance must be one of {ALLOWANCES}, not {allowance!r}")
    limit = end + SUPPRESSION_S
    return limit + SUPPRESSION_S if allowance == ALLOWANCE_CODE else limit


def score(detections_ms: list[int], windows_s: list[tuple[float, float]] | tuple[
        tuple[float, float], ...], allowance: str = ALLOWANCE_CODE) -> Score:
    """Score one stream exactly as the reference runner does (protocol.md 7.4 steps 1-3).

    ``detections_ms``: the board list in ms, its first entry the forced first-frame pulse
    (the time origin, not a detection). ``windows_s``: truth ``[start, end]`` in seconds.
    ``allowance``: :data:`ALLOWANCE_CODE` (default) or :data:`ALLOWANCE_README`.
    """
    if not detections_ms:
        raise SwwDataError("detections: empty list (the runner aborts: 'No detections "
                           "captured', there is no origin pulse)")
    origin = detections_ms[0]
    rel = [d - origin for d in detections_ms[1:]]
    out = Score()
    if rel != sorted(rel):
        out.problems.append("detections are not in time order (scored in time order)")
        rel.sort()
    left = rel  # ms from the origin; the interval test is in seconds, as in the runner
    for start, end in windows_s:
        last = window_end(end, allowance)
        inside = [t for t in left if start <= t / 1000 <= last]
        if inside:
            out.tp += 1
            left = [t for t in left if not start <= t / 1000 <= last]
        else:
            out.fn += 1
            out.missed.append(start)
    for t in left:  # debounce: a survivor hides later ones within 1 s (t < t' <= t + 1000);
        kept = out.false_ms[-1] if out.false_ms else None  # an equal time is not "later"
        if kept is None or t == kept or t > kept + DEBOUNCE_MS:
            out.false_ms.append(t)
    out.fp = len(out.false_ms)
    return out


# -- duty cycle ---------------------------------------------------------------------------------


@dataclass
class DutyCycle:
    """Duty-cycle figures of the runner from the start/stop lists (seconds)."""

    duty_cycle: float
    period: float
    processing_time: float
    throughput: float  # estimated throughput = 1 / processing_time (inferences per second)
    frames: int
    variation: float  # (max - min) / mean of the frame periods
    truncated: str | None = None  # why the lists were cut to equal length
    min_period: float = 0.0
    max_period: float = 0.0

    @property
    def period_warning(self) -> str | None:
        """The runner's warning when the frame period varies by more than 2 %, else None."""
        if self.variation <= PERIOD_VARIATION:
            return None
        return (f"WARNING: Frame period variation exceeds 2%. Min period = "
                f"{self.min_period * 1e3:.3f} ms.  Max period = {self.max_period * 1e3:.3f} ms")


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
                     float((periods.max() - periods.min()) / mean_p), truncated,
                     float(periods.min()), float(periods.max()))


def general_tolerance(value: float | None) -> float:
    """Half a unit of the 5th significant digit: what ``{:1.5}`` keeps of ``value``."""
    if value is None or value == 0 or not math.isfinite(value):
        return 0.0
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - (SIGNIFICANT - 1))


def f1(tp: int, fp: int, fn: int) -> float | None:
    """The official checker's sww "accuracy": 2TP / (2TP + FP + FN)."""
    den = 2 * tp + fp + fn
    return 2 * tp / den if den else None
