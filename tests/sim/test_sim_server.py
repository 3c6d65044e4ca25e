"""The virtual DUT served on a real pty and a TCP socket, reached through pyserial URLs."""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from tinyperf.firmware_interface.sim.clock import LatencyModel, SimClock
from tinyperf.firmware_interface.sim.core import DutConfig, VirtualDut, constant_results
from tinyperf.firmware_interface.sim.faults import Fault, FaultPlan, load_faults
from tinyperf.firmware_interface.sim.server import SimServer, pty_available
from tinyperf.formats.protocol import Kind, parse_line

REFERENCE = Path(
    os.environ.get("TINYPERF_REFERENCE_DIR", Path(__file__).parents[3] / "shared/reference")
)
needs_pty = pytest.mark.skipif(not pty_available(), reason="no pty on this platform")


def make_dut(**config: object) -> VirtualDut:
    return VirtualDut(
        DutConfig(**config),  # type: ignore[arg-type]
        constant_results([0.125, 0.875]),
        latency=LatencyModel(latency_us=43_478),
        clock=SimClock(7_000_000, follow_wall=True),
    )


def read_until_ready(ser: serial.SerialBase, limit: int = 200) -> list[str]:
    lines = []
    for _ in range(limit):
        raw = ser.readline()
        if not raw:
            raise TimeoutError(f"no m-ready; got {lines}")
        lines.append(raw.decode("latin-1").rstrip("\r\n"))
        if lines[-1] == "m-ready":
            return lines
    raise AssertionError("too many lines")


def transact(ser: serial.SerialBase, text: str) -> list[str]:
    ser.write(text.encode() + b"%")
    return read_until_ready(ser)


def load(ser: serial.SerialBase, data: bytes, chunk: int = 31) -> list[str]:
    out = transact(ser, f"db load {len(data)}")
    for start in range(0, len(data), chunk):
        out += transact(ser, "db " + data[start : start + chunk].hex())
    return out


@pytest.fixture
def served() -> Iterator[SimServer]:
    with SimServer(make_dut(), pty=pty_available(), socket_port=0, baud=None) as server:
        yield server
    assert server.error is None


def round_trip(url: str) -> None:
    with serial.serial_for_url(url, baudrate=115200, timeout=2) as ser:
        assert transact(ser, "name") == ["m-name-dut-[unspecified]", "m-ready"]
        assert [parse_line(x).kind for x in transact(ser, "profile")] == [
            Kind.PROFILE, Kind.MODEL, Kind.READY,
        ]
        lines = load(ser, bytes(range(256)) + bytes(234))
        assert lines[0] == "m-[Expecting 490 bytes]"
        assert lines.count("m-load-done") == 1 and lines[-2:] == ["m-load-done", "m-ready"]
        lines = transact(ser, "infer 250 1")
        kinds = [parse_line(x).kind for x in lines]
        assert kinds == [
            Kind.WARMUP_START, Kind.WARMUP_DONE, Kind.INFER_START, Kind.LAP_US, Kind.LAP_US,
            Kind.INFER_DONE, Kind.RESULTS, Kind.READY,
        ]
        laps = [parse_line(x).value for x in lines if x.startswith("m-lap-us-")]
        assert laps[1] - laps[0] == 250 * 43_478  # exactly the simulated timed region
        assert lines[-2] == "m-results-[0.125,0.875]"


@needs_pty
@pytest.mark.timeout(30)
def test_pty_round_trip(served: SimServer) -> None:
    assert served.url == served.pty_path and served.url.startswith("/dev/")
    round_trip(served.url)


@pytest.mark.timeout(30)
def test_socket_round_trip(served: SimServer) -> None:
    assert served.socket_url is not None and served.socket_url.startswith("socket://127.0.0.1:")
    round_trip(served.socket_url)
    round_trip(served.socket_url)  # a second connection after the first closed


@needs_pty
@pytest.mark.timeout(30)
def test_boot_banner_is_on_the_pty() -> None:
    with SimServer(make_dut(), baud=None) as server:
        fd = os.open(server.url, os.O_RDWR | os.O_NOCTTY)
        try:
            data = b""
            deadline = time.monotonic() + 5
            while b"m-ready\r\n" not in data and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.2)[0]:
                    data += os.read(fd, 1024)
        finally:
            os.close(fd)
    lines = data.decode().split("\r\n")
    assert lines[0] == "m-timestamp-mode-performance"
    assert lines[1].startswith("m-lap-us-7") and lines[2:4] == ["m-init-done", "m-ready"]


