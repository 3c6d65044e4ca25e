"""Latency mode (beyond MLPerf Tiny): the per-inference latency distribution on the DUT.

Uses only the standard DUT protocol: one input is loaded, then ``infer 1 0`` is sent N times;
each inference's latency is the difference of the DUT's own two ``m-lap-us`` stamps (32-bit
wrap handled by ``InferResult.elapsed_us``). The link's overhead is measured separately so it
can be subtracted from host-side figures:

- ``name`` round trips (a command with no DUT work): the pure link + parser round trip;
- per inference, the host time from sending ``infer 1 0`` to ``m-ready`` minus the DUT's
  latency (on a real board this is the command/response wire time; on the virtual DUT,
  whose clock is simulated and does not sleep, it can be negative, which is reported).

Session files: ``latency.csv`` (``index,latency_us,host_roundtrip_us``), ``run.json`` with
``figures["latency"]`` (``p50_ms``, ``p90_ms``, ``p99_ms``, ``max_ms``, ``mean_ms``,
``std_ms``, ``min_ms``, ``n``) and ``figures["link"]``, and a short human ``results.txt``
(not an MLPerf format). Percentiles are ``numpy.percentile`` (linear interpolation), the
same definition ``tinyperf.harness.analysis.session_reader`` applies to ``latency.csv``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

import numpy as np
from tinyperf.formats.errors import ConfigError, DutProtocolError, SessionError
from tinyperf.harness.run.datasets import Dataset
from tinyperf.harness.run.runner import Runner, RunResult

#: Inferences when ``--iterations`` is not given.
DEFAULT_ITERATIONS = 1000
#: ``name`` round trips used to measure the link overhead.
LINK_PROBES = 20
PERCENTILES = (50, 90, 99)
CSV_HEADER = "index,latency_us,host_roundtrip_us"


def latency_stats(us: list[float] | np.ndarray) -> dict[str, float | int]:
    """p50/p90/p99/max/min/mean/std of per-inference latencies given in µs, in ms and µs."""
    a = np.asarray(us, dtype=float)
    if a.size == 0:
        return {"n": 0}
    out: dict[str, float | int] = {"n": int(a.size)}
    values = {f"p{q}": float(np.percentile(a, q)) for q in PERCENTILES}
    values.update(max=float(a.max()), min=float(a.min()), mean=float(a.mean()),
                  std=float(a.std(ddof=1)) if a.size > 1 else 0.0)
    for k, v in values.items():
        out[f"{k}_ms"] = v / 1e3
    for k, v in values.items():
        out[f"{k}_us"] = v
    return out


def _summary_us(values: list[float]) -> dict[str, float | int] | None:
    if not values:
        return None
    a = np.asarray(values, dtype=float)
    return {"n": int(a.size), "median_us": float(np.median(a)),
            "p90_us": float(np.percentile(a, 90)), "min_us": float(a.min()),
            "max_us": float(a.max()), "mean_us": float(a.mean())}


def results_text(model: str, stats: dict[str, Any], link: dict[str, Any], ts: str,
                 reasons: list[str]) -> str:
    """The human results.txt of a latency session."""
    lines = [f"{ts} tinyperf latency mode ({model}) -- beyond MLPerf Tiny; this file is NOT an "
             "MLCommons results format",
             f"{ts} {stats.get('n', 0)} inferences of 'infer 1 0' on one input; latency = "
             "difference of the DUT's two m-lap-us stamps"]
    if stats.get("n"):
        lines.append(f"{ts} p50 {stats['p50_ms']:.3f} ms  p90 {stats['p90_ms']:.3f} ms  "
                     f"p99 {stats['p99_ms']:.3f} ms  max {stats['max_ms']:.3f} ms")
        lines.append(f"{ts} mean {stats['mean_ms']:.3f} ms +/- {stats['std_ms']:.3f} ms (std)  "
                     f"min {stats['min_ms']:.3f} ms")
    name_rt = link.get("name_roundtrip_us")
    if name_rt:
        lines.append(f"{ts} link: 'name' round trip median {name_rt['median_us']:.0f} us "
                     f"(p90 {name_rt['p90_us']:.0f} us, {name_rt['n']} probes)")
    over = link.get("infer_overhead_us")
    if over:
        lines.append(f"{ts} link: host round trip of 'infer 1 0' minus DUT latency, median "
                     f"{over['median_us']:.0f} us (subtract from host-side timings)")
        if over["median_us"] < 0:
            lines.append(f"{ts} note: negative overhead: the DUT clock runs faster than real "
                         "time (a virtual DUT that does not sleep)")
    for r in reasons:
        lines.append(f"{ts} ERROR: {r}")
    return "\n".join(lines) + "\n"


class LatencyRunner(Runner):
    """``tinyperf run --mode latency``: N x ``infer 1 0`` on the first input of the dataset.

    ``config.warmups`` (``--warmups K``) sends K untimed ``infer 1 0`` first, discarded.
    """

    def _iterations(self) -> int:
        n = self.config.iterations
        if n is None:
            return DEFAULT_ITERATIONS
        if n == "auto":
            raise ConfigError("--iterations auto is for performance runs; latency mode takes "
                              "a number of inferences")
        return int(n)

    def resume(self) -> RunResult:
        raise SessionError("a latency run cannot be resumed; start a new one",
                           path=self.session.path)

    def _probe_link(self, count: int) -> list[float]:
        out = []
        for _ in range(count):
            t0 = time.monotonic()
            self.dut.command("name")
            out.append((time.monotonic() - t0) * 1e6)
        return out

    def start(self) -> RunResult:
        s = self.session
        s.log(f"Logging initialized. Writing output to {s.log_path}",
              f"Initializing SerialDevice on port: {self.config.port} at {self.config.baud} baud")
        ident = self._identify()
        model = ident.model or ""
        entry = self._entry(model) if self.config.entries is not None else None
        truth = entry.truth_file if entry is not None else "y_labels.csv"
        dataset = Dataset(self.config.dataset_path, model, truth)
        inputs = dataset.inputs(all_windows=False)
        if not inputs:
            raise ConfigError("the dataset has no inputs", path=dataset.label_path)
        item = inputs[0]
        n = self._iterations()
        warm = self.config.warmups or 0
        s.journal.append({"type": "header", "mode": "latency", "model": model,
                          "identity": asdict(ident), "port": self.config.port,
                          "baud": self.config.baud, "iterations": n, "warmups": warm,
                          "input": item.row.file, "started": s.stamp(),
                          "log_offset": s.log_offset()})
        s.log(f"tinyperf: latency mode: {n} x 'infer 1 0' on {item.row.file}"
              f" ({warm} discarded warm-up inferences)")
        name_rt = self._probe_link(LINK_PROBES)
        self.dut.load(item.data)
        s.log(f"tinyperf: loaded {item.row.file}")
        for _ in range(warm):
            self.dut.infer(1, 0)
        dut_us: list[int] = []
        host_us: list[float] = []
        reasons: list[str] = []
        bar = self._progress(n, 0)
        bar.unit = "inf"
        rows = [CSV_HEADER]
        try:
            for i in range(n):
                t0 = time.monotonic()
                res = self.dut.infer(1, 0)
                host = (time.monotonic() - t0) * 1e6
                if res.elapsed_us is None:
                    raise DutProtocolError("no m-lap-us stamps: latency mode needs a "
                                           "performance build of the firmware",
                                           line=" | ".join(res.lines))
                dut_us.append(res.elapsed_us)
                host_us.append(host)
                rows.append(f"{i},{res.elapsed_us},{host:.1f}")
                bar.update(1)
        finally:
            bar.close()
            s.flush_traffic()
            s.write_text("latency.csv", "\n".join(rows) + "\n")
        name_rt += self._probe_link(LINK_PROBES)  # before and after: drift shows in the spread
        stats = latency_stats(dut_us)
        overhead = [h - d for h, d in zip(host_us, dut_us)]
        link = {"name_roundtrip_us": _summary_us(name_rt),
                "infer_overhead_us": _summary_us(overhead),
                "host_roundtrip_p50_ms": float(np.percentile(host_us, 50)) / 1e3 if host_us
                else None}
        if len(dut_us) != n:
            reasons.append(f"{len(dut_us)} of {n} inferences measured")
        ts = s.stamp()
        text = results_text(model, stats, link, ts, reasons)
        s.log(*text.splitlines())
        s.write_text("results.txt", text)
        figures = {"latency": stats, "link": link, "iterations": n, "warmups": warm,
                   "input": item.row.file,
                   "note": "latency mode is beyond MLPerf Tiny: no submission figure"}
        result = RunResult(s.path, "latency", model, asdict(ident), not reasons, reasons,
                           figures)
        s.write_text("run.json", result.to_json())
        s.log(f"Session logged in file {s.log_path}")
        s.journal.append({"type": "finished", "valid": result.valid})
        return result


def print_latency(result: RunResult) -> None:
    """The console summary of a latency run."""
    f = result.figures
    st = f.get("latency") or {}
    print(f"session: {result.session}")
    if st.get("n"):
        print(f"  {result.model} latency ({st['n']} inferences): p50 {st['p50_ms']:.3f} ms  "
              f"p90 {st['p90_ms']:.3f} ms  p99 {st['p99_ms']:.3f} ms  max {st['max_ms']:.3f} ms"
              f"  mean {st['mean_ms']:.3f} +/- {st['std_ms']:.3f} ms")
    link = f.get("link") or {}
    if link.get("name_roundtrip_us"):
        print(f"  link round trip ('name'): median {link['name_roundtrip_us']['median_us']:.0f} us;"
              f" infer overhead (host - DUT): median "
              f"{link['infer_overhead_us']['median_us']:.0f} us")
    print("  (latency mode is beyond MLPerf Tiny: not a submission figure)")
    if not result.valid:
        for reason in result.reasons:
            print(f"    - {reason}")


def latency_demo(url: str, *, dataset_path: Any = None, iterations: int = 300,
                 output_dir: Any = "demo_sessions") -> dict[str, Any]:
    """A latency run against the DUT at ``url`` (e.g. a virtual DUT's pty); its figures.

    ``dataset_path`` defaults to the demo data. Returns ``{"session": ..., **figures}``.
    """
    from pathlib import Path

    from tinyperf.harness.run.runner import RunConfig, run_session

    if dataset_path is None:
        from tinyperf.reference_models.demo import demo_data_dir

        dataset_path = demo_data_dir()
    config = RunConfig(mode="latency", dataset_path=Path(dataset_path),
                       output_dir=Path(output_dir), iterations=iterations, port=url,
                       progress=False)
    result = run_session(config)
    return {"session": str(result.session), "valid": result.valid, **result.figures}


def load_figures(session: Any) -> dict[str, Any]:
    """``figures`` of a latency session's run.json (helper for scripts)."""
    from pathlib import Path

    return json.loads((Path(session) / "run.json").read_text())["figures"]
