"""#18 speed changes that must not change a single figure: the median without
``np.median``, the OvR classes without the plain ``np.unique`` (both import numpy.ma),
the check without the cyclic collector, the model verifier imported only when a tree has
a model file, accuracy scored by column, the official patterns tried only on lines that
hold their fixed text, reference labels read only for the tree's benchmarks.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tinyperf.formats import metrics

from tinyperf.cli.main import main

REAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real_submissions"


@pytest.mark.parametrize("n", [*range(1, 12), 100, 101, 1000])
def test_median_is_np_median_to_the_last_bit(n: int) -> None:
    rng = np.random.default_rng(n)
    for scale in (1.0, 1e-3, 1e9):
        values = rng.normal(size=n) * scale
        for data in (values, np.round(values, 2), np.repeat(values[: max(1, n // 3)], 3)):
            assert metrics.median(list(data)) == float(np.median(data))
            assert metrics.median(data) == float(np.median(data))
            assert metrics.median_throughput(list(data)) == float(np.median(data))
    spread = metrics.spread([3.0, 1.0, 2.0, 10.0])
    assert (spread.minimum, spread.median, spread.maximum) == (1.0, 2.5, 10.0)


def test_median_of_nan_and_empty_is_np_median() -> None:
    assert np.isnan(metrics.median([1.0, float("nan"), 2.0]))
    with np.errstate(invalid="ignore"):  # inf - inf, in np.median's mean alike
        assert np.isnan(metrics.median([float("inf"), float("-inf")]))
    with pytest.warns(RuntimeWarning):
        assert np.isnan(metrics.median([]))


def test_auc_ovr_classes_unchanged() -> None:
    y = np.array([2, 0, 1, 2, 1, 0, 0])
    probs = np.eye(3)[[2, 0, 1, 1, 1, 0, 2]] * 0.8 + 0.05
    expected = np.mean([metrics.auc_binary((y == c).astype(int), probs[:, c])
                        for c in (0, 1, 2)])
    assert metrics.auc_ovr_macro(y, probs) == float(expected)


def test_check_restores_the_collector(capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI checks with the cyclic collector off and turns it back on: a library user
    calling ``main`` keeps a collecting process (here a folder of two rounds, collected
    in between)."""
    if not REAL.is_dir():
        pytest.skip("real_submissions fixtures not present")
    assert gc.isenabled()
    main(["check", str(REAL), "--format", "csv"])
    assert gc.isenabled()
    assert capsys.readouterr().out.splitlines()[0].startswith("Organization,Availability,")


