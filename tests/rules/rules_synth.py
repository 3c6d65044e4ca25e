"""Small synthetic submission trees for rule tests, written with the project's own writers.

``make_tree`` writes one valid MLCommons-runner kws result (performance, accuracy,
energy) plus a matching reference label folder; ``make_eembc_perf`` writes an EEMBC-runner
performance folder. Tests mutate these to trigger one rule at a time.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tinyperf.formats import mlc

TEMPLATE_KEYS = ["Submitter", "Division", "Status", "Board Name", "Processor(s) Name",
                 "Processor(s) Frequencies", "Processor memory type and capacity",
                 "Accelerator", "Accelerator(s) Frequencies",
                 "Accelerator memory type and capacity", "Hardware Notes",
                 "Inference Framework", "Software Libraries", "Software Notes"]
TS = "0101.120000"
IDENT = ["Device name retrieved: Acme", "Device profile retrieved: Fw V1",
         "Device model retrieved: kws01"]
FILES = [f"tst_{i:06d}_x_{i % 12}.bin" for i in range(24)]
ITER, ELAPSED = 250, 10_500_000


def system_json(**changes: object) -> dict[str, object]:
    data: dict[str, object] = dict.fromkeys(TEMPLATE_KEYS, "")
    data.update({"Submitter": "Acme", "Division": "Closed", "Status": "Available",
                 "Board Name": "Board-1"})
    data.update(changes)
    return data


def make_tree(root: Path, version: str = "v1.3") -> tuple[Path, Path, Path]:
    """Returns (tree root, benchmark folder, reference dir)."""
    tree = root / version
    sub = tree / "closed" / "Acme"
    (sub / "systems").mkdir(parents=True)
    (sub / "systems" / "Board.json").write_text(json.dumps(system_json(), indent=1))
    bench = sub / "results" / "Board" / "kws"
    _performance(bench / "performance")
    _accuracy(bench / "accuracy")
    _energy(bench / "energy")
    ref = root / "reference" / "kws01"
    ref.mkdir(parents=True)
    (ref / "y_labels.csv").write_text("".join(f"{f},12,{i % 12}\n" for i, f in enumerate(FILES)))
    return tree, bench, root / "reference"


def _performance(folder: Path) -> None:
    folder.mkdir(parents=True)
    windows, recs = [], []
    for k in range(5):
        us = ELAPSED + 1000 * k
        tp = ITER / (us / 1e6)
        windows.append(mlc.PerfWindow(ITER, us, tp))
        inf = mlc.infer_record(start_time=1000, end_time=1000 + us, results=[0.0] * 12,
                               elapsed_time=us, total_inferences=1, iterations=ITER, warmups=1,
                               throughput=tp, mode="p")
        recs.append(mlc.window_record(file=FILES[k], classes="12", label=str(k % 12),
                                      bytes_to_send=None, stride=None, total_length=None,
                                      infer=inf, mode="p"))
    median = sorted(w.throughput for w in windows)[2]
    txt = mlc.performance_txt(windows, median, TS)
    (folder / "results.txt").write_text(txt)
    (folder / "results.json").write_text(mlc.results_json(recs))
    (folder / "log.txt").write_text("\n".join(IDENT + ["-" * 20, txt]))


def _accuracy(folder: Path) -> None:
    folder.mkdir(parents=True)
    recs = []
    for i, f in enumerate(FILES):
        out = [0.0] * 12
        out[i % 12] = 1.0
        inf = mlc.infer_record(start_time=1, end_time=2, results=out, elapsed_time=1,
                               total_inferences=1, iterations=1, warmups=0, throughput=None,
                               mode="a")
        recs.append(mlc.window_record(file=f, classes="12", label=str(i % 12), bytes_to_send=None,
                                      stride=None, total_length=None, infer=inf, mode="a"))
    txt = mlc.accuracy_txt(100.0, 1.0, TS)
    (folder / "results.txt").write_text(txt)
    (folder / "results.json").write_text(mlc.results_json(recs))
    (folder / "log.txt").write_text("\n".join(IDENT + ["-" * 20, txt]))


def energy_txt(per_inf: list[float], seconds: float, median: float) -> str:
    lines = ["Power Edition Output"]
    for i, e in enumerate(per_inf):
        lines += [f"Energy data for trial {i}", f"  Elapsed time  : {seconds!r}",
                  f"  Inferences    : {ITER}", f"  Power         : {e * ITER / seconds / 1000:5.4f} mW.",
                  f"  Total Energy  : {e * ITER:.3f} uJ", f"  Energy/Inf    : {e:.3f} uJ/inf"]
    lines += ["-" * 57, f"Median energy cost is {median:5.4f} uJ/inf.", "-" * 57]
    return "\n".join(lines) + "\n"


def _energy(folder: Path) -> None:
    folder.mkdir(parents=True)
    recs = []
    samples = [3e-6] * 10_800
    for k in range(5):
        inf = mlc.infer_record(start_time=None, end_time=None, results=[0.0] * 12,
                               elapsed_time=None, total_inferences=1, iterations=ITER,
                               warmups=1, throughput=None, mode="e")
        power = {"samples": samples, "timestamps": [[f"{2 * k:02d}", 100],
                                                    [f"{2 * k + 1:02d}", 10_700]],
                 "extracted_power": None, "voltage": 3}
        recs.append(mlc.window_record(file=FILES[k], classes="12", label=str(k), bytes_to_send=None,
                                      stride=None, total_length=None, infer=inf, mode="e",
                                      power=power))
    per_inf = sum(samples[100:10_700]) * 1e6 / ITER
    txt = energy_txt([per_inf] * 5, 10.6, per_inf)
    (folder / "results.txt").write_text(txt)
    (folder / "results.json").write_text(mlc.results_json(recs))
    (folder / "log.txt").write_text("\n".join(IDENT + ["-" * 20, txt]))
    for k in range(5):
        (folder / f"energy_inf_{k:03d}.png").write_bytes(b"\x89PNG")


def make_eembc_perf(folder: Path, host_scale: float = 1.0, seconds: float = 16.4) -> None:
    """An EEMBC performance folder (log.txt, results.txt, script.async), 5 windows."""
    folder.mkdir(parents=True, exist_ok=True)
    log = ["00010.707 session: m-session-start-id[20230517103140]",
           "00011.219 parser: m-bm-cfg-name[ulp-mlperf]-key[iterInfer]-val[200]",
           "00011.227 dut: m-profile-[Fw V1]", "00011.228 dut: m-model-[kws01]"]
    res, host, lap = [], 12.0, 28_000_000
    for k in range(5):
        us = int(seconds * 1e6)
        log += [f"{host:09.3f} parser: Command \"bload dut \"/d/kws01/{FILES[k]}\"\"",
                f"{host:09.3f} parser: Command \"dut infer 200 1\"",
                f"{host:09.3f} dut: m-lap-us-{lap}",
                f"{host + seconds * host_scale:09.3f} dut: m-lap-us-{lap + us}",
                f"{host + seconds * host_scale:09.3f} dut: m-infer-done",
                f"{host + seconds * host_scale:09.3f} dut: m-results-[0,127,0,0,0,0,0,0,0,0,0,0]"]
        tp = 200 / (us / 1e6)
        n = 2 * (k + 1)
        res += [f"00094.431 ulp-mlperf: Performance results for window {n}:",
                "00094.431 ulp-mlperf:   # Inferences :          200",
                f"00094.431 ulp-mlperf:   Runtime      : {us / 1e6:12.3f} sec.",
                f"00094.431 ulp-mlperf:   Throughput   : {tp:12.3f} inf./sec.",
                "00094.431 ulp-mlperf: Runtime requirements have been met."]
        host += seconds * host_scale + 1
        lap += us + 500_000
    res += ["00094.433 ulp-mlperf: " + "-" * 57,
            f"00094.433 ulp-mlperf: Median throughput is {200 / seconds:.3f} inf./sec.",
            "00094.433 ulp-mlperf: " + "-" * 57]
    (folder / "log.txt").write_text("\n".join(log))
    (folder / "results.txt").write_text("\n".join(res) + "\n")
    (folder / "script.async").write_text("[\n    {\n        cmd: 'umount'\n    }\n]")


def make_eembc_energy(folder: Path, claim: float | None = None) -> float:
    """An EEMBC energy folder with trace1-* files; returns the true median uJ/inf."""
    folder.mkdir(parents=True, exist_ok=True)
    rate, per_sample, ts = 1000.0, 40.0, [0.017]
    t = 2.0
    for _ in range(5):
        ts += [t, t + 16.4]
        t += 18.0
    n = int(t * rate) + 10
    (folder / "trace1-energy.bin").write_bytes(b"\xf1" + struct.pack(f"<{n + 1}f", rate,
                                                                     *([per_sample] * n)))
    (folder / "trace1-timestamps.json").write_text(json.dumps(ts))
    true = per_sample * 16400 / 200
    log = ["00030.020 parser: m-bm-cfg-name[ulp-ml]-key[iterInfer]-val[200]",
           "00030.021 io: [dut]: m-profile-[Fw V1]", "00030.021 io: [dut]: m-model-[kws01]"]
    log += ["00032.903 parser: Command \"io dut infer 200 1\""] * 5
    (folder / "log.txt").write_text("\n".join(log))
    res = []
    for k in range(5):
        res += [f"00123.744 ulp-ml: Energy data for window {2 * k + 2} at time {ts[2 * k + 1]:.2f} "
                "for 16.40 sec.:", f"00123.744 ulp-ml:   Energy       : {true * 200:12.3f} uJ",
                f"00123.744 ulp-ml:   Power        : {true * 200 / 16.4:12.3f} uW",
                f"00123.744 ulp-ml:   Energy/Inf.  : {true:12.3f} uJ/inf."]
    res += [f"00123.772 ulp-ml: Median energy cost is {claim or true:.3f} uJ/inf."]
    res += [f"00123.772 ulp-ml: Median throughput is {200 / 16.4:.3f} inf./sec."]
    (folder / "results.txt").write_text("\n".join(res) + "\n")
    (folder / "script.async").write_text("[]")
    return true
