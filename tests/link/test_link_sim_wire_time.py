"""The virtual DUT's wire time against the host's clock, on a real pty.

The virtual DUT books a command's wire time from the moment it read it, less the pty's
fastest delivery measured at start (``server._pty_delivery_s``). What must hold: the probe
bytes of that measurement never reach the DUT, and an answer never reaches the host before
the wire time of the command and of the answer have passed since the host began writing
(the emulation is never faster than a UART).
"""

from __future__ import annotations

import time

import pytest
from tinyperf.firmware_interface.sim.core import VirtualDut
from tinyperf.firmware_interface.sim.server import SimServer, pty_available
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.timeouts import Deadline
from tinyperf.harness.link.transport import SerialLink

pytestmark = pytest.mark.skipif(not pty_available(), reason="no pty on this platform")


def test_delivery_probe_measured_and_invisible_to_the_dut():
    with SimServer(VirtualDut(), baud=921600) as server:
        assert 0 < server.stats.rx_latency_s < 0.5
        with SerialLink(server.url, 921600) as link:
            dut = Dut(link)
            stale = link.discard_input()  # the boot banner, nothing of the probes
            assert all("Unknown" not in line for line in stale)
            assert dut.name() == "unspecified"
            assert server.stats.rx_bytes == len(b"name%")  # probes are not counted as input
    with SimServer(VirtualDut(), baud=None) as server:
        assert server.stats.rx_latency_s == 0.0  # no wire time, nothing to correct


@pytest.mark.parametrize("baud", [115200, 921600])
def test_an_answer_never_comes_before_its_wire_time(baud):
    byte_s = 10 / baud
    with SimServer(VirtualDut(), baud=baud) as server, SerialLink(server.url, baud) as link:
        link.discard_input()
        link.readline(Deadline(0.05))  # rest of the banner, if any
        link.discard_input()
        command = b"db " + b"ab" * 38 + b"%"  # 80 bytes, no load pending: only "m-ready"
        for _ in range(20):
            start = time.monotonic()
            link.write(command)
            lines = []
            while not lines or lines[-1] != "m-ready":
                line = link.readline(Deadline(2.0))
                assert line is not None, lines
                lines.append(line)
            received = time.monotonic()
            answer = sum(len(line) + 2 for line in lines)  # every line ends in \r\n
            assert received - start >= (len(command) + answer) * byte_s
