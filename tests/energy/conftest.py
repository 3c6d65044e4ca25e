"""Energy test benches: virtual DUT + power model + fake LPM01A + fake interface board
(the STM32H573I-DK "enhanced" board, or the legacy Arduino IO manager)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from tinyperf.firmware_interface.sim.clock import LatencyModel
from tinyperf.firmware_interface.sim.core import DutConfig, VirtualDut, constant_results
from tinyperf.firmware_interface.sim.interface_board import BoardCore, make_board
from tinyperf.firmware_interface.sim.lpm01a import FakeLpm01a
from tinyperf.firmware_interface.sim.power import PowerModel
from tinyperf.firmware_interface.sim.server import SimServer

THROUGHPUT = 23.0


@dataclass
class Bench:
    model: PowerModel
    dut: VirtualDut
    lpm: FakeLpm01a
    board: SimServer
    core: BoardCore

    @property
    def truth_uj(self) -> float:
        return self.model.energy_per_inference(1e6 / THROUGHPUT) * 1e6


def make_bench(board: str = "enhanced", **lpm_kwargs: object) -> Iterator[Bench]:
    model = PowerModel(voltage=3.3, idle_a=2e-3, active_a=10e-3)
    clock = model.make_clock(follow_wall=True)
    dut = VirtualDut(DutConfig(energy=True), constant_results([0.0] * 11 + [1.0]),
                     latency=LatencyModel.from_throughput(THROUGHPUT), clock=clock,
                     on_timestamp=model.on_timestamp)
    with FakeLpm01a(model, clock, **lpm_kwargs) as lpm:  # type: ignore[arg-type]
        core = make_board(board, dut, lock=model.lock, after_dut=[lpm.catch_up])
        with SimServer(core, pty=True, baud=None) as server:
            yield Bench(model, dut, lpm, server, core)


@pytest.fixture
def bench() -> Iterator[Bench]:
    yield from make_bench()


@pytest.fixture
def legacy_bench() -> Iterator[Bench]:
    """The DUT behind the EEMBC-era Arduino IO manager instead of the STM32H573I-DK."""
    yield from make_bench(board="legacy")


@pytest.fixture
def lossy_bench() -> Iterator[Bench]:
    """The fake LPM01A never sends 3 samples 15 s into the acquisition."""
    yield from make_bench(drop=[(15_000, 3)])
