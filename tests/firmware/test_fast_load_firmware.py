"""The raw ``fl`` dialogue (docs/fast_load.md) against the REAL C firmware.

Each test runs on the host port (a pty, opened by pyserial) and on the MPS2-AN386 image
under QEMU (a TCP chardev; skipped with a reason where the other QEMU tests skip). Nothing
here uses the harness client: the bytes on the wire are written by hand, so the firmware's
side of the contract is checked on its own -- raw bytes of every value, CRC-32 equal to
zlib's, the window shift, and fault injection (a dropped, duplicated or garbled byte, a
stall mid-block) that always ends in a clear reply and command mode, never a hang. The host
port's stdio mode (pipes) is checked once at the end.
"""

from __future__ import annotations

import re
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial

from .conftest import make, require_toolchain
from .qemu import require_qemu, start_qemu, stop_qemu

DB_SIZE = 2560
RX_BYTES = 4096  # both ports: the pty's buffer, the enlarged UART0 RX ring
TIMEOUT_US = 200_000
CAPS = re.compile(r"m-fl-caps-1-enc-bin-crc-crc32-rx-(\d+)-max-(\d+)-shift-([01])-tmo-(\d+)")
_READ_S = 10.0  # every read has this deadline (pyserial timeout)


@dataclass
class Wire:
    """A pyserial link to a booted firmware, read a response at a time."""

    ser: serial.SerialBase

    def response(self) -> list[str]:
        """Lines up to and including ``m-ready`` (fails on a deadline, never hangs)."""
        lines: list[str] = []
        while True:
            raw = self.ser.read_until(b"\r\n")
            assert raw.endswith(b"\r\n"), f"no line within {_READ_S} s: {raw!r} after {lines}"
            lines.append(raw[:-2].decode("latin-1"))
            if lines[-1] == "m-ready":
                return lines

    def command(self, text: str) -> list[str]:
        self.ser.write(text.encode() + b"%")
        return self.response()

    def block(self, verb: str, data: bytes, *, crc: int | None = None,
              wire: bytes | None = None) -> list[str]:
        """``fl <verb> len(data) crc%`` + ``wire`` (default: data) in one write; its reply."""
        crc = zlib.crc32(data) if crc is None else crc
        self.ser.write(f"fl {verb} {len(data)} {crc:08x}%".encode()
                       + (data if wire is None else wire))
        return self.response()

    def db_print(self) -> bytes:
        """The DUT's loaded input, read back through the standard ``db print``."""
        out = bytearray()
        for line in self.command("db print"):
            if line.startswith("m-buffer-"):
                out += bytes(int(h, 16) for h in line[len("m-buffer-"):].split("-"))
        return bytes(out)


def _ok(data: bytes) -> list[str]:
    return [f"m-fl-crc-{zlib.crc32(data):08x}", "m-load-done", "m-ready"]


def _mismatch(received: bytes) -> list[str]:
    return [f"m-fl-crc-{zlib.crc32(received):08x}", "e-[fl: crc mismatch]", "m-ready"]


def _pattern(n: int, seed: int = 0) -> bytes:
    """Every byte value, '%', CR, LF, XON/XOFF, ^C, ^D and NUL included."""
    return bytes((i * 7 + seed) % 256 for i in range(n))


