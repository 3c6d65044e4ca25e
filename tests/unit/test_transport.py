"""SerialLink over pyserial's loop:// (what is written comes back): line splitting, deadlines."""

import time

import pytest
from tinyperf.formats.errors import TransportError
from tinyperf.harness.link.timeouts import Deadline
from tinyperf.harness.link.transport import SerialLink


@pytest.fixture
def loop():
    link = SerialLink("loop://")
    yield link
    link.close()


def test_mixed_line_endings_and_junk(loop):
    loop.write(b"\xff\x00m-name-dut-[a]\r\nm-profile-[p]\rm-model-[kws01]\n\n\r\r\nm-ready\r\n")
    got = []
    while (line := loop.readline(Deadline(0.5))) is not None:
        got.append(line)
    assert got == ["m-name-dut-[a]", "m-profile-[p]", "m-model-[kws01]", "m-ready"]


def test_partial_line_waits_for_its_end(loop):
    loop.write(b"m-lap-us-12")
    assert loop.readline(Deadline(0.2)) is None
    loop.write(b"34\r\n")
    assert loop.readline(Deadline(0.5)) == "m-lap-us-1234"


def test_deadline_is_honoured(loop):
    start = time.monotonic()
    assert loop.readline(Deadline(0.3)) is None
    assert 0.25 < time.monotonic() - start < 2.0


def test_discard_input_returns_stale_lines(loop):
    loop.write(b"m-timestamp-mode-performance\r\nm-init-done\r\nm-re")
    time.sleep(0.05)
    assert loop.discard_input() == ["m-timestamp-mode-performance", "m-init-done", "m-re"]
    assert loop.readline(Deadline(0.1)) is None


def test_tap_sees_both_directions(loop):
    seen = []
    loop.add_tap(lambda d, data, t: seen.append((d, data)))
    loop.write(b"name%")
    loop.readline(Deadline(0.2))
    assert ("tx", b"name%") in seen and ("rx", b"name%") in seen
    assert loop.bytes_tx == 5 and loop.bytes_rx == 5


def test_bad_url_is_a_transport_error():
    with pytest.raises(TransportError, match="/dev/does-not-exist"):
        SerialLink("/dev/does-not-exist")
    with pytest.raises(TransportError, match="cannot open"):
        SerialLink("socket://127.0.0.1:1")