def test_check_without_model_files_does_not_load_the_verifier() -> None:
    """A tree with no ``.tflite`` (the usual published round) never imports the model
    verifier (and its flatbuffer reader): a check's start-up pays only for what it uses."""
    if not REAL.is_dir():
        pytest.skip("real_submissions fixtures not present")
    code = ("import sys\n"
            "from tinyperf import api\n"
            f"api.check_rounds({str(REAL)!r})\n"
            "print('tinyperf.reference_models.verify' in sys.modules,"
            " 'tinyperf.reference_models.tflite_info' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != "TINYPERF_REFERENCE_DIR"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=100, check=True).stdout
    assert out.split() == ["False", "False"]


def _file_scores_by_loop(records, normalised):
    """The per-record reference: normalise each vector, average per file in first-seen
    order, each file's label its first record's."""
    sums, counts, labels = {}, {}, {}
    for name, label, values in records:
        v = np.asarray(values, dtype=float)
        if normalised and v.size > 1 and v.sum() > 0:
            v = v / v.sum()
        sums[name] = sums.get(name, 0) + v
        counts[name] = counts.get(name, 0) + 1
        labels.setdefault(name, int(label))
    return list(sums), [labels[n] for n in sums], [sums[n] / counts[n] for n in sums]


@pytest.mark.parametrize("windows", [1, 3])
@pytest.mark.parametrize("normalised", [True, False])
def test_scores_by_file_is_the_per_record_average(windows: int, normalised: bool) -> None:
    rng = np.random.default_rng(windows)
    names = [f"f{i % 50}.bin" for i in range(50 * windows)]
    rng.shuffle(names)
    records = [(n, int(n[1:-4]) % 12, tuple(rng.integers(-128, 128, 12) / 127.0))
               for n in names]
    fs = metrics.file_scores(records, normalised=normalised)
    files, labels, means = _file_scores_by_loop(records, normalised)
    assert fs.files == files and fs.y_true.tolist() == labels
    np.testing.assert_allclose(fs.y_pred, np.vstack(means), rtol=1e-12, atol=0)
    assert fs.windows == [windows] * 50
    # columns in, same scores out (the checker's form)
    by_column = metrics.scores_by_file(*zip(*records), normalised=normalised)
    assert by_column.files == fs.files and (by_column.y_pred == fs.y_pred).all()


def test_scores_by_file_errors_are_numpy_s() -> None:
    """Values that do not stream as floats take numpy's own conversion and its error."""
    with pytest.raises(ValueError, match=r"b\.bin: results of 1 values after 2"):
        metrics.scores_by_file(["a.bin", "b.bin"], [0, 1], [[0.1, 0.9], [1.0]])
    assert metrics.scores_by_file(["a"], [1], [["0.25", "0.75"]]).y_pred.tolist() == \
        [[0.25, 0.75]]  # numeric strings convert, as np.asarray converts them
    with pytest.raises(ValueError):
        metrics.scores_by_file(["a"], [1], [["x", "0.75"]])


def _official_by_every_line(text: str) -> dict[str, str | None]:
    """The official patterns tried on every line (the reference for the prefiltered one)."""
    from tinyperf.submissions.claims import OFFICIAL, OFFICIAL_SWW

    found: dict[str, str | None] = dict.fromkeys(OFFICIAL)
    found.update(dict.fromkeys(k for keys in OFFICIAL_SWW for k in keys))
    for line in text.splitlines():
        for key, (pattern, how) in OFFICIAL.items():
            if m := (pattern.match(line) if how == "match" else pattern.search(line)):
                found[key] = m.group(1)
        for keys, pattern in OFFICIAL_SWW.items():
            if m := pattern.search(line):
                found.update(zip(keys, m.groups()))
    return found


def test_official_values_only_skip_lines_that_cannot_match() -> None:
    from tinyperf.submissions.claims import official_values

    texts = [p.read_text(errors="replace") for p in sorted(REAL.parent.glob(
        "real_submissions*/**/results.txt"))]
    if not texts:
        pytest.skip("real_submissions fixtures not present")
    texts += ["x Top-1%: 91.5 x\nx Top 1% = 90\n0.1 ulp: AUC = 0.93\nAUC: 0.5\n",
              "x  Median throughput is\t12.5 inf./sec. x\nMedian energy cost is 3.1 uJ/inf\n",
              "Accuracy: 1 True positives, 2 False negatives, 3 False positives\n"
              "Average duty cycle:0.5\nEstimated throughput: 9 inf./sec.\nPower  : 1.5 mW\n",
              "no figure here\n\r\nTop1 AUC Power Median\n"]
    for text in texts:
        assert official_values(text) == _official_by_every_line(text)


def test_labels_are_read_only_for_the_trees_benchmarks(reference_dir: Path) -> None:
    from tinyperf.rules.engine import reference_labels
    from tinyperf.rules.ruleset import load_ruleset

    rules = load_ruleset("v1.3")
    every = reference_labels(rules, reference_dir)
    assert set(every) >= {"kws01", "ad01", "ic01", "vww01"}
    some = reference_labels(rules, reference_dir, ["kws", "ic", "no-such-benchmark"])
    assert some == {m: every[m] for m in ("kws01", "ic01")}
    assert reference_labels(rules, reference_dir, []) == {}


def _auc_by_rank_table(y: np.ndarray, s: np.ndarray) -> float:
    """The Mann-Whitney AUC from a full average-rank table (``rankdata``'s definition)."""
    _uniq, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse.ravel()]
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def test_auc_from_sorted_scores_is_the_rank_table_s_to_the_last_bit() -> None:
    rng = np.random.default_rng(18)
    for trial in range(600):
        n = int(rng.integers(2, 60))
        s = [rng.random(n), rng.integers(0, 4, n) * 0.25, rng.normal(0, 3, n),
             np.where(rng.random(n) < 0.2, np.nan, rng.random(n))][trial % 4]
        y = rng.integers(0, 3 if trial % 3 == 0 else 2, n)  # a 2 is neither class
        y[:2] = [0, 1]
        assert metrics.auc_binary(y, s) == _auc_by_rank_table(y, s) or \
            np.isnan(_auc_by_rank_table(y, s))
        k = int(rng.integers(2, 6))
        labels = rng.integers(0, k, n)
        labels[:2] = [0, 1]
        probs = rng.integers(0, 5, (n, k)) / 4.0
        expected = np.mean([_auc_by_rank_table((labels == c).astype(int), probs[:, c])
                            for c in np.unique(labels)])
        assert metrics.auc_ovr_macro(labels, probs) == float(expected)


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("2", "2")])
def test_check_starts_no_blas_threads(tmp_path: Path, given: str | None,
                                      expected: str) -> None:
    """numpy's OpenBLAS would start a spinning thread per CPU at import (~0.1 s of CPU taken
    from the forked workers' cores): ``check`` asks for one, unless the user set a count."""
    if not REAL.is_dir():
        pytest.skip("real_submissions fixtures not present")
    code = ("import os, sys\n"
            "from tinyperf.cli.main import main\n"
            f"main(['check', {str(REAL / 'v1.3')!r}, '--format', 'csv', '-o', "
            f"{str(tmp_path / 'out.csv')!r}])\n"
            "import numpy\n"
            "print(os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')))\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=100, check=True).stdout.split()
    assert out[0] == expected
    if given is None and os.path.isdir("/proc/self/task"):
        assert out[1] == "1"  # no thread besides the main one
