"""The pure virtual DUT: every command and error of protocol spec 1.2-1.5, no I/O."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tinyperf.firmware_interface.sim.clock import LatencyModel, SimClock
from tinyperf.firmware_interface.sim.core import (
    Delay,
    DutConfig,
    VirtualDut,
    c_atoi,
    constant_results,
)
from tinyperf.formats import protocol as p
from tinyperf.formats.protocol import Kind, parse_line

pytestmark = pytest.mark.timeout(30)

REFERENCE = Path(
    os.environ.get("TINYPERF_REFERENCE_DIR", Path(__file__).parents[3] / "shared/reference")
)
RESULTS = [0.0, 0.25, 0.996]


def make_dut(**config: object) -> VirtualDut:
    clock = SimClock(1_000_000)
    dut = VirtualDut(
        DutConfig(**config),  # type: ignore[arg-type]
        constant_results(RESULTS),
        latency=LatencyModel(latency_us=40_000),
        clock=clock,
    )
    dut.boot()
    return dut


def cmd(dut: VirtualDut, text: str) -> list[str]:
    return dut.feed(text.encode("latin-1") + b"%")


def load(dut: VirtualDut, data: bytes) -> None:
    """Load ``data`` with the host's dialogue (38-byte chunks fill the 80-char buffer)."""
    assert cmd(dut, f"db load {len(data)}")[0] == f"m-[Expecting {len(data)} bytes]"
    for start in range(0, len(data), 38):
        cmd(dut, "db " + data[start : start + 38].hex())
    assert dut.loaded == data


def test_boot_banner_performance() -> None:
    dut = VirtualDut(clock=SimClock(123))
    assert dut.feed(b"name%") == []  # parser disabled before boot
    assert dut.boot() == ["m-timestamp-mode-performance", "m-lap-us-123", "m-init-done", "m-ready"]


def test_boot_banner_energy_calls_timestamp_callback() -> None:
    pulses: list[int] = []
    dut = VirtualDut(DutConfig(energy=True), clock=SimClock(5), on_timestamp=pulses.append)
    assert dut.boot() == ["m-timestamp-mode-energy", "m-init-done", "m-ready"]
    assert pulses == [5]


def test_name_profile_help_timestamp() -> None:
    dut = make_dut(vendor="ACME", model_id="ad01")
    assert cmd(dut, "name") == ["m-name-dut-[ACME]", "m-ready"]
    assert cmd(dut, "profile") == [
        "m-profile-[ULPMark for tinyML Firmware V0.0.1]",
        "m-model-[ad01]",
        "m-ready",
    ]
    lines = cmd(dut, "help")
    assert lines[0] == p.FIRMWARE_PROFILE and lines[1] == "" and lines[-1] == "m-ready"
    assert len(lines) > 5
    assert cmd(dut, "timestamp") == ["m-lap-us-1000000", "m-ready"]


def test_every_line_parses_as_its_kind() -> None:
    dut = make_dut()
    kinds = [parse_line(line).kind for line in cmd(dut, "name") + cmd(dut, "profile")]
    assert kinds == [Kind.NAME, Kind.READY, Kind.PROFILE, Kind.MODEL, Kind.READY]


def test_unknown_command_echoes_first_token_only() -> None:
    dut = make_dut()
    assert cmd(dut, "bogus one two") == ["e-[Unknown command: bogus]", "m-ready"]


def test_empty_command_is_just_ready() -> None:
    dut = make_dut()
    assert dut.feed(b"%") == ["m-ready"]
    assert dut.feed(b"   %") == ["m-ready"]


def test_repeated_spaces_collapse() -> None:
    dut = make_dut()
    assert cmd(dut, "  db   load    8 ") == ["m-[Expecting 8 bytes]", "m-ready"]


def test_command_split_across_feeds_and_several_per_feed() -> None:
    dut = make_dut()
    assert dut.feed(b"na") == []
    assert dut.feed(b"me%name%") == ["m-name-dut-[unspecified]", "m-ready"] * 2


def test_command_buffer_saturates_at_80_chars() -> None:
    dut = make_dut(max_db_input_size=64)
    assert cmd(dut, "db load 64") == ["m-[Expecting 64 bytes]", "m-ready"]
    # 79 chars fit: 38 bytes in one command
    assert cmd(dut, "db " + "11" * 38) == ["m-ready"]
    assert dut.loaded == b"\x11" * 38
    # "db " + 80 digits = 83 chars: only 80 are kept, so 77 digits remain: odd count
    assert cmd(dut, "db " + "22" * 40) == ["e-[Insufficent number of hex digits]", "m-ready"]
    assert dut.loaded == b"\x11" * 38
    # the characters after the 80th are dropped, the token is cut at 80
    lines = cmd(dut, "x" * 100)
    assert lines == [f"e-[Unknown command: {'x' * 80}]", "m-ready"]


