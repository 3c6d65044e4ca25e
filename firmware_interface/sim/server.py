"""Serve a ``VirtualDut`` on a real pty and/or a TCP socket, like a board on a serial line.

Owns the I/O around the pure core: one background thread selects on the pty master, the
listening socket, the connected client and a wake pipe; it emulates the UART's wire time in
both directions (10 bit times per byte at ``baud``), applies injected faults to responses, and
shuts down cleanly. The host reaches it through ``serial.serial_for_url(server.url)`` exactly
as it reaches a board (pty path, or ``socket://127.0.0.1:PORT``).
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import threading
import time
import tty
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyperf.formats import protocol as p
from tinyperf.formats.errors import TransportError

from .core import Delay, Response, VirtualDut
from .fast_load import FastLoadPort
from .faults import Fault, FaultPlan

log = logging.getLogger(__name__)

BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop
#: Output is paced in chunks of about this much wire time (sleep per chunk, not per byte).
_TX_CHUNK_S = 0.005
#: A pty nobody reads fills up; after this long unwritable, output is dropped like a UART's.
_WRITE_GIVE_UP_S = 2.0
_POLL_S = 0.5
#: the last stretch of a wire-time wait is spun, not slept (see ``_sleep_until``)
_SPIN_S = 0.0003
#: how long the input is polled after a reply (see ``_poll_once``); wire-paced links only
_LISTEN_S = 0.0005
#: probes of the pty's delivery time at start (the fastest counts)
_LATENCY_PROBES = 20
_JOIN_S = 5.0


@dataclass
class WireStats:
    """What the server accounted: bytes each way and the simulated wire/busy time."""

    rx_bytes: int = 0
    tx_bytes: int = 0
    rx_wire_s: float = 0.0
    tx_wire_s: float = 0.0
    dut_busy_us: int = 0
    tx_dropped: int = 0
    commands: int = 0
    #: the pty's own delivery time host -> DUT, measured at start (see ``_pty_delivery_s``)
    rx_latency_s: float = 0.0


class _Pacer:
    """Wire-time bookkeeping for one direction: when the line is free again."""

    def __init__(self, baud: int | None) -> None:
        self.byte_s = BITS_PER_BYTE / baud if baud else 0.0
        self._free_at = 0.0

    def book(self, nbytes: int, not_before: float | None = None) -> tuple[float, float]:
        """Reserve the line for ``nbytes`` from ``not_before`` (default now); return
        (wire seconds, monotonic time it ends)."""
        wire = nbytes * self.byte_s
        start = time.monotonic() if not_before is None else not_before
        self._free_at = max(self._free_at, start) + wire
        return wire, self._free_at


class SimServer:
    """A virtual DUT on a pty (``pty=True``) and/or a TCP port (``socket_port``, 0 = any).

    Use as a context manager; ``url`` is the pty slave path when a pty is served, otherwise
    the ``socket://`` URL. Socket output produced while no client is connected is discarded,
    like UART output nobody listens to; the pty buffers it (pyserial flushes it on open).
    """

    def __init__(
        self,
        dut: VirtualDut,
        *,
        pty: bool = True,
        socket_port: int | None = None,
        host: str = "127.0.0.1",
        baud: int | None = 115200,
        realtime: float = 0.0,
        faults: Iterable[Fault] | FaultPlan = (),
        boot: bool = True,
    ) -> None:
        if not pty and socket_port is None:
            raise TransportError("SimServer needs a pty, a socket port, or both")
        if realtime < 0:
            raise ValueError("realtime factor must be >= 0")
        self.dut = dut
        self.faults = faults if isinstance(faults, FaultPlan) else FaultPlan(faults)
        self.stats = WireStats()
        #: The exception that ended the serving thread, if any.
        self.error: BaseException | None = None
        self._want_pty = pty
        self._socket_port = socket_port
        self._host = host
        self._baud = baud
        self._realtime = realtime
        self._boot = boot
        self._rx = _Pacer(baud)
        self._tx = _Pacer(baud)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._pty_path: str | None = None
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self._wake_r, self._wake_w = -1, -1
        self._pending = bytearray()  # received bytes of a command not yet ended by '%'
        # When the DUT has the current command on its pin: its answer cannot start earlier.
        # Booking the answer from this ideal time (not from after a sleep) means one sleep
        # per round trip, so scheduler overshoot is not paid twice.
        self._ready_at = 0.0
        self._frozen = False  # a ``freeze`` fault fired: no more answers
        # ``fl`` blocks (docs/fast_load.md): the receive-gap deadline (host clock: the
        # bytes come from the host's pty), the block the data faults belong to, and bytes
        # an ``rx_stall`` holds back until ``_held_until``.
        self._rx_deadline: float | None = None
        self._block: object | None = None
        self._block_faults: list[Fault] = []
        self._block_pos = 0
        self._held = bytearray()
        self._held_until: float | None = None
        # after a reply, poll for the next command until then (see ``_poll_once``)
        self._listen_until = 0.0
        # bytes read while a reply was being paced out (the wire is full duplex)
        self._early: list[tuple[bytes, float]] = []
        # what the pty adds before the host's bytes can be read (see ``_pty_delivery_s``)
        self._rx_latency = 0.0

    # -- addresses -----------------------------------------------------------------------

    @property
    def pty_path(self) -> str | None:
        return self._pty_path

    @property
    def port(self) -> int | None:
        return self._listener.getsockname()[1] if self._listener else None

    @property
    def socket_url(self) -> str | None:
        return f"socket://{self._host}:{self.port}" if self._listener else None

    @property
    def url(self) -> str:
        """What to pass to ``serial.serial_for_url``: the pty path first, else the socket."""
        url = self._pty_path or self.socket_url
        if url is None:
            raise TransportError("SimServer is not started")
        return url

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> SimServer:
        """Open the endpoints, boot the DUT (banner on the line) and start serving."""
        if self._thread is not None:
            return self
        try:
            self._open_endpoints()
        except OSError as exc:
            self._close_fds()
            raise TransportError(f"cannot open virtual DUT endpoints: {exc}") from exc
        if self._master is not None and self._slave is not None and self._rx.byte_s:
            self._rx_latency = _pty_delivery_s(self._master, self._slave)
            self.stats.rx_latency_s = self._rx_latency
        if self._boot:
            self._send_lines(self.dut.boot())
        self._thread = threading.Thread(target=self._serve, name="virtual-dut", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread (interrupting any stall or pacing sleep) and close every fd."""
        self._stop.set()
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(_JOIN_S)
            if self._thread.is_alive():  # pragma: no cover - would be a bug in _serve
                log.error("virtual DUT thread did not stop within %.1f s", _JOIN_S)
            self._thread = None
        self._close_fds()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open_endpoints(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        if self._want_pty:
            self._master, self._slave = os.openpty()
            # Raw slave: no echo (it would feed our output back as commands), no CR/LF mapping.
            tty.setraw(self._slave)
            os.set_blocking(self._master, False)
            self._pty_path = os.ttyname(self._slave)
        if self._socket_port is not None:
            self._listener = socket.create_server((self._host, self._socket_port))

    def _close_fds(self) -> None:
        for sock in (self._client, self._listener):
            if sock is not None:
                sock.close()
        self._client = self._listener = None
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None
        self._wake_r = self._wake_w = -1

    # -- serving loop --------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while not self._stop.is_set():
                self._poll_once()
        except Exception as exc:  # the thread must not die silently: keep it for the owner
            self.error = exc
            log.exception("virtual DUT stopped")

    def _poll_once(self) -> None:
        readers: list[Any] = [self._wake_r]
        readers += [x for x in (self._master, self._listener, self._client) if x is not None]
        now = time.monotonic()
        timeout = _POLL_S
        for when in (self._rx_deadline, self._held_until):
            if when is not None:
                timeout = min(timeout, max(0.0, when - now))
        ready: list[Any] = []
        if time.monotonic() < self._listen_until:
            # right after a reply the host's next command is due in ~0.1 ms: polled, not
            # slept on, so a scheduler wake-up is not added to every round trip
            while not ready and time.monotonic() < self._listen_until:
                ready, _, _ = select.select(readers, [], [], 0)
                if not ready:  # the pty's kernel worker may need this CPU to deliver
                    os.sched_yield()
        if not ready:
            ready, _, _ = select.select(readers, [], [], timeout)
        self._listen_until = 0.0
        for source in ready:
            if source == self._wake_r or self._stop.is_set():
                return
            if source is self._listener:
                self._accept()
            elif source is self._client:
                self._read_client()
            elif source == self._master:
                self._read_pty()
        self._drain_early()
        now = time.monotonic()
        if self._held_until is not None and now >= self._held_until:
            held, self._held, self._held_until = bytes(self._held), bytearray(), None
            self._receive(held, counted=True)
        if not ready and self._rx_deadline is not None and now >= self._rx_deadline:
            # no data byte for the DUT's receive timeout: the block ends with an error
            self._rx_deadline = None
            if self._receiving:
                self._ready_at = now
                self._respond(self.dut.receive_timeout())

    def _accept(self) -> None:
        assert self._listener is not None
        conn, _addr = self._listener.accept()
        if self._client is not None:  # one host at a time, like a UART: the newest wins
            self._client.close()
        conn.settimeout(_WRITE_GIVE_UP_S)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client = conn

    def _read_client(self) -> None:
        assert self._client is not None
        try:
            data = self._client.recv(4096)
        except OSError:
            data = b""
        if not data:
            self._client.close()
            self._client = None
            return
        self._receive(data)

    def _read_pty(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:  # no slave open; cannot happen while we hold one
                return
            raise
        self._receive(data, arrived=time.monotonic() - self._rx_latency)

    # -- receive: wire time, then the DUT ----------------------------------------------

    def _receive(self, data: bytes, counted: bool = False,
                 arrived: float | None = None) -> None:
        if not counted:
            self.stats.rx_bytes += len(data)
        if self._held_until is not None:  # an rx_stall: later bytes queue behind
            self._held.extend(data)
            return
        # every piece of this read was on the wire from its arrival (a pty read: less the
        # pty's own delivery, see ``_pty_delivery_s``): booked from then, not after the
        # replies to the earlier pieces (a UART receives while it transmits)
        arrived = time.monotonic() if arrived is None else arrived
        pieces = _split_commands(data)
        for k, piece in enumerate(pieces):
            wire, done_at = self._rx.book(len(piece), not_before=arrived)
            self.stats.rx_wire_s += wire
            # The last byte of this piece is on the DUT's pin only after its wire time;
            # the answer is booked from then and the one sleep happens before sending it.
            self._ready_at = done_at
            held = self._feed(piece)
            if held is not None:
                self._held = bytearray(held + b"".join(pieces[k + 1:]))
                return
            self._rx_deadline = None
            fast = self._fast
            if fast is not None and fast.block is not None:
                self._rx_deadline = done_at + fast.timeout_us * 1e-6

    @property
    def _fast(self) -> FastLoadPort | None:
        """The DUT's ``fl`` support (None: the standard firmware, or a board's parser)."""
        return getattr(self.dut, "fast", None)

    @property
    def _receiving(self) -> bool:
        return self._fast is not None and self._fast.block is not None

    def _feed(self, piece: bytes) -> bytes | None:
        """Give ``piece`` to the DUT, through the data faults of its ``fl`` block; return
        the bytes an ``rx_stall`` holds back (None: all were fed)."""
        i = 0
        while i < len(piece):
            if not (self._block_faults and self._receiving):
                self._feed_dut(piece[i:])
                return None
            byte, pos = piece[i : i + 1], self._block_pos
            due = {f.kind: f for f in self._block_faults if f.position == pos}
            if "rx_stall" in due:
                self._block_faults.remove(due["rx_stall"])
                self._held_until = time.monotonic() + due["rx_stall"].seconds
                return piece[i:]
            if "rx_reset" in due:
                self._block_faults = []
                self._send_lines(self.dut.reset())
                continue  # this byte and the rest go to the rebooted parser
            i += 1
            self._block_pos += 1
            if "rx_drop" in due:
                continue
            if "rx_garble" in due:
                byte = bytes([byte[0] ^ 0xFF])
            self._feed_dut(byte * (2 if "rx_dup" in due else 1))
        return None

    def _feed_dut(self, data: bytes) -> None:
        for response in self.dut.feed_responses(data):
            self._respond(response)
        block = self._fast.block if self._fast is not None else None
        if block is not None and block is not self._block:  # a new ``fl`` block began
            self._block, self._block_pos = block, 0
            self._block_faults = self.faults.on_block()

    def _respond(self, response: Response) -> None:
        self.stats.commands += 1
        if self._frozen:
            return
        due = self.faults.on_command(response.verb)
        events = list(response.events)
        freeze = next((f for f in due if f.kind == "freeze"), None)
        if freeze is not None:  # the first ``line`` lines, then silence for good
            self._frozen = True
            kept: list[str | Delay] = []
            for event in events:
                if isinstance(event, str):
                    if sum(isinstance(e, str) for e in kept) >= freeze.line:
                        break
                kept.append(event)
            self._play(kept)
            return
        for fault in due:
            if fault.kind == "stall":
                self._stop.wait(fault.seconds)
                self._ready_at = time.monotonic()
                if not fault.respond or self._stop.is_set():
                    return
        for fault in due:
            if fault.kind == "garbage":
                self._send(fault.garbage_bytes())
            elif fault.kind == "reset":
                events = list(self.dut.reset())
            elif fault.kind == "error_line":
                events.insert(len(events) - 1, p.msg_error(fault.text))
            elif fault.kind == "drop_chars":
                events = _damage_lines(events, fault)
        self._play(events)

    def _play(self, events: list[str | Delay]) -> None:
        lines: list[str] = []
        for event in events:
            if isinstance(event, Delay):
                self.stats.dut_busy_us += event.us
                if self._realtime > 0:
                    self._send_lines(lines)
                    lines = []
                    self._stop.wait(event.us * 1e-6 * self._realtime)
                    self._ready_at = time.monotonic()
            else:
                lines.append(event)
        self._send_lines(lines)

    # -- transmit: paced chunks to every endpoint --------------------------------------

    def _send_lines(self, lines: list[str]) -> None:
        if lines:
            self._send("".join(line + p.LINE_END for line in lines).encode("utf-8"))

    def _send(self, data: bytes) -> None:
        chunk = len(data) if not self._tx.byte_s else max(1, int(_TX_CHUNK_S / self._tx.byte_s))
        for start in range(0, len(data), chunk):
            part = data[start : start + chunk]
            wire, done_at = self._tx.book(len(part), not_before=self._ready_at)
            self.stats.tx_wire_s += wire
            self._sleep_until(done_at)  # bytes reach the host when their wire time is over
            if self._stop.is_set():
                return
            self._write_all(part)

    def _write_all(self, data: bytes) -> None:
        self.stats.tx_bytes += len(data)
        if self._tx.byte_s:
            self._listen_until = time.monotonic() + _LISTEN_S
        if self._master is not None:
            self._write_pty(data)
        if self._client is not None:
            try:
                self._client.sendall(data)
            except OSError:
                self._client.close()
                self._client = None

    def _write_pty(self, data: bytes) -> None:
        assert self._master is not None
        view = memoryview(data)
        deadline = time.monotonic() + _WRITE_GIVE_UP_S
        while view and not self._stop.is_set():
            try:
                view = view[os.write(self._master, view) :]
                continue
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline:
                self.stats.tx_dropped += len(view)
                return
            select.select([], [self._master], [], 0.05)

    def _sleep_until(self, when: float) -> None:
        """Wait while a reply is on the wire, reading what the host sends meanwhile (a UART
        receives while it transmits); those bytes are processed after this reply."""
        while not self._stop.is_set():
            delay = when - time.monotonic()
            if delay <= 0:
                return
            if delay < _SPIN_S:
                # a timed sleep wakes ~50-100 µs late (timer slack); at 921600 baud that is
                # the size of a whole reply, so the last stretch is spun (bounded, short)
                while time.monotonic() < when:
                    pass
                return
            fds = [x for x in (self._master, self._client) if x is not None]
            ready, _, _ = select.select([self._wake_r, *fds], [], [], delay - _SPIN_S)
            if self._wake_r in ready:
                return
            for source in ready:
                data = self._read_now(source)
                if data:
                    late = self._rx_latency if source == self._master else 0.0
                    self._early.append((data, time.monotonic() - late))

    def _read_now(self, source: Any) -> bytes:
        try:
            if source == self._master:
                return os.read(source, 4096)
            data = source.recv(4096)
        except OSError:  # EAGAIN, or EIO with no slave: nothing to read now
            return b""
        if not data:  # the socket client left
            source.close()
            self._client = None
        return data

    def _drain_early(self) -> None:
        while self._early:
            data, arrived = self._early.pop(0)
            self._receive(data, arrived=arrived)


def _pty_delivery_s(master: int, slave: int) -> float:
    """The least time a byte written on the pty's host side takes to be readable here.

    A UART's wire time starts when the host writes; the virtual DUT sees the bytes only
    after the pty hands them over (the writer's system call, a kernel worker, this side's
    poll: 10-15 µs here). Booking the wire from the moment of reading added that to every
    command, which a UART does not have; the fastest of a few probes is subtracted instead
    (a lower bound of each delivery in a run, which also includes the DUT's read and
    dispatch: the booking stays at or after the host's write).
    Measured before the host can have the pty open; 0.0 if a probe is not delivered.
    """
    fastest = float("inf")
    for _ in range(_LATENCY_PROBES):
        start = time.monotonic()
        os.write(slave, b"\0")
        while not select.select([master], [], [], 0)[0]:
            if time.monotonic() - start > _POLL_S:  # a stalled machine: no correction
                fastest = 0.0
                select.select([master], [], [], _JOIN_S)  # then take the byte if it comes
                break
        else:
            fastest = min(fastest, time.monotonic() - start)
        while True:  # the probe byte is not input for the DUT
            try:
                os.read(master, 4096)
            except BlockingIOError:
                break
        if not fastest:
            break
    return fastest


def _split_commands(data: bytes) -> list[bytes]:
    """Cut received bytes after each ``%`` so every command is timed and answered in turn."""
    pieces = []
    start = 0
    while True:
        end = data.find(p.COMMAND_END, start)
        if end < 0:
            break
        pieces.append(data[start : end + 1])
        start = end + 1
    if start < len(data):
        pieces.append(data[start:])
    return pieces


def _damage_lines(events: list[str | Delay], fault: Fault) -> list[str | Delay]:
    texts = [e for e in events if isinstance(e, str)]
    damaged = iter(fault.damage(texts))
    return [next(damaged) if isinstance(e, str) else e for e in events]


def pty_available() -> bool:
    """Whether this platform can open a pty (POSIX with /dev/ptmx)."""
    return hasattr(os, "openpty") and Path("/dev/ptmx").exists()


def serve_model(model_id: str, *, server_kwargs: dict[str, Any] | None = None,
                **dut_kwargs: Any) -> SimServer:
    """A not-yet-started ``SimServer`` around ``make_virtual_dut(model_id, **dut_kwargs)``."""
    from .model import make_virtual_dut  # the interpreter stack only when a model is wanted

    return SimServer(make_virtual_dut(model_id, **dut_kwargs), **(server_kwargs or {}))
