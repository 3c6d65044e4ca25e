"""Pure integration math: fractional boundaries, edges, uncertainty, streaming path."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tinyperf.firmware_interface.sim.power import PowerModel
from tinyperf.harness.energy import integrate
from tinyperf.harness.energy.capture import Capture, Edge
from tinyperf.harness.energy.stream import StreamIntegrator


@pytest.mark.parametrize("t0,t1,expected", [
    (0.0, 1.0, 1000 * 2.0),            # whole samples
    (0.0005, 0.0015, 2.0),             # half of two samples
    (0.0002, 0.0007, 1.0),             # inside one sample
    (0.0, 0.0, 0.0),
])
def test_fractional_boundaries(t0, t1, expected):
    cap = Capture("energy", np.full(2000, 2.0), fs=1000.0)
    assert integrate.energy_between(cap, t0, t1).energy_j == pytest.approx(expected)


def test_current_times_per_sample_voltage_not_mean_product():
    i = np.array([1.0, 3.0])
    v = np.array([3.0, 1.0])
    cap = Capture("current", i, fs=1.0, voltage=v)
    assert integrate.energy_between(cap, 0, 2).energy_j == pytest.approx(6.0)  # not 8


def test_nan_is_counted_not_dropped():
    vals = np.ones(100)
    vals[50] = np.nan
    r = integrate.energy_between(Capture("power", vals, fs=10.0), 0, 10)
    assert r.nan_samples == 1 and r.energy_j == pytest.approx(9.9)


def test_detect_edges_rejects_glitches_and_estimates_midpoint():
    bits = np.ones(100, dtype=np.uint8)
    bits[10:20] = 0
    bits[50] = 0  # a 1-sample glitch
    edges, glitches = integrate.detect_edges(bits, 1000.0)
    assert glitches == 1
    assert [(e.time_s, e.falling) for e in edges] == [(0.0095, True), (0.0195, False)]


def test_bracket_uses_spans_not_last_two():
    edges = [Edge(0.1), Edge(1.0), Edge(12.0), Edge(13.0), Edge(25.0)]
    (w1, w2) = integrate.bracket_windows(edges, [(0.5, 12.5), (12.8, 26)])
    assert (w1.start.time_s, w1.end.time_s) == (1.0, 12.0) and not w1.reasons
    assert (w2.start.time_s, w2.end.time_s) == (13.0, 25.0)
    rising = integrate.bracket_windows([Edge(1.0, False), Edge(12.0, False)], [(0, 13)],
                                       falling=False)
    assert not rising[0].reasons


def test_uncertainty_budget_in_quadrature():
    cap = Capture("energy", np.full(20_000, 1e-5), fs=1000.0, voltage=1.8)
    sigma = 1 / (1000 * math.sqrt(12))
    w = integrate.WindowEdges(0, Edge(1.0, True, sigma), Edge(12.0, True, sigma), 2)
    acc = integrate.Accuracy(gain_rel=0.02, offset_a=1e-6)
    res = integrate.evaluate_window(cap, w, 100, acc)
    assert res.budget["gain"] == pytest.approx(0.02 * 0.11)
    assert res.budget["offset"] == pytest.approx(1e-6 * 1.8 * 11)
    assert res.uncertainty_j == pytest.approx(math.sqrt(sum(v * v for v in res.budget.values())))
    assert res.valid


def test_stream_integrator_blocks_match_analytic():
    m = PowerModel(voltage=1.8, pulse_us=20)
    m.on_timestamp(0.2e6)
    m.add_busy(0.2e6, 1.5e6)
    m.on_timestamp(1.7e6)
    fs = 1e6
    si = StreamIntegrator(fs)
    for n0 in range(0, 2_000_000, 333_333):  # blocks not aligned to the 1 ms records
        n1 = min(n0 + 333_333, 2_000_000)
        si.add_block(m.current_samples(n0, n1, fs), 1.8, m.gpi_samples(n0, n1, fs))
    cap = si.capture(1.8)
    (w,) = integrate.pair_edges(cap.edges)
    res = integrate.evaluate_window(cap, w, 10, min_duration_s=0)
    assert res.energy_j == pytest.approx(m.energy_between_us(0.2e6, 1.7e6), rel=1e-6)


def test_mlcommons_method_rejects_non_consecutive_ids():
    from tinyperf.harness.energy.errors import MonitorError

    with pytest.raises(MonitorError, match="not consecutive"):
        integrate.mlcommons_window([1.0] * 10, [["00", 1], ["02", 5]], 1)


def _naive_stream(p: np.ndarray, bits: np.ndarray, fs: float, every: int):
    """Reference for StreamIntegrator: one cumulative sum over the whole stream."""
    p = np.where(np.isnan(p), 0.0, p.astype(np.float64))
    acc = np.cumsum(p)
    ks = np.arange(every - 1, p.size, every)
    j = np.flatnonzero(bits[1:] != bits[:-1]) + 1
    edge_e = (acc[j - 1] - p[j - 1] / 2) / fs
    return (ks + 1) / fs, acc[ks] / fs, j, edge_e, acc[-1] / fs


@pytest.mark.parametrize("block", [1, 999, 1000, 4096, 333_333])
def test_stream_integrator_equals_one_cumulative_sum(block: int) -> None:
    """Records, edge energies and total equal a whole-stream cumsum for any block size,
    with NaNs (counted, zeroed, recorded as gaps) and edges on block boundaries."""
    fs, n, every = 1e5, 50_000, 100
    rng = np.random.default_rng(5)
    current = rng.uniform(1e-3, 1e-2, n).astype(np.float32)
    current[[17, 4095, 4096, 30_000]] = np.nan
    bits = np.zeros(n, dtype=np.uint8)
    for a, b in ((999, 4000), (4096, 4200), (12_345, 20_000), (33_333, 49_990)):
        bits[a:b] = 1
    if block >= 1000:  # a level change exactly at the first sample of a block
        bits[2 * block:2 * block + 50] = 1 if 2 * block + 50 < n else 0
    si = StreamIntegrator(fs, record_every=every, min_width=1)
    for a in range(0, n, block):
        si.add_block(current[a:a + block], np.float32(1.8), bits[a:a + block])
    p = current.astype(np.float64) * np.float32(1.8)
    t_ref, e_ref, j, edge_ref, total = _naive_stream(p.astype(np.float32), bits, fs, every)
    assert si.nan_samples == 4 and len(si._gaps) == 4
    assert si.energy == pytest.approx(total, rel=1e-9)
    t = np.concatenate(si._rec_t)[1:]
    e = np.concatenate(si._rec_e)[1:]
    np.testing.assert_allclose(t, t_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(e, e_ref, rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(np.concatenate(si._trans), j)
    np.testing.assert_allclose(np.concatenate(si._edge_e), edge_ref, rtol=1e-9, atol=1e-15)
