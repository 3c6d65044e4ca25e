"""ad01 (and kws01) through the QEMU firmware: accuracy-run wall time and DUT throughput.

Two measurements against the MPS2-AN386 image (``firmware_interface``, int8 ad01 runtime)
under ``qemu-system-arm -M mps2-an386 -icount shift=3``, pinned to one core:

1. Accuracy run on the ad01 demo set, as the runner does it (``db load`` of each 2560-byte
   window in 80-char hex commands, then ``infer 1 0``), through the harness client. By
   default a subset -- ``--windows`` windows of each of ``--files`` files -- and the totals
   are extrapolated per window to the full demo set (16 files x 196 windows = 3136); this is
   stated in the output. ``--windows 0`` runs every window (about 10 min for 16 files).
   Wall time is split into
   - wire: measured time of the ``db`` loads (host -> guest bytes; QEMU's UART model takes one
     byte at a time, ~30 µs each), also shown as bytes x 10 / 115200 (what a real 8N1 link at
     115200 baud would need for the same bytes, both directions);
   - compute: measured time of the ``infer 1 0`` commands (emulated inference + reply);
   - plus a whole ``run_session`` over ``qemu://ad01`` (boot, identify, everything) for the
     same subset, to show the harness overhead is small.
2. DUT-clock throughput: ``infer N 10`` on one window. With ``-icount shift=3`` each guest
   instruction advances the virtual clock by 2^3 = 8 ns, so the DUT's ``m-lap-us`` counts
   instructions: 1 µs = 125 instructions, and inferences/s on the DUT clock = 125e6 /
   instructions per inference. This is an instruction count (deterministic, ±1 µs), not the
   latency of a real Cortex-M4 (no wait states, no cache/flash effects, 1 instruction per
   8 ns regardless of its cycle cost).
3. The same DUT-clock measurement for the kws01 image (``--kws-iterations``, 0 skips it).

Usage: TINYPERF_REFERENCE_DIR=... python benchmarks/qemu_dut.py [--files 2] [--windows 20]
       [--iterations 200] [--build-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tinyperf.firmware_interface.links import start_firmware
from tinyperf.firmware_interface.qemu import ICOUNT_SHIFT, QemuFirmware, build_qemu
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.transport import open_link
from tinyperf.harness.run.runner import RunConfig, run_session
from tinyperf.harness.run.scenarios import TestEntry
from tinyperf.reference_models.demo import demo_data_dir
from tinyperf.reference_models.dut_outputs import ad01_file_windows

FULL_FILES, FULL_WINDOWS = 16, 196
BAUD = 115200


def demo_files(count: int) -> list[str]:
    """``count`` demo files, alternating normal and anomaly (1 + 1 for the default 2)."""
    rows = [r.split(",")[0] for r in
            (demo_data_dir() / "ad01" / "y_labels.csv").read_text().splitlines()]
    normal = [r for r in rows if r.startswith("normal")]
    anomaly = [r for r in rows if not r.startswith("normal")]
    mixed = [f for pair in zip(normal, anomaly) for f in pair]
    return mixed[:count]


def measure_windows(url: str, files: list[str], windows: int | None) -> dict[str, float]:
    link = open_link(url, BAUD)
    counts = {"tx": 0, "rx": 0}

    def tap(direction: str, data: bytes, _now: float) -> None:
        counts["tx" if direction == "tx" else "rx"] += len(data)

    link.add_tap(tap)
    dut = Dut(link)
    load_s = infer_s = 0.0
    n = 0
    try:
        dut.identify()
        counts["tx"] = counts["rx"] = 0
        for name in files:
            cut = ad01_file_windows((demo_data_dir() / "ad01" / name).read_bytes())
            for window in cut[:windows] if windows else cut:
                t0 = time.perf_counter()
                dut.load(window)
                t1 = time.perf_counter()
                dut.infer(1, 0)
                infer_s += time.perf_counter() - t1
                load_s += t1 - t0
                n += 1
    finally:
        link.close()
    return {"windows": n, "load_s": load_s, "infer_s": infer_s, **counts}


def measure_session(url_spec: str, files: list[str], windows: int | None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data" / "ad01"
        data.mkdir(parents=True)
        src = demo_data_dir() / "ad01"
        rows = {r.split(",")[0]: r for r in (src / "y_labels.csv").read_text().splitlines()}
        (data / "y_labels.csv").write_text("".join(rows[f] + "\n" for f in files))
        for f in files:
            (data / f).write_bytes((src / f).read_bytes())
        entries = None
        if windows:
            steps: list[object] = []
            for i in range(len(files)):
                for w in range(windows):
                    steps += [f"download {i * FULL_WINDOWS + w}", "infer 1 0"]
            entries = {"ad01": TestEntry("ad01", "ad", "ad01", "y_labels.csv", steps)}
        t0 = time.perf_counter()
        result = run_session(RunConfig(mode="accuracy", dataset_path=data.parent,
                                       output_dir=Path(tmp) / "s", entries=entries,
                                       port=url_spec, progress=False),
                                 start_dut=start_firmware)
        wall = time.perf_counter() - t0
        assert result.valid, result.reasons
        return wall


def dut_throughput(url: str, iterations: int, model: str = "ad01") -> dict[str, float]:
    link = open_link(url, BAUD)
    try:
        dut = Dut(link)
        dut.identify()
        if model == "ad01":
            first = (demo_data_dir() / "ad01" / demo_files(1)[0]).read_bytes()
            dut.load(ad01_file_windows(first)[0])
        else:  # kws01: one 490-byte input of the demo set
            dut.load(sorted((demo_data_dir() / "kws01").glob("*.bin"))[0].read_bytes())
        t0 = time.perf_counter()
        res = dut.infer(iterations, 10)
        wall = time.perf_counter() - t0
    finally:
        link.close()
    us = float(res.elapsed_us or 0)
    return {"iterations": iterations, "dut_us": us, "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--windows", type=int, default=20, help="per file; 0 = all 196")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--kws-iterations", type=int, default=30,
                    help="kws01 image's DUT-clock measurement (0 = skip)")
    ap.add_argument("--build-dir", type=Path, default=None)
    args = ap.parse_args()
    windows = args.windows or None

    t0 = time.perf_counter()
    elf = build_qemu("ad01", args.build_dir)
    print(f"image: {elf} (build/check {time.perf_counter() - t0:.2f} s)")
    files = demo_files(args.files)
    with QemuFirmware(elf) as fw:
        print(f"QEMU boot to m-ready: {fw.boot_s * 1e3:.0f} ms (icount shift={ICOUNT_SHIFT})")
        m = measure_windows(fw.url, files, windows)
        thr = dut_throughput(fw.url, args.iterations)
    session_s = measure_session("qemu://ad01", files, windows)

    n = m["windows"]
    wire_bytes = m["tx"] + m["rx"]
    print(f"\n1. accuracy run, {len(files)} files x "
          f"{windows or FULL_WINDOWS} windows = {n} windows (client loop, one QEMU):")
    print(f"   wire (db loads, measured) {m['load_s']:8.2f} s  "
          f"{m['load_s'] / n * 1e3:6.1f} ms/window"
          f"  ({m['tx'] / n:.0f} B host->DUT, {m['rx'] / n:.0f} B back per window)")
    print(f"   compute (infer 1 0)       {m['infer_s']:8.2f} s  "
          f"{m['infer_s'] / n * 1e3:6.1f} ms/window")
    total = m["load_s"] + m["infer_s"]
    print(f"   total                     {total:8.2f} s  {total / n * 1e3:6.1f} ms/window; "
          f"wire share {100 * m['load_s'] / total:.0f} %")
    print(f"   a real 8N1 link at {BAUD} baud would need {wire_bytes * 10 / BAUD / n * 1e3:.1f} "
          f"ms/window for the same {wire_bytes / n:.0f} bytes")
    print(f"   whole run_session over qemu://ad01 (build check, boot, identify, run, kill): "
          f"{session_s:.2f} s = {session_s / n * 1e3:.1f} ms/window")
    full = FULL_FILES * FULL_WINDOWS
    if n != full:
        print(f"   EXTRAPOLATED per window to the full demo set ({FULL_FILES} files x "
              f"{FULL_WINDOWS} = {full} windows): wire {m['load_s'] / n * full:.0f} s + compute "
              f"{m['infer_s'] / n * full:.0f} s = {total / n * full:.0f} s "
              f"(~{total / n * full / 60:.1f} min)")

    print_dut_clock("2. ad01 DUT clock", thr)
    if args.kws_iterations:
        with QemuFirmware(build_qemu("kws01", args.build_dir)) as fw:
            kws = dut_throughput(fw.url, args.kws_iterations, "kws01")
        print_dut_clock("3. kws01 DUT clock", kws)


def print_dut_clock(title: str, thr: dict[str, float]) -> None:
    us_per_inf = thr["dut_us"] / thr["iterations"]
    ns_per_insn = 2 ** ICOUNT_SHIFT
    insns = us_per_inf * 1000 / ns_per_insn
    print(f"\n{title}, infer {thr['iterations']} 10: {thr['dut_us']:.0f} µs "
          f"-> {us_per_inf:.1f} µs/inference = {1e6 / us_per_inf:.1f} inf./s (DUT clock)")
    print(f"   -icount shift={ICOUNT_SHIFT}: {ns_per_insn} ns per guest instruction -> "
          f"~{insns:,.0f} instructions per inference (±125 per µs of rounding)")
    wall_per = thr["wall_s"] / (thr["iterations"] + 10)
    print(f"   emulation speed: {wall_per * 1e3:.2f} ms wall per inference = "
          f"{insns / wall_per / 1e6:.0f} M guest instructions/s "
          f"({us_per_inf * 1e-6 / wall_per:.1f}x faster than the DUT clock)")


if __name__ == "__main__":
    main()
