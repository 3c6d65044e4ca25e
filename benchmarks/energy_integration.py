"""Integrate a 60 s, 1 MS/s current + voltage + GPI capture: vectorised vs per-sample loop.

The vectorised path is ``tinyperf.harness.energy.stream.StreamIntegrator`` (what the live
Joulescope monitor runs) followed by window evaluation. The loop is the reference
runner's method (``energy += i * v / fs`` per sample, with a GPI edge check), timed on a
slice and extrapolated to 60 s — running it on all 6e7 samples would take minutes. Both
are measured in this run, side by side; error is against the power model's analytic
energy of each window. Goals: >= 100x real time, error < 0.05 %.

    python benchmarks/energy_integration.py [--seconds 60] [--loop-slice 500000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tinyperf.firmware_interface.sim.power import PowerModel
from tinyperf.harness.energy import integrate
from tinyperf.harness.energy.stream import StreamIntegrator

FS = 1_000_000
BLOCK = 1 << 20


def make_model(seconds: float) -> PowerModel:
    """Windows of ~10.9 s of 43.5 ms inferences, 1 s apart, each bracketed by edges."""
    m = PowerModel(voltage=1.8, idle_a=2e-3, active_a=10e-3, pulse_us=20.0)
    t, lat, n = 0.5e6, 1e6 / 23, 250
    while t + n * lat + 0.5e6 < seconds * 1e6:
        m.on_timestamp(t)
        m.add_busy(t, n * lat)
        m.on_timestamp(t + n * lat)
        t += n * lat + 1e6
    return m


def loop_reference(current: np.ndarray, voltage: np.ndarray, gpi: np.ndarray) -> float:
    energy, last, events = 0.0, int(gpi[0]), 0
    for i, v, g in zip(current.tolist(), voltage.tolist(), gpi.tolist()):
        energy += i * v / FS
        if g != last:
            events += 1
            last = g
    return energy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--loop-slice", type=int, default=500_000)
    args = ap.parse_args()
    model = make_model(args.seconds)
    total = int(args.seconds * FS)
    integ = StreamIntegrator(FS)
    vec_s = 0.0
    loop_s, loop_n = 0.0, 0
    for n0 in range(0, total, BLOCK):
        n1 = min(total, n0 + BLOCK)
        cur = model.current_samples(n0, n1, FS).astype(np.float32)  # instrument: float32
        volt = np.full(n1 - n0, model.voltage, dtype=np.float32)
        gpi = model.gpi_samples(n0, n1, FS)
        t = time.perf_counter()
        integ.add_block(cur, volt, gpi)
        vec_s += time.perf_counter() - t
        if loop_n < args.loop_slice:
            k = min(args.loop_slice - loop_n, n1 - n0)
            t = time.perf_counter()
            loop_reference(cur[:k], volt[:k], gpi[:k])
            loop_s += time.perf_counter() - t
            loop_n += k
    t = time.perf_counter()
    cap = integ.capture(model.voltage)
    windows = integrate.evaluate_windows(cap, integrate.pair_edges(cap.edges), 250, None, 0.0)
    vec_s += time.perf_counter() - t
    loop_full = loop_s / loop_n * total
    errors = []
    for w in windows:
        truth = model.energy_between_us(w.start_s * 1e6, w.end_s * 1e6)
        errors.append(abs(w.energy_j - truth) / truth)
    edge_err = max(abs(w.start_s * 1e6 - e) for w, e in
                   zip(windows, sorted(model.edges_us)[0::2]))
    print(f"capture: {args.seconds:g} s at {FS / 1e6:g} MS/s = {total:,} samples, "
          f"{len(windows)} windows")
    print(f"vectorised (StreamIntegrator + windows): {vec_s:.3f} s "
          f"= {args.seconds / vec_s:,.0f}x real time")
    print(f"per-sample loop: {loop_s:.3f} s on {loop_n:,} samples, extrapolated "
          f"{loop_full:.1f} s = {args.seconds / loop_full:.2f}x real time")
    print(f"speed-up vectorised / loop: {loop_full / vec_s:,.0f}x")
    print(f"max window energy error vs analytic: {max(errors) * 100:.6f} % "
          f"(goal < 0.05 %); max start-edge error {edge_err:.2f} us")
    ok = args.seconds / vec_s >= 100 and max(errors) < 5e-4
    print("goals met" if ok else "GOALS NOT MET")


if __name__ == "__main__":
    main()
