"""Streaming wakeword (sww01) replies: the DUT's ``start``/``stop`` texts and the interface
board's ``play``/``record_detections``/``print_detections``/``print_dutycycle`` (protocol.md
2.2, 7.2, 7.3), as parsers for the host and formatters for the virtual bench, so the two
cannot drift apart. Pure: lines in, values out.

The parse rules are the MLCommons runner's (protocol.md 7.3):

- activations: the ``stop`` reply's lines joined *without* a separator, then
  ``target activations:`` + a bracketed list + ``m-ready``; echo lines (``Received command:``),
  ``[dut]: `` prefixes, other free text and ``m-ready`` sharing a line are all tolerated that
  way. Items are ints (floats if the first has ``.``/``e``); an invalid item (the empty one
  after the reference's trailing ``, ``) is replaced by the previous value, with a warning.
  Not found: ``None`` (the runner logs ``No activation data found.`` and stores ``[]``);
- detections: first line ``Detection Timestamps (ms)``, last ``m-ready``, ``{int},`` between;
- duty cycle: ``Duty cycle start times (s)``, values, ``Duty cycle stop times (s)``, values,
  ``m-ready`` possibly on the last value line; values are 10 µs ticks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from tinyperf.formats.errors import DutProtocolError

READY = "m-ready"

# -- DUT (reference sww firmware) texts -----------------------------------------------------------
ECHO_PREFIX = "Received command: "
START_LISTENING = "Listening for I2S data ... "
START_DMA = "DMA receive initiated."
START_BUSY = "I2S Rx currently in progress. Ignoring request"
STOP_DONE = "Streaming stopped."
STOP_IDLE = "I2S is already idle.  Ignoring stop request"
ACTIVATIONS_HEADER = "target activations:"
ACTIVATIONS_PER_LINE = 16

# -- interface board texts -------------------------------------------------------------------------
RECORDING = "Now recording detections"
PLAY_ATTEMPT = "Attempting to play {file}"
PLAY_OK = "succeeded."
PLAY_ERROR = ("Error playing file. Check that the file exists and is a 2-channel wav file.")
DETECTIONS_HEADER = "Detection Timestamps (ms)"
DUTY_START_HEADER = "Duty cycle start times (s)"
DUTY_STOP_HEADER = "Duty cycle stop times (s)"
DUTY_PER_LINE = 8
#: Board timer tick (TIM2 at 100 kHz); ``10e-6`` spelled as the runner multiplies.
TICK_S = 10e-6
TICK_US = 10
#: One audio block: 512 samples at 16 kHz.
BLOCK_US = 32_000
#: The board stores at most this many duty-cycle starts and stops, and detections.
MAX_DUTY_EDGES = 100
MAX_DETECTIONS = 10_000
#: A detection within this many ms after the previous one is dropped by the board.
DETECTION_HOLDOFF_MS = 10


class SwwReplyError(DutProtocolError):
    """A board or DUT sww reply that does not have the runner's shape (names the line)."""


@dataclass(frozen=True)
class Activations:
    """The parsed ``target activations:`` list; ``warnings`` are the runner's lines."""

    values: list[int] | list[float] | int | float
    warnings: list[str] = field(default_factory=list)


_ACT_RE = re.compile(re.escape(ACTIVATIONS_HEADER) + r"\s*(\[.*?\])\s*" + re.escape(READY),
                     re.DOTALL)


def parse_activations(lines: Sequence[str]) -> Activations | None:
    """The ``stop`` reply's activation log, or None when it holds none (any other text)."""
    match = _ACT_RE.search("".join(lines))
    if match is None:
        return None
    body = match.group(1)
    pieces = re.findall(r"\[([^\]]+)\]", body) or [body]
    first = pieces[0].split(",")[0]
    convert: type[int] | type[float] = float if ("." in first or "e" in first) else int
    values: list[int | float] = []
    warnings = []
    for piece in pieces:
        for item in piece.split(","):
            try:
                values.append(convert(item))
            except ValueError:
                warnings.append(f"WARNING: Invalid element '{item}' for conversion to "
                                f"{convert} at element {len(values)}.  Replacing with "
                                "previous value.")
                if values:
                    values.append(values[-1])
    # the runner hands back a lone list as a scalar when it has one value
    out: list[int] | list[float] | int | float = values[0] if len(values) == 1 else values  # type: ignore[assignment]
    return Activations(out, warnings)


