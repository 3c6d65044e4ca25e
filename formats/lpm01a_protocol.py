"""The ST LPM01A (PowerShield) serial protocol: every string, both directions, pure.

Used by the host driver (``monitors.lpm01a``) and the fake board
(``tinyperf.firmware_interface.sim.lpm01a``) so the two cannot drift apart
(energy_monitors.md §3.2-3.4, protocol.md 3.1).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

BAUD = 3_686_400
LINE_END = "\r\n"
PROMPT = "PowerShield > "
ACQUISITION_COMPLETED = "Acquisition completed"
MIN_MV, MAX_MV = 1800, 3300

# 6409-07  (640.9 µA with output current; J per period with output energy)
_SAMPLE = re.compile(r"\d{4}[-+]\d{2}")
_SAMPLE_LINE = re.compile(r"^\d{4}[-+]\d{2}")
# TimeStamp: 012s 000ms, buff 00%
_TIMESTAMP = re.compile(r"^TimeStamp:[ ><]([0-9]{3})s ([0-9]{3})ms, buff [0-9]{2}%$")
# event 03 ris   (the runner configures falling edges but matches 'ris'; accept both)
_EVENT = re.compile(r"^event (\d+) (ris|fal)$")
# ack volt get 3292-03      error volt 4000m
_ACK = re.compile(r"^(ack|error)\s+(.*)$")


def strip_prompt(line: str) -> str:
    """Remove any ``PowerShield > `` prompts glued to the start of a line."""
    text = line.replace("\0", "").strip()
    while text.startswith(PROMPT.strip()):
        text = text[len(PROMPT.strip()):].strip()
    return text


def format_sample(value: float) -> str:
    """``DDDD±EE`` with a 4-digit mantissa (``1.542e-05`` -> ``1542-08``)."""
    if not value > 0:
        return "0000+00"
    exp = math.floor(math.log10(value)) - 3
    mant = round(value / 10.0 ** exp)
    if mant >= 10000:
        mant //= 10
        exp += 1
    return f"{mant:04d}{'-' if exp < 0 else '+'}{abs(exp):02d}"


def parse_number(token: str) -> float:
    """``1542-08`` -> 1.542e-05."""
    mant, exp = int(token[:4]), int(token[4:])
    return mant / 10.0 ** -exp if exp < 0 else mant * 10.0 ** exp  # correctly rounded


def parse_samples(line: str) -> list[float] | None:
    """Sample values of a data line, or None if it is not one.

    Several samples may run together; trailing characters after the last complete one
    add one NaN (the sample they belonged to is lost), as the reference runner does.
    """
    if not _SAMPLE_LINE.match(line):
        return None
    values = [parse_number(t) for t in _SAMPLE.findall(line)]
    if len(line) != 7 * len(values):
        values.append(float("nan"))
    return values


def format_timestamp(ms: int, buffer_pct: int = 0) -> str:
    return f"TimeStamp: {ms // 1000:03d}s {ms % 1000:03d}ms, buff {buffer_pct:02d}%"


def parse_timestamp(line: str) -> int | None:
    """Milliseconds of a ``TimeStamp:`` line, else None."""
    m = _TIMESTAMP.match(line)
    return int(m.group(1)) * 1000 + int(m.group(2)) if m else None


def format_event(number: int, word: str = "ris") -> str:
    return f"event {number:02d} {word}"


@dataclass(frozen=True)
class Event:
    """A D7 event line: its id as received and the edge keyword."""

    label: str
    word: str


def parse_event(line: str) -> Event | None:
    m = _EVENT.match(line)
    return Event(m.group(1), m.group(2)) if m else None


def parse_ack(line: str) -> tuple[bool, str] | None:
    """``(ok, rest)`` for an ``ack …`` / ``error …`` line, else None."""
    m = _ACK.match(line)
    return (m.group(1) == "ack", m.group(2)) if m else None


def format_ack(command: str) -> str:
    return f"{PROMPT}ack {command}"


def format_error(command: str, detail: str) -> list[str]:
    return [f"{PROMPT}error {command}", f"Error detail: {detail}"]


def volt_command(voltage: float) -> str:
    """``volt 1800m`` for 1.8 V; refuses what the board cannot supply."""
    mv = int(round(voltage * 1000))
    if not MIN_MV <= mv <= MAX_MV:
        raise ValueError(f"LPM01A supplies {MIN_MV / 1000}-{MAX_MV / 1000} V, not {voltage} V")
    return f"volt {mv}m"


def parse_volt(arg: str) -> float | None:
    """``1800m`` / ``3.3`` / ``3300-03`` -> volts."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([umk]?)", arg)
    if m:
        return float(m.group(1)) * {"": 1.0, "m": 1e-3, "u": 1e-6, "k": 1e3}[m.group(2)]
    m = re.fullmatch(r"(\d+)([-+]\d+)", arg)
    return int(m.group(1)) * 10.0 ** int(m.group(2)) if m else None


#: The MLCommons runner's set-up sequence (protocol.md 3.1) before ``volt``.
SETUP_COMMANDS = ("htc", 'lcd 1 "MLPerf Tiny"', 'lcd 2 "     monitor    "', "pwr off",
                  "acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal",
                  "output energy", "format ascii_dec", "freq 1k")
SAMPLE_RATE_HZ = 1000
