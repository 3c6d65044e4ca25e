"""Accuracy-run wall time per input over a serial link: standard protocol, fast load, runner.

The DUTs run as their own processes, as a board would: the virtual DUT (``tinyperf sim``,
UART wire time emulated at the baud rate) and the C host firmware (``host://kws01``, a pty
with no baud rate: what is left there is the per-command cost of host + firmware).

1. kws01, per file, at each baud rate, side by side in one run:

   - standard: the ``Dut`` client on the standard protocol (38-byte ``db`` chunks filling the
     80-char buffer), ``db load`` + ``db`` + ``infer 1 0`` per file;
   - wire limit: the bytes the standard run moved in both directions x 10 bits / baud (8N1)
     -- no host can beat it with the standard protocol;
   - naive: the reference runner's method, 31-byte chunks and byte-at-a-time reads;
   - fast: ``--fast-load auto``: one binary ``fl load`` per file (docs/fast_load.md), the
     next file written while the DUT infers;
   - runner: the MLCommons runner itself (``../shared/peers``, patched to open a pty),
     accuracy mode, per file from two set sizes (its fixed start-up cancels out).

2. ad01 windows per second at 115200: standard, fast with full loads, fast with ``fl
   shift`` (only the 512 new bytes of each window), and the extrapolated time of the full
   48,608-window accuracy run.

Usage: python benchmarks/link_efficiency.py [--files 36] [--bauds 115200,921600]
       [--windows 60] [--repeats 3] [--no-runner] [--no-host]

Where the standard path's round trip goes: ``benchmarks/link_round_trip.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import serial
import yaml
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.transport import open_link
from tinyperf.harness.run.datasets import Dataset
from tinyperf.reference_models.demo import demo_data_dir

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"
RUNNER_DEPS = "import numpy, sklearn, matplotlib, yaml, serial, usb"
#: windows of the full ad01 accuracy set: 248 files x 196 windows
AD01_FULL_WINDOWS = 48_608
AD01_FILES = 248


class NaiveLoader:
    """The reference runner's link handling: 31-byte chunks, one byte per read call."""

    def __init__(self, url: str, baud: int):
        self.ser = serial.serial_for_url(url, baudrate=baud, timeout=0.1)
        self.bytes_tx = self.bytes_rx = 0

    def _command(self, text: str, timeout: float = 5.0) -> list[str]:
        data = (text + "%").encode()
        self.ser.write(data)
        self.bytes_tx += len(data)
        lines, line = [], ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            byte = self.ser.read(1)
            if not byte:
                continue
            self.bytes_rx += 1
            char = byte.decode("utf-8", errors="replace")
            if char in "\r\0":
                continue
            if char != "\n":
                line += char
                continue
            lines.append(line)
            if "m-ready" in line:
                return lines
            line = ""
        raise TimeoutError(text)

    def load_and_infer(self, data: bytes) -> list[str]:
        self._command(f"db load {len(data)}")
        for i in range(0, len(data), 31):
            self._command("db " + data[i:i + 31].hex())
        return self._command("infer 1 0")

    def close(self) -> None:
        self.ser.close()


