"""Infer deadlines come from what the DUT has shown, so a frozen DUT is found in seconds.

A DUT that stops answering in the middle of an ``infer`` reply (port open, no bytes) used
to be waited on for the 600 s ``--infer-timeout`` default. These tests freeze the virtual
DUT mid-reply and check the deadline the harness computed (carried by the error), not the
wall clock.
"""

from __future__ import annotations

import re

import pytest
from tinyperf.firmware_interface.sim.faults import Fault
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.errors import DutTimeout
from tinyperf.harness.link.dut import Dut, DutFrozen, Timeouts
from tinyperf.harness.link.transport import open_link
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.reference_models.demo import demo_subset

RATE = 23.0  # inf/s, a kws01-class board


def kws(reference_dir, *faults: Fault, **kw) -> SimServer:
    dut = make_virtual_dut("kws01", throughput=RATE, seed=3, reference_dir=reference_dir, **kw)
    return SimServer(dut, pty=True, baud=None, faults=list(faults))


def check_message(exc: DutFrozen, command: str, session) -> None:
    text = str(exc)
    assert repr(command) in text
    assert exc.lines and repr(exc.lines[-1]) in text  # the last line received
    assert str(session) in text and f"tinyperf run --resume {session}" in text
    assert "--infer-timeout" in text


@pytest.mark.timeout(60)
def test_accuracy_freeze_is_found_within_seconds(reference_dir, tmp_path):
    data = demo_subset(tmp_path / "data", "kws01", 4)
    # the 3rd inference prints its first line (m-lap-us), then the DUT hangs for good
    with kws(reference_dir, Fault("freeze", "infer", occurrence=3, line=1)) as server:
        config = RunConfig(mode="accuracy", dataset_path=data, output_dir=tmp_path / "s",
                           port=server.url, progress=False)
        with pytest.raises(DutFrozen) as info:
            run_session(config)
        assert server.faults.fired == [("infer", 3, "freeze")]
    exc = info.value
    session = next((tmp_path / "s").iterdir())
    check_message(exc, "infer 1 0", session)
    # learned from two inferences at 23 inf/s: 1 x 43.5 ms expected + the 5 s link floor
    assert exc.waited_s <= 30.0
    assert 5.0 < exc.waited_s < 5.2, exc.waited_s
    assert "ERROR: the DUT stopped answering" in (session / "log.txt").read_text()


@pytest.mark.timeout(90)
def test_performance_window_freeze_within_twice_the_window(reference_dir, tmp_path):
    data = demo_subset(tmp_path / "data", "kws01", 5)
    # infer #1 is the auto calibration, #2 the first window, #3 freezes mid-reply
    with kws(reference_dir, Fault("freeze", "infer", occurrence=3, line=1)) as server:
        config = RunConfig(mode="performance", dataset_path=data, output_dir=tmp_path / "s",
                           port=server.url, progress=False)
        with pytest.raises(DutFrozen) as info:
            run_session(config)
    exc = info.value
    n, w = map(int, re.fullmatch(r"infer (\d+) (\d+)", exc.command).groups())
    expected_window = (n + w) / RATE
    assert expected_window > 10.0
    assert exc.waited_s <= 2.0 * expected_window * 1.02, (exc.waited_s, expected_window)
    check_message(exc, exc.command, next((tmp_path / "s").iterdir()))


@pytest.mark.timeout(30)
def test_explicit_infer_timeout_wins(reference_dir, tmp_path):
    data = demo_subset(tmp_path / "data", "kws01", 2)
    with kws(reference_dir, Fault("freeze", "infer", occurrence=2, line=1)) as server:
        config = RunConfig(mode="accuracy", dataset_path=data, output_dir=tmp_path / "s",
                           port=server.url, progress=False)
        with pytest.raises(DutFrozen) as info:
            run_session(config, timeouts=Timeouts(command=5.0, infer=2.5))
    assert info.value.waited_s == 2.5
    assert info.value.basis == "--infer-timeout"


def test_deadline_formula():
    dut = Dut.__new__(Dut)
    dut.timeouts = Timeouts()
    dut.per_inference_s = None
    first, basis = dut.infer_deadline(1, 0)
    assert first <= 30.0 and "first contact" in basis  # bounded before anything is known
    dut.learn(1 / RATE)
    dut.learn(0.5 / RATE)  # a faster reply does not shorten the deadline: the longest stays
    assert dut.infer_deadline(1, 0)[0] == pytest.approx(5.0 + 1 / RATE)
    assert dut.infer_deadline(253, 10)[0] == pytest.approx(2 * 263 / RATE)
    dut.timeouts = Timeouts(infer=600.0)
    assert dut.infer_deadline(1, 0) == (600.0, "--infer-timeout")


@pytest.mark.timeout(60)
def test_slow_but_alive_dut_is_not_killed(reference_dir, tmp_path):
    data = demo_subset(tmp_path / "data", "kws01", 6)
    # half of the inferences take 3x as long: per-inference time varies x3
    with kws(reference_dir, slow_probability=0.5, slow_factor=3.0) as server:
        config = RunConfig(mode="accuracy", dataset_path=data, output_dir=tmp_path / "s",
                           port=server.url, progress=False)
        result = run_session(config)
    assert result.valid, result.reasons


@pytest.mark.timeout(30)
def test_dut_learns_per_inference_time(reference_dir):
    with kws(reference_dir) as server:
        dut = Dut(open_link(server.url, 115200))
        dut.load(bytes(490))
        assert dut.per_inference_s is None
        dut.infer(5, 0)
        assert dut.per_inference_s == pytest.approx(1 / RATE, rel=0.2)


@pytest.mark.timeout(60)
def test_a_dut_frozen_at_profile_is_not_called_modelless(reference_dir, tmp_path):
    """Soak campaign's one "unclear" error: a DUT that froze while answering ``profile`` was
    reported only as "did not report its model id"; the error now says each attempt timed
    out, and it is a ``DutTimeout`` (no answer), not a protocol error."""
    data = demo_subset(tmp_path / "data", "kws01", 2)
    with kws(reference_dir, Fault("freeze", "profile", occurrence=1, line=0)) as server:
        config = RunConfig(mode="accuracy", dataset_path=data, output_dir=tmp_path / "s",
                           port=server.url, progress=False)
        with pytest.raises(DutTimeout, match="model id") as info:
            run_session(config, timeouts=Timeouts(command=0.5, stall=1.0))
    text = str(info.value)
    assert "3 attempt(s)" in text and "DutTimeout" in text, text
