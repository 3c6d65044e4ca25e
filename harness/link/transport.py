"""A line link to a device over any pyserial URL, with deadlines and a raw tap.

``serial.serial_for_url`` gives device paths (``/dev/ttyACM0``, ``COM5``), ``socket://``,
``rfc2217://`` and ``loop://`` for free. Reads are chunked: when the port has a file
descriptor we wait on it with ``select`` and then take everything available in one read;
otherwise one blocking byte is read and the rest that is waiting follows in one call.

On a local serial device the wait for an answer is sleep-then-poll: the reader sleeps in
``select`` while its own write is still on the wire and polls only around the earliest time
an answer can arrive (``_POLL_LEAD_S`` .. ``_POLL_BUDGET_S``, bounded per read). A thread
woken from a millisecond's sleep costs 15-40 µs, at times ~0.5 ms (CPU idle exit, a VM's
halted vCPU): at 921600 baud that was a fifth of the standard protocol's overhead per
``db`` round trip (docs/fast_load.md, "The standard path's round trip").
"""

from __future__ import annotations

import logging
import os
import re
import select
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

import serial
import serial.rfc2217
from tinyperf.formats.errors import TransportError
from tinyperf.formats.protocol import clean_line
from tinyperf.harness.link.timeouts import Deadline

try:  # POSIX serial devices (ttys, ptys) only; Windows has no such class
    from serial.serialposix import Serial as _PosixSerial
except ImportError:  # pragma: no cover - not POSIX
    _PosixSerial = None

#: ``tap(direction, data, monotonic_time)``; direction is ``"tx"`` or ``"rx"``.
Tap = Callable[[str, bytes, float], None]

_READ_SIZE = 65536
_EOL = re.compile(rb"[\r\n]")
#: 8N1: start + 8 data + stop bits per byte
_BITS_PER_BYTE = 10
#: the shortest answer line a device sends (``m-ready\r\n`` is 9 bytes): an answer cannot
#: be complete before the write and this many bytes have passed the wire
_SHORT_LINE_BYTES = 8
#: polling starts this long before that earliest time (scheduler and driver jitter) ...
_POLL_LEAD_S = 0.0002
#: ... and lasts at most this long per read; then the reader sleeps in ``select`` again
_POLL_BUDGET_S = 0.0006


class LineLink(Protocol):
    """What the DUT client needs from a link: write bytes, read lines with a deadline."""

    url: str

    def write(self, data: bytes) -> None: ...

    def readline(self, deadline: Deadline) -> str | None: ...

    def discard_input(self) -> list[str]: ...

    def close(self) -> None: ...


class _Rfc2217Serial(serial.rfc2217.Serial):
    """pyserial's RFC 2217 client whose read timeout is a local setting.

    Upstream, setting ``timeout`` renegotiates every port option with the server, and each
    read sets it. The modem lines are left as the server's open of the port set them (Linux
    raises DTR/RTS on open): ser2net cannot set them on a pty and never answers, which made
    every open fail after 3 s; the harness does not drive them.
    """

    def _update_dtr_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass

    @property
    def timeout(self) -> float | None:
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        if value is not None and value < 0:
            raise ValueError(f"Not a valid timeout: {value!r}")
        self._timeout = value


