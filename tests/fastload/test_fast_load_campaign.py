"""Random faults on the fast path of whole accuracy runs (the soak campaign's method).

Each run is ``run_session`` with ``--fast-load auto`` (the default) against the virtual DUT
with a random fault plan: the data faults of ``fl`` blocks (dropped, duplicated, garbled
byte, stall and reset mid-block) and the reply faults on ``fl``, ``infer`` and ``name``
(garbage, damaged line, stall, reset, error line). The verdict is the campaign's: no hang,
no crash, and never a result that differs from the fault-free run without a clear error.
"""

from __future__ import annotations

import random

import pytest
from tinyperf.firmware_interface.sim import Fault
from tinyperf.firmware_interface.sim.faults import RX_KINDS
from tinyperf.formats.errors import ConformanceError

from tests.soak import campaign

REPLY_KINDS = ("garbage", "drop_chars", "stall", "reset", "error_line")


def _plan(seed: int, rate: float, horizon: int = 12) -> list[Fault]:
    rng = random.Random(f"fast-load/{seed}")
    faults = []
    for occurrence in range(1, horizon + 1):
        if rng.random() < rate:
            faults.append(Fault(rng.choice(RX_KINDS), "fl", occurrence,
                                position=rng.randrange(0, 490), seconds=rng.uniform(1.0, 2.0)))
        for verb in ("fl", "infer", "name"):
            if rng.random() < rate / 2:
                kind = rng.choice(REPLY_KINDS)
                seconds = rng.uniform(1.5, 3.0)
                faults.append(Fault(kind, verb, occurrence, seconds=seconds))
    return faults


@pytest.mark.timeout(600)
@pytest.mark.parametrize("seed", [0, 1, pytest.param(2, marks=pytest.mark.slow),
                                  pytest.param(3, marks=pytest.mark.slow)])
def test_random_faults_never_hang_nor_change_a_result(reference_dir, tmp_path, seed):
    dataset = campaign.subset(tmp_path / "data")
    clean_run, error, hung = campaign.run_accuracy(dataset, tmp_path / "clean", [],
                                                   reference_dir)
    assert error is None and not hung and clean_run.valid
    assert clean_run.fast_load["used"]
    clean = campaign._records(clean_run.session)
    faults = _plan(seed, 0.25)
    result, error, hung = campaign.run_accuracy(dataset, tmp_path / "faulty", faults,
                                                reference_dir)
    assert not hung, f"hang with {faults}"
    if error is not None:  # a clear, typed error is an acceptable end
        assert isinstance(error, ConformanceError), repr(error)
    else:
        assert campaign._records(result.session) == clean or not result.valid, \
            f"silently different results with {faults}"
    for session in (tmp_path / "faulty").iterdir():
        journaled = campaign._journaled(session)
        assert journaled == clean[:len(journaled)], "journaled windows differ"
