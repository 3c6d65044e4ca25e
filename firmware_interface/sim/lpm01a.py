"""A fake ST LPM01A (PowerShield) on a real pty, measuring the virtual DUT's power model.

It speaks the board's serial protocol (``tinyperf.formats.lpm01a_protocol``): prompt-prefixed
``ack``/``error`` replies to the command set, and while acquiring, energy samples
(``DDDD±EE`` J per period) at the configured rate of *simulated* time, an ``event NN ris``
line at each falling edge of the DUT's timestamp pin (after the samples that precede it),
a ``TimeStamp:`` line every second of samples, and ``Acquisition completed`` after
``stop``. The monitor's clock starts at ``start`` on the DUT clock it is given; samples
are produced up to that clock's present, on a timer and whenever ``catch_up`` is called
(the fake interface board calls it before relaying a DUT answer, as a real monitor's
data would already be on the wire by then).

Faults as data: ``drop`` (sample index ranges never sent, caught by the TimeStamp
check), ``drift_ppm`` (monitor clock vs DUT clock), ``event_word`` (``ris``/``fal``).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from collections.abc import Sequence

from tinyperf.formats import lpm01a_protocol as lp

from .clock import SimClock
from .power import EDGE_EPS, MonitorView, PowerModel

log = logging.getLogger(__name__)

_TICK_S = 0.02
_WRITE_GIVE_UP_S = 5.0
_FREQS = {"100k": 100_000, "50k": 50_000, "20k": 20_000, "10k": 10_000, "5k": 5000,
          "2k": 2000, "1k": 1000, "500": 500, "200": 200, "100": 100, "50": 50, "20": 20,
          "10": 10, "5": 5, "2": 2, "1": 1}
_SIMPLE = ("htc", "hrc", "lcd", "acqtime", "trigdelay", "trigsrc", "acqmode", "funcmode",
           "format", "pwrend", "temp", "calib", "currthres", "targrst")


class FakeLpm01a:
    """An LPM01A on a pty whose DUT is ``model`` running on ``clock``."""

    def __init__(self, model: PowerModel, clock: SimClock, *, drift_ppm: float = 0.0,
                 drop: Sequence[tuple[int, int]] = (), event_word: str = "ris",
                 max_chunk: int = 4096):
        self.model = model
        self.clock = clock
        self.drift_ppm = drift_ppm
        self.drop = [(int(a), int(a) + int(n)) for a, n in drop]
        self.event_word = event_word
        self.max_chunk = max_chunk
        self.fs = lp.SAMPLE_RATE_HZ
        self.output = "energy"
        self.powered = False
        self.acquiring = False
        self.commands: list[str] = []
        self._view = MonitorView()
        self._emitted = 0  # monitor samples produced (sent or dropped) since start
        self._events = 0
        self._edges_sent: set[float] = set()  # DUT µs of the edges already reported
        self._io = threading.RLock()
        self._stop = threading.Event()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.url = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="fake-lpm01a", daemon=True)
        self.error: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeLpm01a:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(5.0)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> FakeLpm01a:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- serving -----------------------------------------------------------------------------

    def _serve(self) -> None:
        pending = b""
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self._master, self._wake_r], [], [], _TICK_S)
                if self._master in ready:
                    try:
                        pending += os.read(self._master, 4096)
                    except BlockingIOError:
                        pass
                    *lines, pending = pending.split(b"\n")
                    for raw in lines:
                        self._command(raw.decode("ascii", "replace").strip("\r\0 "))
                if self.acquiring:
                    self.catch_up()
        except Exception as exc:  # kept for the test that owns us
            self.error = exc
            log.exception("fake LPM01A stopped")

    def _write_lines(self, lines: Sequence[str]) -> None:
        if lines:
            self._write("".join(line + lp.LINE_END for line in lines).encode("ascii"))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + _WRITE_GIVE_UP_S
        while view and not self._stop.is_set():
            try:
                view = view[os.write(self._master, view):]
                continue
            except BlockingIOError:
                pass
            if time.monotonic() > deadline:
                log.warning("fake LPM01A: host not reading, %d bytes dropped", len(view))
                return
            select.select([], [self._master], [], 0.01)

    # -- commands ----------------------------------------------------------------------------

    def _command(self, text: str) -> None:
        if not text:
            return
        self.commands.append(text)
        words = text.split()
        verb, args = words[0], words[1:]
        with self._io:
            if verb == "stop":
                self._stop_acquisition(text)
                return
            reply = self._reply(verb, args, text)
            self._write_lines(reply)

    def _reply(self, verb: str, args: list[str], text: str) -> list[str]:
        if verb in _SIMPLE or (verb == "eventsrc" and args[-1:] in (["fal"], ["ris"])):
            return [lp.format_ack(text)]
        if verb == "powershield":
            return [lp.format_ack("powershield 00000000SIM")]
        if verb == "version":
            return [lp.format_ack("version 1.0.6")]
        if verb == "status":
            return [lp.format_ack("status ok")]
        if verb == "volt":
            return self._volt(args, text)
        if verb == "freq" and args and args[0] in _FREQS:
            self.fs = _FREQS[args[0]]
            return [lp.format_ack(text)]
        if verb == "output" and args in (["energy"], ["current"]):
            self.output = args[0]
            return [lp.format_ack(text)]
        if verb == "pwr" and args and args[0] in ("on", "off"):
            self.powered = args[0] == "on"
            return [lp.format_ack(text)]
        if verb == "start":
            self._start_acquisition()
            return [lp.format_ack(text)]
        return lp.format_error(text, "unknown command or bad argument")

    def _volt(self, args: list[str], text: str) -> list[str]:
        if args == ["get"]:
            return [lp.format_ack(f"volt get {lp.format_sample(self.model.voltage)}")]
        volts = lp.parse_volt(args[0]) if args else None
        if volts is None or not lp.MIN_MV <= round(volts * 1000) <= lp.MAX_MV:
            return lp.format_error(text, "voltage out of range 1800m..3300m")
        self.model.voltage = volts
        return [lp.format_ack(text)]

    # -- acquisition -------------------------------------------------------------------------

    def _start_acquisition(self) -> None:
        with self.model.lock:
            self._view = MonitorView(float(self.clock.now_us()), self.drift_ppm)
        self._emitted = 0
        self._events = 0
        self._edges_sent = set()
        self.acquiring = True

    def _stop_acquisition(self, text: str) -> None:
        if self.acquiring:
            self.catch_up()
            self.acquiring = False
        self._write_lines([lp.format_ack(text), lp.ACQUISITION_COMPLETED])

    def catch_up(self) -> None:
        """Send every sample (and event, tick) of monitor time up to the DUT's present."""
        with self._io:
            if not self.acquiring:
                return
            with self.model.lock:
                horizon = float(self._view.to_monitor_s(self.clock.now_us()))
                target = int(horizon * self.fs + EDGE_EPS)
                while self._emitted < target:
                    n0 = self._emitted
                    n1 = min(target, n0 + self.max_chunk)
                    lines = self._render(n0, n1)
                    self._emitted = n1
                    self._write_lines(lines)
                # an edge that already happened is reported now, after the samples sent
                # so far, even when the sample it falls in is not complete yet
                self._write_lines(self._event_lines(self._emitted, self._emitted + 1))

    def _render(self, n0: int, n1: int) -> list[str]:
        if self.output == "energy":
            values = self.model.energy_samples(n0, n1, self.fs, self._view)
        else:
            values = self.model.current_samples(n0, n1, self.fs, self._view)
        if not self.powered:
            values = values * 0.0
        events: dict[int, int] = {}
        for k, us in self.model.edge_samples(n0, n1, self.fs, self._view):
            if us not in self._edges_sent:
                self._edges_sent.add(us)
                events[k] = events.get(k, 0) + 1
        lines: list[str] = []
        for k in range(n0, n1):
            for _ in range(events.get(k, 0)):
                lines.append(lp.format_event(self._events, self.event_word))
                self._events += 1
            if not any(a <= k < b for a, b in self.drop):
                lines.append(lp.format_sample(float(values[k - n0])))
            if (k + 1) % self.fs == 0:
                lines.append(lp.format_timestamp((k + 1) * 1000 // self.fs))
        return lines

    def _event_lines(self, n0: int, n1: int) -> list[str]:
        """Event lines for edges in samples ``n0 .. n1-1`` that happened and are not sent."""
        now = self.clock.now_us()
        lines = []
        for _k, us in self.model.edge_samples(n0, n1, self.fs, self._view):
            if us <= now and us not in self._edges_sent:
                self._edges_sent.add(us)
                lines.append(lp.format_event(self._events, self.event_word))
                self._events += 1
        return lines