def test_db_load_errors() -> None:
    dut = make_dut()
    assert cmd(dut, "db load") == ["e-[Command 'db load' requires the # of bytes]", "m-ready"]
    for arg in ("0", "abc", "-5"):
        assert cmd(dut, f"db load {arg}") == ["e-[Command 'db load' must be >0 bytes]", "m-ready"]
    assert cmd(dut, "db") == ["e-[Command 'db' requires a subcommand]", "m-ready"]


def test_db_load_oversize_warns_and_stays_bounded() -> None:
    dut = make_dut(max_db_input_size=4)
    assert cmd(dut, "db load 6") == ["Supplied buffer size 6 exceeds maximum of 4", "m-ready"]
    assert parse_line("Supplied buffer size 6 exceeds maximum of 4").kind is Kind.OVERSIZE
    assert dut.expected_size == 4
    assert cmd(dut, "db 0102030405") == ["m-load-done", "m-ready"]
    assert dut.loaded == b"\x01\x02\x03\x04"


def test_db_hex_load_done_exactly_at_n() -> None:
    dut = make_dut()
    assert cmd(dut, "db load 5") == ["m-[Expecting 5 bytes]", "m-ready"]
    assert cmd(dut, "db 0aFF") == ["m-ready"]
    assert cmd(dut, "db 1020") == ["m-ready"]
    assert cmd(dut, "db 30405060") == ["m-load-done", "m-ready"]  # digits past N ignored
    assert dut.loaded == bytes([0x0A, 0xFF, 0x10, 0x20, 0x30])
    assert cmd(dut, "db 7777") == ["m-ready"]  # after load-done: ignored, no second done
    assert dut.loaded == bytes([0x0A, 0xFF, 0x10, 0x20, 0x30])
    # a new db load restarts at position 0
    assert cmd(dut, "db load 1") == ["m-[Expecting 1 bytes]", "m-ready"]
    assert cmd(dut, "db ab") == ["m-load-done", "m-ready"]
    assert dut.loaded == b"\xab"


def test_db_hex_errors() -> None:
    dut = make_dut()
    cmd(dut, "db load 8")
    assert cmd(dut, "db abc") == ["e-[Insufficent number of hex digits]", "m-ready"]
    assert dut.loaded == b""
    assert cmd(dut, "db 0102zz03") == ["e-[Invalid hex digit 'zz']", "m-ready"]
    assert dut.loaded == b"\x01\x02"  # bytes before the bad pair are kept
    assert cmd(dut, "db 0g") == ["e-[Invalid hex digit '0g']", "m-ready"]


def test_db_print_rows_of_8_and_trailing_empty_line() -> None:
    dut = make_dut()
    cmd(dut, "db load 10")
    cmd(dut, "db " + bytes(range(10)).hex())
    assert cmd(dut, "db print") == [
        "m-buffer-00-01-02-03-04-05-06-07",
        "m-buffer-08-09",
        "",
        "m-ready",
    ]
    cmd(dut, "db load 8")
    assert cmd(dut, "db print 4 2") == ["m-buffer-00-01-02-03-04-05-06-07", "m-ready"]


def test_infer_line_order_and_laps() -> None:
    dut = make_dut()
    load(dut, bytes(490))
    lines = cmd(dut, "infer 250 1")
    assert lines == [
        "m-warmup-start-1",
        "m-warmup-done",
        "m-infer-start-250",
        "m-lap-us-1040000",  # offset 1 s + one 40 ms warm-up
        "m-lap-us-11040000",  # + 250 x 40 ms
        "m-infer-done",
        "m-results-[0.000,0.250,0.996]",
        "m-ready",
    ]
    assert dut.last_timed_us == 10_000_000


def test_infer_defaults_and_errors() -> None:
    dut = make_dut()
    load(dut, bytes(490))
    lines = cmd(dut, "infer")
    assert lines[:3] == ["m-warmup-start-10", "m-warmup-done", "m-infer-start-1"]
    assert cmd(dut, "infer 0 1") == ["e-[Inference iterations must be >0]", "m-ready"]
    assert cmd(dut, "infer x") == ["e-[Inference iterations must be >0]", "m-ready"]
    assert cmd(dut, "infer 1 -1") == ["e-[Inference warmup must be >=0]", "m-ready"]
    assert cmd(dut, "infer 3")[0] == "m-warmup-start-10"


def test_infer_energy_build_prints_no_laps() -> None:
    pulses: list[int] = []
    dut = VirtualDut(
        DutConfig(energy=True),
        constant_results([0.5]),
        latency=LatencyModel(latency_us=100),
        clock=SimClock(0),
        on_timestamp=pulses.append,
    )
    dut.boot()
    load(dut, bytes(490))
    assert cmd(dut, "infer 800 1") == [
        "m-warmup-start-1",
        "m-warmup-done",
        "m-infer-start-800",
        "m-infer-done",
        "m-results-[0.500]",
        "m-ready",
    ]
    assert pulses == [0, 100, 80_100]
    assert cmd(dut, "timestamp") == ["m-ready"]
    assert len(pulses) == 4