@contextlib.contextmanager
def virtual_dut(baud: int, model: str = "kws01", engine: str = "auto") -> Iterator[str]:
    """``tinyperf sim`` in its own process (a DUT is another device: no shared GIL)."""
    cmd = [sys.executable, "-m", "tinyperf.cli.main", "sim", "--model-id", model,
           "--throughput", "23", "--baud", str(baud or 0), "--engine", engine]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("link: "):
            raise RuntimeError(f"tinyperf sim did not start: {line!r}")
        yield line.split(" ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.contextmanager
def host_firmware(model: str = "kws01") -> Iterator[str]:
    """The C firmware's POSIX build on a pty (built into the firmware cache if needed)."""
    from tinyperf.firmware_interface.links import open_firmware_link

    link = open_firmware_link(f"host://{model}")
    try:
        yield link.url
    finally:
        link.close()


def repeated(url: str, baud: int, inputs: list[bytes], fast: bool,
             repeats: int) -> tuple[float, list[float], int]:
    """(median seconds per file, every run's, bytes per file) of ``repeats`` runs: one run
    of 36 files lasts 0.2 s at 921600 baud, where one scheduler hiccup of the machine (a
    VM's neighbours) moves the ratio by a few per cent."""
    runs = [run_files(url, baud, inputs, fast) for _ in range(repeats)]
    seconds = [s for s, _, _ in runs]
    return statistics.median(seconds), seconds, runs[0][1]


def run_files(url: str, baud: int, inputs: list[bytes], fast: bool) -> tuple[float, int, Dut]:
    """(seconds per file, bytes moved per file, client) of load + ``infer 1 0`` each."""
    link = open_link(url, baud or 115200)
    try:
        dut = Dut(link, fast_load=fast)
        dut.identify()
        if fast:
            dut.fast.negotiate()  # type: ignore[union-attr]  # once per connection, untimed
        tx0, rx0 = link.bytes_tx, link.bytes_rx
        start = time.perf_counter()
        for k, data in enumerate(inputs):
            dut.load(data)
            ahead = (inputs[k + 1], None) if fast and k + 1 < len(inputs) else None
            dut.infer(1, 0, ahead=ahead)
        seconds = time.perf_counter() - start
        moved = (link.bytes_tx - tx0) + (link.bytes_rx - rx0)
    finally:
        link.close()
    return seconds / len(inputs), moved // len(inputs), dut


def compute_per_file(inputs: list[bytes], engine: str) -> float:
    """Seconds the virtual DUT really computes per ``infer 1 0`` (its engine, in this
    process): DUT time on the critical path that no link protocol can remove."""
    from tinyperf.firmware_interface.sim.model import make_virtual_dut

    infer = make_virtual_dut("kws01", engine=engine).infer_fn
    infer(inputs[0])
    start = time.perf_counter()
    for data in inputs:
        infer(data)
    return (time.perf_counter() - start) / len(inputs)


def run_naive(url: str, baud: int, inputs: list[bytes]) -> float:
    naive = NaiveLoader(url, baud or 115200)
    try:
        start = time.perf_counter()
        for data in inputs:
            naive.load_and_infer(data)
        return (time.perf_counter() - start) / len(inputs)
    finally:
        naive.close()


# -- the MLCommons runner -------------------------------------------------------------------

def runner_python() -> str | None:
    for py in filter(None, [os.environ.get("TINYPERF_OFFICIAL_PYTHON"), sys.executable]):
        if subprocess.run([py, "-c", RUNNER_DEPS], capture_output=True).returncode == 0:
            return py
    return None


def interleaved_rows(dataset: Path) -> list[str]:
    """kws01 label rows ordered one class after the other, so that every prefix of 12 or
    more rows has all classes (the runner's AUC needs them all)."""
    rows = (dataset / "kws01" / "y_labels.csv").read_text().splitlines()
    by_class: dict[str, list[str]] = {}
    for row in rows:
        by_class.setdefault(row.split(",")[2].strip(), []).append(row)
    out = []
    while any(by_class.values()):
        for group in by_class.values():
            if group:
                out.append(group.pop(0))
    return out


def subset(dataset: Path, rows: list[str], dest: Path) -> Path:
    """A kws01 dataset root with ``rows`` (copies of the inputs)."""
    (dest / "kws01").mkdir(parents=True, exist_ok=True)
    for row in rows:
        name = row.split(",")[0].strip()
        if not (dest / "kws01" / name).exists():
            shutil.copy(dataset / "kws01" / name, dest / "kws01" / name)
    (dest / "kws01" / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return dest


def runner_per_file(url: str, baud: int, dataset: Path, counts: tuple[int, int],
                    work: Path) -> float | str:
    """The runner's accuracy seconds per kws01 file, or why it was not measured."""
    if not (PEERS / "mlc_runner_pty.patch").is_file():
        return "../shared/peers is absent"
    py = runner_python()
    if py is None:
        return "no interpreter with the runner's dependencies (TINYPERF_OFFICIAL_PYTHON)"
    copy = work / "tiny"
    if not copy.exists():
        shutil.copytree(PEERS / "mlcommons_tiny", copy)
        subprocess.run(["patch", "-d", str(copy), "-p1", "-i",
                        str(PEERS / "mlc_runner_pty.patch")], check=True, capture_output=True)
    runner = copy / "benchmark" / "runner"
    times = []
    for count in (counts[0], *counts):  # the first run only warms caches: not counted
        root = subset(dataset, interleaved_rows(dataset)[:count], work / f"ds{count}")
        run_dir = work / f"run{count}_{baud}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir()
        devices = [{"name": "l4r5zi", "type": "dut", "port": url,
                    "baud": {"energy": 9600, "performance": baud, "accuracy": baud}}]
        (run_dir / "devices.yaml").write_text(yaml.safe_dump(devices))
        start = time.perf_counter()
        proc = subprocess.run(
            [py, str(runner / "main.py"), "-d", str(run_dir / "devices.yaml"), "-t",
             str(runner / "tests_accuracy.yaml"), "-s", str(root), "-m", "a"],
            cwd=run_dir, capture_output=True, text=True, timeout=900,
            env={**os.environ, "PYTHONPATH": str(runner), "MPLBACKEND": "Agg"})
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            return f"the runner failed: {(proc.stdout + proc.stderr)[-300:]!r}"
    return (times[2] - times[1]) / (counts[1] - counts[0])


# -- ad01 windows ---------------------------------------------------------------------------

def ad01_windows(url: str, baud: int, windows: list[bytes], mode: str) -> float:
    """Windows per second: ``standard``, ``fast-load`` (full loads) or ``fast-shift``."""
    link = open_link(url, baud)
    try:
        dut = Dut(link, fast_load=mode != "standard")
        dut.identify()
        if dut.fast is not None:
            dut.fast.negotiate()
        stride = 512 if mode == "fast-shift" else None
        dut.load(windows[0])
        dut.infer(1, 0)  # the first window of a file is a full load in every mode
        start = time.perf_counter()
        for k, window in enumerate(windows[1:], start=1):
            dut.load(window, stride)
            nxt = windows[k + 1] if k + 1 < len(windows) else None
            dut.infer(1, 0, ahead=(nxt, stride) if nxt is not None and dut.fast else None)
        return (len(windows) - 1) / (time.perf_counter() - start)
    finally:
        link.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=36, help="kws01 files (>= 13)")
    parser.add_argument("--bauds", default="115200,921600")
    parser.add_argument("--windows", type=int, default=60,
                        help="ad01 windows per mode (standard: a third of them)")
    parser.add_argument("--dataset-path", type=Path, default=demo_data_dir())
    parser.add_argument("--no-runner", action="store_true", help="skip the MLCommons runner")
    parser.add_argument("--runner-files", type=int, default=120,
                        help="files of the runner's larger set (its per-file time is the "
                             "difference of two runs over the difference of their sizes)")
    parser.add_argument("--no-host", action="store_true", help="skip the C host firmware")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of the kws01 standard and fast loops per baud rate (the "
                             "median is reported)")
    # the link is what is measured: LiteRT's builtin kernels give kws01 outputs bit-exact
    # with TFLM (spec reference_models 3.3) in ~0.3 ms instead of TFLM's ~4 ms of host time
    parser.add_argument("--engine", default="litert-builtin",
                        help="the virtual DUT's engine (tinyperf sim --engine)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="link_efficiency_"))
    files = max(args.files, 13)
    root = subset(args.dataset_path, interleaved_rows(args.dataset_path)[:files], work / "ds")
    inputs = [i.data for i in Dataset(root, "kws01").inputs(all_windows=False)]
    bauds = [int(b) for b in args.bauds.split(",")]
    compute = compute_per_file(inputs, args.engine)

    print(f"kws01 accuracy loop (load + infer 1 0), {len(inputs)} files, virtual DUT on a pty")
    print(f"the virtual DUT computes {compute * 1e3:.2f} ms per infer 1 0 (real time, its "
          "engine): 'std/(w+c)' counts it with the wire")
    print(f"{'baud':>8} {'wire s/file':>11} {'std s/file':>10} {'std/wire':>8} {'std/(w+c)':>9} "
          f"{'naive/wire':>10} {'fast s/file':>11} {'fast/wire':>9} {'runner s/file':>13} "
          f"{'fast/runner':>11}")
    for baud in bauds:
        byte_s = 10.0 / baud
        with virtual_dut(baud, engine=args.engine) as url:
            std_s, std_runs, std_bytes = repeated(url, baud, inputs, False, args.repeats)
            fast_s, fast_runs, fast_bytes = repeated(url, baud, inputs, True, args.repeats)
            naive_s = run_naive(url, baud, inputs)
            runner: float | str = "skipped (--no-runner)"
            if not args.no_runner:
                # 12: every class once; the larger set drowns the start-up's jitter
                counts = (12, args.runner_files)
                runner = runner_per_file(url, baud, args.dataset_path, counts, work)
        wire = std_bytes * byte_s
        runner_text = f"{runner:>13.5f}" if isinstance(runner, float) else f"{'-':>13}"
        ratio = f"{fast_s / runner:>11.3f}" if isinstance(runner, float) else f"{'-':>11}"
        print(f"{baud:>8} {wire:>11.5f} {std_s:>10.5f} {std_s / wire:>8.3f} "
              f"{std_s / (wire + compute):>9.3f} "
              f"{naive_s / wire:>10.3f} {fast_s:>11.5f} {fast_s / wire:>9.3f} {runner_text} "
              f"{ratio}")
        print(f"{'':>8} bytes/file: standard {std_bytes}, fast {fast_bytes} (fast wire "
              f"{fast_bytes * byte_s:.5f} s, both directions summed; a UART is full duplex)")
        print(f"{'':>8} median of {args.repeats} runs; std/wire of each: "
              f"{', '.join(f'{s / wire:.3f}' for s in std_runs)}; fast/wire of each: "
              f"{', '.join(f'{s / wire:.3f}' for s in fast_runs)}")
        if isinstance(runner, str):
            print(f"{'':>8} MLCommons runner not measured: {runner}")
    with virtual_dut(0, engine=args.engine) as url:
        std_s, _, _ = run_files(url, 0, inputs, fast=False)
        fast_s, _, _ = run_files(url, 0, inputs, fast=True)
    print(f"no baud emulation: standard {std_s * 1e3:.2f} ms/file, fast {fast_s * 1e3:.2f} "
          "ms/file -- the fixed per-command cost (host + emulator threads)")
    if not args.no_host:
        try:
            with host_firmware("kws01") as url:
                std_s, _, _ = run_files(url, 0, inputs, fast=False)
                fast_s, _, dut = run_files(url, 0, inputs, fast=True)
            used = dut.fast.stats.as_dict() if dut.fast else {}
            print(f"C host firmware on a pty (no baud rate): standard {std_s * 1e3:.2f} "
                  f"ms/file, fast {fast_s * 1e3:.2f} ms/file ({fast_s / std_s:.3f}x; fast "
                  f"load offered: {used.get('offered') is not None})")
        except Exception as exc:  # a benchmark reports what it could not measure
            print(f"C host firmware not measured: {exc}")

    ad = Dataset(args.dataset_path, "ad01")
    rows = ad.inputs(all_windows=True)
    windows = [i.data for i in rows if i.row.file == rows[0].row.file][: args.windows]
    baud = 115200
    print(f"\nad01 accuracy windows at {baud} baud, virtual DUT ({len(windows)} windows of "
          f"{len(windows[0])} bytes, stride 512)")
    with virtual_dut(baud, "ad01") as url:
        rates = {"standard": ad01_windows(url, baud, windows[: max(4, len(windows) // 3)],
                                          "standard"),
                 "fast-load": ad01_windows(url, baud, windows, "fast-load"),
                 "fast-shift": ad01_windows(url, baud, windows, "fast-shift")}
    for mode, rate in rates.items():
        full = AD01_FULL_WINDOWS / rate
        if mode == "fast-shift":  # each file's first window is a full load
            full = AD01_FILES / rates["fast-load"] + (AD01_FULL_WINDOWS - AD01_FILES) / rate
        print(f"{mode:>12}: {rate:7.2f} windows/s -> {AD01_FULL_WINDOWS} windows in "
              f"{full / 60:7.1f} min ({full / 3600:.2f} h)")
    print("goals: fast/wire <= 0.45, fast/runner <= 0.4, std/wire <= 1.10 at 921600, "
          "full ad01 run <= 45 min with the shift")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