class SerialLink:
    """A ``LineLink`` over ``serial.serial_for_url``.

    Lines end at CR, LF or CRLF; NUL and 0xff are dropped (see ``protocol.clean_line``).
    Every byte in both directions goes to the taps before anything else happens to it.
    """

    def __init__(self, url: str, baudrate: int = 115200, *, write_timeout: float = 10.0,
                 open_timeout: float = 5.0):
        self.url = url
        self.baudrate = baudrate
        self._taps: list[Tap] = []
        self._pending = bytearray()
        self._lines: deque[bytes] = deque()
        self.bytes_tx = 0
        self.bytes_rx = 0
        self.log = logging.getLogger(f"{__name__}.SerialLink[{url}]")
        try:
            if url.startswith("rfc2217://"):
                # no write timeout there (pyserial refuses one); its socket has a 5 s timeout
                self._ser = _Rfc2217Serial(None, baudrate=baudrate, timeout=0)
                self._ser.port = url
            else:
                self._ser = serial.serial_for_url(
                    url, baudrate=baudrate, timeout=0, write_timeout=write_timeout,
                    do_not_open=True)
            if url.startswith("socket://"):
                self._ser.timeout = open_timeout
            self._ser.open()
            self._ser.timeout = 0
        except (serial.SerialException, ValueError, OSError) as exc:
            raise TransportError(f"cannot open: {exc}", url=url) from exc
        self._fd = self._fileno()
        #: a local serial device (tty, pty): ``os.write``/``os.read`` on its fd (see
        #: ``write`` and ``_read_chunk``)
        posix = _PosixSerial is not None and isinstance(self._ser, _PosixSerial)
        self._direct_fd = self._fd if posix else None
        #: wire seconds per byte at ``baudrate`` (a pty or USB CDC port ignores the rate:
        #: answers then come earlier, and ``select`` returns as soon as they do)
        self._byte_s = _BITS_PER_BYTE / baudrate if baudrate > 0 else 0.0
        #: when our last write has left the wire, at the earliest (monotonic)
        self._wire_free_at = 0.0

    def _fileno(self) -> int | None:
        try:
            fd = self._ser.fileno()
        except (AttributeError, NotImplementedError, OSError, serial.SerialException):
            return None
        return fd if isinstance(fd, int) and fd >= 0 else None

    # -- taps -------------------------------------------------------------------------------

    def add_tap(self, tap: Tap) -> None:
        """Record raw traffic (both directions) with ``tap``."""
        self._taps.append(tap)

    def remove_tap(self, tap: Tap) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    def _emit(self, direction: str, data: bytes) -> None:
        if self._taps:
            now = time.monotonic()
            for tap in self._taps:
                tap(direction, data, now)

    # -- I/O --------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write all of ``data`` (bounded by the port's write timeout)."""
        self._emit("tx", data)
        rest = data
        try:
            if self._direct_fd is not None:
                # pyserial's write() selects on the fd after every write even when all of it
                # went out: ~50 µs of a ~1 ms round trip at 921600 baud. A complete write
                # is done; only a partial one goes on through pyserial (write timeout).
                try:
                    rest = data[os.write(self._direct_fd, data):]
                except BlockingIOError:
                    pass
            # no flush()/tcdrain: the write is handed to the driver, and waiting for the
            # answer already proves the bytes went out; draining would add a round trip
            written = self._ser.write(rest) if rest else 0
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"write failed: {exc}", url=self.url) from exc
        if rest and written is not None and written != len(rest):
            raise TransportError(f"short write: {len(data) - len(rest) + written} of "
                                 f"{len(data)} bytes", url=self.url)
        self.bytes_tx += len(data)
        now = time.monotonic()
        self._wire_free_at = max(now, self._wire_free_at) + len(data) * self._byte_s

    def _poll_window(self, timeout: float) -> bool:
        """Sleep until an answer to the last write can be near, then poll for it (bounded).

        True: input is waiting. False: none yet; the caller goes on waiting in ``select``.
        Nothing is added to a wait: the sleep ends as soon as input arrives.
        """
        assert self._direct_fd is not None
        fds = [self._direct_fd]
        now = time.monotonic()
        start = self._wire_free_at + _SHORT_LINE_BYTES * self._byte_s - _POLL_LEAD_S
        end = min(now + timeout, start + _POLL_BUDGET_S)
        if start >= end:  # not due before the caller's timeout: no polling at all
            return False
        if start > now and select.select(fds, [], [], start - now)[0]:
            return True
        while time.monotonic() < end:
            if select.select(fds, [], [], 0)[0]:
                return True
            # the kernel thread that hands the device's bytes to us may be waiting for
            # this CPU: give it the CPU rather than spin in its way
            os.sched_yield()
        return False

    def _read_chunk(self, timeout: float) -> bytes:
        try:
            if self._fd is not None:
                polled = False
                if timeout > 0 and self._direct_fd is not None:
                    until = time.monotonic() + timeout
                    polled = self._poll_window(timeout)
                    timeout = max(0.0, until - time.monotonic())
                if not polled:
                    ready, _, _ = select.select([self._fd], [], [], timeout)
                    if not ready:
                        return b""
                if self._direct_fd is not None:
                    # one read: pyserial's read() would select twice more around it
                    data = os.read(self._direct_fd, _READ_SIZE)
                    if not data:  # readable but empty: what pyserial reports as gone
                        raise TransportError("device disconnected (readable, no data)",
                                             url=self.url)
                else:
                    data = self._ser.read(_READ_SIZE)  # timeout is 0: takes what is there
            else:
                self._ser.timeout = timeout
                data = self._ser.read(1)
                waiting = self._ser.in_waiting if data else 0
                if waiting:
                    data += self._ser.read(waiting)
                self._ser.timeout = 0
        except BlockingIOError:
            data = b""
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"read failed: {exc}", url=self.url) from exc
        if data:
            self._emit("rx", data)
            self.bytes_rx += len(data)
        return data

    def _split(self, data: bytes) -> None:
        # CR, LF and CRLF all end a line (some ports print CR only); the empty pieces
        # between CR and LF are dropped here, blank lines of junk bytes by ``readline``.
        if not data:
            return
        if self._pending:
            self._pending.extend(data)
            data = bytes(self._pending)
        *complete, rest = _EOL.split(data)
        self._lines.extend(filter(None, complete))
        self._pending = bytearray(rest)

    def readline(self, deadline: Deadline) -> str | None:
        """Next non-empty line (cleaned), or ``None`` when ``deadline`` passes first."""
        while True:
            while self._lines:
                line = clean_line(self._lines.popleft())
                if line:
                    return line
            remaining = deadline.remaining
            if remaining <= 0:
                return None
            self._split(self._read_chunk(remaining))

    def discard_input(self) -> list[str]:
        """Drop whatever is pending (stale boot lines, 0xff after reset) and return it."""
        stale: list[str] = []
        self._split(self._read_chunk(0.0))
        if not self._lines and not self._pending:  # the usual case: nothing stale
            return stale
        while self._lines:
            line = clean_line(self._lines.popleft())
            if line:
                stale.append(line)
        leftover = clean_line(bytes(self._pending))
        if leftover:
            stale.append(leftover)
        self._pending.clear()
        return stale

    def close(self) -> None:
        try:
            self._ser.close()
        except (serial.SerialException, OSError):  # closing a dead port is not an error
            pass

    def __enter__(self) -> SerialLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_link(url: str, baudrate: int = 115200) -> SerialLink:
    """Open a link to ``url`` (a device path or any pyserial URL)."""
    return SerialLink(url, baudrate)
