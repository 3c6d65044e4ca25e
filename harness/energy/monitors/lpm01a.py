"""ST X-NUCLEO-LPM01A (PowerShield) over its serial protocol, in ``output energy`` mode.

One background thread reads the port for the whole session and sorts every line: energy
samples, ``TimeStamp:`` ticks and ``event NN ris|fal`` lines feed the acquisition, the
rest (acks, errors, ``Acquisition completed``) goes to the command side. Every wait has
a deadline, ``stop`` included (the reference runner waits for ever there).

Samples count only after the board's ``ack start``: a monitor left acquiring by a killed
run may still have its old stream in flight when a resumed run starts a new one.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from typing import Any

import numpy as np
from tinyperf.formats import lpm01a_protocol as lp
from tinyperf.formats.errors import TransportError
from tinyperf.harness.energy.capture import Capture, Edge
from tinyperf.harness.energy.errors import MonitorError
from tinyperf.harness.energy.integrate import Accuracy
from tinyperf.harness.link.timeouts import Deadline
from tinyperf.harness.link.transport import SerialLink

from . import register

#: UM2243: about 2 % in dynamic mode; no offset figure is published for energy output.
ACCURACY = Accuracy(gain_rel=0.02, note="UM2243 dynamic mode, ~2 % of reading")


class _Acquisition:
    """What the reader thread has collected since ``start`` (guarded by ``lock``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[float] = []
        self.events: list[tuple[str, int, str]] = []  # (id, samples before it, ris|fal)
        self.ticks: list[tuple[int, int]] = []  # (ms, samples before it)
        self.completed = threading.Event()
        self.active = False
        self.arming = False  # ``start`` sent: become active at its ack


class Lpm01aMonitor:
    """``EnergyMonitor`` for an LPM01A on ``port`` (device path or pyserial URL)."""

    name = "lpm01a"
    accuracy = ACCURACY
    #: ``sync(edges=...)`` stops waiting after this long without a new sample.
    QUIET_S = 1.0

    def __init__(self, port: str, *, baud: int = lp.BAUD, timeout: float = 3.0,
                 settle_s: float = 0.15, stop_timeout: float = 10.0,
                 event_falling: bool = True):
        self.port = port
        self.timeout = timeout
        self.settle_s = settle_s
        self.stop_timeout = stop_timeout
        self.event_falling = event_falling
        self.voltage: float | None = None
        self.log = logging.getLogger(f"{__name__}.Lpm01aMonitor[{port}]")
        try:
            self.link = SerialLink(port, baud)
        except TransportError as exc:
            raise MonitorError(str(exc), self.name) from exc
        self._replies: queue.Queue[str] = queue.Queue()
        self._acq = _Acquisition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read_loop, name="lpm01a-reader",
                                        daemon=True)
        self.reader_error: BaseException | None = None
        self._thread.start()

    # -- reader thread -----------------------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            while not self._stop.is_set():
                line = self.link.readline(Deadline(0.2))
                if line is not None:
                    self._sort(lp.strip_prompt(line))
        except Exception as exc:  # kept for the command side, which reports it
            self.reader_error = exc
            self._replies.put("")

    def _sort(self, line: str) -> None:
        if not line:
            return
        acq = self._acq
        values = lp.parse_samples(line)
        if values is not None:
            with acq.lock:
                if acq.active:
                    acq.samples.extend(values)
            return
        ms = lp.parse_timestamp(line)
        event = lp.parse_event(line) if ms is None else None
        with acq.lock:
            if ms is not None and acq.active:
                acq.ticks.append((ms, len(acq.samples)))
                return
            if event is not None and acq.active:
                acq.events.append((event.label, len(acq.samples), event.word))
                return
        if ms is not None or event is not None:
            return
        if line.startswith(lp.ACQUISITION_COMPLETED):
            acq.completed.set()
        ack = lp.parse_ack(line)
        if ack is not None and ack[0] and ack[1].split()[:1] == ["start"]:
            with acq.lock:
                if acq.arming:
                    acq.arming, acq.active = False, True
        self._replies.put(line)

    # -- commands ----------------------------------------------------------------------------

    def command(self, text: str, timeout: float | None = None) -> list[str]:
        """Send one command; return the lines before its ``ack``. ``error`` raises."""
        while True:  # drop replies nobody waited for (a previous session's leftovers)
            try:
                self._replies.get_nowait()
            except queue.Empty:
                break
        self.link.write((text + lp.LINE_END).encode("ascii"))
        deadline = Deadline(self.timeout if timeout is None else timeout)
        verb = text.split()[0]
        output: list[str] = []
        while True:
            try:
                line = self._replies.get(timeout=max(deadline.remaining, 0.0))
            except queue.Empty:
                raise MonitorError(f"no ack for {text!r} within {deadline.seconds:.1f} s",
                                   self.name, " | ".join(output) or None) from None
            if self.reader_error is not None:
                raise MonitorError(f"reading the port failed: {self.reader_error}", self.name)
            ack = lp.parse_ack(line)
            if ack is None or not ack[1].startswith(verb):
                output.append(line)
                continue
            if not ack[0]:
                detail = self._error_detail(deadline)
                raise MonitorError(f"rejected {text!r}: {ack[1]} {detail}".strip(), self.name)
            return output

    def _error_detail(self, deadline: Deadline) -> str:
        try:
            line = self._replies.get(timeout=min(max(deadline.remaining, 0.0), 1.0))
        except queue.Empty:
            return ""
        return line if line.startswith("Error detail") else ""

    # -- EnergyMonitor -----------------------------------------------------------------------

    def configure(self, voltage: float) -> None:
        """The reference runner's set-up sequence, then the supply voltage."""
        volt = lp.volt_command(voltage)
        for text in lp.SETUP_COMMANDS:
            if text == "eventsrc d7 fal" and not self.event_falling:
                text = "eventsrc d7 ris"
            self.command(text)
        self.command(volt, timeout=max(self.timeout, 5.0))  # triggers a self-calibration
        self.voltage = voltage

    def power(self, on: bool) -> None:
        self.command("pwr on nostatus" if on else "pwr off")

    def start(self) -> None:
        acq = self._acq
        with acq.lock:
            acq.samples.clear()
            acq.events.clear()
            acq.ticks.clear()
            acq.completed.clear()
            acq.active, acq.arming = False, True
        self.command("start")

    def mark(self) -> float:
        with self._acq.lock:
            return len(self._acq.samples) / lp.SAMPLE_RATE_HZ

    def edges_seen(self) -> int:
        """Timestamp events received in this acquisition so far."""
        with self._acq.lock:
            return len(self._acq.events)

    def sync(self, edges: int | None = None) -> float:
        """Let in-flight samples arrive (the board streams with a few ms of latency).

        With ``edges``, also wait until that many timestamp events have arrived: behind a
        network link (RFC 2217) or from a bench that sends a window's samples in a burst,
        the stream can lag the DUT's reply by far more than ``settle_s``. The wait goes on
        while data keeps coming (bounded by ``stop_timeout``) and ends after ``QUIET_S``
        without any; then ``settle_s`` more, so the last edge has samples after it.
        """
        self._stop.wait(self.settle_s)
        if edges is not None and self.edges_seen() < edges:
            limit = Deadline(self.stop_timeout)
            last, quiet = self.mark(), Deadline(self.QUIET_S)
            while self.edges_seen() < edges and not limit.expired and not quiet.expired:
                self._stop.wait(0.02)
                now = self.mark()
                if now != last:
                    last, quiet = now, Deadline(self.QUIET_S)
            self._stop.wait(self.settle_s)
        return self.mark()

    def snapshot(self) -> Capture:
        """Everything received so far, as a capture; the acquisition goes on."""
        with self._acq.lock:
            samples = np.asarray(self._acq.samples, dtype=np.float64)
            events = list(self._acq.events)
            ticks = list(self._acq.ticks)
        return build_capture(samples, events, ticks, voltage=self.voltage,
                             falling=self.event_falling, source=self.port)

    def stop(self) -> Capture:
        """``stop``, wait (bounded) for ``Acquisition completed``, return the capture."""
        acq = self._acq
        self.command("stop", timeout=self.stop_timeout)
        if not acq.completed.wait(self.stop_timeout):
            raise MonitorError(f"no '{lp.ACQUISITION_COMPLETED}' within "
                               f"{self.stop_timeout:.1f} s after stop", self.name)
        with acq.lock:
            acq.active = False
            samples = np.asarray(acq.samples, dtype=np.float64)
            events = list(acq.events)
            ticks = list(acq.ticks)
        return build_capture(samples, events, ticks, voltage=self.voltage,
                             falling=self.event_falling, source=self.port)

    def close(self) -> None:
        """Supply off, hand control back, stop the reader; never raises on a dead port."""
        try:
            for text in ("pwr off", "hrc"):
                try:
                    self.command(text, timeout=1.0)
                except (MonitorError, TransportError) as exc:
                    self.log.warning("%s at close: %s", text, exc)
        finally:
            self._stop.set()
            self._thread.join(2.0)
            self.link.close()


