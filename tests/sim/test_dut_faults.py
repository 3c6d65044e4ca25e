"""The DUT client against a faulty virtual DUT: a specific error or a bounded retry, never a hang."""

from __future__ import annotations

import time

import pytest
from tinyperf.firmware_interface.sim.core import constant_results
from tinyperf.firmware_interface.sim.faults import Fault
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.errors import DutErrorReply, DutProtocolError, DutTimeout
from tinyperf.harness.link.dut import Dut, DutResetError, Timeouts
from tinyperf.harness.link.transport import open_link

RESULTS = [0.1, 0.9]


def serve(*faults: Fault) -> SimServer:
    dut = make_virtual_dut("kws01", infer_fn=constant_results(RESULTS), vendor="acme")
    return SimServer(dut, pty=True, baud=None, faults=list(faults))


def client(server: SimServer, events: list[tuple[str, str]], **kw) -> Dut:
    timeouts = Timeouts(command=kw.pop("command", 0.6), infer=kw.pop("infer", 2.0))
    return Dut(open_link(server.url, 115200), timeouts=timeouts,
               on_event=lambda name, text: events.append((name, text)), **kw)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("pattern", ["ff", "00", "random"])
def test_garbage_before_a_reply(pattern):
    events: list[tuple[str, str]] = []
    with serve(Fault("garbage", "name", count=16, pattern=pattern, seed=7)) as server:
        dut = client(server, events)
        assert dut.identify().vendor == "acme"
        assert server.faults.fired == [("name", 1, "garbage")]
    # ff/00 are cleaned off the line; random bytes may cost one bounded retry
    assert len([e for e in events if e[0] == "retry"]) <= 2


@pytest.mark.timeout(20)
def test_dropped_characters_retry_name():
    events: list[tuple[str, str]] = []
    with serve(Fault("drop_chars", "name", line=0, position=4, count=3)) as server:
        dut = client(server, events)
        assert dut.name() == "acme"
    assert any("Retrying name (1/3)" in text for _, text in events)


@pytest.mark.timeout(20)
def test_name_gives_up_after_three_attempts():
    faults = [Fault("drop_chars", "name", occurrence=k, line=0, position=4, count=3)
              for k in (1, 2, 3)]
    events: list[tuple[str, str]] = []
    with serve(*faults) as server:
        dut = client(server, events)
        assert dut.name() is None
        assert dut.profile()[1] == "kws01"  # the link is still in step afterwards


@pytest.mark.timeout(20)
def test_stall_longer_than_timeout_then_recovers():
    events: list[tuple[str, str]] = []
    with serve(Fault("stall", "name", seconds=1.0)) as server:
        dut = client(server, events, command=0.4)
        start = time.monotonic()
        assert dut.name() == "acme"
        assert time.monotonic() - start < 3.0
    assert any("no 'm-ready'" in text for _, text in events)


@pytest.mark.timeout(20)
def test_stall_on_infer_raises_timeout_not_hang():
    with serve(Fault("stall", "infer", seconds=30.0, respond=False)) as server:
        dut = client(server, [], infer=1.0)
        dut.load(bytes(490))
        start = time.monotonic()
        with pytest.raises(DutTimeout) as err:
            dut.infer(10, 1)
        assert 0.9 < time.monotonic() - start < 5.0
        assert err.value.command == "infer 10 1"


@pytest.mark.timeout(20)
def test_reset_mid_load_restarts_the_load():
    events: list[tuple[str, str]] = []
    with serve(Fault("reset", "db", occurrence=5)) as server:
        dut = client(server, events)
        dut.load(bytes(range(256)) + bytes(234))
        assert server.dut.loaded == bytes(range(256)) + bytes(234)
        assert dut.infer(5, 0).results == tuple(RESULTS)
    assert any("restarting" in text for _, text in events)


