"""sww01 session texts exactly as the MLCommons runner writes them (protocol.md 7.5, 6.2-6.4).

Pure: figures in, lines and records out. ``{x:1.5}`` is Python's general format (5
significant digits); the false positives are printed as the runner's numpy array (3
decimals); duty-cycle figures are numpy means so their last bits match the runner's.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tinyperf.formats.sww_protocol import MAX_DUTY_EDGES, ticks_to_seconds

POWER_HEADER = "Power Edition Output"
DASHES = "-" * 57
MIN_WINDOW_S = 10.0
NO_DUTY = "No duty cycle data recorded"
NO_ACTIVATIONS = "No activation data found."
SHORT_WINDOW = ("ERROR: Not valid for submission.  All inference times must be at least "
                "10 seconds.")
WINDOW_COUNT = ("ERROR: Not valid for submission.  Energy mode must include exactly 1 "
                "measurements.")


# -- duty cycle --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DutyFigures:
    """The runner's ``dutycycle`` record and the log lines it prints while computing it."""

    record: dict[str, Any]
    log: list[str]

    @property
    def duty_cycle(self) -> float:
        return float(self.record["duty_cycle"])

    @property
    def period(self) -> float:
        return float(self.record["period"])

    @property
    def processing_time(self) -> float:
        return float(self.record["processing_time"])


def duty_figures(start_ticks: Sequence[int], stop_ticks: Sequence[int]) -> DutyFigures:
    """protocol.md 7.4 step 4 on the board's tick lists (≤ 100 each), as the runner does.

    Fewer than two complete frames give no period: ``ValueError`` (the runner crashes on
    numpy's empty ``max``; we say why).
    """
    starts = np.asarray(ticks_to_seconds(start_ticks[:MAX_DUTY_EDGES]), dtype=np.float64)
    stops = np.asarray(ticks_to_seconds(stop_ticks[:MAX_DUTY_EDGES]), dtype=np.float64)
    log = []
    if len(starts) != len(stops):
        log.append(f"Warning: Number of start times ({len(starts)}) and number of stop times "
                   f"({len(stops)}) should be equal")
        n = min(len(starts), len(stops))
        starts, stops = starts[:n], stops[:n]
    if len(starts) < 2:
        raise ValueError(f"duty cycle: {len(starts)} complete processing frame(s) recorded by "
                         "the board; at least 2 are needed for a period")
    on = stops - starts
    periods = np.diff(starts)
    if (np.max(periods) - np.min(periods)) / np.mean(periods) > 0.02:
        log.append(f"WARNING: Frame period variation exceeds 2%. Min period = "
                   f"{np.min(periods * 1e3):.3f} ms.  Max period = "
                   f"{np.max(periods * 1e3):.3f} ms")
    period = np.mean(periods)
    on_time = np.mean(on)
    duty = on_time / period
    log.append(f"Duty cycle = {duty:.3f}, Period = {period * 1e3:.3} ms")
    record = {"duty_cycle": float(duty), "period": float(period),
              "processing_time": float(on_time),
              "start_times_s": [float(x) for x in starts],
              "stop_times_s": [float(x) for x in stops]}
    return DutyFigures(record, log)


# -- results.txt / log.txt -------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamEnergy:
    """One energy window the runner's way: last two events, 1000 Hz, ``np.sum``."""

    elapsed_s: float
    energy_j: float
    iterations: int = 1

    @property
    def power_w(self) -> float:
        return self.energy_j / self.elapsed_s if self.elapsed_s else float("nan")


def stream_energy(samples: Sequence[float], timestamps: Sequence[Sequence[Any]],
                  iterations: int = 1) -> StreamEnergy:
    """protocol.md 3.3 for the sww window: events must be consecutive; the last two bound it."""
    if len(timestamps) < 2:
        raise ValueError(f"{len(timestamps)} timestamp event(s) in the stream window; the "
                         "DUT's start and stop pulses (2) are needed")
    ids = [int(t[0]) for t in timestamps]
    if any(b - a != 1 for a, b in itertools.pairwise(ids)):
        raise ValueError(f"Timestamps are not consecutive: {list(timestamps)}")
    idx = np.array([int(t[1]) for t in timestamps])
    secs = idx / 1000
    i0, i1 = int(idx[-2]), int(idx[-1])
    energy = np.sum(np.array(samples[i0:i1], dtype=np.float64))
    return StreamEnergy(float(secs[-1] - secs[-2]), float(energy), iterations)


