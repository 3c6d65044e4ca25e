"""formats.sww_score: truth files, the runner's scoring rules and duty-cycle figures."""

from __future__ import annotations

import json

import pytest
from tinyperf.formats.sww_score import (
    ALLOWANCE_README,
    SwwDataError,
    duty_cycle,
    f1,
    load_truth,
    parse_truth,
    parse_windows,
    score,
    window_end,
)

SHORT_WINDOWS = [(1.0, 1.6476250000000001), (4.0, 4.76175), (7.0, 7.358625)]
#: Reference-kernel detections of the short file (sww01_model.md 10.1), 32 ms per step.
SHORT_STEPS = [0, *range(43, 67), 156]


def test_short_file_scores_2_1_0():
    origin = 85  # any board time of the forced first pulse
    s = score([origin + 32 * k for k in SHORT_STEPS], SHORT_WINDOWS)
    assert (s.tp, s.fn, s.fp) == (2, 1, 0)
    assert s.missed == [7.0] and s.false_ms == []
    readme = score([origin + 32 * k for k in SHORT_STEPS], SHORT_WINDOWS, ALLOWANCE_README)
    assert (readme.tp, readme.fn, readme.fp) == (2, 1, 0)


def test_code_window_is_end_plus_two_seconds_readme_plus_one():
    # a detection 1.5 s after a window's end: TP by the code, FP by the README's rule
    dets = [0, 3500]
    assert (score(dets, [(1.0, 2.0)]).tp, score(dets, [(1.0, 2.0)]).fp) == (1, 0)
    readme = score(dets, [(1.0, 2.0)], ALLOWANCE_README)
    assert (readme.tp, readme.fn, readme.fp) == (0, 1, 1)
    assert window_end(2.0) == (2.0 + 1.0) + 1.0 and window_end(2.0, ALLOWANCE_README) == 3.0
    with pytest.raises(ValueError, match="allowance"):
        window_end(1.0, "both")


def test_interval_ends_are_inclusive():
    assert score([0, 1000], [(1.0, 1.5)]).tp == 1
    assert score([0, 3500], [(1.0, 1.5)]).tp == 1
    assert score([0, 3501], [(1.0, 1.5)]).fp == 1


def test_one_window_claims_every_detection_inside():
    s = score([0, 1100, 1200, 2500, 3000], [(1.0, 1.5)])
    assert (s.tp, s.fp) == (1, 0)


def test_debounce_in_integer_ms():
    # 10 000 and 11 000 merge (t' <= t + 1000); 12 001 starts a new false positive
    s = score([0, 10_000, 10_500, 11_000, 12_001], [])
    assert s.false_ms == [10_000, 12_001] and s.fp == 2
    # equal times are not "later": both survive, as in the runner
    assert score([0, 5000, 5000], []).fp == 2


def test_first_detection_is_the_origin_not_a_detection():
    assert score([500], [(0.0, 1.0)]).fn == 1


def test_empty_detection_list_aborts():
    with pytest.raises(SwwDataError, match="No detections captured"):
        score([], SHORT_WINDOWS)


def test_duty_cycle_uses_first_100_frames_and_throughput():
    starts = [k * 0.032 for k in range(150)]
    stops = [s + (0.018 if k < 100 else 0.030) for k, s in enumerate(starts)]
    d = duty_cycle(starts, stops)
    assert d.frames == 100
    assert d.duty_cycle == pytest.approx(0.018 / 0.032)
    assert d.period == pytest.approx(0.032) and d.processing_time == pytest.approx(0.018)
    assert d.throughput == pytest.approx(1 / 0.018)
    assert d.period_warning is None and d.truncated is None


def test_period_variation_over_two_percent_warns():
    starts = [0.0, 0.032, 0.064, 0.0970]  # one period of 33 ms: (33 - 32) / 32.33 > 2 %
    d = duty_cycle(starts, [s + 0.01 for s in starts])
    assert d.period_warning is not None
    assert d.period_warning.startswith("WARNING: Frame period variation exceeds 2%.")
    assert "Min period = 32.000 ms" in d.period_warning
    assert "Max period = 33.000 ms" in d.period_warning


def test_unequal_lists_are_truncated_with_a_reason():
    d = duty_cycle([0.0, 0.032, 0.064], [0.01, 0.042])
    assert d.frames == 2 and "cut to 2" in d.truncated


def test_f1():
    assert f1(44, 4, 6) == pytest.approx(88 / 98) and f1(0, 0, 0) is None


def test_truth_file_round_trip(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"wav_file": "a.wav", "sample_rate": 16000, "length_sec": 10.0,
                                 "detection_windows": [[1.0, 1.5], [4, 4.5]]}]))
    (entry,) = load_truth(path)
    assert entry.wav_file == "a.wav" and entry.windows == ((1.0, 1.5), (4.0, 4.5))
    assert list(entry.raw) == ["wav_file", "sample_rate", "length_sec", "detection_windows"]


def test_reference_truth_files_parse(reference_dir):
    for name in ("sww_short_test.json", "sww_med_test.json", "sww_long_test.json"):
        entries = load_truth(reference_dir / "sww01" / name)
        assert entries and all(e.sample_rate == 16000 for e in entries)
    (long_entry,) = load_truth(reference_dir / "sww01" / "sww_long_test.json")
    assert len(long_entry.windows) == 50


@pytest.mark.parametrize(("windows", "message"), [
    ("1.0", r"detection_windows: must be a list"),
    ([[1.0]], r"detection_windows\[0\]: must be a \[start, end\] pair"),
    ([[1.0, "2"]], r"detection_windows\[0\]"),
    ([[2.0, 1.0]], r"detection_windows\[0\]: \[2.0, 1.0\] is not a window"),
    ([[0.5, 1.0], [float("nan"), 1.0]], r"detection_windows\[1\]"),
])
def test_malformed_windows_are_named(windows, message):
    with pytest.raises(SwwDataError, match=message):
        parse_truth([{"wav_file": "a.wav", "sample_rate": 16000, "length_sec": 1.0,
                      "detection_windows": windows}], "t.json")


@pytest.mark.parametrize(("entry", "message"), [
    ({"sample_rate": 16000, "length_sec": 1.0, "detection_windows": []}, "missing key 'wav_file'"),
    ({"wav_file": "a.wav", "sample_rate": 8000, "length_sec": 1.0, "detection_windows": []},
     r"t.json\[0\].sample_rate: must be 16000"),
    ({"wav_file": "a.wav", "sample_rate": 16000, "length_sec": -1, "detection_windows": []},
     "length_sec"),
])
def test_malformed_entries_are_named(entry, message):
    with pytest.raises(SwwDataError, match=message):
        parse_truth([entry], "t.json")


def test_truth_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[{\n")
    with pytest.raises(SwwDataError, match=r"bad\.json: line 2"):
        load_truth(bad)
    with pytest.raises(SwwDataError, match="not found"):
        load_truth(tmp_path / "missing.json")
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(SwwDataError, match="non-empty"):
        load_truth(empty)
    assert parse_windows([]) == ()
