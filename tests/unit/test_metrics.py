"""Metric functions against hand-computed tables."""

import numpy as np
import pytest
from tinyperf.formats import metrics


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


# -- AUC = scikit-learn's roc_auc_score, proved on hand-counted tables -----------------------
#
# sklearn's ROC AUC is the trapezoid area under the ROC curve, whose steps are the distinct
# score values; a tie between a positive and a negative is a diagonal step, i.e. that pair
# counts 1/2. So AUC = (pairs positive > negative + 1/2 * tied pairs) / (positives *
# negatives). Each table below counts the pairs by hand; _roc_trapezoid re-does sklearn's
# own computation (roc_curve with every threshold, then trapezoid area) without sklearn.


def _roc_trapezoid(y, s) -> float:
    """sklearn's path: _binary_clf_curve (descending scores, one point per distinct score)
    then auc (trapezoid rule over fpr, tpr)."""
    y = np.asarray(y, dtype=float)
    s = np.asarray(s, dtype=float)
    order = np.argsort(s, kind="mergesort")[::-1]
    s, y = s[order], y[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tps = np.cumsum(y)[last_of_value]
    fps = 1 + last_of_value - tps
    tpr = np.r_[0.0, tps] / tps[-1]
    fpr = np.r_[0.0, fps] / fps[-1]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


@pytest.mark.parametrize(("y", "s", "auc"), [
    # positives .5, .9; negatives .2, .5, .5
    # .5: beats .2 (1), ties .5 twice (1/2 + 1/2) = 2 ; .9: beats all three = 3 -> 5/6
    ([0, 0, 0, 1, 1], [0.2, 0.5, 0.5, 0.5, 0.9], 5 / 6),
    # tie blocks that mix both classes: positives 3, 2, 1; negatives 3, 2, 1
    # 3: 1/2 + 1 + 1 = 2.5 ; 2: 0 + 1/2 + 1 = 1.5 ; 1: 0 + 0 + 1/2 = 0.5 -> 4.5/9
    ([1, 0, 1, 0, 1, 0], [3, 3, 2, 2, 1, 1], 0.5),
    # unbalanced 3 x 4: positives .1, .4, .7; negatives .1, .4, .8, 0
    # .1: 1/2 + 0 + 0 + 1 = 1.5 ; .4: 1 + 1/2 + 0 + 1 = 2.5 ; .7: 1 + 1 + 0 + 1 = 3 -> 7/12
    ([0, 1, 1, 1, 0, 0, 0], [0.1, 0.1, 0.4, 0.7, 0.4, 0.8, 0.0], 7 / 12),
    # all scores tied: every one of the 3 x 2 pairs counts 1/2 -> 3/6
    ([0, 1, 1, 0, 1], [0.3] * 5, 0.5),
    # perfect ranking, ties only inside a class (they pair with nobody): 4/4
    ([0, 0, 1, 1], [0.1, 0.1, 0.9, 0.9], 1.0),
    # inverted ranking, ties inside classes: no pair won, none tied -> 0/4
    ([0, 0, 1, 1], [0.9, 0.9, 0.1, 0.1], 0.0),
    # one positive, one negative, tied: 1/2
    ([1, 0], [7.0, 7.0], 0.5),
])
def test_auc_binary_hand_counted_pairs_with_ties(y, s, auc):
    assert metrics.auc_binary(y, s) == pytest.approx(auc, abs=1e-12)
    assert _roc_trapezoid(y, s) == pytest.approx(auc, abs=1e-12)


def test_auc_binary_equals_the_roc_trapezoid_on_tied_random_tables():
    rng = np.random.default_rng(2)
    for _ in range(300):
        n = int(rng.integers(2, 40))
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]
        s = np.round(rng.random(n), int(rng.integers(0, 2)))  # 0 or 1 decimal: many ties
        pairs = s[y == 1][:, None] - s[y == 0][None, :]
        by_pairs = ((pairs > 0).sum() + 0.5 * (pairs == 0).sum()) / pairs.size
        assert metrics.auc_binary(y, s) == pytest.approx(by_pairs, abs=1e-12)
        assert _roc_trapezoid(y, s) == pytest.approx(by_pairs, abs=1e-12)
        # only the order matters (a strictly increasing map keeps ties and ranks)
        assert metrics.auc_binary(y, 1000 * s - 3) == pytest.approx(by_pairs, abs=1e-12)


