"""The MLPerf Tiny DUT serial protocol: every command and message string, once.

Pure functions only (no I/O). The host side formats commands and parses response lines
into typed messages; the DUT side (the virtual DUT, golden transcripts) formats the
messages with the same table, so both ends cannot drift apart.

Names follow the firmware macros (``EE_MSG_*``) where there is one.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

# -- framing -------------------------------------------------------------------------------

COMMAND_END = b"%"
#: Characters the standard firmware buffers before ``%`` (``EE_CMD_SIZE``); more are dropped.
EE_CMD_SIZE = 80
LINE_END = "\r\n"
READY = "m-ready"
#: Bytes the host reader throws away: real DUTs emit NULs and 0xff on reset/boot.
_JUNK_BYTES = bytes([0x00, 0xFF, 0x0D])

FIRMWARE_PROFILE = "ULPMark for tinyML Firmware V0.0.1"
DEFAULT_VENDOR = "unspecified"
MODEL_IDS = ("kws01", "vww01", "ic01", "ic02", "ad01", "sww01")

# -- DUT error texts (kept verbatim, typos included: hosts match them) -----------------------

ERR_DB_LOAD_NEEDS_SIZE = "Command 'db load' requires the # of bytes"
ERR_DB_LOAD_POSITIVE = "Command 'db load' must be >0 bytes"
ERR_DB_NEEDS_SUBCOMMAND = "Command 'db' requires a subcommand"
ERR_HEX_ODD = "Insufficent number of hex digits"
ERR_INFER_ITERATIONS = "Inference iterations must be >0"
ERR_INFER_WARMUP = "Inference warmup must be >=0"


class Kind(enum.Enum):
    """Every kind of line a DUT prints."""

    READY = "ready"
    NAME = "name"
    PROFILE = "profile"
    MODEL = "model"
    LAP_US = "lap_us"
    RESULTS = "results"
    WARMUP_START = "warmup_start"
    WARMUP_DONE = "warmup_done"
    INFER_START = "infer_start"
    INFER_DONE = "infer_done"
    EXPECTING = "expecting"
    LOAD_DONE = "load_done"
    BUFFER = "buffer"
    TIMESTAMP_MODE = "timestamp_mode"
    INIT_DONE = "init_done"
    ERROR = "error"
    OVERSIZE = "oversize"
    PASSTHROUGH = "passthrough"
    OTHER = "other"


# Each pattern is anchored and has a sample line from a real DUT above it.
_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    # m-ready
    (Kind.READY, re.compile(r"^m-ready$")),
    # m-name-dut-[STMicroelectronics]
    (Kind.NAME, re.compile(r"^m-name-dut-\[([^\]]*)\]$")),
    # m-profile-[ULPMark for tinyML Firmware V0.0.1]
    (Kind.PROFILE, re.compile(r"^m-profile-\[([^\]]*)\]$")),
    # m-model-[kws01]
    (Kind.MODEL, re.compile(r"^m-model-\[([^\]]*)\]$")),
    # m-lap-us-114879046
    (Kind.LAP_US, re.compile(r"^m-lap-us-([0-9]+)$")),
    # m-results-[0.000,0.000,0.996] ; ad01: m-results-[11.772] ; trailing comma tolerated
    (Kind.RESULTS, re.compile(r"^m-results-\[([^\]]*)\]$")),
    # m-warmup-start-10
    (Kind.WARMUP_START, re.compile(r"^m-warmup-start-([0-9]+)$")),
    # m-warmup-done
    (Kind.WARMUP_DONE, re.compile(r"^m-warmup-done$")),
    # m-infer-start-250
    (Kind.INFER_START, re.compile(r"^m-infer-start-([0-9]+)$")),
    # m-infer-done
    (Kind.INFER_DONE, re.compile(r"^m-infer-done$")),
    # m-[Expecting 490 bytes]
    (Kind.EXPECTING, re.compile(r"^m-\[Expecting ([0-9]+) bytes\]$")),
    # m-load-done
    (Kind.LOAD_DONE, re.compile(r"^m-load-done$")),
    # m-buffer-00-1f-a0-ff-00-00-00-7f
    (Kind.BUFFER, re.compile(r"^m-buffer-((?:[0-9a-fA-F]{2}-?)*)$")),
    # m-timestamp-mode-performance
    (Kind.TIMESTAMP_MODE, re.compile(r"^m-timestamp-mode-(performance|energy)$")),
    # m-init-done
    (Kind.INIT_DONE, re.compile(r"^m-init-done$")),
    # e-[Unknown command: foo]
    (Kind.ERROR, re.compile(r"^e-\[(.*)\]$")),
    # Supplied buffer size 6000 exceeds maximum of 5120
    (Kind.OVERSIZE, re.compile(r"^Supplied buffer size ([0-9]+) exceeds maximum of ([0-9]+)$")),
    # m-dut-passthrough(infer 800 1)
    (Kind.PASSTHROUGH, re.compile(r"^m-dut-passthrough\((.*)\)$")),
)


@dataclass(frozen=True)
class Message:
    """One parsed DUT line. ``value`` depends on ``kind`` (int, str, tuple, or None)."""

    kind: Kind
    text: str
    value: object = None


def clean_line(raw: bytes) -> str:
    """Turn one received line (without its ``\\n``) into text.

    Drops the bytes real DUTs leave on the line (CR, NUL, 0xff after reset) and decodes
    the rest as UTF-8, replacing anything undecodable, so one bad byte never corrupts
    its neighbours (the reference reader repeats the previous character instead).
    """
    kept = raw.translate(None, _JUNK_BYTES)
    text = kept.decode("utf-8", errors="replace").strip()
    # Line noise before a message (reset glitches, a floating RX pin) is never printable
    # ASCII; dropping it lets the message behind it still parse.
    start = 0
    while start < len(text) and not (" " <= text[start] <= "~"):
        start += 1
    return text[start:].strip()


def parse_results(payload: str) -> tuple[float, ...]:
    """Parse the inside of ``m-results-[...]``: comma separated, empty items skipped."""
    values = []
    for item in payload.split(","):
        item = item.strip()
        if item:
            values.append(float(item))
    return tuple(values)


def _literal_head(pattern: re.Pattern[str], size: int = 3) -> str:
    """The first ``size`` literal characters an anchored pattern requires."""
    out, chars, i = [], pattern.pattern.removeprefix("^"), 0
    while len(out) < size:
        c = chars[i]
        if c == "\\":
            i += 1
            c = chars[i]
        elif c in "([.*+?{|$":
            raise ValueError(f"pattern {pattern.pattern!r} has no {size}-character literal head")
        out.append(c)
        i += 1
    return "".join(out)


# Patterns by their first three characters: a line is tried only against the few patterns
# that can match it (log parsing in the checker classifies ~10^5 lines per tree).
_BY_HEAD: dict[str, list[tuple[Kind, re.Pattern[str]]]] = {}
for _kind, _pattern in _PATTERNS:
    _BY_HEAD.setdefault(_literal_head(_pattern), []).append((_kind, _pattern))


def parse_line(line: str) -> Message:
    """Classify one cleaned DUT line. Unknown lines are ``Kind.OTHER``, never an error."""
    for kind, pattern in _BY_HEAD.get(line[:3], ()):
        match = pattern.match(line)
        if match is None:
            continue
        return Message(kind, line, _value(kind, match))
    return Message(Kind.OTHER, line, None)


def _value(kind: Kind, match: re.Match[str]) -> object:
    if kind in (Kind.LAP_US, Kind.WARMUP_START, Kind.INFER_START, Kind.EXPECTING):
        return int(match.group(1))
    if kind is Kind.RESULTS:
        try:
            return parse_results(match.group(1))
        except ValueError:
            return None  # the client turns this into a DutProtocolError with the line
    if kind is Kind.BUFFER:
        hexes = [h for h in match.group(1).split("-") if h]
        return bytes(int(h, 16) for h in hexes)
    if kind is Kind.OVERSIZE:
        return (int(match.group(1)), int(match.group(2)))
    if match.groups():
        return match.group(1)
    return None


# -- host -> DUT commands ------------------------------------------------------------------


def command(text: str, limit: int = EE_CMD_SIZE) -> bytes:
    """Frame one command: ASCII text and ``%``. Refuses what the firmware cannot take.

    ``limit`` is the DUT's command buffer (80 in the standard API, 1028 in the sww
    reference); a longer command would be silently truncated by the firmware.
    """
    if not text or not text.strip():
        raise ValueError("empty command: the standard firmware dereferences NULL on a bare '%'")
    if "%" in text:
        raise ValueError(f"'%' inside a command ends it early: {text!r}")
    if len(text) > limit:
        raise ValueError(f"command of {len(text)} chars exceeds the {limit}-char buffer")
    return text.encode("ascii") + COMMAND_END


def cmd_name() -> bytes:
    return command("name")


def cmd_profile() -> bytes:
    return command("profile")


def cmd_timestamp() -> bytes:
    return command("timestamp")


def cmd_results() -> bytes:
    return command("results")


def cmd_db_load(size: int) -> bytes:
    if size <= 0:
        raise ValueError("db load needs a positive byte count")
    return command(f"db load {size}")


def cmd_db_data(chunk: bytes, limit: int = EE_CMD_SIZE) -> bytes:
    return command("db " + chunk.hex(), limit)


def cmd_infer(iterations: int, warmups: int) -> bytes:
    """``infer N W``: W is always sent, the firmware default (10) differs from the runner's (0)."""
    if iterations < 1:
        raise ValueError("infer needs at least one iteration")
    if warmups < 0:
        raise ValueError("warm-up count cannot be negative")
    return command(f"infer {iterations} {warmups}")


