"""The ``fl`` codec (formats/fast_load.py) and the virtual DUT's ``fl`` commands."""

from __future__ import annotations

import random
import zlib

import pytest
from tinyperf.firmware_interface.sim.core import DutConfig, VirtualDut
from tinyperf.formats import fast_load as fl


def _dut(**kwargs: object) -> VirtualDut:
    dut = VirtualDut(DutConfig(max_db_input_size=5120, input_bytes=2560, **kwargs))
    dut.boot()
    return dut


def test_caps_line_round_trip_and_growth() -> None:
    line = fl.format_caps(4096, 5120, True, 500000)
    assert line == "m-fl-caps-1-enc-bin-crc-crc32-rx-4096-max-5120-shift-1-tmo-500000"
    caps = fl.parse_caps(line)
    assert caps == fl.Caps(1, "bin", "crc32", 4096, 5120, True, 500000) and caps.usable
    assert fl.parse_caps(line + "-zz-9") == caps  # later fields are ignored
    # but a last -dut-<text> is kept: the virtual DUT names its engine there
    described = fl.format_caps(4096, 5120, True, 500000, "engine-litert-ref")
    assert described == line + "-dut-engine-litert-ref"
    assert fl.parse_caps(described).dut == "engine-litert-ref"
    assert fl.parse_caps(described).as_dict()["dut"] == "engine-litert-ref"
    assert fl.parse_caps("m-name-dut-[x]") is None
    with pytest.raises(fl.FastLoadFormatError, match="malformed"):
        fl.parse_caps("m-fl-caps-1-enc-bin")
    assert not fl.parse_caps(fl.format_caps(40, 5120, True, 1)).usable  # R < 80
    assert not fl.parse_caps(line.replace("caps-1", "caps-2")).usable


def test_frames_and_crc() -> None:
    data = bytes(range(256)) + b"%%"
    assert fl.crc32(data) == zlib.crc32(data)
    frame = fl.load_frame(data)
    assert frame == f"fl load 258 {zlib.crc32(data):08x}%".encode() + data
    window = data[2:] + b"ab"
    assert fl.shift_frame(b"ab", window) == f"fl shift 2 {zlib.crc32(window):08x}%".encode() + b"ab"
    with pytest.raises(ValueError):
        fl.shift_frame(b"xy", window)
    with pytest.raises(ValueError):
        fl.load_header(0, 0)


@pytest.mark.parametrize("args", [[], ["load"], ["load", "12"], ["load", "x", "00000000"],
                                  ["load", "0", "00000000"], ["load", "4", "0000000"],
                                  ["load", "4", "0000000g"], ["shift", "-1", "00000000"],
                                  ["move", "4", "00000000"]])
def test_bad_block_arguments(args: list[str]) -> None:
    with pytest.raises(fl.FastLoadFormatError):
        fl.parse_block_args(args)
    assert _dut().feed(" ".join(["fl", *args]).encode() + b"%") == \
        ["e-[fl: bad arguments]", "m-ready"]


def test_reply_parsing() -> None:
    crc = fl.crc32(b"abc")
    good = fl.parse_block_reply([fl.msg_crc(crc), "m-load-done"])
    assert good.problem(crc) is None
    assert "differs" in (good.problem(crc ^ 1) or "")
    bad = fl.parse_block_reply([fl.msg_crc(crc), "e-[fl: crc mismatch]"])
    assert bad.problem(crc) == "the DUT said e-[fl: crc mismatch]"
    assert "no m-fl-crc" in (fl.parse_block_reply(["m-load-done"]).problem(crc) or "")
    assert "no m-load-done" in (fl.parse_block_reply([fl.msg_crc(crc)]).problem(crc) or "")


def test_load_and_shift_equal_a_standard_load() -> None:
    rng = random.Random(3)
    data = rng.randbytes(2560)
    fast, std = _dut(), _dut()
    hex_load = b"db load 2560%" + b"".join(b"db " + data[i:i + 38].hex().encode() + b"%"
                                          for i in range(0, 2560, 38))
    printed = std.feed(hex_load + b"db print%")[-321:]  # the 320 buffer rows and m-ready
    assert fast.feed(fl.load_frame(data) + b"db print%") == \
        [fl.msg_crc(fl.crc32(data)), "m-load-done", "m-ready", *printed]
    new = rng.randbytes(512)
    window = data[512:] + new
    assert fast.feed(fl.shift_frame(new, window)) == [fl.msg_crc(fl.crc32(window)),
                                                     "m-load-done", "m-ready"]
    assert fast.loaded == window and fast.expected_size == 2560


def test_raw_data_is_never_parsed_as_commands() -> None:
    data = b"name%infer 1 0%" * 10
    dut = _dut()
    assert dut.feed(fl.load_frame(data)) == [fl.msg_crc(fl.crc32(data)), "m-load-done",
                                             "m-ready"]
    assert dut.loaded == data


def test_errors_leave_no_input() -> None:
    dut = _dut()
    data = bytes(100)
    assert dut.feed(fl.load_header(100, fl.crc32(data) ^ 1).encode() + b"%" + data) == \
        [fl.msg_crc(fl.crc32(data)), "e-[fl: crc mismatch]", "m-ready"]
    assert dut.loaded_size == 0
    assert dut.feed(b"fl shift 5 00000000%") == ["e-[fl: bad arguments]", "m-ready"]
    assert dut.feed(b"fl load 6000 00000000%xyz") == ["e-[fl: size 6000 exceeds 5120]",
                                                      "m-ready"]
    assert dut._cmd == bytearray(b"xyz")  # not consumed as data
    dut.feed(b"%")
    dut.feed(fl.load_frame(data))
    assert dut.feed(b"fl shift 101 00000000%") == ["e-[fl: bad arguments]", "m-ready"]
    assert dut.loaded_size == 0


def test_receive_timeout_returns_to_command_mode() -> None:
    dut = _dut()
    frame = fl.load_frame(bytes(50))
    assert dut.feed(frame[:-8]) == [] and dut.receiving
    assert dut.receive_timeout().lines == ["e-[fl: timeout after 42 of 50 bytes]", "m-ready"]
    assert not dut.receiving and dut.loaded_size == 0
    assert dut.feed(b"name%") == ["m-name-dut-[unspecified]", "m-ready"]


def test_standard_firmware_does_not_know_fl() -> None:
    dut = _dut(fast_load=False)
    assert dut.feed(b"fl caps%") == ["e-[Unknown command: fl]", "m-ready"]
    assert dut.feed(fl.load_frame(b"ab"))[:2] == ["e-[Unknown command: fl]", "m-ready"]