def parse_detections(lines: Sequence[str]) -> list[int]:
    """``print_detections``: the ms list (the origin pulse first). ``lines`` ends with m-ready."""
    if not lines or lines[0] != DETECTIONS_HEADER:
        raise SwwReplyError("print_detections reply does not start with the header",
                            line=lines[0] if lines else "(no reply)",
                            expected=DETECTIONS_HEADER)
    if lines[-1] != READY:
        raise SwwReplyError("print_detections reply does not end with m-ready",
                            line=lines[-1], expected=READY)
    out = []
    for n, line in enumerate(lines[1:-1], start=2):
        try:
            out.append(int(line.strip(",")))
        except ValueError:
            raise SwwReplyError(f"print_detections line {n} is not '{{ms}},'", line=line,
                                expected="an integer followed by a comma") from None
    return out


@dataclass(frozen=True)
class DutyTicks:
    """``print_dutycycle``: start and stop times in board ticks (10 µs)."""

    starts: list[int]
    stops: list[int]
    warnings: list[str] = field(default_factory=list)


def parse_dutycycle(lines: Sequence[str]) -> DutyTicks:
    """``print_dutycycle`` lines, the last one holding ``m-ready`` (alone or after values)."""
    if not lines or DUTY_START_HEADER not in lines[0]:
        raise SwwReplyError("print_dutycycle reply does not start with the header",
                            line=lines[0] if lines else "(no reply)",
                            expected=DUTY_START_HEADER)
    if READY not in lines[-1]:
        raise SwwReplyError("print_dutycycle reply does not end with m-ready", line=lines[-1],
                            expected=READY)
    starts: list[int] = []
    stops: list[int] = []
    target = starts
    warnings = []
    done = False
    for n, line in enumerate(lines[1:], start=2):
        if done:
            warnings.append("Warning: Duty cycle response continues beyond 'm-ready'.  "
                            "Ignoring extra content")
            break
        if DUTY_STOP_HEADER in line:
            target = stops
            continue
        if READY in line:
            line = line.replace(READY, "")
            done = True
        for item in line.strip().split(","):
            if not item:
                continue
            try:
                target.append(int(item))
            except ValueError:
                raise SwwReplyError(f"print_dutycycle line {n}: {item!r} is not a tick count",
                                    line=line, expected="integers separated by commas") from None
    return DutyTicks(starts, stops, warnings)


def is_ready_line(line: str) -> bool:
    """A DUT/board line that ends a reply: ``m-ready`` alone or after other text."""
    return line == READY or line.endswith(READY)


# -- formatters (virtual bench) --------------------------------------------------------------------


def format_activations(values: Sequence[int]) -> list[str]:
    """The reference ``stop`` log: header, ``[`` + ``{v}, `` 16 per line + ``]``."""
    rows = [values[i:i + ACTIVATIONS_PER_LINE]
            for i in range(0, len(values), ACTIVATIONS_PER_LINE)] or [[]]
    lines = ["".join(f"{v}, " for v in row) for row in rows]
    lines[0] = "[" + lines[0]
    lines[-1] = lines[-1] + "]"
    return [ACTIVATIONS_HEADER + " ", *lines]


def format_detections(ms: Sequence[int]) -> list[str]:
    return [DETECTIONS_HEADER, *(f"{t}," for t in ms), READY]


def format_dutycycle(starts: Sequence[int], stops: Sequence[int]) -> list[str]:
    """Start/stop tick lines of up to 8 ``{t}, ``; ``m-ready`` on the last stop line unless
    the stop count is a multiple of 8 (then alone), as the board firmware prints it."""
    def rows(values: Sequence[int]) -> list[str]:
        return ["".join(f"{t}, " for t in values[i:i + DUTY_PER_LINE])
                for i in range(0, len(values), DUTY_PER_LINE)]

    out = [DUTY_START_HEADER, *rows(starts), DUTY_STOP_HEADER]
    stop_rows = rows(stops)
    if stops and len(stops) % DUTY_PER_LINE:
        stop_rows[-1] += READY
        return out + stop_rows
    return out + stop_rows + [READY]


def ticks_to_seconds(ticks: Sequence[int]) -> list[float]:
    """Board ticks as the runner converts them (``np.array(ticks) * 10e-6``)."""
    return [float(t * TICK_S) for t in ticks]