def test_lap_wraps_at_32_bits() -> None:
    dut = VirtualDut(
        DutConfig(), constant_results([1.0]),
        latency=LatencyModel(latency_us=1_000), clock=SimClock(2**32 - 500),
    )
    dut.boot()
    laps = [parse_line(x).value for x in cmd(dut, "infer 1 0") if x.startswith("m-lap-us-")]
    assert laps == [2**32 - 500, 500]
    assert (laps[1] - laps[0]) % 2**32 == 1_000


def test_infer_runs_model_once_on_loaded_input_and_delays_are_reported() -> None:
    seen: list[bytes] = []

    def infer(raw: bytes) -> list[float]:
        seen.append(raw)
        return [float(raw[0])]

    dut = VirtualDut(DutConfig(input_bytes=4, max_db_input_size=8), infer,
                     latency=LatencyModel(latency_us=10))
    dut.boot()
    cmd(dut, "db load 4")
    cmd(dut, "db 07080900")
    (response,) = dut.feed_responses(b"infer 1000 5%")
    assert seen == [b"\x07\x08\x09\x00"]
    assert [e for e in response.events if isinstance(e, Delay)] == [Delay(50), Delay(10_000)]
    assert cmd(dut, "results") == ["m-results-[7.000]", "m-ready"]


def test_short_load_complains_and_keeps_old_tensor_bytes() -> None:
    dut = VirtualDut(DutConfig(input_bytes=4, max_db_input_size=8),
                     lambda raw: list(raw), latency=LatencyModel(latency_us=10))
    dut.boot()
    cmd(dut, "db load 2")
    cmd(dut, "db 0102")
    lines = cmd(dut, "infer 1 0")
    assert lines[0] == "Input db has 2 elemented, expected 4"
    assert lines[-2] == "m-results-[1.000,2.000,0.000,0.000]"


def test_results_before_infer_and_reset_clears_buffer() -> None:
    dut = make_dut()
    assert cmd(dut, "results") == ["m-results-[]", "m-ready"]
    cmd(dut, "db load 2")
    cmd(dut, "db 0102")
    assert dut.reset()[-1] == "m-ready"
    assert dut.loaded == b"" and dut.expected_size == 0


def test_latency_model_jitter_slow_and_throughput() -> None:
    assert LatencyModel.from_throughput(23.0).total_us(250) == round(250 * 1e6 / 23)
    a = LatencyModel(latency_us=1000, jitter_us=50, seed=3)
    b = LatencyModel(latency_us=1000, jitter_us=50, seed=3)
    runs = [a.total_us(1000) for _ in range(5)]
    assert runs == [b.total_us(1000) for _ in range(5)]  # seeded: deterministic
    assert len(set(runs)) > 1 and all(abs(r - 1_000_000) < 50 * 32 * 6 for r in runs)
    slow = LatencyModel(latency_us=1000, slow_probability=0.01, slow_factor=11, seed=1)
    assert slow.total_us(10_000) > 10_000_000
    assert LatencyModel(latency_us=1000).total_us(0) == 0


@pytest.mark.parametrize(
    ("text", "value"), [("12", 12), ("12ab", 12), ("-3", -3), ("x", 0), ("", 0)]
)
def test_c_atoi(text: str, value: int) -> None:
    assert c_atoi(text) == value


def test_reference_models_through_the_core() -> None:
    from tinyperf.firmware_interface.sim.model import make_virtual_dut

    if not (REFERENCE / "kws01" / "kws_ref_model.tflite").is_file():
        pytest.skip("reference models not available")
    kws = make_virtual_dut("kws01", reference_dir=REFERENCE, follow_wall=False)
    kws.boot()
    load(kws, b"\x7f" * 490)
    lines = cmd(kws, "infer 10 1")
    values = parse_line(lines[-2]).value
    assert isinstance(values, tuple) and len(values) == 12 and values[11] == max(values)

    ad = make_virtual_dut("ad01", reference_dir=REFERENCE, follow_wall=False)
    assert ad.config.max_db_input_size == 5120 and ad.config.input_bytes == 2560
    ad.boot()
    data = (REFERENCE / "ad01" / "normal_id_01_00000000_hist_librosa.bin").read_bytes()[:2560]
    load(ad, data)
    assert cmd(ad, "results") == ["m-results-[]", "m-ready"]
    # The virtual DUT runs TFLite Micro when installed: the spec's TFLM value (reference_models
    # 2.9: 11.676). Without it, ad01 falls back to LiteRT's builtin kernels: 11.675 (1-LSB
    # requantization differences, spec 3.3).
    from tinyperf.reference_models import runtime

    expected = "11.676" if runtime.tflm_available() else "11.675"
    assert cmd(ad, "infer 1 0")[-2] == f"m-results-[{expected}]"
