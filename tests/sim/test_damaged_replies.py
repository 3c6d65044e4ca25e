"""Damaged replies that stay well-formed, and counts the protocol or its timer cannot carry.

Real failures (#19 items 10, 13, 14): one digit dropped from an ``m-lap-us`` line turned a
10.87 s window into 4294.6 s and the run stayed VALID; a digit dropped inside ``m-results``
changed a probability silently; ``--iterations`` with 81 digits ended in a traceback and
``--iterations 1000000000000`` gave 502,644,109 inf./sec. and VALID; ``--warmups -1`` and
``--cmd-buffer 5`` were tracebacks; a corrupt journal header was a traceback, and the journal
reader cut the whole file.
"""

from __future__ import annotations

import json

import pytest
from tinyperf.firmware_interface.sim.faults import Fault
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.formats.errors import ConfigError, DutProtocolError, SessionError
from tinyperf.harness.link import plausibility
from tinyperf.harness.link.dut import Timeouts
from tinyperf.harness.run import scenarios
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.harness.run.session import Journal
from tinyperf.reference_models.demo import demo_data_dir

from tinyperf.cli.main import main

LAP_LINE, RESULTS_LINE = 4, 6  # of an infer reply: warm-up x2, infer-start, lap, lap, done, results
PERF_SCRIPT = """
kws01:
  name: keyword_spotting
  model: kws01
  truth_file: y_labels.csv
  script:
    - loop 5:
      - download
      - infer 260 1
"""


def _serve(reference_dir, *faults: Fault, clock_offset_us: int = 0) -> SimServer:
    dut = make_virtual_dut("kws01", throughput=23.0, reference_dir=reference_dir,
                           clock_offset_us=clock_offset_us)
    return SimServer(dut, pty=True, baud=None, faults=list(faults))


def _perf(server: SimServer, tmp_path, **kw):
    script = tmp_path / "tests_performance.yaml"
    script.write_text(PERF_SCRIPT)
    config = RunConfig(mode="performance", dataset_path=demo_data_dir(),
                       output_dir=tmp_path / kw.pop("out", "out"),
                       entries=scenarios.load_test_script(script), port=server.url,
                       progress=False, **kw)
    return run_session(config, timeouts=Timeouts(command=2.0))


def _accuracy(server: SimServer, tmp_path, out: str, **kw):
    config = RunConfig(mode="accuracy", dataset_path=demo_data_dir(),
                       output_dir=tmp_path / out, port=server.url, progress=False, **kw)
    return run_session(config, timeouts=Timeouts(command=2.0))


# -- the lap line: item 10 ------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_a_dropped_lap_digit_is_caught_and_the_window_run_again(reference_dir, tmp_path):
    with _serve(reference_dir) as server:
        clean = _perf(server, tmp_path, out="clean")
    fault = Fault("drop_chars", "infer", occurrence=3, line=LAP_LINE, position=10, count=1)
    with _serve(reference_dir, fault) as server:
        damaged = _perf(server, tmp_path, out="damaged")
        assert server.faults.fired == [("infer", 3, "drop_chars")]
    assert damaged.valid, damaged.reasons
    assert damaged.figures["window_throughput"] == pytest.approx(
        clean.figures["window_throughput"], rel=1e-9)
    log = (damaged.session / "log.txt").read_text()
    assert "window 3 attempt 1" in log and "damaged m-lap-us" in log


@pytest.mark.timeout(90)
def test_a_damaged_first_window_without_a_witness_is_never_valid(reference_dir, tmp_path):
    # the first window has no earlier window and this DUT's clock does not follow the host's:
    # only the summary can see it, and it must not call the run valid
    fault = Fault("drop_chars", "infer", occurrence=1, line=LAP_LINE, position=10, count=1)
    with _serve(reference_dir, fault) as server:
        result = _perf(server, tmp_path)
    assert not result.valid
    assert any("window 1:" in r and "implausible DUT timing" in r for r in result.reasons)


def test_a_window_against_the_hosts_clock():
    # host witness, first window: 4294.6 s on the DUT against 10.9 s on the host
    assert plausibility.window_problem(250, 4294.6, 10.9, [], []) is not None
    assert plausibility.window_problem(250, 10.87, 10.9, [], []) is None
    # later windows: the clock ratio of earlier windows (DUT clock 2 % fast here)
    ratios = [1.02, 1.02, 1.021]
    assert plausibility.window_problem(250, 11.12, 10.9, [], ratios) is None
    assert plausibility.window_problem(250, 1.087, 10.9, [], ratios) is not None
    # an emulated DUT on a loaded host: the host took 2.5x longer than before, still fine
    assert plausibility.window_problem(250, 11.12, 27.0, [], ratios) is None
    # no witness at all (simulated time, first window): nothing to object with
    assert plausibility.window_problem(250, 4294.6, 0.002, [], []) is None


def test_one_damaged_early_window_does_not_condemn_the_later_ones():
    bogus, good = 16.5, 0.0435
    assert plausibility.window_problem(260, 260 * good, None, [bogus], []) is None
    assert plausibility.window_problem(260, 260 * good, None, [bogus, good], []) is None
    assert plausibility.window_problem(260, 260 * bogus, None, [good, good], []) is not None
    assert plausibility.speed_outliers([bogus, good, good, good, good]) == [0]


# -- the results line: --verify-results ------------------------------------------------------


