"""Golden agreement: firmware_interface/messages.def against harness/protocol.py.

The C layer prints only formats from messages.def; the Python side formats and parses with
tinyperf.formats.protocol, and the fast-load (``fl``) texts with tinyperf.formats.fast_load
(docs/fast_load.md). Each C format is rendered with sample values (printf semantics, emulated
for the few conversions the table allows) and must equal the Python formatter's output
for the same values, so neither side can change a string alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tinyperf.formats import fast_load as fl
from tinyperf.formats import protocol as p

TABLE = Path(__file__).resolve().parents[2] / "firmware_interface" / "messages.def"
_ROW = re.compile(r'^(EE_MSG|EE_ERR|EE_TEXT)\((\w+), "((?:[^"\\]|\\.)*)"\)$')
_STATUS = re.compile(r'^EE_STATUS\((\w+), (\d+), "((?:[^"\\]|\\.)*)"\)$')
_CONVERSION = re.compile(r"%(lu|ld|u|s)")

#: C-only error texts: the virtual DUT reports these conditions with the model's own text.
C_ONLY_ERRORS = {"LOAD_TENSOR_FAILED", "INFER_FAILED", "RESULTS_FAILED"}


def _rows() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {"EE_MSG": {}, "EE_ERR": {}, "EE_TEXT": {}}
    for line in TABLE.read_text().splitlines():
        match = _ROW.match(line.strip())
        if match:
            kind, name, literal = match.groups()
            assert name not in rows[kind], f"duplicate {kind}({name})"
            rows[kind][name] = bytes(literal, "ascii").decode("unicode_escape")
    return rows


ROWS = _rows()


def c_format(fmt: str, *args: object) -> str:
    """printf of the conversions the table allows (%s %lu %ld %u); '%%' is not allowed."""
    assert "%%" not in fmt
    values = iter(args)
    out = _CONVERSION.sub(lambda _match: str(next(values)), fmt)
    assert next(values, None) is None, "more arguments than conversions"
    return out


# name -> (C arguments, the Python side's rendering of the same values)
MESSAGES = {
    "READY": ((), p.MSG_READY),
    "INIT_DONE": ((), p.MSG_INIT_DONE),
    "TIMESTAMP_MODE_PERFORMANCE": ((), p.msg_timestamp_mode(False)),
    "TIMESTAMP_MODE_ENERGY": ((), p.msg_timestamp_mode(True)),
    "NAME": (("STMicroelectronics",), p.msg_name("STMicroelectronics")),
    "PROFILE": ((p.FIRMWARE_PROFILE,), p.msg_profile()),
    "MODEL": (("ad01",), p.msg_model("ad01")),
    "LAP_US": ((4294967295,), p.msg_lap_us(4294967295)),
    "EXPECTING": ((2560,), p.msg_expecting(2560)),
    "LOAD_DONE": ((), p.MSG_LOAD_DONE),
    "OVERSIZE": ((6000, 5120), p.msg_oversize(6000, 5120)),
    "BUFFER": (("00-1f-a0-ff",), p.msg_buffer(bytes([0, 0x1F, 0xA0, 0xFF]))),
    "WARMUP_START": ((10,), p.msg_warmup_start(10)),
    "WARMUP_DONE": ((), p.MSG_WARMUP_DONE),
    "INFER_START": ((250,), p.msg_infer_start(250)),
    "INFER_DONE": ((), p.MSG_INFER_DONE),
    "RESULTS": (("0.023,0.977",), p.msg_results([0.023, 0.977])),
    "ERROR": ((p.ERR_HEX_ODD,), p.msg_error(p.ERR_HEX_ODD)),
    "UNKNOWN_COMMAND": (("foo",), p.msg_unknown_command("foo")),
    "INVALID_HEX": (("g2",), p.msg_invalid_hex("g2")),
    "INPUT_SIZE_MISMATCH": ((10, 490), p.msg_input_size_mismatch(10, 490)),
    # fast load: the C port passes shift as %u (1) and the CRC as 8 lowercase hex digits
    "FL_CAPS": ((4096, 2560, 1, 200000), fl.format_caps(4096, 2560, True, 200000)),
    "FL_CRC": (("0badf00d",), fl.msg_crc(0x0BADF00D)),
    "FL_TIMEOUT": ((299, 300), p.msg_error(fl.err_timeout(299, 300))),
    "FL_SIZE": ((2561, 2560), p.msg_error(fl.err_size(2561, 2560))),
}

#: m- lines only fast load prints, and the fast-load parser that reads each
FAST_LOAD_LINES = {"FL_CAPS": fl.parse_caps, "FL_CRC": fl.parse_crc}

ERRORS = {
    "DB_LOAD_NEEDS_SIZE": p.ERR_DB_LOAD_NEEDS_SIZE,
    "DB_LOAD_POSITIVE": p.ERR_DB_LOAD_POSITIVE,
    "DB_NEEDS_SUBCOMMAND": p.ERR_DB_NEEDS_SUBCOMMAND,
    "HEX_ODD": p.ERR_HEX_ODD,
    "INFER_ITERATIONS": p.ERR_INFER_ITERATIONS,
    "INFER_WARMUP": p.ERR_INFER_WARMUP,
    "FL_CRC_MISMATCH": fl.ERR_CRC_MISMATCH,
    "FL_BAD_ARGUMENTS": fl.ERR_BAD_ARGUMENTS,
}


def test_every_message_has_a_python_twin() -> None:
    assert set(ROWS["EE_MSG"]) == set(MESSAGES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_format_matches_protocol(name: str) -> None:
    args, python_line = MESSAGES[name]
    assert c_format(ROWS["EE_MSG"][name], *args) == python_line


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_rendered_message_parses_as_its_kind(name: str) -> None:
    args, _ = MESSAGES[name]
    line = c_format(ROWS["EE_MSG"][name], *args)
    if name in FAST_LOAD_LINES:  # fl's own m- lines: parsed by the fast-load codec
        assert FAST_LOAD_LINES[name](line) is not None
        return
    message = p.parse_line(line)
    if name == "INPUT_SIZE_MISMATCH":
        assert message.kind is p.Kind.OTHER  # free text, tolerated by hosts
    else:
        assert message.kind is not p.Kind.OTHER


def test_error_texts_match_protocol() -> None:
    assert set(ROWS["EE_ERR"]) == set(ERRORS) | C_ONLY_ERRORS
    for name, text in ERRORS.items():
        assert ROWS["EE_ERR"][name] == text
    for name in C_ONLY_ERRORS:  # never confusable with a standard error
        assert ROWS["EE_ERR"][name] not in ERRORS.values()


def test_fixed_texts_match_protocol() -> None:
    texts = ROWS["EE_TEXT"]
    assert texts["FIRMWARE_PROFILE"] == p.FIRMWARE_PROFILE
    assert texts["DEFAULT_VENDOR"] == p.DEFAULT_VENDOR
    helps = [texts[k] for k in sorted(texts) if k.startswith("HELP_")]
    assert tuple(helps) == p.HELP_LINES


def test_command_size_matches_protocol() -> None:
    header = (TABLE.parent / "include" / "ee_api.h").read_text()
    match = re.search(r"#define EE_CMD_SIZE (\d+)u", header)
    assert match and int(match.group(1)) == p.EE_CMD_SIZE


def test_status_codes_are_unique_and_zero_is_ok() -> None:
    rows = [_STATUS.match(line.strip()) for line in TABLE.read_text().splitlines()]
    statuses = {m.group(1): int(m.group(2)) for m in rows if m}
    assert statuses["OK"] == 0
    assert len(set(statuses.values())) == len(statuses)


def test_table_uses_only_known_conversions() -> None:
    for kind in ("EE_MSG", "EE_ERR", "EE_TEXT"):
        for name, text in ROWS[kind].items():
            stripped = _CONVERSION.sub("", text)
            assert "%" not in stripped, f"{kind}({name}) has an unsupported conversion"
            if kind != "EE_MSG":
                assert stripped == text, f"{kind}({name}) must not contain conversions"


def test_fast_load_lines_parse_with_the_python_codec() -> None:
    caps = fl.parse_caps(c_format(ROWS["EE_MSG"]["FL_CAPS"], 4096, 2560, 1, 200000))
    assert caps == fl.Caps(fl.VERSION, fl.ENCODING, fl.CRC_NAME, 4096, 2560, True, 200000)
    assert caps.usable
    reply = fl.parse_block_reply([c_format(ROWS["EE_MSG"]["FL_CRC"], "0badf00d"),
                                  ROWS["EE_MSG"]["LOAD_DONE"]])
    assert reply.problem(0x0BADF00D) is None
    mismatch = fl.parse_block_reply([c_format(ROWS["EE_MSG"]["FL_CRC"], "0badf00d"),
                                     c_format(ROWS["EE_MSG"]["ERROR"],
                                              ROWS["EE_ERR"]["FL_CRC_MISMATCH"])])
    assert mismatch.error == fl.ERR_CRC_MISMATCH
    # a firmware without fast load answers `fl caps` with the standard unknown-command line
    assert c_format(ROWS["EE_MSG"]["UNKNOWN_COMMAND"], "fl") == p.msg_error(fl.ERR_UNKNOWN)