def test_auc_ovr_macro_hand_counted_with_ties():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([[.5, .3, .2],
                  [.4, .4, .2],
                  [.4, .4, .2],
                  [.2, .5, .3],
                  [.3, .2, .5],
                  [.5, .3, .2]])
    # class 0, column 0: positives .5, .4 ; negatives .4, .2, .3, .5
    #   .5: 1 + 1 + 1 + 1/2 = 3.5 ; .4: 1/2 + 1 + 1 + 0 = 2.5 -> 6/8
    # class 1, column 1: positives .4, .5 ; negatives .3, .4, .2, .3
    #   .4: 1 + 1/2 + 1 + 1 = 3.5 ; .5: 4 -> 7.5/8
    # class 2, column 2: positives .5, .2 ; negatives .2, .2, .2, .3
    #   .5: 4 ; .2: 1/2 * 3 + 0 = 1.5 -> 5.5/8
    per_class = [6 / 8, 7.5 / 8, 5.5 / 8]
    for c, expected in enumerate(per_class):
        assert metrics.auc_binary((y == c).astype(int), p[:, c]) == expected
        assert _roc_trapezoid((y == c).astype(int), p[:, c]) == pytest.approx(expected)
    assert metrics.auc_ovr_macro(y, p) == pytest.approx(sum(per_class) / 3, abs=1e-12)
    assert metrics.accuracy_auc(y, p) == metrics.auc_ovr_macro(y, p)


def test_auc_ovr_macro_all_tied_perfect_and_inverted():
    y = np.array([0, 1, 2, 0, 1, 2, 2])
    # all tied: every class scores 1/2 on every pair
    assert metrics.auc_ovr_macro(y, np.full((7, 3), 1 / 3)) == 0.5
    onehot = np.eye(3)[y]
    assert metrics.auc_ovr_macro(y, onehot) == 1.0          # each class ranked first
    assert metrics.auc_ovr_macro(y, 1.0 - onehot) == 0.0    # each class ranked last


def test_auc_ovr_macro_skips_a_class_absent_from_the_labels():
    # 4 output columns, label 2 never occurs: its column (all .9, which would be a
    # one-class ROC) is left out and the mean is over the 3 classes present
    y = np.array([0, 1, 3, 3])
    p = np.array([[.7, .1, .9, .1],
                  [.2, .6, .9, .6],
                  [.2, .2, .9, .6],
                  [.1, .3, .9, .6]])
    # class 0: .7 beats .2, .2, .1 -> 3/3 ; class 1: .6 beats .1, .2, .3 -> 3/3
    # class 3: positives .6, .6 ; negatives .1, .6 -> (1 + 1/2) * 2 = 3 -> 3/4
    assert metrics.auc_ovr_macro(y, p) == pytest.approx((1 + 1 + 0.75) / 3, abs=1e-12)
    with pytest.raises(ValueError, match="two classes"):
        metrics.auc_ovr_macro(np.array([3, 3]), p[:2])


def test_two_output_auc_uses_column_one():
    y = np.array([0, 1, 1, 0])
    p = np.array([[.6, .4], [.4, .6], [.5, .5], [.5, .5]])
    # column 1: positives .6, .5 ; negatives .4, .5 -> .6: 2 ; .5: 1 + 1/2 -> 3.5/4
    assert metrics.accuracy_auc(y, p) == 3.5 / 4
