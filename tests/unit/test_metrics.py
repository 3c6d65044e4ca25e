"""Metric functions against hand-computed tables."""

import numpy as np
import pytest

from harness import metrics


def test_throughput_matches_published_window():
    # v1.3 ST kws01 window 1: 250 inferences in 10862042 us
    assert metrics.throughput(250, 10862042) == 23.01593015383295
    assert metrics.throughput(250, 0) == 0.0
    assert metrics.throughput(250, None) == 0.0


@pytest.mark.parametrize(("y", "s", "auc"), [
    ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),
    ([0, 1], [0.5, 0.5], 0.5),
    ([1, 1, 0, 0], [0.9, 0.8, 0.1, 0.2], 1.0),
    ([1, 1, 0, 0], [0.1, 0.2, 0.9, 0.8], 0.0),
    ([0, 1, 0, 1, 1], [1, 2, 2, 3, 1], (1 + 0.5 + 1 + 1 + 0.5 + 0) / 6),
])
def test_auc_binary(y, s, auc):
    assert metrics.auc_binary(y, s) == pytest.approx(auc)


def test_auc_needs_both_classes():
    with pytest.raises(ValueError):
        metrics.auc_binary([1, 1], [0.1, 0.2])


def test_auc_ovr_macro_hand_table():
    y = np.array([0, 1, 2, 2])
    p = np.array([[.8, .1, .1], [.3, .4, .3], [.2, .2, .6], [.5, .3, .2]])
    # class 0: 1.0, class 1: 1.0, class 2: 3/4
    assert metrics.auc_ovr_macro(y, p) == pytest.approx((1 + 1 + 0.75) / 3)


def test_ad_top1_percent():
    y = np.array([0, 0, 1, 1])
    s = np.array([1.0, 2.0, 3.0, 4.0])
    # a threshold in [2, 3) separates perfectly: precision = recall = 1 (minus 1e-8 terms)
    assert metrics.ad_top1_percent(y, s) == pytest.approx(100.0, abs=1e-5)
    # overlapping scores: best is precision 2/3, recall 1 at t < 2
    y2 = np.array([0, 1, 0, 1])
    s2 = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.ad_top1_percent(y2, s2) == pytest.approx(100 * (2 / 3 + 1) / 2, abs=1e-5)


def test_normalise():
    assert metrics.normalise([11.7]).tolist() == [11.7]
    assert metrics.normalise([1, 3]).tolist() == [0.25, 0.75]
    assert metrics.normalise([0, 0]).tolist() == [0, 0]


def test_file_scores_groups_and_averages_windows():
    recs = [("a.bin", 0, [2.0]), ("b.bin", 1, [10.0]), ("a.bin", 0, [4.0]), ("b.bin", 1, [12.0])]
    fs = metrics.file_scores(recs)
    assert fs.files == ["a.bin", "b.bin"]
    assert fs.y_pred[:, 0].tolist() == [3.0, 11.0]
    assert fs.windows == [2, 2]
    assert metrics.accuracy_auc(fs.y_true, fs.y_pred) == 1.0


def test_top1_first_index_on_ties():
    y = np.array([0, 1])
    p = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert metrics.top1(y, p) == 50.0


def test_spread():
    s = metrics.spread([3.0, 1.0, 2.0, 5.0, 4.0])
    assert (s.minimum, s.median, s.maximum, s.count) == (1.0, 3.0, 5.0, 5)


def test_performance_validity_reasons():
    ok = metrics.performance_validity([10.5] * 5)
    assert ok.valid and not ok.reasons
    bad = metrics.performance_validity([10.5, 7.35, 10.5, None])
    assert not bad.valid
    assert any("4 windows" in r for r in bad.reasons)
    assert any("window 2: 7.350 s" in r for r in bad.reasons)
    assert any("window 4: no DUT timestamps" in r for r in bad.reasons)
