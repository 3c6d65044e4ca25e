"""tinyperf.harness.analysis.intervals against textbook values and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom
from tinyperf.harness.analysis import intervals as iv


@pytest.mark.parametrize("n", [2, 3, 5, 9, 10, 20, 51])
def test_order_statistic_coverage_equals_binomial(n):
    for j in range(1, (n + 1) // 2 + 1):
        expected = binom.cdf(n - j, n, 0.5) - binom.cdf(j - 1, n, 0.5)
        assert iv.order_statistic_coverage(n, j) == pytest.approx(expected, abs=1e-12)


def test_five_windows_reach_93_75_percent_with_min_and_max():
    values = [23.01, 22.99, 23.03, 23.00, 22.98]
    got = iv.median_interval(values, confidence=0.95)
    assert (got.low, got.high, got.estimate) == (22.98, 23.03, 23.00)
    assert got.confidence == 1 - 2 * 0.5 ** 5 == 0.9375


def test_order_statistic_interval_for_twenty_values_is_x6_x15():
    # textbook: n = 20, 95 % -> X(6)..X(15), coverage 0.9586
    got = iv.median_interval(np.arange(1.0, 21.0))
    assert (got.low, got.high) == (6.0, 15.0)
    assert got.confidence == pytest.approx(0.958610, abs=1e-6)


def test_order_statistic_interval_covers_the_median_as_promised():
    rng = np.random.default_rng(1)
    hits = sum(iv.median_interval(rng.exponential(size=5)).contains(math.log(2))
               for _ in range(4000))
    assert hits / 4000 == pytest.approx(0.9375, abs=0.015)


@pytest.mark.parametrize("k,n,low,high", [
    (90, 100, 0.8256, 0.9448),   # Wilson 95 %, e.g. Newcombe (1998) style tables
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (5, 10, 0.2366, 0.7634),
])
def test_wilson_textbook_values(k, n, low, high):
    got = iv.wilson_interval(k, n)
    assert got.low == pytest.approx(low, abs=1e-4)
    assert got.high == pytest.approx(high, abs=1e-4)


def test_wilson_bounds_invert_the_score_test():
    z = iv.z_value(0.95)
    assert z == pytest.approx(1.959964, abs=1e-6)
    k, n = 37, 60
    got = iv.wilson_interval(k, n)
    for p in (got.low, got.high):
        assert abs(k / n - p) / math.sqrt(p * (1 - p) / n) == pytest.approx(z, rel=1e-9)


def test_wilson_rejects_bad_counts():
    with pytest.raises(ValueError):
        iv.wilson_interval(11, 10)


def test_bootstrap_is_reproducible_with_the_seed():
    x = np.random.default_rng(0).normal(10, 1, size=30)
    a, b = iv.bootstrap_interval(x), iv.bootstrap_interval(x)
    assert a == b and a.low < a.estimate < a.high
    assert iv.bootstrap_interval(x, seed=1) != a


def test_stratified_indices_keep_class_counts():
    y = np.array([0] * 7 + [1] * 3)
    rows = iv.stratified_indices(y, 50, seed=2)
    assert all((y[r] == 1).sum() == 3 for r in rows)


def test_auc_interval_contains_estimate_and_shrinks_with_more_files():
    rng = np.random.default_rng(4)

    def data(n):
        y = np.r_[np.zeros(n), np.ones(n)].astype(int)
        return y, (rng.normal(size=2 * n) + y)[:, None]

    small = iv.auc_interval(*data(20), resamples=400)
    large = iv.auc_interval(*data(400), resamples=400)
    assert small.low <= small.estimate <= small.high
    assert large.high - large.low < small.high - small.low


def test_quadrature_and_energy_interval():
    assert iv.quadrature([3.0, 4.0]) == 5.0
    # spec 5.5: 2 % gain on 100 uJ and 16.5 uJ offset combine to sqrt(2^2 + 16.5^2)
    assert iv.quadrature({"gain": 0.02 * 100, "offset": 16.5}) == pytest.approx(16.6208, 1e-4)
    e = iv.energy_interval([50.0, 51.0, 49.0, 50.5, 49.5], [0.4, 0.5, 0.6, 0.5, 0.5])
    assert (e.median, e.minimum, e.maximum, e.n) == (50.0, 49.0, 51.0, 5)
    assert e.monitor_u == 0.5
    assert (e.combined.low, e.combined.high) == (48.5, 51.5)
    assert e.combined.confidence == 0.9375
    unknown = iv.energy_interval([1.0, 2.0, 3.0], None)
    assert unknown.monitor_u is None and unknown.combined.low == 1.0


@pytest.mark.parametrize("classes", [1, 12])
def test_vectorised_auc_bootstrap_equals_the_generic_one(classes):
    from tinyperf.formats.metrics import accuracy_auc

    rng = np.random.default_rng(5)
    y = np.repeat(np.arange(max(classes, 2)), 6)
    pred = rng.random((y.size, classes)) + (np.eye(classes)[y % classes] if classes > 1
                                             else y[:, None] * 0.5)
    fast = iv.auc_interval(y, pred, resamples=200)
    slow = iv.file_bootstrap_interval(y, pred, accuracy_auc, resamples=200)
    assert fast.estimate == pytest.approx(slow.estimate)
    assert (fast.low, fast.high) == pytest.approx((slow.low, slow.high))


def test_wilson_is_scipys_without_continuity_correction():
    from scipy.stats import binomtest

    for k, n in [(90, 100), (37, 60), (1, 3), (0, 7), (7, 7)]:
        got = iv.wilson_interval(k, n, confidence=0.9)
        plain = binomtest(k, n).proportion_ci(confidence_level=0.9, method="wilson")
        cc = binomtest(k, n).proportion_ci(confidence_level=0.9, method="wilsoncc")
        assert (got.low, got.high) == (plain.low, plain.high)
        assert cc.low <= got.low and got.high <= cc.high  # the corrected one is wider
    assert iv.wilson_interval(37, 60).high - iv.wilson_interval(37, 60).low < (
        binomtest(37, 60).proportion_ci(method="wilsoncc").high
        - binomtest(37, 60).proportion_ci(method="wilsoncc").low)


def test_bootstrap_keeps_the_seed_semantics():
    # the resamples are rng.integers(0, n, (resamples, n)) of default_rng(seed), the bounds
    # the linear-interpolation quantiles of the resampled statistic (percentile method)
    x = np.random.default_rng(0).exponential(size=25)
    idx = np.random.default_rng(123).integers(0, x.size, (700, x.size))
    expected = np.quantile(np.median(x[idx], axis=1), [0.05, 0.95])
    got = iv.bootstrap_interval(x, confidence=0.9, resamples=700, seed=123)
    assert (got.low, got.high) == pytest.approx(tuple(expected), abs=1e-12)
    # a statistic without ``axis`` is looped over the same resamples
    loose = iv.bootstrap_interval(x, lambda v: float(np.median(v)), confidence=0.9,
                                  resamples=700, seed=123)
    assert (loose.low, loose.high) == pytest.approx((got.low, got.high), abs=1e-12)
    one = iv.bootstrap_interval([4.0])
    assert (one.estimate, one.low, one.high) == (4.0, 4.0, 4.0)


def test_stratified_bootstrap_draws_the_rows_compare_pairs_on():
    from tinyperf.formats.metrics import accuracy_auc

    rng = np.random.default_rng(8)
    y = np.repeat(np.arange(4), [1, 6, 2, 9])  # a label with a single file too
    pred = rng.random((y.size, 4)) + np.eye(4)[y] * 0.3
    rows = iv.stratified_indices(y, 300, seed=11)
    by_hand = np.quantile([accuracy_auc(y[r], pred[r]) for r in rows], [0.025, 0.975])
    for got in (iv.auc_interval(y, pred, resamples=300, seed=11),
                iv.file_bootstrap_interval(y, pred, accuracy_auc, resamples=300, seed=11)):
        assert (got.low, got.high) == pytest.approx(tuple(by_hand), abs=1e-12)
    # one file per label: every resample is the data itself
    assert iv.stratified_percentile(np.arange(3), lambda r: r.sum(axis=-1).astype(float),
                                    0.95, 10, 0) == (3.0, 3.0)


def test_median_interval_uses_the_binomial():
    from scipy.stats import binom

    # n = 9: X(2)..X(8) covers 1 - 2 P(K <= 1) = 0.9609; X(3)..X(7) only 0.8203
    got = iv.median_interval(np.arange(1.0, 10.0))
    assert (got.low, got.high) == (2.0, 8.0)
    assert got.confidence == pytest.approx(1 - 2 * binom.cdf(1, 9, 0.5), abs=1e-15)
    assert got.confidence == pytest.approx(0.9609375, abs=1e-12)
    assert iv.median_interval(np.arange(1.0, 10.0), 0.8).low == 3.0
