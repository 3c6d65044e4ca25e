"""The fault-injection campaign (``make soak``: >= 200 runs; ``make test``: one run a kind).

Goal: 0 HANG, 0 CRASH, 0 SILENT WRONG, 0 lost session data; the table is printed.
"""

from __future__ import annotations

import os

import pytest

from tests.soak import campaign

FULL = os.environ.get("TINYPERF_SOAK_FULL") == "1"
RATES = (0.01, 0.03, 0.08) if FULL else (0.03,)
SEEDS = range(10) if FULL else range(1)


@pytest.mark.slow
@pytest.mark.timeout(7200 if FULL else 900)
def test_fault_campaign(reference_dir, tmp_path, capsys):
    dataset = campaign.subset(tmp_path / "data")
    clean_run, error, hung = campaign.run_accuracy(dataset, tmp_path / "clean", [],
                                                   reference_dir)
    assert error is None and not hung and clean_run.valid
    clean = campaign._records(clean_run.session)
    outcomes = []
    for kind in campaign.KINDS:
        for rate in RATES:
            for seed in SEEDS:
                out = tmp_path / f"{kind}-{rate}-{seed}"
                outcomes.append(campaign.classify(kind, rate, seed, dataset, out, clean,
                                                  reference_dir))
    with capsys.disabled():
        print(f"\nfault campaign: {len(outcomes)} accuracy runs "
              f"({len(campaign.KINDS)} kinds x rates {RATES} x {len(SEEDS)} seeds)")
        print(campaign.table(outcomes))
    bad = [o for o in outcomes if o.outcome in ("HANG", "CRASH", "SILENT WRONG") or o.lost]
    assert not bad, "\n".join(f"{o.kind} rate {o.rate} seed {o.seed}: {o.outcome} "
                              f"{'LOST ' if o.lost else ''}{o.detail} {o.faults}" for o in bad)