def db_chunk_size(cmd_size: int = EE_CMD_SIZE, prefix: str = "") -> int:
    """Largest number of bytes one ``db {hex}`` command carries within the command buffer.

    ``prefix`` is what an interface board puts before it (``"dut "``) when its buffer is
    the limit. 80 chars give 38 bytes against the reference runner's 31.
    """
    room = cmd_size - len(prefix) - len("db ")
    if room < 2:
        raise ValueError(f"a {cmd_size}-char command buffer cannot carry db data")
    return room // 2


# -- DUT -> host messages (used by the virtual DUT and the golden transcripts) --------------


def msg_name(vendor: str) -> str:
    return f"m-name-dut-[{vendor}]"


def msg_profile(firmware: str = FIRMWARE_PROFILE) -> str:
    return f"m-profile-[{firmware}]"


def msg_model(model_id: str) -> str:
    return f"m-model-[{model_id}]"


def msg_lap_us(us: int) -> str:
    # %lu of a 32-bit counter: the value wraps like the DUT's
    return f"m-lap-us-{us & 0xFFFFFFFF}"


def msg_timestamp_mode(energy: bool) -> str:
    return "m-timestamp-mode-energy" if energy else "m-timestamp-mode-performance"


def msg_expecting(size: int) -> str:
    return f"m-[Expecting {size} bytes]"


