"""Protocol module: every line kind parses, commands are framed and bounded."""

import pytest
from tinyperf.formats import protocol
from tinyperf.formats.protocol import Kind

LINES = [
    ("m-ready", Kind.READY, None),
    ("m-name-dut-[STMicroelectronics]", Kind.NAME, "STMicroelectronics"),
    ("m-profile-[ULPMark for tinyML Firmware V0.0.1]", Kind.PROFILE,
     "ULPMark for tinyML Firmware V0.0.1"),
    ("m-model-[kws01]", Kind.MODEL, "kws01"),
    ("m-lap-us-114879046", Kind.LAP_US, 114879046),
    ("m-results-[0.000,0.977]", Kind.RESULTS, (0.0, 0.977)),
    ("m-results-[0.023,0.977,]", Kind.RESULTS, (0.023, 0.977)),
    ("m-results-[11.772]", Kind.RESULTS, (11.772,)),
    ("m-warmup-start-10", Kind.WARMUP_START, 10),
    ("m-warmup-done", Kind.WARMUP_DONE, None),
    ("m-infer-start-250", Kind.INFER_START, 250),
    ("m-infer-done", Kind.INFER_DONE, None),
    ("m-[Expecting 490 bytes]", Kind.EXPECTING, 490),
    ("m-load-done", Kind.LOAD_DONE, None),
    ("m-buffer-00-1f-a0-ff", Kind.BUFFER, bytes([0, 0x1F, 0xA0, 0xFF])),
    ("m-timestamp-mode-performance", Kind.TIMESTAMP_MODE, "performance"),
    ("m-init-done", Kind.INIT_DONE, None),
    ("e-[Unknown command: foo]", Kind.ERROR, "Unknown command: foo"),
    ("Supplied buffer size 6000 exceeds maximum of 5120", Kind.OVERSIZE, (6000, 5120)),
    ("m-dut-passthrough(infer 800 1)", Kind.PASSTHROUGH, "infer 800 1"),
    ("Initialized", Kind.OTHER, None),
    ("m-ready-ish", Kind.OTHER, None),  # a line *containing* m-ready is not the end marker
]


@pytest.mark.parametrize(("line", "kind", "value"), LINES)
def test_parse_line(line, kind, value):
    msg = protocol.parse_line(line)
    assert msg.kind is kind
    assert msg.value == value


def test_bad_results_value_is_flagged_not_raised():
    assert protocol.parse_line("m-results-[0.1,abc]").value is None


@pytest.mark.parametrize(("raw", "text"), [
    (b"m-ready\r", "m-ready"),
    (b"\xff\xffm-ready", "m-ready"),
    (b"m-re\x00ady", "m-ready"),
    (b"\xfe\x13\x07 m-init-done", "m-init-done"),
    (b"\xc3\xa9m-ready", "m-ready"),
    (b"m-name-dut-[caf\xc3\xa9]", "m-name-dut-[caf\u00e9]"),
    (b"  \r", ""),
])
def test_clean_line(raw, text):
    assert protocol.clean_line(raw) == text


def test_commands_framed():
    assert protocol.cmd_db_load(490) == b"db load 490%"
    assert protocol.cmd_db_data(b"\x00\xff\x1a") == b"db 00ff1a%"
    assert protocol.cmd_infer(250, 1) == b"infer 250 1%"
    assert protocol.cmd_name() == b"name%"


@pytest.mark.parametrize("bad", ["", "   ", "a%b", "x" * 81])
def test_commands_refused(bad):
    with pytest.raises(ValueError):
        protocol.command(bad)


def test_infer_arguments_checked():
    with pytest.raises(ValueError):
        protocol.cmd_infer(0, 1)
    with pytest.raises(ValueError):
        protocol.cmd_infer(1, -1)


def test_chunk_size_fills_the_buffer():
    k = protocol.db_chunk_size()
    assert k == 38
    assert len(protocol.cmd_db_data(bytes(k))) - 1 <= protocol.EE_CMD_SIZE
    with pytest.raises(ValueError):
        protocol.cmd_db_data(bytes(k + 1))
    assert len(protocol.cmd_db_data(bytes(512), limit=1028)) == 3 + 1024 + 1
    assert protocol.db_chunk_size(prefix="dut ") == 36
    assert protocol.db_chunk_size(1028) == 512


def test_dut_side_formatting_round_trips():
    assert protocol.parse_line(protocol.msg_lap_us(2**32 + 5)).value == 5
    assert protocol.parse_line(protocol.msg_results([0.1234, 0.5])).value == (0.123, 0.5)
    assert protocol.parse_line(protocol.msg_expecting(7)).value == 7
    assert protocol.msg_results([11.6764]) == "m-results-[11.676]"
