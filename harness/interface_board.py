"""Reach a DUT through an interface board ("IO manager"): a ``LineLink`` over the board link.

In energy mode the DUT's only data path is the board's UART (protocol.md 0, 2). The board
takes ``dut {cmd}%``, acknowledges with ``m-dut-passthrough({cmd})`` and ``m-ready``, then
relays each DUT line as ``[dut]: {line}`` up to ``[dut]: m-ready``. ``DutLink`` does the
wrapping, checks the acknowledgement, strips the prefix and hands the DUT's own lines to
``harness.dut.Dut``, which therefore works unchanged behind a board. Every read has a
deadline. ``InterfaceBoard`` holds the board's own commands (``name``, ``checkbaud``,
``setbaud`` — the last only when the rate differs, since it resets the board).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from harness import protocol
from harness.errors import DutProtocolError, DutTimeout, TransportError
from harness.timeouts import Deadline
from harness.transport import SerialLink

#: Chars the board's command buffer is taken to hold. 60 reproduces the reference
#: runner's 26-byte ``db`` chunks behind a board (``dut db `` + 52 hex + ``%``).
BOARD_CMD_SIZE = 60
#: Seconds the board needs to come back after ``setbaud`` resets it.
SETBAUD_RESET_S = 2.0


def passthrough_chunk_size(board_cmd_size: int = BOARD_CMD_SIZE,
                           dut_cmd_size: int = protocol.EE_CMD_SIZE) -> int:
    """Bytes per ``db`` command that fit both the board's and the DUT's buffers."""
    return min(protocol.db_chunk_size(board_cmd_size, prefix="dut "),
               protocol.db_chunk_size(dut_cmd_size))


class InterfaceBoard:
    """The board itself: its own commands over ``link`` (115200 baud on the host side)."""

    def __init__(self, link: SerialLink, *, timeout: float = 5.0,
                 sleep: Callable[[float], None] | None = None):
        self.link = link
        self.timeout = timeout
        self._sleep = sleep
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

    def checkbaud(self) -> int | None:
        """The board-to-DUT rate, or None if the board has no ``checkbaud`` (legacy)."""
        for line in self.command("checkbaud"):
            if line.startswith("baud is:"):
                return int(line.split(":", 1)[1])
        return None

    def ensure_baud(self, rate: int) -> bool:
        """``setbaud`` only when the board's DUT rate differs; True if it was changed."""
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
