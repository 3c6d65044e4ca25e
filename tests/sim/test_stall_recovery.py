"""A stall with a late reply must be named as a stall, and must not shift later answers.

Real failure (#19 item 14): a ``db`` command stalled past the command timeout, its reply came
late, the restarted load read that late ``m-ready`` as the answer to ``db load`` and the run
aborted with "bad answer to db load" — the symptom, not the stall.
"""

from __future__ import annotations

import pytest
from tinyperf.firmware_interface.sim.core import constant_results
from tinyperf.firmware_interface.sim.faults import Fault
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.errors import DutTimeout
from tinyperf.harness.link.dut import Dut, Timeouts
from tinyperf.harness.link.transport import open_link

RESULTS = [0.1, 0.9]


def _client(server: SimServer, events: list[tuple[str, str]], command: float = 0.5) -> Dut:
    return Dut(open_link(server.url, 115200), timeouts=Timeouts(command=command, infer=2.0),
               on_event=lambda name, text: events.append((name, text)))


def _serve(*faults: Fault) -> SimServer:
    dut = make_virtual_dut("kws01", infer_fn=constant_results(RESULTS), vendor="acme")
    return SimServer(dut, pty=True, baud=None, faults=list(faults))


@pytest.mark.timeout(30)
def test_late_db_reply_after_a_long_stall_does_not_shift_the_restarted_load():
    events: list[tuple[str, str]] = []
    data = bytes(range(256)) + bytes(234)
    # 4 s: longer than the command timeout and than one quiet-line resync
    with _serve(Fault("stall", "db", occurrence=3, seconds=4.0)) as server:
        dut = _client(server, events)
        dut.load(data)
        assert server.dut.loaded == data
        assert dut.infer(5, 0).results == tuple(RESULTS)
    retries = [text for name, text in events if name == "retry"]
    assert retries and "no 'm-ready'" in retries[0]  # the stall is what is reported


@pytest.mark.timeout(60)
def test_a_load_that_keeps_stalling_names_the_stall():
    faults = [Fault("stall", "db", occurrence=k, seconds=1.5) for k in (2, 5, 8, 11, 14)]
    events: list[tuple[str, str]] = []
    with _serve(*faults) as server:
        dut = _client(server, events)
        dut.load_attempts = 2
        with pytest.raises(DutTimeout) as err:
            dut.load(bytes(490))
    text = str(err.value)
    assert "db" in text and "m-ready" in text
    assert "bad answer" not in text
