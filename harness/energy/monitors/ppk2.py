"""Nordic PPK2 captures: the nRF Connect Power Profiler CSV export -> ``Capture`` (spec §4).

The spec gives the header start ``Timestamp(ms),Current(uA)`` and four tails seen in
exports of different app versions; exactly these headers are accepted (names compared
without surrounding blanks and case):

- ``Timestamp(ms),Current(uA)``                    current only
- ``Timestamp(ms),Current(uA),D0-D7``              one 8-character bit string
- ``Timestamp(ms),Current(uA),D0,D1,D2,D3,D4,D5,D6,D7``  one 0/1 column per channel
- ``Timestamp(ms),Current(uA),Bits``               the channels in one field

Assumptions (not stated by the spec; confirm on a real export before relying on them):
in an 8-character bit string (``D0-D7`` or ``Bits``) the first character is D0; a
``Bits`` field that is not an 8-character 0/1 string is a decimal 0-255 with bit n = Dn;
current is in µA and each sample is the mean over its period (the PPK2 averages its ADC
readings), timestamps are in ms from the start of the export at a regular step.

Strict on everything else, with the file and line in every error: each row has the
header's field count, numbers are finite, digital fields are 0/1, timestamps increase. A
step of k sample periods (k > 1) is k - 1 lost samples: they become NaN samples and a
gap (a window over them is invalid; nothing is silently filled). The PPK2 records
current only, so the supply voltage (the source-meter set point, or measured) must be
given; it is carried as a set point, not a measurement. A digital channel (default D0)
is the timestamp line: its edges come from ``detect_edges`` (±0.5 sample).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from tinyperf.harness.energy.capture import Capture, Edge
from tinyperf.harness.energy.errors import CaptureFileError
from tinyperf.harness.energy.integrate import detect_edges

TIME = "timestamp(ms)"
CURRENT = "current(ua)"
CHANNELS = tuple(f"d{n}" for n in range(8))
LAYOUTS = {
    (TIME, CURRENT): "none",
    (TIME, CURRENT, "d0-d7"): "string",
    (TIME, CURRENT, *CHANNELS): "columns",
    (TIME, CURRENT, "bits"): "bits",
}
#: How far (in sample periods) a timestamp step may be off a whole number of periods;
#: exports print timestamps with few decimals.
STEP_TOLERANCE = 0.05


def is_ppk2_header(first_line: str) -> bool:
    """True when ``first_line`` is one of the accepted export headers."""
    return _layout(first_line) is not None


def _layout(line: str) -> str | None:
    names = tuple(c.strip().lower() for c in line.strip().lstrip("\ufeff").split(","))
    return LAYOUTS.get(names)


def _number(text: str, what: str, path: Path, line_no: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CaptureFileError(f"line {line_no}: {what} {text.strip()!r} is not a number",
                               path) from None
    if not math.isfinite(value):
        raise CaptureFileError(f"line {line_no}: {what} {text.strip()!r} is not finite", path)
    return value


def _bit_string(text: str, path: Path, line_no: int) -> int:
    s = text.strip()
    if len(s) != 8 or set(s) - {"0", "1"}:
        raise CaptureFileError(f"line {line_no}: digital field {s!r} is not 8 characters of "
                               "0/1 (D0 first)", path)
    return sum(1 << n for n, c in enumerate(s) if c == "1")


def _digital(fields: list[str], layout: str, path: Path, line_no: int) -> int:
    if layout == "string":
        return _bit_string(fields[2], path, line_no)
    if layout == "columns":
        bits = 0
        for n, text in enumerate(fields[2:10]):
            if text.strip() not in ("0", "1"):
                raise CaptureFileError(f"line {line_no}: D{n} {text.strip()!r} is not 0 or 1",
                                       path)
            bits |= int(text.strip()) << n
        return bits
    s = fields[2].strip()  # "bits": a bit string, else a decimal byte
    if len(s) == 8 and not set(s) - {"0", "1"}:
        return _bit_string(s, path, line_no)
    if not s.isdigit() or int(s) > 255:
        raise CaptureFileError(f"line {line_no}: Bits {s!r} is neither 8 characters of 0/1 "
                               "nor a decimal 0-255", path)
    return int(s)


def parse_ppk2_rows(path: Path
                    ) -> tuple[str, np.ndarray, np.ndarray, np.ndarray | None, list[int]]:
    """``(layout, time_ms, current_ua, digital bytes or None, file line of each row)``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureFileError(f"cannot read: {exc}", path) from exc
    lines = text.splitlines()
    if not lines:
        raise CaptureFileError("empty file (no header)", path)
    layout = _layout(lines[0])
    if layout is None:
        raise CaptureFileError(f"line 1: {lines[0].strip()[:80]!r} is not an nRF Connect "
                               "Power Profiler export header (Timestamp(ms),Current(uA)"
                               "[,D0-D7 | ,D0,...,D7 | ,Bits])", path)
    width = len(lines[0].split(","))
    times, currents, digital, line_nos = [], [], [], []
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != width:
            raise CaptureFileError(f"line {line_no}: {len(fields)} field(s), the header has "
                                   f"{width} (truncated or corrupt row)", path)
        line_nos.append(line_no)
        times.append(_number(fields[0], "Timestamp(ms)", path, line_no))
        currents.append(_number(fields[1], "Current(uA)", path, line_no))
        if layout != "none":
            digital.append(_digital(fields, layout, path, line_no))
        if len(times) > 1 and times[-1] <= times[-2]:
            raise CaptureFileError(f"line {line_no}: timestamp {times[-1]!r} ms does not "
                                   f"increase (previous {times[-2]!r} ms)", path)
    if len(times) < 2:
        raise CaptureFileError(f"{len(times)} sample row(s): at least 2 needed", path)
    bits = np.asarray(digital, dtype=np.uint8) if layout != "none" else None
    return layout, np.asarray(times), np.asarray(currents), bits, line_nos


