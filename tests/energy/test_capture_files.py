"""Offline imports of generated captures with known answers, and every bad-capture case."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from tinyperf.firmware_interface.sim.power import (
    JlsOptions,
    MonitorView,
    PowerModel,
    write_energytrace_csv,
    write_jls,
)
from tinyperf.harness.energy import integrate
from tinyperf.harness.energy.errors import CaptureFileError
from tinyperf.harness.energy.monitors import energytrace
from tinyperf.harness.energy.monitors.eembc import read_eembc_trace
from tinyperf.harness.energy.monitors.filemonitor import read_capture

from tinyperf.cli import energy as energy_cli

FS = 100_000  # JLS files at 100 kS/s keep the tests fast; the benchmark runs 1 MS/s
LATENCY_US = 40_000.0
N = 260  # 10.4 s windows


def _cli(argv: list[str]) -> int:
    """``tinyperf energy …`` (the lead wires it into tinyperf.cli.main)."""
    parser = argparse.ArgumentParser(prog="tinyperf")
    energy_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def _model(windows=2, gap_s=0.5, start_s=0.3) -> tuple[PowerModel, list[tuple[float, float]]]:
    """Two inference windows of N back-to-back inferences, edges at their ends."""
    m = PowerModel(voltage=1.8, idle_a=1e-3, active_a=12e-3, pulse_us=100.0)  # 10 samples
    spans, t = [], start_s * 1e6
    for _ in range(windows):
        m.on_timestamp(t)
        m.add_busy(t, N * LATENCY_US)
        m.on_timestamp(t + N * LATENCY_US)
        spans.append((t, t + N * LATENCY_US))
        t += N * LATENCY_US + gap_s * 1e6
    return m, spans


def _truth(m: PowerModel) -> float:
    return m.energy_per_inference(LATENCY_US) * 1e6


@pytest.fixture(scope="module")
def jls_ok(tmp_path_factory):
    m, spans = _model()
    path = tmp_path_factory.mktemp("jls") / "ok.jls"
    write_jls(path, m, spans[-1][1] / 1e6 + 0.3, options=JlsOptions(fs=FS))
    return path, m


def test_jls_import_matches_ground_truth(jls_ok):
    path, m = jls_ok
    cap = read_capture(path)
    assert cap.kind == "current" and cap.fs == FS
    falling = cap.falling_edges()
    assert len(falling) == 4
    windows = integrate.evaluate_windows(cap, integrate.pair_edges(cap.edges), N)
    for w in windows:
        assert w.valid, w.reasons
        # float32 current samples, ±0.5 sample edges: well under 1e-5 relative
        assert w.uj_per_inference == pytest.approx(_truth(m), rel=1e-5)


def test_cli_energy_import_jls(jls_ok, tmp_path, capsys):
    path, m = jls_ok
    assert _cli(["energy", "import", str(path), "--inferences", str(N),
                 "--output", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "energy.json").read_text())
    assert doc["median_uj_per_inference"] == pytest.approx(_truth(m), rel=1e-5)
    assert "Median energy cost is" in capsys.readouterr().out


@pytest.mark.parametrize("opts,reason", [
    (JlsOptions(fs=FS, chunk=1 << 16, drop=((3.0, 4.5),)), "NaN sample"),
    (JlsOptions(fs=FS, nan_at=(5.0,)), "NaN sample"),
    (JlsOptions(fs=FS, range_switch_at=(4.0, 4.00005)), "range switch glitch"),
])
def test_jls_bad_captures_are_invalid(tmp_path, opts, reason):
    m, spans = _model(windows=1)
    path = write_jls(tmp_path / "bad.jls", m, spans[-1][1] / 1e6 + 0.3, options=opts)
    cap = read_capture(path)
    (w,) = integrate.evaluate_windows(cap, integrate.pair_edges(cap.edges), N)
    assert not w.valid
    assert any(reason in r for r in w.reasons), w.reasons


def test_missing_extra_and_short_windows():
    m, spans = _model(windows=1)
    cap_edges = [integrate.Edge(spans[0][0] / 1e6), integrate.Edge(5.0),
                 integrate.Edge(spans[0][1] / 1e6)]
    fs = 1000
    e = m.energy_samples(0, 12_000, fs)
    from tinyperf.harness.energy.capture import Capture
    cap = Capture("energy", e, fs=fs, edges=cap_edges)
    extra = integrate.bracket_windows(cap.edges, [(0.0, 11.5)])
    assert "extra edges" in extra[0].reasons[0]
    missing = integrate.bracket_windows(cap.edges[:1], [(0.0, 11.5)])
    (w,) = integrate.evaluate_windows(cap, missing, N)
    assert w.energy_j is None and "missing edge" in w.reasons[0]
    short = integrate.bracket_windows(cap.edges[:2], [(0.0, 11.5)])
    (w,) = integrate.evaluate_windows(cap, short, N)
    assert any("below the minimum" in r for r in w.reasons)


def test_energytrace_sync_pulses_absorb_drift(tmp_path):
    m, spans = _model(windows=2, gap_s=1.0)
    # sync pulses on the DUT clock: one before, one between, one after
    pulses = [(0.05e6, 0.05e6 + 30e3), (spans[0][1] + 0.4e6, spans[0][1] + 0.43e6),
              (spans[1][1] + 0.2e6, spans[1][1] + 0.23e6)]
    for a, b in pulses:
        m.add_sync_pulse(a, b - a)
    view = MonitorView(origin_us=-20_000.0, drift_ppm=80.0)  # offset and a fast monitor clock
    path = write_energytrace_csv(tmp_path / "et.csv", m, spans[-1][1] / 1e6 + 0.5, view)
    cap = read_capture(path)
    assert cap.kind == "cumulative"
    chosen, tmap = energytrace.sync_pulse_windows(
        cap, [(a / 1e6, b / 1e6) for a, b in pulses], [(a / 1e6, b / 1e6) for a, b in spans],
        threshold_w=0.03, min_duration_s=0.01)
    assert tmap.beta == pytest.approx(1 + 80e-6, abs=2e-5)
    windows = integrate.evaluate_windows(cap, chosen, N, energytrace.ACCURACY)
    for w in windows:
        assert w.valid, w.reasons
        # edges good to one record period (~0.27 ms) at 21.6 mW: ~6e-6 J over 0.22 J
        assert w.uj_per_inference == pytest.approx(_truth(m), rel=1e-4)
        assert w.budget["offset"] > 0 and w.budget["gain"] > 0


def test_energytrace_threshold_segmentation(tmp_path):
    m = PowerModel(voltage=3.3, idle_a=1e-3, active_a=20e-3)
    t = 0.2e6
    for _ in range(20):
        m.add_busy(t, 50e3)
        t += 550e3  # 0.5 s idle between bursts
    path = write_energytrace_csv(tmp_path / "bursts.csv", m, t / 1e6 + 0.2)
    cap = read_capture(path)
    window, bursts = energytrace.threshold_windows(cap, 0.02, 0.01, inferences=20)
    assert bursts == 20 and not window.reasons
    w = integrate.evaluate_window(cap, window, 20, min_duration_s=0.0)
    expected = m.energy_between_us(0.2e6, t - 500e3) / 20 * 1e6
    assert w.uj_per_inference == pytest.approx(expected, rel=2e-3)
    bad, _ = energytrace.threshold_windows(cap, 0.02, 0.01, inferences=25)
    assert "found 20 bursts" in bad.reasons[0]


def test_truncated_and_corrupt_files_name_the_file(tmp_path, jls_ok):
    good, _ = jls_ok
    cut = tmp_path / "cut.jls"
    cut.write_bytes(good.read_bytes()[:20])
    with pytest.raises(CaptureFileError, match="cut.jls"):
        read_capture(cut)
    garbage = tmp_path / "garbage.jls"
    garbage.write_bytes(good.read_bytes()[:32] + b"\x00" * 200)
    with pytest.raises(CaptureFileError, match="garbage.jls"):
        read_capture(garbage)
    csv_path = tmp_path / "et.csv"
    csv_path.write_text("Time (ns),Current (nA),Voltage (mV),Energy (uJ)\n0,1,3300,0\n"
                        "1000,1,3300,0.1\n2000,1\n")
    with pytest.raises(CaptureFileError, match=r"et\.csv.*line 4"):
        read_capture(csv_path)
    trace = tmp_path / "trace1-energy.bin"
    trace.write_bytes(b"\xf1" + np.float32(1000).tobytes() + b"\x00\x00")
    with pytest.raises(CaptureFileError, match="trace1-energy.bin"):
        read_eembc_trace(trace)
    with pytest.raises(CaptureFileError, match="nothere"):
        read_capture(tmp_path / "nothere.jls")
