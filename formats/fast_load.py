"""The ``fl`` fast-load commands (tinyperf extension, version 1): texts, framing and parsing.

Pure codec for docs/fast_load.md, shared by the virtual DUT, the harness client and the C
layer's message-table test: the capabilities line, the ``fl load`` / ``fl shift`` command
frames, CRC-32 (zlib's: IEEE 802.3, reflected, init and final xor 0xFFFFFFFF) and the reply
and error texts. No I/O.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from tinyperf.formats.errors import DutProtocolError

VERSION = 1
VERB = "fl"
CMD_CAPS = "fl caps"
ENCODING = "bin"
CRC_NAME = "crc32"

#: ``m-fl-caps-1-enc-bin-crc-crc32-rx-<R>-max-<M>-shift-<S>-tmo-<T>`` (printf-style for C).
CAPS_FORMAT = "m-fl-caps-{version}-enc-{enc}-crc-{crc}-rx-{rx}-max-{max}-shift-{shift}-tmo-{tmo}"
CAPS_PREFIX = "m-fl-caps-"
CRC_FORMAT = "m-fl-crc-{crc:08x}"
CRC_PREFIX = "m-fl-crc-"
#: error texts inside ``e-[...]``
ERR_CRC_MISMATCH = "fl: crc mismatch"
ERR_TIMEOUT_FORMAT = "fl: timeout after {received} of {size} bytes"
ERR_SIZE_FORMAT = "fl: size {size} exceeds {maximum}"
ERR_BAD_ARGUMENTS = "fl: bad arguments"
#: what the standard firmware answers to ``fl caps`` (spec 1.3)
ERR_UNKNOWN = "Unknown command: fl"

#: the smallest RX buffer a DUT may advertise (one standard command)
MIN_RX = 80
#: bounded retries of one failed block (the doc's rule)
ATTEMPTS = 3

_CAPS = re.compile(r"^m-fl-caps-(\d+)-enc-([a-z0-9]+)-crc-([a-z0-9]+)-rx-(\d+)-max-(\d+)"
                   r"-shift-([01])-tmo-(\d+)(-.*)?$")
#: the optional last field: what computes the outputs (free text, the rest of the line)
DUT_FIELD = "-dut-"
_CRC = re.compile(r"^m-fl-crc-([0-9a-f]{8})$")
_CRC_ARG = re.compile(r"^[0-9a-fA-F]{8}$")
_TIMEOUT = re.compile(r"^fl: timeout after (\d+) of (\d+) bytes$")
_SIZE = re.compile(r"^fl: size (\d+) exceeds (\d+)$")
_ERROR_LINE = re.compile(r"^e-\[(.*)\]$")


class FastLoadFormatError(DutProtocolError):
    """A line or command argument that looks like ``fl`` but breaks its format."""


@dataclass(frozen=True)
class Caps:
    """What a DUT offers (``m-fl-caps-...``)."""

    version: int
    encoding: str
    crc: str
    rx: int  # bytes the host may have unanswered on the wire
    max: int  # the DUT's input buffer capacity (largest N)
    shift: bool
    tmo_us: int  # receive gap that ends a block
    dut: str | None = None  # optional ``-dut-<text>``: e.g. the virtual DUT's ``engine-tflm``

    @property
    def usable(self) -> bool:
        """Whether a version-1 host can use it (binary, CRC-32, an RX buffer of >= 80)."""
        return (self.version == VERSION and self.encoding == ENCODING and self.crc == CRC_NAME
                and self.rx >= MIN_RX and self.max > 0)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "version": self.version, "encoding": self.encoding, "crc": self.crc, "rx": self.rx,
            "max": self.max, "shift": self.shift, "tmo_us": self.tmo_us}
        if self.dut is not None:
            out["dut"] = self.dut
        return out


def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def crc_text(crc: int) -> str:
    return f"{crc:08x}"


def format_caps(rx: int, maximum: int, shift: bool, tmo_us: int,
                dut: str | None = None) -> str:
    line = CAPS_FORMAT.format(version=VERSION, enc=ENCODING, crc=CRC_NAME, rx=rx, max=maximum,
                              shift=int(shift), tmo=tmo_us)
    return line + DUT_FIELD + dut if dut else line


def parse_caps(line: str) -> Caps | None:
    """The capabilities in ``line``; None if it is not a caps line.

    A line that starts like one but breaks the format raises ``FastLoadFormatError``.
    Fields after ``tmo`` are ignored (version 1 may grow), except a last ``-dut-<text>``.
    """
    if not line.startswith(CAPS_PREFIX):
        return None
    match = _CAPS.match(line)
    if match is None:
        raise FastLoadFormatError("malformed fast-load capabilities", line=line,
                                  expected=CAPS_FORMAT)
    version, enc, crc, rx, maximum, shift, tmo, rest = match.groups()
    dut = rest.split(DUT_FIELD, 1)[1] if rest and DUT_FIELD in rest else None
    return Caps(int(version), enc, crc, int(rx), int(maximum), shift == "1", int(tmo),
                dut or None)


def msg_crc(crc: int) -> str:
    return CRC_FORMAT.format(crc=crc)


def parse_crc(line: str) -> int | None:
    """The CRC of an ``m-fl-crc-<8 hex>`` line, None for any other line."""
    match = _CRC.match(line)
    return int(match.group(1), 16) if match else None


def err_timeout(received: int, size: int) -> str:
    return ERR_TIMEOUT_FORMAT.format(received=received, size=size)


def err_size(size: int, maximum: int) -> str:
    return ERR_SIZE_FORMAT.format(size=size, maximum=maximum)


def load_header(size: int, crc: int) -> str:
    """``fl load <N> <C>`` (without ``%``)."""
    if size <= 0:
        raise ValueError("fl load needs at least one byte")
    return f"fl load {size} {crc_text(crc)}"


def shift_header(count: int, window_crc: int) -> str:
    """``fl shift <K> <C>`` (without ``%``); ``C`` is the CRC of the whole new window."""
    if count <= 0:
        raise ValueError("fl shift needs at least one new byte")
    return f"fl shift {count} {crc_text(window_crc)}"


def load_frame(data: bytes) -> bytes:
    """The whole ``fl load`` command with its raw data."""
    return load_header(len(data), crc32(data)).encode("ascii") + b"%" + data


def shift_frame(new: bytes, window: bytes) -> bytes:
    """``fl shift`` moving in ``new`` (the last ``len(new)`` bytes of ``window``)."""
    if not window.endswith(new):
        raise ValueError("the new bytes must be the end of the window")
    return shift_header(len(new), crc32(window)).encode("ascii") + b"%" + new


@dataclass(frozen=True)
class BlockArgs:
    """``fl load N C`` / ``fl shift K C`` as the DUT reads them."""

    sub: str  # "load" or "shift"
    count: int
    crc: int


def parse_block_args(tokens: list[str]) -> BlockArgs:
    """The arguments after ``fl`` of a load or shift; ``FastLoadFormatError`` if bad
    (missing, non-numeric or zero count, CRC not 8 hex digits)."""
    if len(tokens) != 3 or tokens[0] not in ("load", "shift"):
        raise FastLoadFormatError(ERR_BAD_ARGUMENTS, line=" ".join(tokens))
    sub, count, crc = tokens
    if not count.isdigit() or not count.isascii() or int(count) == 0 or not _CRC_ARG.match(crc):
        raise FastLoadFormatError(ERR_BAD_ARGUMENTS, line=" ".join(tokens))
    return BlockArgs(sub, int(count), int(crc, 16))


@dataclass(frozen=True)
class BlockReply:
    """What the DUT answered to one block: its CRC, ``m-load-done``, the ``fl`` error."""

    crc: int | None
    done: bool
    error: str | None  # the text inside e-[...], or None

    def problem(self, expected_crc: int) -> str | None:
        """Why this reply does not prove a good load of ``expected_crc``; None if it does."""
        if self.error is not None:
            return f"the DUT said e-[{self.error}]"
        if self.crc is None:
            return "no m-fl-crc line in the reply"
        if self.crc != expected_crc:
            return (f"the DUT's CRC {crc_text(self.crc)} differs from the host's "
                    f"{crc_text(expected_crc)}")
        if not self.done:
            return "no m-load-done in the reply"
        return None


def parse_block_reply(lines: list[str]) -> BlockReply:
    """Read the lines before ``m-ready`` of an ``fl load``/``fl shift`` reply."""
    crc: int | None = None
    done = False
    error: str | None = None
    for line in lines:
        value = parse_crc(line)
        if value is not None:
            crc = value
        elif line == "m-load-done":
            done = True
        else:
            match = _ERROR_LINE.match(line)
            if match and error is None:
                error = match.group(1)
    return BlockReply(crc, done, error)
