"""Reach a DUT through an interface board ("IO manager"): a ``LineLink`` over the board link.

In energy mode the DUT's only data path is the board's UART (protocol.md 0, 2). The board
takes ``dut {cmd}%``, acknowledges with ``m-dut-passthrough({cmd})`` and ``m-ready``, then
relays each DUT line as ``[dut]: {line}`` up to ``[dut]: m-ready``. ``DutLink`` does the
wrapping, checks the acknowledgement, strips the prefix and hands the DUT's own lines to
``tinyperf.harness.link.dut.Dut``, which therefore works unchanged behind a board. Every read has a
deadline. ``InterfaceBoard`` holds the board's own commands.

Two boards exist (protocol.md 2.2, 2.4), with the same ``%`` framing and pass-through:

- the STM32H573I-DK "enhanced" board: ``name`` answers ``tinyML Enhanced Interface
  Board``; ``checkbaud``/``setbaud`` set its DUT rate (``setbaud`` resets the board, so it
  is sent only when the rate differs); it has no ``version`` command (bare ``m-ready``);
- the legacy Arduino IO manager of the EEMBC era: ``version``, ``tm 0|1`` (timestamp edge
  mode: falling / change; replies ``m-timestmp-mode-FALLING`` (sic) and ``m-[Timer
  disabled after mode change]``), ``enable-timer`` / ``disable-timer`` (``m-timer-enabled``
  / ``m-timer-disabled``). It has no ``setbaud``: the MLCommons runner sends it anyway and
  fails there (protocol.md 8); we never do.

The spec does not quote the legacy board's ``name`` or ``version`` replies, so detection
(``InterfaceBoard.detect``) relies only on what is known: the enhanced board's exact
``name`` line, else a ``version`` that answers with a line that is not an ``e-`` error
(the enhanced board gives none; a DUT wrongly on this port gives an error).
The reply to ``tm 1`` is not quoted either; any ``m-timestmp-mode-`` line is accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tinyperf.formats import protocol
from tinyperf.formats import sww_protocol as sww
from tinyperf.formats.board_protocol import (
    BOARD_CMD_SIZE,
    BOARD_KINDS,
    ENHANCED,
    ENHANCED_NAME,
    LEGACY,
    LEGACY_TIMER_DISABLED,
    LEGACY_TIMER_ENABLED,
    LEGACY_TIMER_OFF_AFTER_TM,
    LEGACY_TM_FALLING,
    LEGACY_TM_PREFIX,
    SETBAUD_RESET_S,
)
from tinyperf.formats.errors import ConfigError, DutProtocolError, DutTimeout, TransportError
from tinyperf.harness.link.timeouts import Deadline
from tinyperf.harness.link.transport import SerialLink


def passthrough_chunk_size(board_cmd_size: int = BOARD_CMD_SIZE,
                           dut_cmd_size: int = protocol.EE_CMD_SIZE) -> int:
    """Bytes per ``db`` command that fit both the board's and the DUT's buffers."""
    return min(protocol.db_chunk_size(board_cmd_size, prefix="dut "),
               protocol.db_chunk_size(dut_cmd_size))


#: Longest whole reply accepted from a board or relayed DUT (an sww01 activation log of a
#: 20-minute stream is ~225 kB: minutes at a slow DUT rate); silences are bounded per line.
REPLY_LIMIT_S = 1800.0


class InterfaceBoard:
    """The board itself: its own commands over ``link`` (115200 baud on the host side)."""

    def __init__(self, link: SerialLink, *, timeout: float = 5.0,
                 sleep: Callable[[float], None] | None = None, kind: str | None = None):
        if kind is not None and kind not in BOARD_KINDS:
            raise ConfigError(f"interface board kind {kind!r}: one of {', '.join(BOARD_KINDS)}")
        self.link = link
        self.timeout = timeout
        self._sleep = sleep
        self.kind = kind  # None until detect() (or given)
        self.timer_enabled: bool | None = None
        self.log = logging.getLogger(f"{__name__}.InterfaceBoard[{link.url}]")

    def command(self, text: str, timeout: float | None = None) -> list[str]:
        """Send a board command; return its lines before ``m-ready``."""
        self.link.discard_input()
        self.link.write(protocol.command(text, BOARD_CMD_SIZE))
        deadline = Deadline(self.timeout if timeout is None else timeout)
        lines: list[str] = []
        while (line := self.link.readline(deadline)) is not None:
            if line == protocol.READY:
                return lines
            lines.append(line)
        raise DutTimeout(f"(interface board) {text}", deadline.seconds, lines)

    def name(self) -> str:
        lines = self.command("name")
        return lines[0] if lines else ""

    def version(self) -> list[str]:
        """``version``: the legacy board answers with a line, the enhanced one with none."""
        return self.command("version")

    def detect(self) -> str:
        """Which board this is (``enhanced`` or ``legacy``); kept in ``kind``."""
        if self.kind is not None:
            return self.kind
        name = self.name()
        if name == ENHANCED_NAME:
            self.kind = ENHANCED
        elif any(not x.startswith("e-") for x in self.version()):
            self.kind = LEGACY  # an error line is not a version (a DUT on this port says
            # e-[Unknown command: version])
        else:
            raise DutProtocolError("cannot tell the interface board kind (give --board "
                                   "enhanced or legacy)", line=name or "(empty name reply)",
                                   expected=f"{ENHANCED_NAME!r}, or a reply to 'version'")
        self.log.info("interface board: %s (%r)", self.kind, name)
        return self.kind

    def checkbaud(self) -> int | None:
        """The board-to-DUT rate, or None if the board has no ``checkbaud`` (legacy)."""
        if self.kind == LEGACY:
            return None  # not a legacy command: do not send it
        for line in self.command("checkbaud"):
            if line.startswith("baud is:"):
                return int(line.split(":", 1)[1])
        return None

    def ensure_baud(self, rate: int) -> bool:
        """``setbaud`` only when the board's DUT rate differs; True if it was changed.

        Never on the legacy IO manager: it has no ``setbaud``.
        """
        if self.kind == LEGACY:
            self.log.warning("legacy IO manager: no setbaud; DUT rate %d not applied", rate)
            return False
        current = self.checkbaud()
        if current is None or current == rate:
            return False
        self.command(f"setbaud {rate}")
        wait = Deadline(SETBAUD_RESET_S)
        if self._sleep is not None:
            self._sleep(SETBAUD_RESET_S)
        else:
            while wait.remaining > 0:  # the board resets: drop whatever it prints
                self.link.readline(wait)
        self.link.discard_input()
        return True

    # -- streaming wakeword (sww01, protocol.md 2.2, 7.3): enhanced board only ------------------

    def _until_ready(self, what: str, idle_s: float, limit_s: float,
                     clean: Callable[[str], str] = str) -> list[str]:
        """Lines up to and including the one holding ``m-ready``. ``idle_s`` is the longest
        silence allowed (a long list keeps arriving line by line: the activation log of a
        20-minute stream at the DUT's baud rate takes minutes), ``limit_s`` the whole reply."""
        overall = Deadline(limit_s)
        lines: list[str] = []
        while True:
            line = self.link.readline(Deadline(min(idle_s, max(overall.remaining, 0.0))))
            if line is None:
                raise DutTimeout(what, idle_s if overall.remaining > 0 else limit_s, lines)
            lines.append(clean(line))
            if sww.is_ready_line(lines[-1]):
                return lines

    def reply_lines(self, text: str, timeout: float, limit_s: float = REPLY_LIMIT_S) -> list[str]:
        """Send a board command; return every line up to and *including* the one that holds
        ``m-ready`` (alone, or after values as ``print_dutycycle`` prints it); ``timeout``
        is the longest silence between two lines."""
        self.link.discard_input()
        self.link.write(protocol.command(text, BOARD_CMD_SIZE))
        return self._until_ready(f"(interface board) {text}", timeout, max(limit_s, timeout))

    def record_detections(self) -> list[str]:
        """Zero the board timer, clear the detection and duty-cycle lists, start recording."""
        return self.reply_lines("record_detections", self.timeout)

    def play(self, wav_file: str, timeout: float) -> list[str]:
        """``play {file}``: blocks for the whole file; ``SwwReplyError`` if the board says
        it could not play it (a missing or not 2-channel file)."""
        lines = self.reply_lines(f"play {wav_file}", timeout)
        if any(line.startswith("Error playing file") for line in lines):
            raise sww.SwwReplyError(f"the interface board could not play {wav_file!r}",
                                    line=" | ".join(lines), expected=sww.PLAY_OK)
        return lines

    def print_detections(self) -> list[str]:
        """``print_detections`` lines, m-ready included (``sww_protocol.parse_detections``)."""
        return self.reply_lines("print_detections", self.timeout)

    def print_dutycycle(self) -> list[str]:
        """``print_dutycycle`` lines, m-ready included (``sww_protocol.parse_dutycycle``)."""
        return self.reply_lines("print_dutycycle", self.timeout)

    def dut(self, text: str, timeout: float) -> list[str]:
        """``dut {text}``: the DUT's own lines (prefix removed) up to one holding m-ready.

        The board's ack (``m-dut-passthrough(...)`` + ``m-ready``) is checked; the DUT's
        answer may end with ``m-ready`` sharing a line with other text (third-party ports).
        ``timeout`` bounds the ack and then each silence between the DUT's lines.
        """
        self.link.discard_input()
        self.link.write(protocol.command(f"dut {text}", BOARD_CMD_SIZE))
        deadline = Deadline(timeout)
        ack = [self.link.readline(deadline), self.link.readline(deadline)]
        if ack != [protocol.passthrough_ack(text), protocol.READY]:
            if None in ack:
                raise DutTimeout(f"dut {text}", deadline.seconds, [a for a in ack if a])
            raise DutProtocolError("interface board did not acknowledge the passthrough",
                                   line=" | ".join(str(a) for a in ack),
                                   expected=f"{protocol.passthrough_ack(text)} | m-ready")
        return self._until_ready(f"dut {text}", timeout, max(REPLY_LIMIT_S, timeout),
                                 lambda line: protocol.strip_dut_prefix(line).strip())

    # -- legacy IO manager: timestamp capture timer (EEMBC energy scripts: io tm 0,
    #    io enable-timer ... io disable-timer) ---------------------------------------------

    def _legacy_only(self, what: str) -> None:
        if self.detect() != LEGACY:
            raise ConfigError(f"'{what}' is a legacy IO manager command; this board is "
                              f"{self.kind}")

    def _expect(self, text: str, lines: list[str], wanted: str, *, prefix: bool = False) -> None:
        ok = any(x.startswith(wanted) if prefix else x == wanted for x in lines)
        if not ok:
            raise DutProtocolError(f"interface board did not confirm {text!r}",
                                   line=" | ".join(lines) or "(only m-ready)", expected=wanted)

    def set_timestamp_mode(self, falling: bool = True) -> None:
        """``tm 0`` (falling edges) or ``tm 1`` (every change); it disables the timer."""
        text = "tm 0" if falling else "tm 1"
        self._legacy_only(text)
        lines = self.command(text)
        self._expect(text, lines, LEGACY_TM_FALLING if falling else LEGACY_TM_PREFIX,
                     prefix=not falling)
        self._expect(text, lines, LEGACY_TIMER_OFF_AFTER_TM)
        self.timer_enabled = False

    def enable_timer(self) -> None:
        self._legacy_only("enable-timer")
        self._expect("enable-timer", self.command("enable-timer"), LEGACY_TIMER_ENABLED)
        self.timer_enabled = True

    def disable_timer(self) -> None:
        self._legacy_only("disable-timer")
        self._expect("disable-timer", self.command("disable-timer"), LEGACY_TIMER_DISABLED)
        self.timer_enabled = False


class DutLink:
    """A ``LineLink`` that presents the DUT behind an interface board."""

    def __init__(self, board_link: SerialLink, *, ack_timeout: float = 5.0):
        self.board = board_link
        self.url = f"{board_link.url}#dut"
        self.ack_timeout = ack_timeout
        self.log = logging.getLogger(f"{__name__}.DutLink[{board_link.url}]")

    def add_tap(self, tap: Callable[[str, bytes, float], None]) -> None:
        self.board.add_tap(tap)

    def write(self, data: bytes) -> None:
        """Wrap one framed DUT command as ``dut {cmd}%`` and check the board's ack."""
        if not data.endswith(protocol.COMMAND_END):
            raise ValueError(f"not a framed DUT command: {data!r}")
        text = data[:-1].decode("ascii")
        self.board.write(protocol.command(f"dut {text}", BOARD_CMD_SIZE))
        deadline = Deadline(self.ack_timeout)
        got: list[str] = []
        while len(got) < 2:
            line = self.board.readline(deadline)
            if line is None:
                raise DutTimeout(f"dut {text}", self.ack_timeout, got)
            got.append(line)
        if got != [protocol.passthrough_ack(text), protocol.READY]:
            raise DutProtocolError("interface board did not acknowledge the passthrough",
                                   line=" | ".join(got),
                                   expected=f"{protocol.passthrough_ack(text)} | m-ready")

    def readline(self, deadline: Deadline) -> str | None:
        """The next relayed DUT line without its ``[dut]: `` prefix."""
        while True:
            line = self.board.readline(deadline)
            if line is None:
                return None
            if line.startswith(protocol.DUT_PREFIX.rstrip()):
                return protocol.strip_dut_prefix(line).strip()
            self.log.info("board line while relaying: %r", line)  # not the DUT's

    def discard_input(self) -> list[str]:
        return [protocol.strip_dut_prefix(x) for x in self.board.discard_input()]

    def close(self) -> None:
        self.board.close()


def open_dut_link(url: str, baud: int = 115200) -> DutLink:
    """Open the board at ``url`` and return the DUT-facing link."""
    try:
        return DutLink(SerialLink(url, baud))
    except TransportError:
        raise
