"""A synthetic streaming-wakeword (sww01) energy result in the MLCommons runner's formats.

Built from a known truth-window list and a known detection list, so TP/FN/FP are known by
construction (``SwwCase``), not by running the code under test: 50 windows, detections in
44 of them (one window with two detections), 6 windows missed, 4 false positives of which
one has a debounced echo 600 ms later. Duty-cycle lists are 10 us ticks as the interface
board reports them; power is a constant 25 mW over a short energy window (kept short so
the tests stay fast; the checker does not tie the window length to the stream length).
Formats: protocol.md 6.3 (energy block), 7.5 (sww lines, results.json, log.txt).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rules_synth import system_json

ORIGIN_MS = 85  # the forced first-frame pulse
WINDOWS = [(10.0 + 23.0 * k, 10.75 + 23.0 * k) for k in range(50)]
MISSED = {3, 11, 19, 27, 35, 43}
FALSE_AT = [15.0 + 23.0 * k for k in (5, 15, 25, 40)]  # seconds from the origin
SAMPLE_J = 2.5e-5  # J per 1 ms sample = 25 mW
E_START, E_SECONDS = 150, 12.0


def fmt(value: float) -> str:
    """Python's ``{:1.5}`` as the runner prints sww figures."""
    return f"{value:1.5}"


@dataclass
class SwwCase:
    """What the builder put in, with the figures the runner would print for it."""

    detections: list[int] = field(default_factory=list)
    windows: list[tuple[float, float]] = field(default_factory=lambda: list(WINDOWS))
    tp: int = 44
    fn: int = 6
    fp: int = 4
    starts: list[float] = field(default_factory=list)
    stops: list[float] = field(default_factory=list)
    samples: list[float] = field(default_factory=list)
    events: list[list[object]] = field(default_factory=list)

    @property
    def duty(self) -> tuple[float, float, float]:
        """(duty cycle, period s, throughput) by plain arithmetic over the 100 frames."""
        on = [b - a for a, b in zip(self.starts, self.stops)]
        periods = [b - a for a, b in zip(self.starts, self.starts[1:])]
        mean_on, mean_p = sum(on) / len(on), sum(periods) / len(periods)
        return mean_on / mean_p, mean_p, 1.0 / mean_on

    @property
    def power_mw(self) -> float:
        i0, i1 = int(self.events[-2][1]), int(self.events[-1][1])  # type: ignore[call-overload]
        return sum(self.samples[i0:i1]) / ((i1 - i0) / 1000) * 1000


def default_case() -> SwwCase:
    case = SwwCase()
    det = [ORIGIN_MS]
    for k, (s, e) in enumerate(WINDOWS):
        if k not in MISSED:
            det.append(ORIGIN_MS + round((s + 0.4) * 1000))
        if k == 0:  # a second detection in the same window: still one TP
            det.append(ORIGIN_MS + round((e + 1.5) * 1000))
        t = 15.0 + 23.0 * k
        if t in FALSE_AT:
            det.append(ORIGIN_MS + int(t * 1000))
            if k == 5:
                det.append(ORIGIN_MS + int(t * 1000) + 600)  # debounced echo
    case.detections = det
    ticks = [6718 + 3200 * i + (i % 3 - 1) for i in range(100)]
    case.starts = [t * 1e-5 for t in ticks]
    case.stops = [(t + 1790) * 1e-5 for t in ticks]
    n = int(E_SECONDS * 1000)
    case.samples = [SAMPLE_J] * (E_START + n + 150)
    case.events = [["00", E_START], ["01", E_START + n]]
    return case