@pytest.mark.timeout(20)
def test_reset_during_infer_is_a_typed_error():
    with serve(Fault("reset", "infer")) as server:
        dut = client(server, [])
        dut.load(bytes(490))
        with pytest.raises(DutResetError) as err:
            dut.infer(5, 0)
        assert "m-timestamp-mode" in (err.value.line or "") or "m-init-done" in (err.value.line or "")
        # the banner was drained: the next command works
        assert dut.name() == "acme"


@pytest.mark.timeout(20)
def test_error_line_is_reported_with_the_line():
    with serve(Fault("error_line", "infer", text="model crashed")) as server:
        dut = client(server, [])
        dut.load(bytes(490))
        with pytest.raises(DutErrorReply) as err:
            dut.infer(5, 0)
        assert err.value.line == "e-[model crashed]"
        assert dut.infer(5, 0).results == tuple(RESULTS)


@pytest.mark.timeout(20)
def test_dut_errors_surface_for_bad_arguments():
    with serve() as server:
        dut = client(server, [])
        with pytest.raises(DutErrorReply, match="Unknown command: frobnicate"):
            dut.command("frobnicate now")
        with pytest.raises(DutErrorReply, match=r"must be >0 bytes"):
            dut.command("db load 0")


@pytest.mark.timeout(20)
def test_oversized_input_refused():
    with serve() as server:
        dut = client(server, [], )
        with pytest.raises(DutProtocolError, match="larger than the DUT's buffer"):
            dut.load(bytes(491 + 5000))


@pytest.mark.timeout(20)
def test_socket_link_works_too():
    dut_model = make_virtual_dut("kws01", infer_fn=constant_results(RESULTS), vendor="acme")
    with SimServer(dut_model, pty=False, socket_port=0, baud=None) as server:
        assert server.url.startswith("socket://127.0.0.1:")
        dut = Dut(open_link(server.url, 115200), timeouts=Timeouts(2.0, 5.0))
        ident = dut.identify()
        assert (ident.vendor, ident.model) == ("acme", "kws01")
        dut.load(bytes(range(200)) + bytes(290))
        res = dut.infer(100, 10)
        assert res.results == tuple(RESULTS) and res.elapsed_us is not None


@pytest.mark.timeout(20)
def test_banner_then_late_answer_does_not_shift_answers():
    """A DUT booting as the first command arrives: banner, then (late) that command's answer.

    A scripted DUT on a real pty; without the resync the client would read each later
    answer one command behind.
    """
    import os
    import threading
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    answers = {b"name": [b"m-name-dut-[acme]"],
               b"profile": [b"m-profile-[fw]", b"m-model-[kws01]"]}
    stop = threading.Event()

    def dut_side():
        first = True
        buf = b""
        while not stop.is_set():
            import select as sel
            if not sel.select([master], [], [], 0.05)[0]:
                continue
            buf += os.read(master, 1024)
            while b"%" in buf:
                cmd, buf = buf.split(b"%", 1)
                body = b"".join(line + b"\r\n" for line in answers.get(cmd, []))
                if first:
                    first = False
                    os.write(master, b"m-timestamp-mode-performance\r\nm-lap-us-5\r\n"
                                     b"m-init-done\r\nm-ready\r\n")
                    time.sleep(0.1)
                os.write(master, body + b"m-ready\r\n")

    thread = threading.Thread(target=dut_side, daemon=True)
    thread.start()
    events: list[tuple[str, str]] = []
    try:
        dut = Dut(open_link(os.ttyname(slave), 115200), timeouts=Timeouts(1.0, 2.0),
                  on_event=lambda name, text: events.append((name, text)))
        assert dut.name() == "acme"  # attempt 1 sees the reset, attempt 2 answers
        assert dut.profile() == ("fw", "kws01")
        assert dut.name() == "acme"
        assert any(name == "resync" for name, _ in events)
    finally:
        stop.set()
        thread.join(2)
        os.close(master)
        os.close(slave)
