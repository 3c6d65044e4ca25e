"""Fault injection on the fast path: every fault is detected by the CRC or the DUT's receive
timeout and retried, or ends in a clear error; never a hang, never a different input.

A real pty, the real ``SimServer`` and the real ``Dut`` client; the faults act on the bytes
of the ``fl`` blocks as the virtual DUT receives them (``firmware_interface/sim/faults.py``).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator

import pytest
from tinyperf.firmware_interface.sim import Fault, SimServer
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import pty_available
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.fast_load import FastLoadError
from tinyperf.harness.link.transport import open_link

pytestmark = pytest.mark.skipif(not pty_available(), reason="no pty on this platform")

RNG = random.Random(16)
WINDOWS = [RNG.randbytes(2560)]
for _ in range(3):
    WINDOWS.append(WINDOWS[-1][512:] + RNG.randbytes(512))


def _crc_results(raw: bytes) -> list[float]:
    """The 'model': the CRC of what was inferred, so any different byte shows."""
    return [float(zlib.crc32(raw) % 1000), float(zlib.crc32(raw) // 1000 % 1000)]


def _expected(window: bytes) -> tuple[float, ...]:
    return tuple(float(v) for v in _crc_results(window))


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[SimServer, Dut, list[str]]]:
    faults = getattr(request, "param", [])
    dut = make_virtual_dut("ad01", infer_fn=_crc_results)
    events: list[str] = []
    with SimServer(dut, pty=True, baud=None, faults=faults) as server:
        link = open_link(server.url)
        client = Dut(link, fast_load=True, on_event=lambda n, t: events.append(f"{n}: {t}"))
        try:
            yield server, client, events
        finally:
            link.close()


def _run_windows(server: SimServer, client: Dut) -> None:
    """ad01-style: a full load, then shifts, the next window written during each infer."""
    client.load(WINDOWS[0])
    for k, window in enumerate(WINDOWS):
        if k:
            client.load(window, 512)
        ahead = (WINDOWS[k + 1], 512) if k + 1 < len(WINDOWS) else None
        assert client.infer(1, 0, ahead=ahead).results == _expected(window)
    assert server.dut.loaded == WINDOWS[-1]


@pytest.mark.timeout(30)
def test_clean_run_uses_shift_and_pipelining(served) -> None:
    server, client, events = served
    _run_windows(server, client)
    stats = client.fast.stats
    assert (stats.loads, stats.shifts, stats.retries) == (1, 3, 0)
    assert stats.pipelined == 3 and not events


FAULTS = {
    "dropped byte": Fault("rx_drop", "fl", occurrence=1, position=100),
    "duplicated byte": Fault("rx_dup", "fl", occurrence=2, position=7),
    "garbled byte": Fault("rx_garble", "fl", occurrence=3, position=300),
    "stall mid-block": Fault("rx_stall", "fl", occurrence=2, position=200, seconds=1.2),
    "reset mid-block": Fault("rx_reset", "fl", occurrence=2, position=50),
    "garbled crc reply": Fault("drop_chars", "fl", occurrence=2, line=0, position=10,
                               count=2),
    "stalled reply": Fault("stall", "fl", occurrence=3, seconds=6.0),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("served", [[f] for f in FAULTS.values()], ids=list(FAULTS),
                         indirect=True)
def test_a_fault_is_retried_and_the_input_is_exact(served) -> None:
    server, client, events = served
    _run_windows(server, client)
    assert server.faults.fired, "the fault did not fire"
    assert client.fast.stats.retries >= 1
    assert any("fast load attempt 1 failed" in e for e in events), events


@pytest.mark.timeout(60)
@pytest.mark.parametrize("served", [[Fault("rx_garble", "fl", occurrence=k, position=5)
                                     for k in (1, 2, 3)]], indirect=True)
def test_a_fault_on_every_attempt_is_a_clear_error(served) -> None:
    server, client, _events = served
    with pytest.raises(FastLoadError) as err:
        client.load(WINDOWS[0])
        client.infer(1, 0)
    text = str(err.value)
    assert "fast load failed 3 time(s)" in text and "fl load 2560" in text
    assert "crc mismatch" in text
    assert server.dut.loaded_size == 0
    assert client.name() == "unspecified"  # the link is still in step


@pytest.mark.timeout(30)
def test_no_capability_means_the_standard_path_after_one_round_trip() -> None:
    dut = make_virtual_dut("ad01", infer_fn=_crc_results, fast_load=False)
    with SimServer(dut, pty=True, baud=None) as server:
        link = open_link(server.url)
        try:
            client = Dut(link, fast_load=True)
            client.load(WINDOWS[0])
            assert client.infer(1, 0).results == _expected(WINDOWS[0])
            client.load(WINDOWS[1], 512)
            assert client.infer(1, 0).results == _expected(WINDOWS[1])
        finally:
            link.close()
    stats = client.fast.stats
    assert stats.offered is None and stats.negotiations == 1 and stats.standard_loads == 2
    # one fl caps, then per window db load + 68 db and the infer: nothing else
    assert server.stats.commands == 1 + 2 * (1 + 68 + 1)
    assert server.faults.fired == []
