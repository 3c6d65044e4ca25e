"""The interface-board link against the fake board: prefixes, acks, baud, near misses."""

from __future__ import annotations

import pytest
from tinyperf.firmware_interface.sim.core import DutConfig, VirtualDut, constant_results
from tinyperf.firmware_interface.sim.interface_board import BoardCore
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.errors import DutProtocolError, DutTimeout
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.interface_board import DutLink, InterfaceBoard, passthrough_chunk_size
from tinyperf.harness.link.transport import SerialLink


@pytest.fixture
def board():
    dut = VirtualDut(DutConfig(energy=True), constant_results([0.5, 0.5]))
    core = BoardCore(dut)
    with SimServer(core, pty=True, baud=None) as server:
        link = SerialLink(server.url)
        yield core, link
        link.close()


def test_chunk_size_matches_reference_behind_a_board():
    assert passthrough_chunk_size() == 26


def test_dut_works_unchanged_behind_the_board(board):
    core, link = board
    dut = Dut(DutLink(link), timestamps=False, chunk_size=passthrough_chunk_size())
    assert dut.identify().model == "kws01"
    dut.load(bytes(range(256)) + bytes(234))
    assert core.dut.loaded[:3] == b"\x00\x01\x02"
    assert dut.infer(5, 1).results == (0.5, 0.5)


def test_setbaud_only_when_needed(board):
    core, link = board
    ib = InterfaceBoard(link, sleep=lambda _s: None)
    assert ib.name() == "tinyML Enhanced Interface Board"
    assert ib.ensure_baud(9600) is False and core.resets == 0
    assert ib.ensure_baud(115200) is True and core.resets == 1
    assert ib.checkbaud() == 115200


def test_near_miss_gets_no_reply_and_times_out(board):
    _core, link = board
    ib = InterfaceBoard(link, timeout=0.3)
    with pytest.raises(DutTimeout):
        ib.command("names")


def test_bad_ack_is_a_protocol_error(board):
    _core, link = board
    dl = DutLink(link)
    link.write(b"checkbaud%")  # leaves a non-ack answer waiting
    with pytest.raises(DutProtocolError, match="acknowledge"):
        dl.write(b"name%")  # the checkbaud answer arrives first: not m-dut-passthrough(name)