def lost_sample_gaps(ticks: list[tuple[int, int]], fs: float) -> list[tuple[float, float]]:
    """Gaps from ``TimeStamp:`` ticks whose sample counts disagree with their times.

    Where exactly the samples went missing between two ticks is unknown; the gap is put
    just before the later tick, with the missing duration as its length.
    """
    gaps = []
    for (ms0, n0), (ms1, n1) in zip(ticks, ticks[1:]):
        expected = round((ms1 - ms0) * fs / 1000.0)
        missing = expected - (n1 - n0)
        if missing:
            end = n1 / fs
            gaps.append((end - abs(missing) / fs, end))
    return gaps


def build_capture(samples: np.ndarray, events: list[tuple[str, int, str]],
                  ticks: list[tuple[int, int]], *, voltage: float | None,
                  falling: bool = True, source: str = "",
                  fs: float = lp.SAMPLE_RATE_HZ) -> Capture:
    """A capture from the stream: an event after ``n`` samples lies in sample ``n``."""
    sigma = 1.0 / (fs * math.sqrt(12.0))
    edges = [Edge((n + 0.5) / fs, falling, sigma, label) for label, n, _word in events]
    meta: dict[str, Any] = {"events": [[label, n] for label, n, _ in events],
                            "ticks": [list(t) for t in ticks], "voltage": voltage}
    return Capture("energy", samples, fs=fs, voltage=voltage, edges=edges,
                   gaps=lost_sample_gaps(ticks, fs), monitor="lpm01a", source=source,
                   meta=meta)


def _factory(arg: str, options: dict[str, Any]) -> Lpm01aMonitor:
    if not arg:
        raise MonitorError("give the port: --monitor lpm01a:/dev/ttyACM0", "lpm01a")
    return Lpm01aMonitor(arg, **options)


register("lpm01a", _factory)
