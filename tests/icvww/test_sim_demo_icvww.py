"""``make demo``'s ic01 / vww01 part: a performance and an accuracy run of each on the
virtual DUT (real pty, real models), packaged and checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from tinyperf.reference_models import runtime

from tinyperf.demo import package, run_demo


@pytest.mark.timeout(120)
def test_ic01_vww01_demo_runs_are_valid(reference_dir: Path, tmp_path: Path,
                                        monkeypatch) -> None:
    monkeypatch.setenv("TINYPERF_REFERENCE_DIR", str(reference_dir))
    engines: dict[str, str] = {}
    results = run_demo(tmp_path, ["ic01", "vww01"], energy=True, engines=engines)
    assert engines == {"ic01": runtime.default_engine(), "vww01": runtime.default_engine()}
    # energy is kws01/ad01 only: two runs per image model
    assert [(r.model, r.mode) for r in results] == [
        ("ic01", "performance"), ("ic01", "accuracy"),
        ("vww01", "performance"), ("vww01", "accuracy")]
    assert all(r.valid for r in results), [r.reasons for r in results]
    perf = {r.model: r.figures for r in results if r.mode == "performance"}
    assert perf["ic01"]["median_throughput"] == pytest.approx(4.89, rel=0.02)
    assert perf["vww01"]["median_throughput"] == pytest.approx(8.16, rel=0.02)
    _root, text, ok = package(results, tmp_path)
    assert ok, text
    assert "Verdict: VALID (4/4 results valid)" in text
