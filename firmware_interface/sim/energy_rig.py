"""A whole virtual energy set-up: DUT (energy build, real model), power model, fake LPM01A
and fake interface board, each on its own pty, as on a real bench.

The DUT's timestamp pulses and busy time drive the power model; the fake LPM01A samples it
at 1 kHz of DUT time; the host reaches the DUT only through the fake interface board
(``board="enhanced"``, the STM32H573I-DK, or ``"legacy"``, the EEMBC Arduino IO manager).

``follow_wall=False`` makes the whole rig deterministic: the DUT clock then moves only by
simulated work, so two runs of the same plan see the same samples and edges (the resume
tests compare a killed-and-resumed run with an uninterrupted one this way). With a
latency that is a whole number of milliseconds, every edge then falls on a 1 ms sample
boundary of the monitor, whichever acquisition it belongs to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tinyperf.firmware_interface.sim.clock import LatencyModel
from tinyperf.firmware_interface.sim.core import VirtualDut
from tinyperf.firmware_interface.sim.interface_board import BoardCore, make_board
from tinyperf.firmware_interface.sim.lpm01a import FakeLpm01a
from tinyperf.firmware_interface.sim.model import build_infer_fn, dut_config_for
from tinyperf.firmware_interface.sim.power import PowerModel
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.protocol import DEFAULT_VENDOR


@dataclass(frozen=True)
class EnergyRig:
    """Where to connect: the interface board's link and the monitor spec for ``--monitor``."""

    interface_url: str
    monitor: str
    power: PowerModel
    throughput: float
    board: BoardCore | None = None
    lpm: FakeLpm01a | None = None

    @property
    def truth_uj_per_inference(self) -> float:
        """The power model's analytic energy per inference (µJ)."""
        return self.power.energy_per_inference(1e6 / self.throughput) * 1e6


@contextlib.contextmanager
def virtual_energy_rig(model_id: str, *, throughput: float, idle_a: float = 2e-3,
                       active_a: float = 10e-3, voltage: float = 3.3,
                       tflite: str | Path | None = None,
                       vendor: str = DEFAULT_VENDOR, board: str = "enhanced",
                       follow_wall: bool = True, board_baud: int | None = None,
                       dut_wire_time: bool | None = None,
                       reference_dir: str | Path | None = None) -> Iterator[EnergyRig]:
    """Start the rig; everything is closed again when the ``with`` block ends.

    ``board_baud`` emulates the wire time of the host-to-board link (None: as fast as
    the pty goes); ``dut_wire_time`` (default: when the clock does not follow wall time)
    puts the board-to-DUT UART time on the DUT clock.
    """
    if dut_wire_time is None:
        dut_wire_time = not follow_wall
    power = PowerModel(voltage=voltage, idle_a=idle_a, active_a=active_a)
    clock = power.make_clock(follow_wall=follow_wall)
    infer_fn = build_infer_fn(model_id, tflite, reference_dir=reference_dir)
    dut = VirtualDut(dut_config_for(model_id, vendor=vendor, energy=True), infer_fn,
                     latency=LatencyModel.from_throughput(throughput), clock=clock,
                     on_timestamp=power.on_timestamp)
    with FakeLpm01a(power, clock) as lpm:
        core = make_board(board, dut, lock=power.lock, after_dut=[lpm.catch_up],
                          dut_wire_time=dut_wire_time)
        with SimServer(core, pty=True, baud=board_baud) as server:  # type: ignore[arg-type]
            yield EnergyRig(server.url, f"lpm01a:{lpm.url}", power, throughput, core, lpm)