def energy_lines(windows: Sequence[StreamEnergy]) -> list[str]:
    """The energy block of results.txt (``Power Edition Output`` ... median)."""
    lines = [POWER_HEADER]
    for k, w in enumerate(windows):
        short = "" if w.elapsed_s >= MIN_WINDOW_S else "  <<<< below minimum duration"
        lines += [f"Energy data for trial {k}",
                  f"  Elapsed time  : {w.elapsed_s}{short}",
                  f"  Inferences    : {w.iterations}",
                  f"  Power         : {1e3 * w.energy_j / w.elapsed_s:5.4f} mW.",
                  f"  Total Energy  : {w.energy_j * 1e6:.3f} uJ",
                  f"  Energy/Inf    : {w.energy_j / w.iterations * 1e6:.3f} uJ/inf"]
    median = float(np.median([w.energy_j / w.iterations for w in windows])) if windows else 0.0
    lines += [DASHES, f"Median energy cost is {1e6 * median:5.4f} uJ/inf.", DASHES]
    return lines


def energy_errors(windows: Sequence[StreamEnergy]) -> list[str]:
    """The log-only ERROR lines of the energy summary (not in results.txt)."""
    out = []
    if any(w.elapsed_s < MIN_WINDOW_S for w in windows):
        out.append(SHORT_WINDOW)
    if len(windows) != 1:
        out.append(WINDOW_COUNT)
    return out


def accuracy_line(tp: int, fn: int, fp: int) -> str:
    return f"Accuracy: {tp} True positives, {fn} False negatives, {fp} False positives"


def duty_lines(duty: DutyFigures | None) -> list[str]:
    """results.txt's duty-cycle lines (empty without data: NO_DUTY goes to the log only)."""
    if duty is None:
        return []
    return [f"Average duty cycle: {duty.duty_cycle:1.5}",
            f"Average period: {duty.period:1.5} s",
            f"Estimated throughput: {1.0 / duty.processing_time:1.5} inf./sec."]


def file_header(wav_file: str, length_sec: float) -> str:
    return f"== File {wav_file} ({length_sec:2.1f} s) =="


def missed_line(missed_s: Sequence[float]) -> str:
    return f"False negatives: {list(missed_s)}"


def false_positive_line(false_ms: Sequence[int]) -> str:
    """``False positives: [...]``: the runner's numpy array of seconds, 3 decimals."""
    arr = np.asarray(list(false_ms), dtype=np.int64) / 1000
    with np.printoptions(precision=3):
        return f"False positives: {arr}"


def playing_line(wav_file: str, length_sec: Any, clock: str) -> str:
    """``Playing ... at HH:MM:SS...`` (the runner prints it with end="": one log line)."""
    return f"Playing {wav_file} (length = {length_sec}s) at {clock}..."


def detections_line(detections: Sequence[int]) -> str:
    return str(list(detections))


def samples_line(samples: int, timestamps: int) -> str:
    return f"samples:{samples} timestamps:{timestamps}"


# -- results.json ----------------------------------------------------------------------------------


def stream_record(truth: dict[str, Any], detections: Sequence[int],
                  dutycycle: dict[str, Any] | None, activations: Any, mode: str,
                  power: dict[str, Any] | None = None) -> dict[str, Any]:
    """One results.json object of a ``stream`` step, keys in the runner's order."""
    infer = dict(truth)
    infer["detections"] = list(detections)
    infer["iterations"] = 1
    infer["warmups"] = 0
    record: dict[str, Any] = {"infer": infer}
    if dutycycle is not None:
        record["dutycycle"] = dutycycle
    record["activations"] = activations
    if power is not None:
        record["power"] = power
    record["mode"] = mode
    return record


def results_json(records: Sequence[dict[str, Any]]) -> str:
    """``json.dump`` with default settings, no trailing newline (as the runner)."""
    return json.dumps(list(records))
