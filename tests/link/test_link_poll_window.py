"""SerialLink's sleep-then-poll wait for an answer, on a real pty.

The reader sleeps in ``select`` while its own write is still on the wire and polls only
around the earliest time an answer can be complete (``transport._poll_window``). These
tests pin what that must never change: an answer is taken as soon as it is there (also
long before the window: a pty or USB CDC port ignores the baud rate), deadlines are kept
before, inside and after the window, and the polling is bounded.
"""

from __future__ import annotations

import os
import threading
import time
import tty

import pytest
from tinyperf.harness.link.timeouts import Deadline
from tinyperf.harness.link.transport import SerialLink

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")

COMMAND = b"db " + b"ab" * 38 + b"%"  # 80 bytes: a full standard-protocol command


@pytest.fixture
def pty():
    """(master fd, slave path): the master plays the device."""
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo of the host's bytes, no CR/LF mapping
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def read_command(master: int, deadline: Deadline) -> bytes:
    data = b""
    while not data.endswith(b"%"):
        assert not deadline.expired, f"the host's command did not arrive: {data!r}"
        try:
            data += os.read(master, 4096)
        except BlockingIOError:
            time.sleep(0.0005)
    return data


def answering(master: int, replies: list[bytes], gap_s: float = 0.0) -> threading.Thread:
    """A device thread: per command read, write the next reply (in parts ``gap_s`` apart
    when a reply is a tuple)."""
    os.set_blocking(master, False)

    def serve() -> None:
        for reply in replies:
            read_command(master, Deadline(5.0))
            for part in reply if isinstance(reply, tuple) else (reply,):
                time.sleep(gap_s)
                os.write(master, part)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_answer_long_before_the_window_is_taken_at_once(pty):
    # at 300 baud the window opens ~2.9 s after the write; the pty answers at once
    master, path = pty
    with SerialLink(path, 300) as link:
        thread = answering(master, [b"m-ready\r\n"])
        link.write(COMMAND)
        start = time.monotonic()
        assert link.readline(Deadline(10.0)) == "m-ready"
        assert time.monotonic() - start < 1.5  # not slept until the window
        thread.join(5)


def test_deadline_before_the_window_is_kept(pty):
    _master, path = pty
    with SerialLink(path, 300) as link:
        link.write(COMMAND)
        start = time.monotonic()
        assert link.readline(Deadline(0.2)) is None
        assert time.monotonic() - start < 1.5  # not slept until the window (~2.9 s)


def test_deadline_inside_the_window_is_kept_and_polling_is_bounded(pty):
    _master, path = pty
    with SerialLink(path, 921600) as link:
        link.write(COMMAND)
        cpu, start = time.process_time(), time.monotonic()
        assert link.readline(Deadline(0.3)) is None
        waited = time.monotonic() - start
        assert 0.25 < waited < 2.0
        # the poll lasts at most ~1 ms of the 0.3 s: the rest is spent asleep in select
        assert time.process_time() - cpu < 0.15


def test_answers_in_the_window_are_polled(pty, monkeypatch):
    master, path = pty
    rounds = 30
    with SerialLink(path, 921600) as link:
        polled: list[bool] = []
        window = link._poll_window

        def counted(timeout: float) -> bool:
            polled.append(window(timeout))
            return polled[-1]

        monkeypatch.setattr(link, "_poll_window", counted)
        thread = answering(master, [b"m-ready\r\n"] * rounds)
        for _ in range(rounds):
            link.write(COMMAND)
            assert link.readline(Deadline(2.0)) == "m-ready"
        thread.join(5)
        assert link.bytes_rx == 9 * rounds
        # the answer comes within the window (~0.1 ms after the 80 bytes' wire time) on
        # an idle machine; a loaded one may miss it at times, never always
        assert any(polled)


def test_a_line_in_two_parts_after_the_window(pty):
    master, path = pty
    with SerialLink(path, 921600) as link:
        thread = answering(master, [(b"m-lap-us-12", b"34\r\nm-ready\r\n")], gap_s=0.02)
        link.write(COMMAND)
        assert link.readline(Deadline(2.0)) == "m-lap-us-1234"
        assert link.readline(Deadline(2.0)) == "m-ready"
        thread.join(5)
        assert link.discard_input() == []