def msg_error(text: str) -> str:
    return f"e-[{text}]"


def msg_unknown_command(token: str) -> str:
    return msg_error(f"Unknown command: {token}")


def msg_invalid_hex(pair: str) -> str:
    return msg_error(f"Invalid hex digit '{pair}'")


def msg_oversize(size: int, maximum: int) -> str:
    return f"Supplied buffer size {size} exceeds maximum of {maximum}"


def msg_warmup_start(warmups: int) -> str:
    return f"m-warmup-start-{warmups}"


def msg_infer_start(iterations: int) -> str:
    return f"m-infer-start-{iterations}"


def msg_buffer(chunk: bytes) -> str:
    return "m-buffer-" + "-".join(f"{b:02x}" for b in chunk)


def msg_results(
    values: list[float] | tuple[float, ...], decimals: int = 3, trailing_comma: bool = False
) -> str:
    """``m-results-[v0,v1,...]`` with ``%0.{decimals}f`` per value, like the reference ports;
    ``trailing_comma``: a comma after every value (the reference vww01 port: ``[0.969,0.031,]``)."""
    body = "".join(f"{v:.{decimals}f}," for v in values)
    return "m-results-[" + (body if trailing_comma else body[:-1]) + "]"


def msg_input_size_mismatch(loaded: int, expected: int) -> str:
    # th_load_tensor's complaint in the reference
    # kws port (spec 1.4, typo kept: hosts ignore it but golden transcripts contain it).
    return f"Input db has {loaded} elemented, expected {expected}"


# `help` output is free text no host parses (spec 1.3);
# our own wording, one line per command after a banner and an empty line.
HELP_LINES = (
    "help           : show this list",
    "name           : print the device name",
    "profile        : print the firmware profile and the model id",
    "timestamp      : emit one timestamp",
    "db load N      : expect N input bytes, reset the write position",
    "db HEX         : append hex byte pairs until N bytes are loaded",
    "db print       : dump the loaded buffer as hex",
    "infer N W      : W untimed warm-ups, then N timed inferences (defaults 1 and 10)",
    "results        : print the results of the last inference",
)


MSG_READY = READY
MSG_INIT_DONE = "m-init-done"
MSG_WARMUP_DONE = "m-warmup-done"
MSG_INFER_DONE = "m-infer-done"
MSG_LOAD_DONE = "m-load-done"


def passthrough_ack(cmd_text: str) -> str:
    """Interface board acknowledgement of ``dut {cmd}``."""
    return f"m-dut-passthrough({cmd_text})"


DUT_PREFIX = "[dut]: "


def strip_dut_prefix(line: str) -> str:
    """Remove the interface board's ``[dut]: `` relay prefix if present."""
    return line[len(DUT_PREFIX):] if line.startswith(DUT_PREFIX) else line
