"""Joulescope CSV exports -> ``Capture`` (energy_monitors.md §1.7).

Two shapes are accepted:

- the UI statistics recorder, ``#time,current,voltage,power,charge,energy``: cumulative
  energy at the statistics rate (2 Hz by default) — coarse edges, read as ``cumulative``;
- numeric waveform exports, ``# time,<dev>.i,<dev>.v[,<dev>.0]`` or ``time,current,
  voltage[,gpi0]`` (``pyjls export``, UI "export visible data"): current and voltage as
  interval means on a regular time axis, an optional GPI column as the timestamp line.
  UI waveform exports are decimated; prefer a JLS file when one exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from tinyperf.harness.energy.capture import Capture
from tinyperf.harness.energy.errors import CaptureFileError
from tinyperf.harness.energy.integrate import detect_edges


def _header(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureFileError(f"cannot read: {exc}", path) from exc
    return [re.sub(r"^#\s*", "", c).strip().lower() for c in first.strip().split(",")]


def _role(name: str) -> str | None:
    short = name.rsplit(".", 1)[-1]
    table = {"time": "time", "timestamp": "time", "current": "i", "i": "i", "voltage": "v",
             "v": "v", "power": "p", "p": "p", "energy": "energy", "charge": "charge",
             "0": "gpi", "gpi0": "gpi", "gpi[0]": "gpi"}
    return table.get(short)


def read_joulescope_csv(path: str | Path, min_width: int = 3) -> Capture:
    path = Path(path)
    names = _header(path)
    roles = {r: i for i, n in enumerate(names) if (r := _role(n))}
    if "time" not in roles:
        raise CaptureFileError(f"no time column in header {names!r}", path)
    try:
        data = np.loadtxt(path, delimiter=",", comments="#", ndmin=2)
    except ValueError as exc:
        raise CaptureFileError(f"malformed row ({exc})", path) from exc
    if data.shape[0] < 2 or data.shape[1] < len(names):
        raise CaptureFileError(f"{data.shape[0]} rows of {data.shape[1]} columns, header has "
                               f"{len(names)} (truncated?)", path)
    t = data[:, roles["time"]]
    if "energy" in roles:
        return Capture("cumulative", data[:, roles["energy"]], time_s=t, monitor="joulescope-csv",
                       source=str(path), meta={"shape": "statistics"})
    step = np.diff(t)
    fs = 1.0 / float(np.median(step))
    if np.max(np.abs(step * fs - 1.0)) > 1e-3:
        raise CaptureFileError("time axis is not regular", path)
    edges, glitches = ([], 0)
    if "gpi" in roles:
        edges, glitches = detect_edges(data[:, roles["gpi"]] > 0.5, fs, t0=float(t[0]),
                                       min_width=min_width)
    meta = {"shape": "waveform", "gpi_glitches": glitches}
    if "p" in roles:
        return Capture("power", data[:, roles["p"]], fs=fs, t0_s=float(t[0]), edges=edges,
                       monitor="joulescope-csv", source=str(path), meta=meta)
    if "i" not in roles or "v" not in roles:
        raise CaptureFileError("needs power, or current and voltage columns", path)
    return Capture("current", data[:, roles["i"]], fs=fs, t0_s=float(t[0]),
                   voltage=data[:, roles["v"]], edges=edges, monitor="joulescope-csv",
                   source=str(path), meta=meta)
