"""ic01/vww01 scoring: both runners' formulas (ic_vww.md 4.1 MLCommons, 4.2 EEMBC).

The MLCommons formulas are compared with scikit-learn (``roc_auc_score``) on random data;
the EEMBC AUC with a literal transcription of the spec's threshold loop; both with the
spec's expected scores where they are pinned.
"""

from __future__ import annotations

import numpy as np
import pytest
from tinyperf.formats import metrics

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def literal_eembc_auc(y: np.ndarray, v: np.ndarray) -> float:
    """ic_vww.md 4.2 word for word, with Python loops (no numpy tricks)."""
    aucs = []
    for k in range(v.shape[1]):
        pos = [i for i in range(len(y)) if y[i] == k]
        neg = [i for i in range(len(y)) if y[i] != k]
        tpr, fpr = [1.0], [1.0]
        for j in range(1, 101):
            t = 0.01 * j
            tpr.append(sum(v[i, k] > t for i in pos) / len(pos) if pos else 0.0)
            fpr.append(sum(v[i, k] > t for i in neg) / len(neg) if neg else 0.0)
        aucs.append(sum(0.5 * (tpr[j] + tpr[j + 1]) * (fpr[j] - fpr[j + 1])
                        for j in range(100)))
    return float(np.mean(aucs))


def softmax_rows(rng: np.random.Generator, n: int, k: int, y: np.ndarray,
                 quantised: bool) -> np.ndarray:
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += rng.uniform(0, 3, size=n)  # better than chance
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    if quantised:  # as the reference firmware prints them: (q + 128) / 256, %0.3f
        p = np.round(np.clip(np.round(p * 256), 0, 255) / 256, 3)
    return p


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("quantised", [False, True])
def test_mlc_ic01_auc_equals_sklearn_ovr_macro(seed: int, quantised: bool) -> None:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(10), 20)
    rng.shuffle(y)
    v = softmax_rows(rng, y.size, 10, y, quantised)
    top1, auc = metrics.mlc_accuracy(y, v)
    w = v / v.sum(axis=1, keepdims=True)
    want = sklearn_metrics.roc_auc_score(y, w, multi_class="ovr")
    assert auc == pytest.approx(want, abs=1e-12)
    assert top1 == pytest.approx(100 * np.mean(np.argmax(w, axis=1) == y))


@pytest.mark.parametrize("seed", range(6))
def test_mlc_vww01_auc_is_binary_on_the_person_column(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    y = np.array([1] * 50 + [0] * 50)
    v = softmax_rows(rng, y.size, 2, y, quantised=True)
    _top1, auc = metrics.mlc_accuracy(y, v)
    w = v / v.sum(axis=1, keepdims=True)
    assert auc == pytest.approx(sklearn_metrics.roc_auc_score(y, w[:, 1]), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [2, 10])
def test_eembc_auc_equals_the_spec_loop(seed: int, k: int) -> None:
    rng = np.random.default_rng(200 + seed)
    y = rng.integers(0, k, size=60)
    v = softmax_rows(rng, y.size, k, y, quantised=True)
    top1, auc = metrics.eembc_accuracy(y, v)
    assert auc == pytest.approx(literal_eembc_auc(y, v), abs=1e-12)
    assert top1 == pytest.approx(100 * np.mean(np.argmax(v, axis=1) == y))


def test_eembc_auc_class_without_positives_and_values_above_one() -> None:
    """Integers (0..255) and an absent class: the loop's conventions, nothing raised."""
    y = np.array([0, 0, 1, 1, 1])
    v = np.array([[255, 0, 0], [200, 55, 0], [0, 255, 0], [30, 225, 0], [128, 127, 0]],
                 dtype=float)
    _top1, auc = metrics.eembc_accuracy(y, v)
    assert auc == pytest.approx(literal_eembc_auc(y, v), abs=1e-12)


def test_argmax_ties_go_to_the_lowest_index() -> None:
    """ic Z golden output (ic_vww.md 6.2): classes 0 and 4 tie at 0.312; 0 wins."""
    z = np.array([[0.312, 0.000, 0.004, 0.078, 0.312, 0.004, 0.223, 0.012, 0.047, 0.004]])
    zz, y = np.vstack([z, z]), np.array([0, 4])  # the same output, labelled 0 then 4
    assert metrics.eembc_accuracy(y, zz)[0] == 50.0
    assert metrics.mlc_accuracy(y, zz)[0] == 50.0
    assert metrics.top1(np.array([0]), z) == 100.0


def test_signed_logits_keep_their_argmax_in_both_runners() -> None:
    """Issue #18 item 4: a negative sum must not flip the argmax when normalising."""
    logits = np.array([[-6.113, -2.0, 6.418, -3.5], [-0.5, -5.0, -1.0, -4.0]])
    y = np.array([2, 0])
    assert metrics.mlc_accuracy(y, logits)[0] == 100.0
    assert metrics.eembc_accuracy(y, logits)[0] == 100.0


def test_positive_scaling_never_changes_top1() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 10, size=50)
    v = softmax_rows(rng, y.size, 10, y, quantised=True)
    for runner in (metrics.mlc_accuracy, metrics.eembc_accuracy):
        assert runner(y, 255 * v)[0] == runner(y, v)[0]


def test_mlc_auc_does_not_depend_on_row_scale_but_eembc_does() -> None:
    """ic_vww.md 4.2: integer outputs bias the EEMBC AUC (no normalisation there)."""
    rng = np.random.default_rng(8)
    y = np.array([1] * 40 + [0] * 40)
    v = softmax_rows(rng, y.size, 2, y, quantised=True)
    assert metrics.mlc_accuracy(y, 255 * v)[1] == pytest.approx(metrics.mlc_accuracy(y, v)[1])
    assert metrics.eembc_accuracy(y, 255 * v)[1] != pytest.approx(
        metrics.eembc_accuracy(y, v)[1])


def test_malformed_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="one row"):
        metrics.eembc_accuracy(np.array([0, 1]), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="one row"):
        metrics.mlc_accuracy(np.array([0, 1]), np.zeros(2))
