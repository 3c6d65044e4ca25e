"""Published reference-tool energy data -> ``Capture``: EEMBC trace files, MLCommons results.json.

- EEMBC EnergyRunner (protocol.md 3.4): ``trace1-energy.bin`` = one byte ``0xF1``, then
  little-endian float32: the sample rate, then µJ per sample period;
  ``trace1-timestamps.json`` = event times in seconds from trace start.
- MLCommons runner energy ``results.json`` (protocol.md 6.4): per window ``power.samples``
  (J per 1 ms) and ``power.timestamps`` (``[id, sample index]``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats import eembc_log
from tinyperf.harness.energy.capture import Capture, Edge
from tinyperf.harness.energy.errors import CaptureFileError


def read_eembc_trace(energy_bin: str | Path, timestamps: str | Path | None = None) -> Capture:
    """EEMBC ``trace1-energy.bin`` (+ ``trace1-timestamps.json``, default beside it)."""
    path = Path(energy_bin)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CaptureFileError(f"cannot read: {exc}", path) from exc
    try:  # the format is the checker's too: one reader (formats.eembc_log)
        fs, energy_uj = eembc_log.parse_energy_bin(raw)
    except ValueError as exc:
        raise CaptureFileError(f"{exc} (truncated or not a trace?)", path) from exc
    if fs > 1e7:
        raise CaptureFileError(f"implausible sample rate {fs}", path)
    samples = energy_uj * 1e-6  # µJ per period -> J
    ts_path = Path(timestamps) if timestamps else path.with_name("trace1-timestamps.json")
    times = read_times(ts_path)
    sigma = 1.0 / (fs * math.sqrt(12.0))
    edges = [Edge(float(t), True, sigma, str(i)) for i, t in enumerate(times)]
    return Capture("energy", samples, fs=fs, edges=edges, monitor="eembc", source=str(path),
                   meta={"timestamps_file": str(ts_path), "times_s": times})


def read_times(path: str | Path) -> list[float]:
    """A JSON list of edge times in seconds (EEMBC ``trace1-timestamps.json`` style)."""
    path = Path(path)
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CaptureFileError(f"cannot read timestamps: {exc}", path) from exc
    if isinstance(data, dict):
        data = data.get("edges_s", data.get("times_s"))
    if not isinstance(data, list) or not all(isinstance(t, (int, float)) for t in data):
        raise CaptureFileError("timestamps must be a JSON list of seconds", path)
    return [float(t) for t in data]


def read_mlc_results(path: str | Path) -> list[dict[str, Any]]:
    """The energy records of an MLCommons runner results.json (mode ``e``)."""
    path = Path(path)
    try:
        records = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CaptureFileError(f"cannot read results.json: {exc}", path) from exc
    energy = [r for r in records if isinstance(r, dict) and r.get("mode") == "e"]
    if not energy or not all("power" in r for r in energy):
        raise CaptureFileError("no energy records with power samples", path)
    return energy


def mlc_window_capture(record: dict[str, Any], fs: float = 1000.0) -> Capture:
    """One results.json window as a capture (edges at the middle of the event's sample)."""
    power = record["power"]
    sigma = 1.0 / (fs * math.sqrt(12.0))
    edges = [Edge((int(i) + 0.5) / fs, True, sigma, str(label))
             for label, i in power["timestamps"]]
    return Capture("energy", np.asarray(power["samples"], dtype=np.float64), fs=fs,
                   voltage=power.get("voltage"), edges=edges, monitor="lpm01a",
                   source="results.json", meta={"events": power["timestamps"]})