@pytest.mark.timeout(60)
def test_baud_emulation_accounts_and_spends_wire_time() -> None:
    baud = 9600
    with SimServer(make_dut(), pty=False, socket_port=0, baud=baud) as server:
        with serial.serial_for_url(server.url, timeout=5) as ser:
            server.stats.rx_wire_s = server.stats.tx_wire_s = 0.0
            server.stats.rx_bytes = server.stats.tx_bytes = 0
            t0 = time.monotonic()
            load(ser, bytes(490))  # 16 commands, ~1100 bytes out, ~250 back
            wall = time.monotonic() - t0
    stats = server.stats
    assert stats.rx_wire_s == pytest.approx(stats.rx_bytes * 10 / baud)
    assert stats.tx_wire_s == pytest.approx(stats.tx_bytes * 10 / baud)
    expected = stats.rx_wire_s + stats.tx_wire_s
    assert stats.rx_bytes == len("db load 490%") + 15 * 66 + (3 + 2 * 25 + 1)
    # the server really waited: wall time at least most of the wire time, and not wildly more
    assert 0.8 * expected <= wall <= 3 * expected + 1.0


@pytest.mark.timeout(30)
def test_no_baud_means_no_wire_time() -> None:
    with SimServer(make_dut(), pty=False, socket_port=0, baud=None) as server:
        with serial.serial_for_url(server.url, timeout=2) as ser:
            transact(ser, "name")
    assert server.stats.rx_wire_s == 0.0 and server.stats.tx_wire_s == 0.0


@pytest.mark.timeout(30)
def test_simulated_latency_costs_no_wall_time_unless_realtime() -> None:
    dut = make_dut()
    with SimServer(dut, pty=False, socket_port=0, baud=None) as server:
        with serial.serial_for_url(server.url, timeout=2) as ser:
            load(ser, bytes(490))
            t0 = time.monotonic()
            for _ in range(5):
                transact(ser, "infer 250 1")  # 5 windows of ~10.9 s DUT time
            assert time.monotonic() - t0 < 2.0
    assert server.stats.dut_busy_us == 5 * 251 * 43_478
    dut = VirtualDut(DutConfig(input_bytes=1), constant_results([1.0]),
                     latency=LatencyModel(latency_us=10_000))
    with SimServer(dut, pty=False, socket_port=0, baud=None, realtime=1.0) as server:
        with serial.serial_for_url(server.url, timeout=2) as ser:
            load(ser, b"\x01")
            t0 = time.monotonic()
            transact(ser, "infer 30 0")
            assert time.monotonic() - t0 >= 0.25  # 30 x 10 ms actually slept


@pytest.mark.timeout(30)
def test_energy_build_over_the_wire() -> None:
    pulses: list[int] = []
    dut = VirtualDut(DutConfig(energy=True, input_bytes=1), constant_results([0.5]),
                     latency=LatencyModel(latency_us=100), clock=SimClock(0),
                     on_timestamp=pulses.append)
    with SimServer(dut, pty=False, socket_port=0, baud=None) as server:
        with serial.serial_for_url(server.url, timeout=2) as ser:
            load(ser, b"\x01")
            lines = transact(ser, "infer 800 1")
    assert not [x for x in lines if x.startswith("m-lap-us")]
    assert pulses[-1] - pulses[-2] == 80_000


# -- faults -------------------------------------------------------------------------------


def fault_server(*faults: Fault) -> SimServer:
    return SimServer(make_dut(), pty=False, socket_port=0, baud=None, faults=faults)


@pytest.mark.timeout(30)
def test_fault_garbage_before_response() -> None:
    with fault_server(Fault("garbage", "name", occurrence=2, count=5, pattern="ff")) as server:
        with serial.serial_for_url(server.url, timeout=2) as ser:
            assert transact(ser, "name")[0] == "m-name-dut-[unspecified]"
            ser.write(b"name%")
            raw = ser.read_until(b"m-ready\r\n")
    assert raw.startswith(b"\xff" * 5 + b"m-name-dut-")
    assert server.faults.fired == [("name", 2, "garbage")]
    assert Fault("garbage", "x", count=4, pattern="random", seed=1).garbage_bytes() == \
        Fault("garbage", "x", count=4, pattern="random", seed=1).garbage_bytes()


