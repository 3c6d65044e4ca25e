"""The DUT client's fast path: ``fl`` negotiation, binary loads, window shifts, pipelining.

Owns what the host knows about the DUT's fast-load state (docs/fast_load.md): the offered
capabilities (asked once per connection and again after a reboot), the bytes the DUT's
input buffer holds, and a load written ahead of its reply (pipelining). Every block is
checked by the CRC the DUT reports; a failed block is retried (bounded) after a ``name``
barrier, so the input that is inferred is always byte-identical to the intended one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tinyperf.formats import fast_load as fl
from tinyperf.formats.errors import DutErrorReply, DutProtocolError, DutTimeout

if TYPE_CHECKING:
    from tinyperf.harness.link.dut import Dut



class FastLoadError(DutProtocolError):
    """A block still failed after the bounded retries (names command, reply, session)."""

    def __init__(self, command: str, said: str, attempts: int, session: str | None = None):
        self.command = command
        self.said = said
        self.attempts = attempts
        self.session = session
        text = (f"fast load failed {attempts} time(s): {command!r}: {said}")
        if session is not None:
            text += (f"; session {session}: resume with `tinyperf run --resume {session}` "
                     "(add --fast-load off to use the standard protocol)")
        super().__init__(text)

    def with_session(self, session: str) -> FastLoadError:
        return FastLoadError(self.command, self.said, self.attempts, session)


class _BlockFailed(Exception):
    def __init__(self, command: str, said: str, reset: bool = False):
        super().__init__(f"{command!r}: {said}")
        self.command = command
        self.said = said
        self.reset = reset


@dataclass
class FastLoadStats:
    """What run.json records: what was offered and how it was used."""

    offered: dict[str, object] | None = None
    negotiations: int = 0
    loads: int = 0
    shifts: int = 0
    pipelined: int = 0
    retries: int = 0
    standard_loads: int = 0
    bytes_sent: int = 0
    events: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"offered": self.offered, "negotiations": self.negotiations,
                "used": bool(self.loads or self.shifts), "loads": self.loads,
                "shifts": self.shifts, "pipelined": self.pipelined, "retries": self.retries,
                "standard_loads": self.standard_loads, "bytes_sent": self.bytes_sent}


@dataclass
class _Pending:
    """A block written ahead of its reply (pipelined behind another command)."""

    command: str
    data: bytes  # the whole window it loads
    crc: int
    written: int  # bytes on the wire for it
    stride: int | None = None


class FastLoader:
    """The fast path of one ``Dut`` (one connection)."""

    def __init__(self, dut: Dut, attempts: int = fl.ATTEMPTS):
        self.dut = dut
        self.attempts = attempts
        self.caps: fl.Caps | None = None
        self._negotiated = False
        #: what the DUT's input buffer holds (None: unknown)
        self.buffer: bytes | None = None
        #: blocks written whose replies are owed, oldest first
        self.queue: list[_Pending] = []
        self.stats = FastLoadStats()

    # -- negotiation -------------------------------------------------------------------------

    def on_reset(self) -> None:
        """The DUT rebooted: ask again, its buffer is empty, a written block is lost."""
        self._negotiated = False
        self.buffer = None
        self.queue.clear()

    def usable_for(self, size: int) -> bool:
        """Negotiate if needed; whether a block of ``size`` bytes may go the fast way."""
        if not self._negotiated:
            self.negotiate()
        return self.caps is not None and size <= self.caps.max

    def negotiate(self) -> fl.Caps | None:
        """``fl caps``: one round trip; anything but a usable caps line: standard protocol."""
        self._negotiated = True
        self.stats.negotiations += 1
        self.caps = None
        try:
            # the budget of any command: the standard firmware answers an unknown command at
            # once, so this costs nothing there, while a DUT starved of CPU (QEMU on a busy
            # host: 2.6 s seen) still gets the fast path it offers
            response = self.dut.command(fl.CMD_CAPS, self.dut.timeouts.command)
        except DutErrorReply:
            return None  # the standard firmware: e-[Unknown command: fl]
        except DutTimeout:
            self.dut.barrier()
            return None
        for line in response.lines:
            try:
                caps = fl.parse_caps(line)
            except fl.FastLoadFormatError as exc:
                self.dut.event("fast-load", f"not used: {exc}")
                return None
            if caps is not None:
                self.stats.offered = caps.as_dict()
                if caps.usable:
                    self.caps = caps
                else:
                    self.dut.event("fast-load", f"not used: unsupported offer {line!r}")
                return self.caps
        return None

    # -- loading -----------------------------------------------------------------------------

    @property
    def pending(self) -> _Pending | None:
        """The oldest block whose reply is owed."""
        return self.queue[0] if self.queue else None

    @property
    def owed_bytes(self) -> int:
        return sum(p.written for p in self.queue)

    def holds(self, data: bytes) -> bool:
        """Whether the DUT's buffer holds ``data`` (or a written block will load it)."""
        if self.queue:
            return self.queue[-1].data == data
        return self.buffer == data

    def _frame(self, data: bytes, stride: int | None) -> tuple[str, bytes, bool]:
        """(header text, bytes to write, is a shift) for loading ``data``.

        A shift only when the host knows the buffer holds the previous window and the new
        one overlaps it by ``len - stride`` bytes: the DUT's CRC then covers the whole
        window, so a wrong guess could never be inferred anyway.
        """
        caps = self.caps
        assert caps is not None
        old = self.queue[-1].data if self.queue else self.buffer
        if (stride and caps.shift and old is not None and len(old) == len(data)
                and 0 < stride <= len(data) and old[stride:] == data[:-stride]):
            header = fl.shift_header(stride, fl.crc32(data))
            return header, header.encode("ascii") + b"%" + data[-stride:], True
        header = fl.load_header(len(data), fl.crc32(data))
        return header, header.encode("ascii") + b"%" + data, False

    def _deadline(self, nbytes: int) -> float:
        """Seconds for a block's reply: its wire time, the DUT's timeout, a command's."""
        caps = self.caps
        assert caps is not None
        baud = getattr(self.dut.link, "baudrate", 0) or 9600
        return self.dut.timeouts.command + caps.tmo_us * 1e-6 + nbytes * 10.0 / baud

    def start(self, data: bytes, stride: int | None) -> None:
        """Write the block for ``data``; its reply is read by ``settle`` (by the next
        command, which may be written behind it: no idle wire)."""
        if self.queue and self.queue[-1].data == data:
            return
        while self.queue:
            self.settle()
        header, frame, shift = self._frame(data, stride)
        self.buffer = None
        self.dut.write(frame)
        self.queue.append(_Pending(header, data, fl.crc32(data), len(frame), stride))
        self._count(shift, len(frame))

    def settle(self) -> bool:
        """Read the written block's reply; on failure retry (bounded) until the buffer is
        proven. True when the first reply was good (nothing else was disturbed)."""
        if not self.queue:
            return True
        pending = self.queue.pop(0)
        failure = self._read_reply(pending.command, pending.data,
                                   self._deadline(pending.written))
        if failure is None:
            return True
        self._retry(pending.data, pending.stride, failure)
        return False

    def load(self, data: bytes, stride: int | None = None) -> None:
        """Load ``data`` now and prove it (no block left pending)."""
        self.start(data, stride)
        self.settle()

    def _retry(self, data: bytes, stride: int | None, failure: _BlockFailed) -> None:
        for attempt in range(2, self.attempts + 1):
            self._recover(failure, attempt)
            if not self.usable_for(len(data)):
                raise FastLoadWithdrawn(str(failure))
            header, frame, shift = self._frame(data, stride)
            self.dut.write(frame)
            self._count(shift, len(frame))
            found = self._read_reply(header, data, self._deadline(len(frame)))
            if found is None:
                return
            failure = found
        self.buffer = None
        raise FastLoadError(failure.command, failure.said, self.attempts)

    def _count(self, shift: bool, nbytes: int) -> None:
        if shift:
            self.stats.shifts += 1
        else:
            self.stats.loads += 1
        self.stats.bytes_sent += nbytes

    def _recover(self, failure: _BlockFailed, attempt: int) -> None:
        self.stats.retries += 1
        self.buffer = None
        self.dut.event("retry", f"fast load attempt {attempt - 1} failed ({failure}); "
                                "resynchronising")
        if failure.reset:
            self.on_reset()
        self.dut.barrier(absorb=True)

    def _read_reply(self, header: str, data: bytes, seconds: float) -> _BlockFailed | None:
        from tinyperf.harness.link.dut import DutResetError  # dut.py imports this module

        try:
            lines = self.dut.collect(header, seconds)
        except DutTimeout as exc:
            return _BlockFailed(header, f"no reply ({exc})")
        except DutResetError as exc:
            return _BlockFailed(header, f"the DUT rebooted: {exc}", reset=True)
        problem = fl.parse_block_reply(lines).problem(fl.crc32(data))
        if problem is not None:
            return _BlockFailed(header, f"{problem} (reply: {' | '.join(lines) or 'none'})")
        self.buffer = data
        return None

    # -- pipelining --------------------------------------------------------------------------

    def room(self, unanswered: int, nbytes: int) -> bool:
        """Whether ``nbytes`` more may be written behind ``unanswered`` (the DUT's RX)."""
        return self.caps is not None and unanswered + nbytes <= self.caps.rx

    def write_ahead(self, data: bytes, stride: int | None, unanswered: int) -> bool:
        """Write the block for ``data`` behind a command whose reply is not read yet, if
        the DUT's RX buffer takes both (``R``)."""
        if self.caps is None or len(data) > self.caps.max \
                or (self.queue and self.queue[-1].data == data):
            return False
        header, frame, shift = self._frame(data, stride)
        if not self.room(unanswered, len(frame)):
            return False
        self.buffer = None
        self.dut.link.write(frame)  # no stale-input drop: the command's reply is owed
        self.queue.append(_Pending(header, data, fl.crc32(data), len(frame), stride))
        self._count(shift, len(frame))
        self.stats.pipelined += 1
        return True

    def drop_pending(self) -> None:
        """A reply in the chain failed: the DUT's buffer is unknown, owed replies are lost."""
        self.queue.clear()
        self.buffer = None


class FastLoadWithdrawn(Exception):
    """After a reboot the DUT no longer offers fast load: the caller loads the standard way."""