@pytest.mark.timeout(120)
def test_verify_results_catches_a_dropped_digit_in_m_results(reference_dir, tmp_path):
    with _serve(reference_dir) as server:
        clean = _accuracy(server, tmp_path, "clean")
    # "m-results-[0.007,..." loses the dot of its first value: 7.0
    fault = Fault("drop_chars", "infer", occurrence=1, line=RESULTS_LINE, position=12, count=1)
    with _serve(reference_dir, fault) as server:
        unverified = _accuracy(server, tmp_path, "unverified")
    with _serve(reference_dir, fault) as server:
        verified = _accuracy(server, tmp_path, "verified", verify_results=True)
        assert server.faults.fired == [("infer", 1, "drop_chars")]

    def results(result):
        return [r["infer"]["results"] for r in
                json.loads((result.session / "results.json").read_text())]

    # without the check the damage is silent (why the option exists) ...
    assert results(unverified) != results(clean)
    # ... with it, the window is run again and the session equals the clean one
    assert results(verified) == results(clean)
    assert verified.figures["top1"] == clean.figures["top1"]
    assert "a damaged m-results line" in (verified.session / "log.txt").read_text()


# -- counts and the 32-bit timer: item 13 ------------------------------------------------------


def test_lap_wraps_from_the_hosts_clock():
    # a 5000 s window reads 705 s modulo one period of the 32-bit µs counter
    assert plausibility.lap_wraps(5000 - plausibility.WRAP_S, 5000.4, 1.0) == 1
    assert plausibility.lap_wraps(10.87, 10.9, 1.0) == 0
    assert plausibility.lap_wraps(10.87, 0.001, None) == 0  # no witness: nothing to add
    assert plausibility.lap_wraps(100.0, 3 * plausibility.WRAP_S + 101, 1.0) == 3


@pytest.mark.timeout(90)
def test_a_window_across_the_counters_wrap_is_timed_right(reference_dir, tmp_path):
    # the virtual DUT's 32-bit counter wraps like a board's: start 20 s before the wrap
    with _serve(reference_dir) as server:
        clean = _perf(server, tmp_path, out="clean")
    with _serve(reference_dir, clock_offset_us=(1 << 32) - 20_000_000) as server:
        wrapped = _perf(server, tmp_path, out="wrapped")
    laps = [(r["infer"]["start_time"], r["infer"]["end_time"]) for r in
            json.loads((wrapped.session / "results.json").read_text())]
    assert any(end < start for start, end in laps)  # one window did cross the wrap
    assert wrapped.valid
    assert wrapped.figures["window_throughput"] == pytest.approx(
        clean.figures["window_throughput"], rel=1e-3)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value, text", [
    ("1" * 81, "32-bit int"),
    ("1000000000000", "32-bit int"),
])
def test_iterations_the_firmware_cannot_parse_are_a_usage_error(value, text, reference_dir,
                                                               tmp_path, capsys):
    with _serve(reference_dir) as server:
        rc = main(["run", "--port", server.url, "--mode", "p", "--iterations", value,
                   "--dataset-path", str(demo_data_dir()), "--output-dir", str(tmp_path),
                   "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and text in err and "Traceback" not in err


@pytest.mark.timeout(60)
def test_a_window_longer_than_the_bound_is_refused_from_the_dut_speed(reference_dir, tmp_path,
                                                                     capsys):
    # 2e9 inferences at 23/s: 2.7 years of DUT time; timed first, then refused
    with _serve(reference_dir) as server:
        rc = main(["run", "--port", server.url, "--mode", "p", "--iterations", "2000000000",
                   "--dataset-path", str(demo_data_dir()), "--output-dir", str(tmp_path),
                   "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "ms per inference" in err and "wraps every 71.6 min" in err


# -- bad flags and a damaged journal: item 14 --------------------------------------------------


@pytest.mark.parametrize("flag, value", [("--warmups", "-1"), ("--cmd-buffer", "5"),
                                         ("--cmd-buffer", "x")])
def test_bad_counts_are_usage_errors(flag, value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--port", "loop://", flag, value])
    assert exc.value.code == 2
    assert flag in capsys.readouterr().err


def test_a_command_longer_than_the_buffer_is_refused():
    actions = [scenarios.Action("infer", iterations=123456789, warmups=123456789)]
    with pytest.raises(ConfigError, match="command buffer holds 20"):
        scenarios.check_counts(actions, 20)


def test_a_corrupt_journal_header_is_named_and_the_file_kept(tmp_path):
    path = tmp_path / "journal.jsonl"
    body = b'{"type": "header", "mode": garbage\n{"type": "window", "window": 0}\n'
    path.write_bytes(body)
    with pytest.raises(SessionError, match="line 1 is not a journal entry"):
        Journal(path).read()
    assert path.read_bytes() == body  # nothing cut
    path.write_bytes(b'{"type": "window", "window": 0}\n{"type": "wind')  # torn last line
    assert Journal(path).read() == [{"type": "window", "window": 0}]


@pytest.mark.timeout(60)
def test_resume_with_a_damaged_header_is_a_clear_error(reference_dir, tmp_path, capsys):
    session = tmp_path / "s"
    session.mkdir()
    (session / "log.txt").write_text("")
    (session / "journal.jsonl").write_text(json.dumps({"type": "header", "version": 1,
                                                       "port": "loop://"}) + "\n")
    with _serve(reference_dir) as server:
        rc = main(["run", "--resume", str(session), "--port", server.url, "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "journal header is damaged" in err, err


def test_damaged_reply_errors_are_protocol_errors():
    from tinyperf.harness.link.dut import ImplausibleWindow, ResultsMismatch

    assert issubclass(ImplausibleWindow, DutProtocolError)
    assert issubclass(ResultsMismatch, DutProtocolError)
