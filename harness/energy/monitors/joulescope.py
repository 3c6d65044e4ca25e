"""Joulescope JS220 / JS110 through the ``joulescope`` package (energy_monitors.md §1.8).

Only parameters that act on each model are set (the reference adapter sets JS110-only
ones on a JS220, where they are no-ops). GPI0 arrives as the ``current_lsb`` field of the
v1 backend's stream buffer on both models. Blocks are integrated as they arrive by
``StreamIntegrator`` (vectorised), never per sample. A Joulescope does not switch the DUT
supply: ``power`` is a no-op, the separate supply must be on.

Hardware-only: without a device ``open`` raises ``MonitorError``; the integration is
tested with synthetic blocks.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from tinyperf.harness.energy.capture import Capture
from tinyperf.harness.energy.errors import MonitorError
from tinyperf.harness.energy.integrate import Accuracy
from tinyperf.harness.energy.stream import StreamIntegrator

from . import register

#: Per-range accuracy is in the JS220 User's Guide table, not encoded yet: gain unknown.
ACCURACY = Accuracy(gain_rel=None, note="JS220/JS110 datasheet accuracy not encoded")

PARAMETERS: dict[str, list[tuple[str, Any]]] = {
    "js220": [("sampling_frequency", 1_000_000), ("i_range", "auto"), ("v_range", "15V")],
    "js110": [("sampling_frequency", 2_000_000), ("i_range", "auto"), ("v_range", "15V"),
              ("current_ranging_type", "interp"), ("current_lsb", "gpi0")],
}
JS110_IO_VOLTAGES = ("1.8V", "2.1V", "2.5V", "2.7V", "3.0V", "3.3V", "3.6V", "5.0V")


class JoulescopeMonitor:
    """``EnergyMonitor`` over one Joulescope (``serial`` picks one when several are plugged)."""

    accuracy = ACCURACY

    def __init__(self, model: str, serial: str | None = None, *, gpi_vref: str = "external"):
        if model not in PARAMETERS:
            raise MonitorError(f"unknown Joulescope model {model!r}", "joulescope")
        self.name = model
        self.model = model
        self.gpi_vref = gpi_vref
        self.log = logging.getLogger(f"{__name__}.JoulescopeMonitor[{model}]")
        try:
            import joulescope
        except ImportError as exc:
            raise MonitorError("the 'joulescope' package is not installed", model) from exc
        devices = [d for d in joulescope.scan()
                   if model.upper() in str(d).upper() and (serial is None or serial in str(d))]
        if len(devices) != 1:
            raise MonitorError(f"{len(devices)} matching device(s) found, 1 needed "
                               "(give js220:SERIAL)", model)
        self.device = devices[0]
        self.device.open()
        self._lock = threading.Lock()
        self._next: int | None = None
        self._integrator: StreamIntegrator | None = None
        self.voltage: float | None = None

    def configure(self, voltage: float) -> None:
        dev = self.device
        for name, value in PARAMETERS[self.model]:
            dev.parameter_set(name, value)
        if self.model == "js110":
            io = f"{voltage:.1f}V"
            dev.parameter_set("io_voltage", io if io in JS110_IO_VOLTAGES else "3.3V")
        else:
            dev.publish("c/gpio/vref", self.gpi_vref)  # GPI threshold from the DUT rail
        self.voltage = voltage

    def power(self, on: bool) -> None:
        """No supply switch on a Joulescope."""

    def stream_notify(self, stream_buffer: Any) -> bool:
        """Called by the driver thread for each new block: integrate it, keep nothing raw."""
        start, end = stream_buffer.sample_id_range
        with self._lock:
            first = start if self._next is None else max(self._next, start)
            if self._next is not None and start > self._next:
                self.log.warning("driver dropped %d samples", start - self._next)
            if end <= first or self._integrator is None:
                return False
            data = stream_buffer.samples_get(first, end,
                                             fields=["current", "voltage", "current_lsb"])
            sig = data["signals"]
            self._integrator.add_block(sig["current"]["value"], sig["voltage"]["value"],
                                       sig["current_lsb"]["value"])
            self._next = end
        return False

    def start(self) -> None:
        fs = float(self.device.parameter_get("sampling_frequency", dtype="actual") or 1e6)
        self._integrator = StreamIntegrator(fs)
        self.device.stream_process_register(self)
        self.device.start()

    def mark(self) -> float:
        with self._lock:
            return (self._integrator.n / self._integrator.fs) if self._integrator else 0.0

    def sync(self, edges: int | None = None) -> float:  # noqa: ARG002 (edges ride in the samples)
        threading.Event().wait(0.1)
        return self.mark()

    def snapshot(self) -> Capture:
        """The integrated capture so far; streaming goes on."""
        with self._lock:
            if self._integrator is None:
                raise MonitorError("snapshot without start", self.name)
            capture = self._integrator.capture(self.voltage)
        capture.monitor = self.name
        return capture

    def stop(self) -> Capture:
        self.device.stop()
        with self._lock:
            if self._integrator is None:
                raise MonitorError("stop without start", self.name)
            capture = self._integrator.capture(self.voltage)
        capture.monitor = self.name
        return capture

    def close(self) -> None:
        self.device.close()


register("js220", lambda arg, options: JoulescopeMonitor("js220", arg or None, **options))
register("js110", lambda arg, options: JoulescopeMonitor("js110", arg or None, **options))