@pytest.fixture(scope="module")
def qemu_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Stand-in QEMU images with and without fast load (FW_FAST_LOAD=0)."""
    require_toolchain()
    require_qemu()
    build = tmp_path_factory.mktemp("fl_qemu")
    defs = f"-DFW_DB_SIZE={DB_SIZE}u -DFW_INPUT_BYTES=490u -DFW_OUTPUTS=12u"
    make(build, "qemu", QEMU_NAME="fl_on", QEMU_DEFS=defs)
    make(build, "qemu", QEMU_NAME="fl_off", QEMU_DEFS=defs + " -DFW_FAST_LOAD=0")
    return {"on": build / "qemu" / "fl_on.elf", "off": build / "qemu" / "fl_off.elf"}


@pytest.fixture(params=["host", "qemu"])
def target(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_wire(target: str, request: pytest.FixtureRequest) -> Iterator[object]:
    """``open_wire(fast=True) -> Wire`` on the chosen port; everything is closed after."""
    closers: list[object] = []

    def factory(fast: bool = True) -> Wire:
        if target == "host":
            host_dut_factory = request.getfixturevalue("host_dut_factory")
            args = ["--db-size", str(DB_SIZE)] + ([] if fast else ["--no-fast-load"])
            url = host_dut_factory(*args).url
        else:
            images = request.getfixturevalue("qemu_images")
            dut = start_qemu(images["on" if fast else "off"])
            closers.append(lambda: stop_qemu(dut))
            url = dut.url
        ser = serial.serial_for_url(url, baudrate=115200, timeout=_READ_S)
        closers.append(ser.close)
        return Wire(ser)

    yield factory
    for close in reversed(closers):
        close()


@pytest.mark.timeout(60)
def test_caps_line(open_wire) -> None:
    wire = open_wire()
    lines = wire.command("fl caps")
    assert len(lines) == 2 and lines[1] == "m-ready"
    match = CAPS.fullmatch(lines[0])
    assert match, lines
    assert tuple(int(g) for g in match.groups()) == (RX_BYTES, DB_SIZE, 1, TIMEOUT_US)
    # the standard dialogue around it is untouched
    assert wire.command("name")[0].startswith("m-name-dut-[")


@pytest.mark.timeout(60)
def test_firmware_without_fast_load_answers_unknown_command(open_wire) -> None:
    wire = open_wire(fast=False)
    assert wire.command("fl caps") == ["e-[Unknown command: fl]", "m-ready"]
    assert wire.command("name")[0].startswith("m-name-dut-[")


@pytest.mark.timeout(60)
def test_load_moves_every_byte_value_verbatim(open_wire) -> None:
    wire = open_wire()
    data = _pattern(DB_SIZE)
    assert wire.block("load", data) == _ok(data)
    assert wire.db_print() == data
    small = b"%%%\r\n\x11\x13\x00\xff"
    assert wire.block("load", small) == _ok(small)
    assert wire.db_print() == small
    assert wire.command("name")[0].startswith("m-name-dut-[")


@pytest.mark.timeout(60)
def test_shift_equals_a_full_load_of_the_shifted_window(open_wire) -> None:
    wire = open_wire()
    window, stride = 1024, 256  # ad01's geometry at 0.4 scale, to keep QEMU quick
    stream = _pattern(window + 3 * stride, seed=5)
    assert wire.block("load", stream[:window]) == _ok(stream[:window])
    for k in range(1, 4):
        new = stream[k * stride:k * stride + window]
        assert wire.block("shift", new[-stride:], crc=zlib.crc32(new)) == _ok(new)
        assert wire.db_print() == new


@pytest.mark.timeout(60)
def test_pipelined_load_and_infer_answer_in_order(open_wire) -> None:
    wire = open_wire()
    data = _pattern(490, seed=9)
    # the standard path first, for the reference answer
    wire.command("db load 490")
    for i in range(0, 490, 38):
        wire.command("db " + data[i:i + 38].hex())
    standard = [ln for ln in wire.command("infer 1 0") if not ln.startswith("m-lap-us-")]
    wire.ser.write(f"fl load 490 {zlib.crc32(data):08x}%".encode() + data + b"infer 1 0%")
    assert wire.response() == _ok(data)
    fast = [ln for ln in wire.response() if not ln.startswith("m-lap-us-")]
    assert fast == standard
    assert any(ln.startswith("m-results-[") for ln in fast)


@pytest.mark.timeout(60)
def test_garbled_byte_is_a_crc_mismatch(open_wire) -> None:
    wire = open_wire()
    data = _pattern(600, seed=1)
    garbled = bytearray(data)
    garbled[300] ^= 0x04
    assert wire.block("load", data, wire=bytes(garbled)) == _mismatch(bytes(garbled))
    assert wire.db_print() == b""  # loaded size 0 after any error
    assert wire.block("load", data) == _ok(data)  # the retry
    assert wire.db_print() == data


@pytest.mark.timeout(60)
def test_duplicated_byte_is_a_crc_mismatch_and_the_barrier_absorbs_the_stray(open_wire) -> None:
    wire = open_wire()
    data = b"A" * 100 + b"BCDEFGHIJ" * 10
    dup = data[:150] + data[149:]  # byte 149 twice: one stray byte after the block
    assert wire.block("load", data, wire=dup) == _mismatch(dup[:len(data)])
    # barrier: a leading '%' runs the stray byte as a command of its own
    wire.ser.write(b"%name%")
    assert wire.response() == [f"e-[Unknown command: {chr(dup[-1])}]", "m-ready"]
    assert wire.response()[0].startswith("m-name-dut-[")
    assert wire.block("load", data) == _ok(data)


@pytest.mark.timeout(60)
def test_dropped_byte_times_out_back_to_command_mode(open_wire) -> None:
    wire = open_wire()
    data = _pattern(300, seed=3)
    dropped = data[:120] + data[121:]
    # the reply comes from the DUT's own timeout (the read deadline is far longer)
    assert wire.block("load", data, wire=dropped) == [
        "e-[fl: timeout after 299 of 300 bytes]", "m-ready"]
    assert wire.command("name")[0].startswith("m-name-dut-[")
    assert wire.db_print() == b""


@pytest.mark.timeout(60)
def test_stall_mid_block_times_out_and_the_rest_is_flushed(open_wire) -> None:
    wire = open_wire()
    data = bytes(range(ord("a"), ord("z") + 1)) * 8  # text: the tail lands in the parser
    wire.ser.write(f"fl load {len(data)} {zlib.crc32(data):08x}%".encode() + data[:100])
    wire.ser.flush()
    time.sleep(3 * TIMEOUT_US / 1e6)  # a host stall well past the DUT's timeout
    assert wire.response() == ["e-[fl: timeout after 100 of 208 bytes]", "m-ready"]
    wire.ser.write(data[100:] + b"%name%")  # the late tail is now a (junk) command
    junk = wire.response()
    assert junk[0].startswith("e-[Unknown command: ") and junk[-1] == "m-ready"
    assert wire.response()[0].startswith("m-name-dut-[")
    assert wire.block("load", data) == _ok(data)


@pytest.mark.timeout(60)
def test_shift_errors_leave_no_window(open_wire) -> None:
    wire = open_wire()
    assert wire.command("fl shift 4 00000000") == ["e-[fl: bad arguments]", "m-ready"]
    data = _pattern(64)
    assert wire.block("load", data) == _ok(data)
    assert wire.command("fl shift 65 00000000") == ["e-[fl: bad arguments]", "m-ready"]
    assert wire.command("fl shift 4 00000000") == ["e-[fl: bad arguments]", "m-ready"]
    assert wire.command(f"fl load {DB_SIZE + 1} 00000000") == [
        f"e-[fl: size {DB_SIZE + 1} exceeds {DB_SIZE}]", "m-ready"]
    assert wire.command("name")[0].startswith("m-name-dut-[")


@pytest.mark.timeout(60)
def test_host_port_on_stdio_pipes(host_binary: Path) -> None:
    """Without --pty the UART is stdin/stdout: raw bytes pass a pipe too, and an input that
    closes mid-block ends the block (reported like a timeout) and then the process."""
    data = _pattern(64, seed=2)
    head = f"fl load 64 {zlib.crc32(data):08x}%".encode()
    proc = subprocess.run([str(host_binary), "--db-size", "64"], input=head + data + b"name%",
                          capture_output=True, timeout=30)
    lines = proc.stdout.decode("latin-1").split("\r\n")  # 4 banner lines first
    assert proc.returncode == 0
    assert lines[4:9] == [*_ok(data), "m-name-dut-[unspecified]", "m-ready"]
    cut = subprocess.run([str(host_binary), "--db-size", "64"], input=head + data[:10],
                         capture_output=True, timeout=30)
    assert cut.returncode == 0
    assert cut.stdout.decode("latin-1").split("\r\n")[4:6] == [
        "e-[fl: timeout after 10 of 64 bytes]", "m-ready"]
