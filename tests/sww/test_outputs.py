"""sww01 output texts: ours next to the MLCommons runner's own functions (when present).

The runner's ``streaming_ww_utils`` is imported from ../shared/peers and run side by side
(never copied): the same board lists must give the same figures, lines and records.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats import sww_outputs as out
from tinyperf.formats import sww_protocol as swp
from tinyperf.formats import sww_score

RUNNER = Path(__file__).resolve().parents[2].parent / "shared" / "peers" / "mlcommons_tiny" / \
    "benchmark" / "runner"

REAL_DUTY = ["Duty cycle start times (s)",
             "6718, 9924, 13132, 16339, 19547, 22754, 25961, 29169,",
             "Duty cycle stop times (s)",
             "6787, 9994, 13202, 16409, 19617, 22824, 26031, 29239,",
             "m-ready"]


@pytest.fixture(scope="module")
def runner_utils():
    if not (RUNNER / "streaming_ww_utils.py").is_file():
        pytest.skip("the MLCommons runner is not in ../shared/peers")
    sys.path.insert(0, str(RUNNER))
    try:
        yield importlib.import_module("streaming_ww_utils")
    finally:
        sys.path.remove(str(RUNNER))


def _printed(fn, *args):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        value = fn(*args)
    return value, [x.strip() for x in buf.getvalue().splitlines()]


def test_general_format_five_significant_digits():
    duty = out.duty_figures([0, 3200], [1789, 4989])
    assert out.duty_lines(duty) == ["Average duty cycle: 0.55906",
                                    "Average period: 0.032 s",
                                    "Estimated throughput: 55.897 inf./sec."]
    assert f"{1430.84:1.5}" == "1430.8" and f"{0.0319871:1.5}" == "0.031987"


def test_duty_figures_equal_the_runners(runner_utils):
    ticks = swp.parse_dutycycle(REAL_DUTY)
    ours = out.duty_figures(ticks.starts, ticks.stops)
    theirs, printed = _printed(runner_utils.process_dutycycle, REAL_DUTY)
    assert json.dumps(ours.record) == json.dumps(theirs)
    assert ours.log == printed


def test_unequal_lists_and_period_variation_warnings_equal_the_runners(runner_utils):
    lines = ["Duty cycle start times (s)", "100, 3300, 6600, 9700,",
             "Duty cycle stop times (s)", "1900, 5100, 8300, m-ready"]
    ticks = swp.parse_dutycycle(lines)
    ours = out.duty_figures(ticks.starts, ticks.stops)
    theirs, printed = _printed(runner_utils.process_dutycycle, lines)
    assert json.dumps(ours.record) == json.dumps(theirs)
    assert ours.log == printed


def test_too_few_frames_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 2"):
        out.duty_figures([5], [9])


@pytest.mark.parametrize("detections", [
    [50, 1426, 1458, 2162, 5042],
    [85, 9937, 9969, 30000, 30400, 31500, 31501, 90000],
    [10],
])
def test_score_and_log_lines_equal_the_runners(runner_utils, detections):
    windows = [[1.0, 1.6476250000000001], [4.0, 4.76175], [7.0, 7.358625], [9.458, 10.105]]
    tp, fn, fp = runner_utils.calc_detection_stats(detections, [list(w) for w in windows])
    sc = sww_score.score(detections, [tuple(w) for w in windows])
    assert (sc.tp, sc.fn, sc.fp) == (len(tp), len(fn), len(fp))
    with np.printoptions(precision=3):
        assert out.false_positive_line(sc.false_ms) == f"False positives: {fp}"
    assert out.missed_line(sc.missed) == f"False negatives: {fn}"


def test_energy_block_matches_the_real_rendering():
    # 1200.002 s at 25.6220 mW (v1.3 NUCLEO_L4R5ZI-P energy folder, protocol.md 7.5)
    w = out.StreamEnergy(1200.002, 30.746401810)
    lines = out.energy_lines([w])
    assert lines == ["Power Edition Output", "Energy data for trial 0",
                     "  Elapsed time  : 1200.002", "  Inferences    : 1",
                     "  Power         : 25.6220 mW.", "  Total Energy  : 30746401.810 uJ",
                     "  Energy/Inf    : 30746401.810 uJ/inf", "-" * 57,
                     "Median energy cost is 30746401.8100 uJ/inf.", "-" * 57]
    assert out.energy_errors([w]) == []
    short = out.StreamEnergy(9.5, 0.1)
    assert out.energy_lines([short])[2].endswith("  <<<< below minimum duration")
    assert out.energy_errors([short]) == [out.SHORT_WINDOW]


def test_stream_energy_last_two_events_half_open():
    samples = [1.0] * 50
    got = out.stream_energy(samples, [["00", 2], ["01", 10], ["02", 40]])
    assert got.energy_j == 30.0 and got.elapsed_s == pytest.approx(0.030)
    with pytest.raises(ValueError, match="not consecutive"):
        out.stream_energy(samples, [["00", 2], ["02", 10]])
    with pytest.raises(ValueError, match="2\\) are needed"):
        out.stream_energy(samples, [["00", 2]])


def test_results_json_record_key_order():
    truth = {"wav_file": "a.wav", "sample_rate": 16000, "length_sec": 10.0,
             "detection_windows": [[1.0, 2.0]]}
    duty = out.duty_figures([0, 3200], [1800, 5000])
    rec = out.stream_record(truth, [5, 1200], duty.record, [1, 2], "e",
                            {"samples": [], "timestamps": [], "extracted_power": None,
                             "voltage": 1.8})
    assert list(rec) == ["infer", "dutycycle", "activations", "power", "mode"]
    assert list(rec["infer"]) == ["wav_file", "sample_rate", "length_sec",
                                  "detection_windows", "detections", "iterations", "warmups"]
    assert list(rec["dutycycle"]) == ["duty_cycle", "period", "processing_time",
                                      "start_times_s", "stop_times_s"]
    text = out.results_json([rec])
    assert text.startswith('[{"infer": {"wav_file": "a.wav"') and not text.endswith("\n")


def test_log_line_shapes():
    assert out.file_header("long_wav.wav", 1200.0) == "== File long_wav.wav (1200.0 s) =="
    assert out.playing_line("x.wav", 10.0, "02:54:54") == \
        "Playing x.wav (length = 10.0s) at 02:54:54..."
    assert out.detections_line([85, 9937]) == "[85, 9937]"
    assert out.false_positive_line([]) == "False positives: []"
    assert out.false_positive_line([1234, 5000]) == "False positives: [1.234 5.   ]"