def read_ppk2_csv(path: str | Path, *, voltage: float | None = None, channel: int = 0,
                  min_width: int = 3) -> Capture:
    """A ``current`` capture from a PPK2 export; edges from digital channel ``channel``."""
    path = Path(path)
    if voltage is None or not voltage > 0:
        raise CaptureFileError("a PPK2 export holds current only: give the supply voltage "
                               "(--voltage)", path)
    if not 0 <= channel <= 7:
        raise CaptureFileError(f"digital channel D{channel}: D0..D7 only", path)
    layout, t_ms, i_ua, bits, line_nos = parse_ppk2_rows(path)
    steps = np.diff(t_ms)
    dt = float(np.median(steps))
    k = np.rint(steps / dt)
    bad = np.flatnonzero(np.abs(steps / dt - k) > STEP_TOLERANCE)
    if bad.size:
        j = int(bad[0])
        raise CaptureFileError(f"line {line_nos[j + 1]}: timestamp step {float(steps[j]):g} ms is "
                               f"not a whole number of sample periods ({dt:g} ms)", path)
    index = np.concatenate([[0], np.cumsum(k.astype(np.int64))])
    n = int(index[-1]) + 1
    fs = 1000.0 / dt
    if abs(fs - round(fs)) < 1e-6 * fs:
        fs = float(round(fs))  # printed timestamps carry rounding; the PPK2 rate is whole Hz
    t0 = float(t_ms[0]) / 1000.0
    values = np.full(n, np.nan)
    values[index] = i_ua * 1e-6
    gaps = [(t0 + (int(index[j]) + 1) / fs, t0 + int(index[j + 1]) / fs)
            for j in np.flatnonzero(k > 1)]
    edges: list[Edge] = []
    glitches = 0
    if bits is not None:
        level = np.ones(n, dtype=np.uint8)
        level[index] = (bits >> channel) & 1
        for j in np.flatnonzero(k > 1):  # hold the level over lost samples
            level[int(index[j]) + 1:int(index[j + 1])] = level[int(index[j])]
        edges, glitches = detect_edges(level, fs, t0=t0, min_width=min_width)
    return Capture("current", values, fs=fs, t0_s=t0, voltage=float(voltage),
                   voltage_measured=False, edges=edges, gaps=gaps, monitor="ppk2",
                   source=str(path), meta={"layout": layout, "channel": f"D{channel}",
                                           "gpi_glitches": glitches,
                                           "lost_samples": int(n - len(t_ms))})
