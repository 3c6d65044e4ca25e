"""The legacy Arduino IO manager (protocol.md 2.4): driver, fake board, energy runs through it."""

from __future__ import annotations

import re

import pytest
from tinyperf.firmware_interface.sim.core import DutConfig, VirtualDut, constant_results
from tinyperf.firmware_interface.sim.interface_board import BoardCore, LegacyBoardCore
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.errors import ConfigError, DutProtocolError
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.interface_board import (
    ENHANCED,
    LEGACY,
    LEGACY_TIMER_OFF_AFTER_TM,
    DutLink,
    InterfaceBoard,
    passthrough_chunk_size,
)
from tinyperf.harness.link.transport import SerialLink
from tinyperf.reference_models.demo import demo_data_dir

from tinyperf.cli.main import main

#: As in test_energy_run: two edges each within ±0.5 ms of 1 ms samples at 33 mW, / 250.
TOLERANCE_UJ = 0.14


def _served(core):
    server = SimServer(core, pty=True, baud=None).start()
    return server, SerialLink(server.url)


@pytest.fixture
def legacy():
    core = LegacyBoardCore(VirtualDut(DutConfig(energy=True), constant_results([0.25, 0.75])))
    server, link = _served(core)
    yield core, link
    link.close()
    server.close()


def test_detects_the_legacy_board_and_drives_its_timer(legacy):
    core, link = legacy
    board = InterfaceBoard(link)
    assert board.detect() == LEGACY
    board.set_timestamp_mode(falling=True)
    assert core.edge_mode == "FALLING" and board.timer_enabled is False
    board.enable_timer()
    assert core.timer_enabled and board.timer_enabled
    board.set_timestamp_mode(falling=False)  # tm 1: every change; the timer goes off
    assert core.edge_mode == "CHANGE" and not core.timer_enabled
    board.enable_timer()
    board.disable_timer()
    assert not core.timer_enabled
    assert core.commands == ["name", "version", "tm 0", "enable-timer", "tm 1",
                             "enable-timer", "disable-timer"]


def test_tm_replies_are_the_eembc_lines(legacy):
    _core, link = legacy
    lines = InterfaceBoard(link, kind=LEGACY).command("tm 0")
    assert lines == ["m-timestmp-mode-FALLING", LEGACY_TIMER_OFF_AFTER_TM]


def test_never_sends_setbaud_or_checkbaud_to_the_legacy_board(legacy):
    core, link = legacy
    board = InterfaceBoard(link)
    board.detect()
    assert board.ensure_baud(115200) is False
    assert board.checkbaud() is None
    assert not any(c.startswith(("setbaud", "checkbaud")) for c in core.commands)
    assert core.resets == 0


def test_dut_passthrough_with_26_byte_chunks(legacy):
    core, link = legacy
    dut = Dut(DutLink(link), timestamps=False, chunk_size=passthrough_chunk_size())
    assert dut.identify().model == "kws01"
    data = bytes(range(256)) + bytes(range(234))
    dut.load(data)
    assert core.dut.loaded == data
    chunks = [c[len("dut db "):] for c in core.commands
              if c.startswith("dut db ") and not c.startswith("dut db load")]
    assert len(chunks) == 19  # 490 bytes at 26 per command: 18 full + 22 (protocol.md 1.5)
    assert {len(c) for c in chunks[:-1]} == {52} and len(chunks[-1]) == 44
    assert dut.infer(3, 1).results == (0.25, 0.75)


def test_enhanced_board_is_detected_and_refuses_legacy_commands():
    core = BoardCore(VirtualDut(DutConfig(energy=True), constant_results([1.0])))
    server, link = _served(core)
    try:
        board = InterfaceBoard(link)
        assert board.detect() == ENHANCED
        with pytest.raises(ConfigError, match="legacy IO manager command"):
            board.enable_timer()
        assert core.commands == ["name"]  # nothing sent for the refused command
    finally:
        link.close()
        server.close()


def test_a_dut_on_the_interface_port_is_not_taken_for_a_board():
    """A DUT answers ``version`` with ``e-[Unknown command...]``: no board kind, a clear error."""
    dut = VirtualDut(DutConfig(energy=True), constant_results([1.0]))
    server, link = _served(dut)
    try:
        with pytest.raises(DutProtocolError, match="cannot tell the interface board kind"):
            InterfaceBoard(link).detect()
    finally:
        link.close()
        server.close()


def test_bad_tm_reply_is_a_protocol_error(legacy):
    core, link = legacy
    core._cmd_tm = lambda _args: ["m-timestmp-mode-RISING", "m-ready"]  # a broken board
    with pytest.raises(DutProtocolError, match="did not confirm 'tm 0'"):
        InterfaceBoard(link, kind=LEGACY).set_timestamp_mode(True)


@pytest.mark.timeout(60)
def test_cli_energy_run_through_the_legacy_board(legacy_bench, tmp_path, capsys):
    code = main(["run", "--mode", "energy", "--interface", legacy_bench.board.url,
                 "--monitor", f"lpm01a:{legacy_bench.lpm.url}", "--voltage", "1.8",
                 "--dut-baud", "115200", "--dataset-path", str(demo_data_dir()),
                 "--iterations", "250", "--output-dir", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "VALID for submission" in out
    commands = legacy_bench.core.commands
    own = [c for c in commands if not c.startswith("dut ")]
    assert own == ["name", "version", "tm 0", "enable-timer", "disable-timer"]
    first_infer = next(i for i, c in enumerate(commands) if c.startswith("dut infer"))
    last_infer = max(i for i, c in enumerate(commands) if c.startswith("dut infer"))
    assert commands.index("enable-timer") < first_infer < last_infer < \
        commands.index("disable-timer")
    session = next(tmp_path.iterdir())
    log = (session / "log.txt").read_text()
    assert "tinyperf: interface board: legacy" in log
    assert "no setbaud, --dut-baud 115200 not applied" in log
    text = (session / "results.txt").read_text()
    median = float(re.search(r"Median energy cost is ([\d\.]+) uJ/inf", text).group(1))
    assert abs(median - legacy_bench.truth_uj) <= TOLERANCE_UJ
