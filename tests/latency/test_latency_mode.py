"""Latency mode on the virtual DUT with a known latency distribution.

The virtual DUT's per-inference latency for ``infer 1 0`` is ``L + J·z`` with probability
1 - p and ``f·L + J·z`` with probability p (z standard normal): a two-component normal
mixture with a known CDF. The sample percentile the harness reports (``numpy.percentile``,
linear interpolation between order statistics X_(r) and X_(r+1), r = ⌊(N-1)q⌋ + 1) must lie
within the order-statistic bounds for N samples: P(X_(r) < x) = P(Binom(N, F(x)) ≥ r) and
P(X_(r+1) > x) = P(Binom(N, F(x)) ≤ r); the bounds are the x where these reach alpha/2.
The textbook distribution-free interval is checked too: [X_(l), X_(u)] with l, u binomial
quantiles covers the true q-quantile.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats
from tinyperf.firmware_interface.sim.clock import LatencyModel
from tinyperf.firmware_interface.sim.core import constant_results
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.harness.analysis.session_reader import read_session
from tinyperf.harness.run.latency import latency_stats
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.reference_models.demo import demo_data_dir

from tinyperf.cli.main import build_parser, main

ALPHA = 1e-3
KWS_L = 1e6 / 23.0  # µs, the reference kws01 board


def dataset(tmp_path: Path) -> Path:
    """A kws01 dataset root with two demo inputs (latency mode loads only the first)."""
    src = demo_data_dir() / "kws01"
    dst = tmp_path / "data" / "kws01"
    dst.mkdir(parents=True)
    rows = (src / "y_labels.csv").read_text().splitlines()[:2]
    (dst / "y_labels.csv").write_text("\n".join(rows) + "\n")
    for row in rows:
        name = row.split(",")[0]
        (dst / name).write_bytes((src / name).read_bytes())
    return tmp_path / "data"


class Mixture:
    """The configured latency distribution (µs)."""

    def __init__(self, latency: float, jitter: float, p: float, factor: float):
        self.l, self.j, self.p, self.f = latency, jitter, p, factor

    def cdf(self, x: float) -> float:
        return float((1 - self.p) * stats.norm.cdf(x, self.l, self.j)
                     + self.p * stats.norm.cdf(x, self.f * self.l, self.j))

    def ppf(self, u: float) -> float:
        lo, hi = self.l - 20 * self.j, self.f * self.l + 20 * self.j
        return float(optimize.brentq(lambda x: self.cdf(x) - u, lo, hi, xtol=1e-6))


def sample_percentile_bounds(dist: Mixture, n: int, q: float,
                             alpha: float = ALPHA) -> tuple[float, float]:
    """Where np.percentile(sample, 100q) of n draws from ``dist`` lies w.p. ≥ 1 - alpha."""
    r = math.floor((n - 1) * q) + 1  # 1-based rank of the lower order statistic used
    # lower: P(X_(r) < x) = P(Binom(n, F(x)) >= r) = alpha/2
    u_lo = optimize.brentq(lambda u: stats.binom.sf(r - 1, n, u) - alpha / 2, 1e-12, 1 - 1e-12)
    # upper: P(X_(r+1) > x) = P(Binom(n, F(x)) <= r) = alpha/2
    u_hi = optimize.brentq(lambda u: stats.binom.cdf(r, n, u) - alpha / 2, 1e-12, 1 - 1e-12)
    return dist.ppf(u_lo), dist.ppf(u_hi)


def covering_ranks(n: int, q: float, alpha: float = ALPHA) -> tuple[int, int]:
    """1-based ranks l, u with P(X_(l) <= xi_q <= X_(u)) >= 1 - alpha (distribution-free)."""
    lo = int(stats.binom.ppf(alpha / 2, n, q))
    hi = int(stats.binom.ppf(1 - alpha / 2, n, q)) + 1
    return max(lo, 1), min(hi, n)


def run_latency(tmp_path: Path, n: int, *, jitter: float, p: float, factor: float,
                seed: int, baud: int | None = None) -> Path:
    dut = make_virtual_dut("kws01", latency_us=KWS_L, jitter_us=jitter, slow_probability=p,
                           slow_factor=factor, seed=seed, infer_fn=constant_results([0.0] * 12))
    with SimServer(dut, pty=True, baud=baud) as server:
        config = RunConfig(mode="latency", dataset_path=dataset(tmp_path),
                           output_dir=tmp_path / "sessions", iterations=n,
                           port=server.pty_path or "", progress=False)
        result = run_session(config)
    assert result.valid, result.reasons
    assert result.mode == "latency"
    return Path(result.session)


def read_csv(session: Path) -> list[dict[str, str]]:
    with (session / "latency.csv").open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["index", "latency_us", "host_roundtrip_us"]
        return list(reader)


@pytest.mark.parametrize("p,n,seed", [(0.01, 1000, 11), (0.03, 800, 5)])
def test_percentiles_within_order_statistic_bounds(tmp_path: Path, p: float, n: int,
                                                   seed: int) -> None:
    jitter, factor = 2000.0, 5.0
    session = run_latency(tmp_path, n, jitter=jitter, p=p, factor=factor, seed=seed)
    rows = read_csv(session)
    assert len(rows) == n
    assert [int(r["index"]) for r in rows] == list(range(n))
    us = np.array([float(r["latency_us"]) for r in rows])
    host = np.array([float(r["host_roundtrip_us"]) for r in rows])
    # the DUT's m-lap-us differences are exactly the configured model's draws
    model = LatencyModel(latency_us=KWS_L, jitter_us=jitter, slow_probability=p,
                         slow_factor=factor, seed=seed)
    assert us.tolist() == [model.total_us(1) for _ in range(n)]
    assert (host > 0).all()

    run = json.loads((session / "run.json").read_text())
    assert run["mode"] == "latency" and run["valid"] is True
    lat = run["figures"]["latency"]
    assert lat["n"] == n
    dist = Mixture(KWS_L, jitter, p, factor)
    xs = np.sort(us)
    for q in (0.5, 0.9, 0.99):
        key = f"p{round(q * 100)}"
        reported_us = lat[f"{key}_ms"] * 1e3
        assert reported_us == pytest.approx(float(np.percentile(us, 100 * q)), abs=1e-6)
        lo, hi = sample_percentile_bounds(dist, n, q)
        assert lo - 1 <= reported_us <= hi + 1, (key, lo, reported_us, hi)  # 1 µs: rounding
        lo_rank, hi_rank = covering_ranks(n, q)
        assert xs[lo_rank - 1] - 1 <= dist.ppf(q) <= xs[hi_rank - 1] + 1, key
    assert lat["max_ms"] == pytest.approx(us.max() / 1e3)
    assert lat["mean_ms"] == pytest.approx(us.mean() / 1e3)
    assert lat["std_ms"] == pytest.approx(us.std(ddof=1) / 1e3)
    # the slow inferences are there, at f x L
    slow = us > (1 + factor) / 2 * KWS_L
    assert stats.binom.cdf(slow.sum(), n, p) > ALPHA / 2
    assert stats.binom.sf(slow.sum() - 1, n, p) > ALPHA / 2
    if p == 0.03:  # 3 % slow: p99 must sit in the slow cluster
        assert lat["p99_ms"] * 1e3 > factor * KWS_L - 6 * jitter

    # link overhead, measured separately
    link = run["figures"]["link"]
    assert link["name_roundtrip_us"]["n"] >= 20
    assert link["name_roundtrip_us"]["median_us"] > 0
    assert link["infer_overhead_us"]["n"] == n
    assert link["infer_overhead_us"]["median_us"] == pytest.approx(
        float(np.median(host - us)), abs=0.5)
    text = (session / "results.txt").read_text()
    assert "NOT an MLCommons results format" in text
    assert "p99" in text and "round trip" in text

    # what report/compare/history read
    rec = read_session(session)
    assert rec.mode == "latency"
    assert rec.latency is not None and len(rec.latency.ms) == n
    assert rec.latency_ms("p99") == pytest.approx(lat["p99_ms"])
    assert rec.latency_ms("p50") == pytest.approx(lat["p50_ms"])


def test_link_overhead_with_baud_emulation(tmp_path: Path) -> None:
    """At 115200 baud a 'name' round trip costs wire time: the overhead shows it."""
    session = run_latency(tmp_path, 30, jitter=0.0, p=0.0, factor=5.0, seed=1, baud=115200)
    link = json.loads((session / "run.json").read_text())["figures"]["link"]
    # "name%" out (5 B) + "m-name-dut-[unspecified]\r\nm-ready\r\n" back (~36 B) at 10 bit/B
    assert link["name_roundtrip_us"]["median_us"] > 41 * 10 / 115200 * 1e6 * 0.8
    lat = json.loads((session / "run.json").read_text())["figures"]["latency"]
    assert lat["p50_us"] == pytest.approx(round(KWS_L), abs=1)  # no jitter: exact


def test_cli_latency_run_and_sim_options(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["sim", "--slow-probability", "0.02", "--slow-factor", "4",
                                      "--jitter-us", "100"])
    assert (args.slow_probability, args.slow_factor, args.jitter_us) == (0.02, 4.0, 100.0)
    dut = make_virtual_dut("kws01", latency_us=KWS_L, jitter_us=300.0, seed=2,
                           infer_fn=constant_results([0.0] * 12))
    with SimServer(dut, pty=True, baud=None) as server:
        code = main(["run", "--mode", "latency", "--iterations", "50", "--port",
                     server.pty_path or "", "--dataset-path", str(dataset(tmp_path)),
                     "--output-dir", str(tmp_path / "s"), "--no-progress", "--warmups", "2"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "p99" in out and "link round trip" in out
        code = main(["run", "--mode", "latency", "--iterations", "auto", "--port",
                     server.pty_path or "", "--dataset-path", str(tmp_path / "data"),
                     "--output-dir", str(tmp_path / "s2"), "--no-progress"])
        assert code == 2
    (session,) = (tmp_path / "s").iterdir()
    assert len(read_csv(session)) == 50


def test_latency_stats_definitions() -> None:
    s = latency_stats([1000, 2000, 3000, 4000])
    assert s["n"] == 4
    assert s["p50_ms"] == pytest.approx(2.5)
    assert s["max_ms"] == pytest.approx(4.0) and s["min_us"] == 1000
    assert s["std_ms"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert latency_stats([]) == {"n": 0}