@pytest.mark.timeout(30)
def test_fault_dropped_characters() -> None:
    with fault_server(Fault("drop_chars", "profile", line=1, position=8, count=3)) as server:
        with serial.serial_for_url(server.url, timeout=2) as ser:
            lines = transact(ser, "profile")
    assert lines[1] == "m-model-s01]"  # "[kw": 3 chars from index 8 dropped
    assert parse_line(lines[1]).kind is Kind.OTHER


@pytest.mark.timeout(30)
def test_fault_stall_longer_than_host_timeout() -> None:
    with fault_server(Fault("stall", "name", seconds=1.5)) as server:
        with serial.serial_for_url(server.url, timeout=0.5) as ser:
            ser.write(b"name%")
            t0 = time.monotonic()
            assert ser.readline() == b""  # host timeout: nothing within 0.5 s
            assert time.monotonic() - t0 >= 0.45
            ser.timeout = 3
            assert read_until_ready(ser) == ["m-name-dut-[unspecified]", "m-ready"]


@pytest.mark.timeout(30)
def test_fault_stall_without_response_and_fast_close() -> None:
    server = fault_server(Fault("stall", "name", seconds=60, respond=False)).start()
    ser = serial.serial_for_url(server.url, timeout=0.3)
    ser.write(b"name%")
    assert ser.readline() == b""
    t0 = time.monotonic()
    server.close()  # interrupts the 60 s stall
    ser.close()
    assert time.monotonic() - t0 < 3
    assert not [t for t in threading.enumerate() if t.name == "virtual-dut"]


@pytest.mark.timeout(30)
def test_fault_reset_reprints_banner_and_clears_buffer() -> None:
    with fault_server(Fault("reset", "infer")) as server:
        with serial.serial_for_url(server.url, timeout=2) as ser:
            load(ser, bytes(490))
            assert server.dut.loaded == bytes(490)
            lines = transact(ser, "infer 1 0")
            assert lines[0] == "m-timestamp-mode-performance"
            kinds = [parse_line(x).kind for x in lines[1:]]
            assert kinds == [Kind.LAP_US, Kind.INIT_DONE, Kind.READY]
            assert server.dut.loaded == b"" and server.dut.expected_size == 0
            assert transact(ser, "infer 1 0")[0] == "Input db has 0 elemented, expected 490"


@pytest.mark.timeout(30)
def test_fault_injected_error_line_from_yaml(tmp_path: Path) -> None:
    plan = tmp_path / "faults.yaml"
    plan.write_text("faults:\n  - {kind: error_line, verb: db, occurrence: 3, text: overrun}\n")
    faults = load_faults(plan)
    with SimServer(make_dut(), pty=False, socket_port=0, baud=None,
                   faults=FaultPlan(faults)) as server:
        with serial.serial_for_url(server.url, timeout=2) as ser:
            lines = load(ser, bytes(490))
    assert lines[:5] == ["m-[Expecting 490 bytes]", "m-ready", "m-ready", "e-[overrun]", "m-ready"]
    assert parse_line("e-[overrun]").kind is Kind.ERROR


def test_fault_validation() -> None:
    from tinyperf.formats.errors import ConfigError

    with pytest.raises(ConfigError, match="kind"):
        Fault("meltdown", "name")
    with pytest.raises(ConfigError, match="unknown fault key"):
        load_faults([{"kind": "stall", "verb": "name", "secs": 3}])


@needs_pty
@pytest.mark.timeout(60)
def test_reference_kws_model_on_pty() -> None:
    from tinyperf.firmware_interface.sim.server import serve_model

    if not (REFERENCE / "kws01" / "kws_ref_model.tflite").is_file():
        pytest.skip("reference models not available")
    with serve_model("kws01", reference_dir=REFERENCE, throughput=23.0) as server:
        with serial.serial_for_url(server.url, baudrate=115200, timeout=2) as ser:
            assert transact(ser, "profile")[1] == "m-model-[kws01]"
            load(ser, b"\x7f" * 490)
            lines = transact(ser, "infer 250 1")
            values = parse_line(lines[-2]).value
            assert isinstance(values, tuple) and len(values) == 12
            laps = [parse_line(x).value for x in lines if x.startswith("m-lap-us-")]
            assert laps[1] - laps[0] == round(250 * 1e6 / 23)
            too_big = transact(ser, "db load 600")
            assert too_big[0] == "Supplied buffer size 600 exceeds maximum of 490"
