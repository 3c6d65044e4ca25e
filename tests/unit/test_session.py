"""Session folder: names, line-flushed log, a journal that survives a torn last line."""

import json
from datetime import datetime

import pytest
from tinyperf.formats.errors import SessionError
from tinyperf.harness.run.session import Session


def fixed():
    return datetime(2025, 7, 26, 1, 1, 47)


def test_folder_name_and_collisions(tmp_path):
    a = Session.create(tmp_path, fixed)
    b = Session.create(tmp_path, fixed)
    assert a.path.name == "20250726_010147"
    assert b.path.name == "20250726_010147_2"
    assert a.stamp() == "0726.010147"


def test_log_is_flushed_line_by_line(tmp_path):
    s = Session.create(tmp_path, fixed)
    s.log("  first  ", "second")
    assert s.log_path.read_text() == "first\nsecond\n"  # readable before close
    off = s.log_offset()
    s.log("third")
    s.truncate_log(off)
    s.log("again")
    assert s.log_path.read_text() == "first\nsecond\nagain\n"


def test_journal_torn_line_is_cut(tmp_path):
    s = Session.create(tmp_path, fixed)
    s.journal.append({"type": "header", "n": 1})
    s.journal.append({"type": "window", "window": 0})
    s.journal.close()
    with open(s.journal.path, "ab") as fh:
        fh.write(b'{"type":"window","win')  # killed mid-write
    entries = Session.reopen(s.path).journal.read()
    assert [e["type"] for e in entries] == ["header", "window"]
    assert s.journal.path.read_bytes().endswith(b"}\n")
    json.loads(s.journal.path.read_text().splitlines()[-1])


def test_reopen_needs_a_journal(tmp_path):
    with pytest.raises(SessionError, match="no journal"):
        Session.reopen(tmp_path)


def test_traffic_tap_escapes_bytes(tmp_path):
    s = Session.create(tmp_path, fixed)
    s.tap("tx", b"name%", 0.0)
    s.tap("rx", b"\xffm-ready\r\n", 0.1)
    s.close()
    text = (s.path / "traffic.log").read_text()
    assert " tx name%" in text and " rx \\xffm-ready\\r\\n" in text
