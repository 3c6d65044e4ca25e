"""Report and comparison over 100 sessions from the history DB: time per session, and the
share spent loading data vs drawing plots.

Two real sessions (kws01 performance and accuracy) are made on the virtual DUT, then 100
session folders are synthesised by copying them and perturbing the per-window throughputs
and the per-file scores (fixed seed). All are indexed into a fresh history database;
the timed part reads them back from the history, builds one HTML report with every
session, and compares each session with the previous one of its mode.

    TINYPERF_REFERENCE_DIR=../shared/reference .venv/bin/python benchmarks/report_speed.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.harness.analysis import compare, report
from tinyperf.harness.analysis.history import History
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.reference_models.demo import demo_data_dir


def real_sessions(out: Path) -> list[Path]:
    dut = make_virtual_dut("kws01", throughput=23.0, jitter_us=500.0, seed=3)
    with SimServer(dut, pty=True, baud=None) as server:
        return [run_session(RunConfig(mode=mode, dataset_path=demo_data_dir(), output_dir=out,
                                      iterations="auto" if mode == "performance" else None,
                                      port=server.url, progress=False)).session
                for mode in ("performance", "accuracy")]


def synthesise(src: Path, dst: Path, rng: np.random.Generator) -> None:
    """A perturbed copy: throughputs scaled by a random factor, scores jittered."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("traffic.log", "log.txt"))
    run = json.loads((dst / "run.json").read_text())
    records = json.loads((dst / "results.json").read_text())
    fig = run["figures"]
    if run["mode"] == "performance":
        scale = rng.uniform(0.9, 1.1)
        thr = [v * scale * rng.uniform(0.999, 1.001) for v in fig["window_throughput"]]
        fig["window_throughput"] = thr
        fig["median_throughput"] = float(np.median(thr))
        for r, v in zip(records, thr):
            r["infer"]["throughput"] = v
    else:
        for r in records:
            r["infer"]["results"] = [max(0.0, v + rng.normal(0, 0.05))
                                     for v in r["infer"]["results"]]
    (dst / "run.json").write_text(json.dumps(run))
    (dst / "results.json").write_text(json.dumps(records))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tinyperf-report-speed-"))
    try:
        seeds = real_sessions(work / "real")
        rng = np.random.default_rng(7)
        db = work / "history.sqlite"
        t0 = time.perf_counter()
        with History(db) as h:
            for i in range(args.sessions):
                folder = work / "synth" / f"20260101_{i // 60:04d}{i % 60:02d}"
                synthesise(seeds[i % 2], folder, rng)
                h.add(folder, tags=["bench"])
        index_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        with History(db) as h:
            records = [e.to_record() for e in reversed(h.list(tag="bench"))]
        for r in records:  # intervals are part of the data a report shows
            _ = r.intervals
        load_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        rep = report.build_report(records)
        html = report.render_html(rep)
        md = report.render_markdown(rep)
        report_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        last: dict[str, object] = {}
        breaches = 0
        for r in records:
            if r.mode in last:
                breaches += compare.compare(last[r.mode], r).breached  # type: ignore[arg-type]
            last[r.mode] = r
        compare_s = time.perf_counter() - t0

        n = len(records)
        total = load_s + report_s + compare_s
        plot_s = rep.plot_seconds
        print(f"sessions: {n} (indexing took {index_s:.2f} s, {1e3 * index_s / n:.1f} ms each)")
        print(f"load from history + intervals: {load_s:6.2f} s  {1e3 * load_s / n:7.1f} ms/session")
        print(f"report (HTML {len(html) / 1e6:.1f} MB + Markdown {len(md) / 1e3:.0f} kB): "
              f"{report_s:6.2f} s  {1e3 * report_s / n:7.1f} ms/session")
        print(f"  of which plotting:           {plot_s:6.2f} s  {1e3 * plot_s / n:7.1f} ms/session")
        print(f"comparisons ({n - 2} pairs, {breaches} breaches): {compare_s:6.2f} s  "
              f"{1e3 * compare_s / max(n - 2, 1):7.1f} ms/pair")
        print(f"total {total:.2f} s = {1e3 * total / n:.1f} ms/session; share: plotting "
              f"{100 * plot_s / total:.0f} %, data loading {100 * load_s / total:.0f} %, "
              f"comparisons {100 * compare_s / total:.0f} %, other report work "
              f"{100 * (report_s - plot_s) / total:.0f} %")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
