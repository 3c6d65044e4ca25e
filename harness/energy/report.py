"""Energy-mode outputs: results.txt and results.json power records in the MLCommons
runner's formats (protocol.md 6.3-6.5), ``energy_inf_NNN.png``, and tinyperf's
``energy.json``. Rendering only: the figures come computed from ``integrate``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .capture import Capture
from .integrate import MIN_WINDOW_S, EnergySummary, WindowEnergy, energy_between

DASHES = "-" * 57
PLOT_RATE_HZ = 1000


def energy_txt(windows: Sequence[WindowEnergy], median_uj: float | None,
               notes: Sequence[str] = ()) -> str:
    """The runner's energy results.txt; ``notes`` (invalidity reasons) follow it."""
    lines = ["Power Edition Output"]
    for w in windows:
        elapsed = w.duration_s if w.duration_s is not None else 0.0
        short = "  <<<< below minimum duration" if elapsed < MIN_WINDOW_S else ""
        energy_uj = (w.energy_j or 0.0) * 1e6
        power_mw = (w.mean_power_w or 0.0) * 1e3
        lines += [f"Energy data for trial {w.index}",
                  f"  Elapsed time  : {elapsed!r}{short}",
                  f"  Inferences    : {w.inferences}",
                  f"  Power         : {power_mw:5.4f} mW.",
                  f"  Total Energy  : {energy_uj:.3f} uJ",
                  f"  Energy/Inf    : {(w.uj_per_inference or 0.0):.3f} uJ/inf"]
    lines += [DASHES, f"Median energy cost is {(median_uj or 0.0):5.4f} uJ/inf.", DASHES]
    lines += [f"ERROR - not valid for submission: {n}" for n in notes]
    return "\n".join(lines) + "\n"


def rebin(capture: Capture, t_lo: float, t_hi: float, fs: float = PLOT_RATE_HZ) -> np.ndarray:
    """Energy (J) per ``1/fs`` bin over ``[t_lo, t_hi)``: the runner's 1 ms samples."""
    if capture.kind == "energy" and capture.fs == fs:
        k0 = max(0, round((t_lo - capture.t0_s) * fs))
        k1 = min(len(capture.values), round((t_hi - capture.t0_s) * fs))
        return np.asarray(capture.values[k0:k1], dtype=np.float64)
    n = max(0, int(math.floor((t_hi - t_lo) * fs)))
    edges = t_lo + np.arange(n + 1) / fs
    return np.array([energy_between(capture, a, b).energy_j
                     for a, b in zip(edges[:-1], edges[1:])])


def power_record(capture: Capture, t_lo: float, t_hi: float,
                 voltage: float | None) -> dict[str, Any]:
    """results.json ``power`` of one window: 1 ms samples and ``[id, index]`` events."""
    samples = rebin(capture, t_lo, t_hi)
    events = []
    for n, e in enumerate(sorted(capture.edges, key=lambda x: x.time_s)):
        if t_lo <= e.time_s < t_hi:
            events.append([e.label or f"{n:02d}", int(math.floor((e.time_s - t_lo) * 1000))])
    return {"samples": [float(s) for s in samples], "timestamps": events,
            "extracted_power": None, "voltage": voltage}


def plot_window(path: Path, samples: Sequence[float], events: Sequence[Sequence[Any]]) -> None:
    """``energy_inf_NNN.png``: samples against ``index/1000`` s, red lines at the events."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot(np.arange(len(samples)) / 1000.0, samples)
    for _label, idx in events:
        ax.axvline(idx / 1000.0, color="red")
    ax.grid(True)
    fig.savefig(path)
    plt.close(fig)


def energy_json(summary: EnergySummary, *, monitor: str, voltage: float | None,
                accuracy_note: str = "", extra: dict[str, Any] | None = None) -> str:
    """tinyperf's energy.json: every window's figures, edges, uncertainty and reasons."""
    doc = {"median_uj_per_inference": summary.median_uj_per_inference,
           "valid": summary.valid, "reasons": summary.reasons, "monitor": monitor,
           "voltage": voltage, "accuracy": accuracy_note, "uncertainty_k": 1,
           "windows": [w.as_dict() for w in summary.windows]}
    doc.update(extra or {})
    return json.dumps(doc, indent=2, default=_jsonable) + "\n"


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
