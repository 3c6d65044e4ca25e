"""#18 speed changes that must not change a single figure: the median without
``np.median``, the OvR classes without the plain ``np.unique`` (both import numpy.ma),
the check without the cyclic collector, the model verifier imported only when a tree has
a model file.
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
