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
from tinyperf.firmware_interface.sim.sww_dut import DEFAULT_PROCESSING_US, SwwDut
from tinyperf.formats.errors import ConfigError, ConformanceError
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


# -- sww01: interface board with an SD card, streaming DUT, optional LPM01A ----------------------


@dataclass(frozen=True)
class SwwBench:
    """Where to connect to a virtual sww bench, and its power model (the analytic truth)."""

    interface_url: str
    monitor: str | None
    power: PowerModel
    processing_us: int
    board: BoardCore
    dut: SwwDut
    lpm: FakeLpm01a | None = None

    def truth_energy_j(self) -> float | None:
        """Analytic energy between the DUT's last two timestamp pulses (start, stop)."""
        edges = sorted(self.power.edges_us)
        if len(edges) < 2:
            return None
        return self.power.energy_between_us(edges[-2], edges[-1])


def sww_model_path(tflite: str | Path | None = None,
                   reference_dir: str | Path | None = None) -> Path:
    """The sww01 ``.tflite``: ``tflite`` if given, else the registry's file."""
    from tinyperf.reference_models.registry import resolve_model_file

    if tflite is not None:
        return Path(tflite)
    try:
        return Path(resolve_model_file("sww01", None, reference_dir=reference_dir,
                                       download=False, verify=False))
    except (ConformanceError, KeyError) as exc:
        raise ConfigError(f"no sww01 model from the registry ({exc}); give --tflite PATH "
                          "(str_ww_ref_model.tflite)") from exc


@contextlib.contextmanager
def virtual_sww_bench(sd_card: str | Path, *, energy: bool = True,
                      processing_us: int = DEFAULT_PROCESSING_US, idle_a: float = 2e-3,
                      active_a: float = 10e-3, voltage: float = 1.8,
                      tflite: str | Path | None = None, vendor: str = DEFAULT_VENDOR,
                      realtime: bool = False, stop_text: str | None = None,
                      reference_dir: str | Path | None = None) -> Iterator[SwwBench]:
    """Serve an enhanced interface board (SD card = ``sd_card``) with a virtual sww DUT
    behind it, and with ``energy`` a fake LPM01A measuring the DUT's power model.

    The DUT clock moves only with simulated work and audio (deterministic): ``play``
    advances it by 32 ms per block, the DUT is busy ``processing_us`` of each; with
    ``realtime`` the board also paces the blocks at 16 kHz of wall time.
    """
    from tinyperf.reference_models.sww.device import SwwDevice

    power = PowerModel(voltage=voltage, idle_a=idle_a, active_a=active_a)
    clock = power.make_clock(follow_wall=False)
    device = SwwDevice(sww_model_path(tflite, reference_dir))
    dut = SwwDut(device, clock=clock, processing_us=processing_us, vendor=vendor,
                 on_timestamp=power.on_timestamp, stop_text=stop_text)
    with contextlib.ExitStack() as stack:
        lpm = stack.enter_context(FakeLpm01a(power, clock)) if energy else None
        core = BoardCore(dut, lock=power.lock,  # type: ignore[arg-type]
                         after_dut=[lpm.catch_up] if lpm else [], dut_wire_time=True,
                         sd_card=sd_card, realtime=realtime)
        server = stack.enter_context(SimServer(core, pty=True, baud=None))  # type: ignore[arg-type]
        yield SwwBench(server.url, f"lpm01a:{lpm.url}" if lpm else None, power,
                       processing_us, core, dut, lpm)
