"""Joulescope JLS v2 recordings (pyjls) -> ``Capture``.

Reads ``current`` + ``voltage`` (or ``power``) as interval means, a GPI signal
(``gpi[0]`` by default, or ``trigger_in``) as the timestamp line, and ``current_range``
for range changes. pyjls traps handled here (energy_monitors.md §1.4-1.5): reader ids are
relative to each signal's ``sample_id_offset``; U1/U4 come back packed; ``fsr`` on a
zero-length signal raises; gaps read back as NaN. Any pyjls failure becomes a
``CaptureFileError`` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.harness.energy.capture import Capture
from tinyperf.harness.energy.errors import CaptureFileError
from tinyperf.harness.energy.integrate import detect_edges

MAGIC = bytes.fromhex("6a6c73666d740d0a200a201a2020b21c")


def check_header(path: Path) -> None:
    """Refuse non-JLS and empty files with a clear message before pyjls sees them."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(32)
    except OSError as exc:
        raise CaptureFileError(f"cannot read: {exc}", path) from exc
    if len(head) < 32 or head[:16] != MAGIC:
        raise CaptureFileError("not a JLS v2 file (bad or short header)", path)


def _read_fsr(reader: Any, sid: int) -> np.ndarray:
    sig = reader.signals[sid]
    if sig.length == 0:
        return np.zeros(0)
    data = reader.fsr(sid, 0, sig.length)
    dtype = int(sig.data_type)
    if dtype == 259:  # U1
        return np.unpackbits(data, count=sig.length, bitorder="little")
    if dtype == 1027:  # U4, low nibble first
        out = np.empty(data.size * 2, dtype=np.uint8)
        out[0::2], out[1::2] = data & 0x0F, data >> 4
        return out[:sig.length]
    return data


def _find(reader: Any, name: str) -> int | None:
    for sid, sig in reader.signals.items():
        if sid and sig.name == name:
            return int(sid)
    return None


def read_jls(path: str | Path, *, gpi: str = "gpi[0]", min_width: int = 3,
             voltage: float | None = None) -> Capture:
    """A capture from a JLS file; ``voltage`` stands in when only current was recorded."""
    from pyjls import Reader

    path = Path(path)
    check_header(path)
    try:
        with Reader(str(path)) as r:
            return _capture(r, path, gpi, min_width, voltage)
    except CaptureFileError:
        raise
    except Exception as exc:  # pyjls raises RuntimeError/ValueError/IndexError on damage
        raise CaptureFileError(f"unreadable JLS ({type(exc).__name__}: {exc})", path) from exc


def _user_meta(reader: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def cbk(_meta: int, data: Any) -> bool:
        if isinstance(data, dict):
            found.update(data)
        return False

    reader.user_data(cbk)
    return found


def _capture(r: Any, path: Path, gpi: str, min_width: int, voltage: float | None) -> Capture:
    ids = {n: _find(r, n) for n in ("current", "voltage", "power", gpi, "current_range")}
    meta = _user_meta(r)
    lead = ids["power"] or ids["current"]
    if lead is None:
        raise CaptureFileError("no 'current' or 'power' signal", path)
    fs = float(r.signals[lead].sample_rate)
    offset = int(r.signals[lead].sample_id_offset)
    t0 = offset / fs
    for sid in filter(None, ids.values()):
        if int(r.signals[sid].sample_id_offset) != offset or r.signals[sid].sample_rate != fs:
            raise CaptureFileError(f"signal {r.signals[sid].name!r} is not aligned with "
                                   f"{r.signals[lead].name!r}", path)
    if ids["power"]:
        cap_kind, values, volt, measured = "power", _read_fsr(r, ids["power"]), None, True
    elif ids["voltage"]:
        cap_kind, values = "current", _read_fsr(r, ids["current"])  # type: ignore[arg-type]
        volt, measured = _read_fsr(r, ids["voltage"]), True  # type: ignore[arg-type]
    elif voltage is not None:
        cap_kind, values = "current", _read_fsr(r, ids["current"])  # type: ignore[arg-type]
        volt, measured = float(voltage), False
    else:
        raise CaptureFileError("current only and no --voltage given", path)
    edges, glitches = [], 0
    if ids[gpi]:
        edges, glitches = detect_edges(_read_fsr(r, ids[gpi]), fs, t0=t0, min_width=min_width)
    changes = np.zeros(0)
    if ids["current_range"]:
        rng = _read_fsr(r, ids["current_range"]).astype(np.int16)
        changes = t0 + (np.flatnonzero(np.diff(rng)) + 1) / fs
    unfiltered = str(meta.get("current_ranging_type", "interp")).lower() == "off"
    meta.update({"gpi": gpi if ids[gpi] else None, "gpi_glitches": glitches,
                 "signals": [s.name for k, s in r.signals.items() if k]})
    return Capture(cap_kind, values, fs=fs, t0_s=t0, voltage=volt, voltage_measured=measured,
                   edges=edges, glitches_s=changes if unfiltered else np.zeros(0),
                   range_changes_s=changes, monitor="jls", source=str(path), meta=meta)