def results_txt(case: SwwCase, tp: int | None = None, fn: int | None = None,
                fp: int | None = None) -> str:
    duty, period, tput = case.duty
    i0, i1 = int(case.events[-2][1]), int(case.events[-1][1])  # type: ignore[call-overload]
    joules = sum(case.samples[i0:i1])
    lines = ["Power Edition Output", "Energy data for trial 0",
             f"  Elapsed time  : {(i1 - i0) / 1000!r}", "  Inferences    : 1",
             f"  Power         : {case.power_mw:5.4f} mW.",
             f"  Total Energy  : {joules * 1e6:.3f} uJ",
             f"  Energy/Inf    : {joules * 1e6:.3f} uJ/inf", "-" * 57,
             f"Median energy cost is {joules * 1e6:5.4f} uJ/inf.", "-" * 57,
             f"Accuracy: {case.tp if tp is None else tp} True positives, "
             f"{case.fn if fn is None else fn} False negatives, "
             f"{case.fp if fp is None else fp} False positives",
             f"Average duty cycle: {fmt(duty)}", f"Average period: {fmt(period)} s",
             f"Estimated throughput: {fmt(tput)} inf./sec."]
    return "\n".join(lines) + "\n"


def results_json(case: SwwCase, mode: str = "e") -> str:
    duty, period, _ = case.duty
    infer = {"wav_file": "long_wav.wav", "detection_windows": [list(w) for w in case.windows],
             "length_sec": 1200.0, "sample_rate": 16000, "detections": case.detections,
             "iterations": 1, "warmups": 0}
    rec: dict[str, object] = {
        "infer": infer,
        "dutycycle": {"duty_cycle": duty, "period": period,
                      "processing_time": 1.0 / case.duty[2], "start_times_s": case.starts,
                      "stop_times_s": case.stops},
        "activations": []}
    if mode == "e":
        rec["power"] = {"samples": case.samples, "timestamps": case.events,
                        "extracted_power": None, "voltage": 3}
    rec["mode"] = mode
    return json.dumps([rec])


def log_txt(case: SwwCase, results: str, mode: str = "e") -> str:
    duty, period, _ = case.duty
    origin = case.detections[0]
    false_s = np.array([(d - origin) / 1000 for d in case.detections[1:]
                        if not any(s <= (d - origin) / 1000 <= e + 2.0 for s, e in case.windows)])
    lines = ["Device name retrieved: Acme", "Device profile retrieved: Fw V1",
             "Device model retrieved: sww01",
             "Playing long_wav.wav (length = 1200.0s) at 02:54:54...", "... done",
             "No activation data found.", str(case.detections),
             f"Duty cycle = {duty:.3f}, Period = {period * 1000:.3} ms"]
    if mode == "e":
        lines.append(f"samples:{len(case.samples)} timestamps:{len(case.events)}")
    lines += ["== File long_wav.wav (1200.0 s) ==",
              f"False negatives: {[w[0] for k, w in enumerate(case.windows) if k in MISSED]}",
              f"False positives: {np.round(false_s, 3)}"]
    return "\n".join(lines + [ln.strip() for ln in results.splitlines()]) + "\n"


def write_folder(folder: Path, case: SwwCase, mode: str = "e", **claims: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    txt = results_txt(case, **claims)
    if mode != "e":  # performance/: no energy block
        txt = txt[txt.index("Accuracy:"):]
    (folder / "results.txt").write_text(txt)
    (folder / "results.json").write_text(results_json(case, mode))
    (folder / "log.txt").write_text(log_txt(case, txt, mode))
    if mode == "e":
        (folder / "energy_inf_000.png").write_bytes(b"\x89PNG")


def make_sww_tree(root: Path, version: str = "v1.3", division: str = "closed",
                  case: SwwCase | None = None) -> tuple[Path, Path, SwwCase]:
    """(tree root, sww benchmark folder, case) with a valid sww energy result."""
    case = case or default_case()
    tree = root / version
    sub = tree / division / "Acme"
    (sub / "systems").mkdir(parents=True)
    (sub / "systems" / "Board.json").write_text(json.dumps(
        system_json(Division=division.capitalize()), indent=1))
    bench = sub / "results" / "Board" / "sww"
    write_folder(bench / "energy", case)
    return tree, bench, case
