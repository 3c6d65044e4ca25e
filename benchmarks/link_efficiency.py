"""Accuracy-run wall time per kws01 file over the virtual DUT, vs the wire limit.

The virtual DUT runs as its own process (``tinyperf sim``), as a board would.

For each emulated baud rate, three measurements side by side in one run:

- tinyperf: the ``Dut`` client (38-byte ``db`` chunks filling the 80-char buffer, chunked
  reads) loading each file and running ``infer 1 0``;
- the wire limit: the bytes that run moved in both directions divided by the byte rate
  (10 bits per byte, 8N1) -- no host can beat it on a half-duplex command/answer protocol;
- naive: the reference runner's method, 31-byte chunks and byte-at-a-time reads.

Prints seconds per file and the ratios. Goal: tinyperf <= 1.10x the wire limit.
Usage: python benchmarks/link_efficiency.py [--files 20] [--bauds 115200,921600]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import serial
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.transport import open_link
from tinyperf.harness.run.datasets import Dataset
from tinyperf.reference_models.demo import demo_data_dir


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
def virtual_dut(baud: int) -> Iterator[str]:
    """``tinyperf sim`` in its own process (a DUT is another device: no shared GIL)."""
    cmd = [sys.executable, "-m", "tinyperf.cli.main", "sim", "--model-id", "kws01",
           "--throughput", "23"]
    if baud:
        cmd += ["--baud", str(baud)]
    else:
        cmd += ["--baud", "0"]
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


def measure(baud: int, inputs: list[bytes]) -> dict[str, float]:
    out: dict[str, float] = {}
    with virtual_dut(baud) as url:
        link = open_link(url, baud or 115200)
        dut = Dut(link)
        dut.identify()
        tx0, rx0 = link.bytes_tx, link.bytes_rx
        start = time.perf_counter()
        for data in inputs:
            dut.load(data)
            dut.infer(1, 0)
        ours = time.perf_counter() - start
        moved = (link.bytes_tx - tx0) + (link.bytes_rx - rx0)
        link.close()
        naive = NaiveLoader(url, baud or 115200)
        start = time.perf_counter()
        for data in inputs:
            naive.load_and_infer(data)
        naive_s = time.perf_counter() - start
        naive_moved = naive.bytes_tx + naive.bytes_rx
        naive.close()
    n = len(inputs)
    byte_s = 10.0 / baud if baud else 0.0
    out["ours_s"] = ours / n
    out["wire_s"] = moved * byte_s / n
    out["naive_s"] = naive_s / n
    out["naive_wire_s"] = naive_moved * byte_s / n
    out["bytes"] = moved / n
    out["naive_bytes"] = naive_moved / n
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--bauds", default="115200,921600")
    parser.add_argument("--dataset-path", type=Path, default=demo_data_dir())
    args = parser.parse_args()
    ds = Dataset(args.dataset_path, "kws01")
    inputs = [i.data for i in ds.inputs(all_windows=False)[: args.files]]
    print(f"kws01 accuracy loop (db load + infer 1 0), {len(inputs)} files, virtual DUT on a pty")
    print(f"{'baud':>8} {'bytes/file':>10} {'wire s/file':>12} {'ours s/file':>12} "
          f"{'ours/wire':>9} {'naive s/file':>13} {'naive/wire':>10} {'naive/ours':>10}")
    bauds = [int(b) for b in args.bauds.split(",")]
    for baud in bauds:
        m = measure(baud, inputs)
        print(f"{baud:>8} {m['bytes']:>10.0f} {m['wire_s']:>12.5f} {m['ours_s']:>12.5f} "
              f"{m['ours_s'] / m['wire_s']:>9.3f} {m['naive_s']:>13.5f} "
              f"{m['naive_s'] / m['wire_s']:>10.3f} {m['naive_s'] / m['ours_s']:>10.2f}")
        print(f"{'':>8} naive moves {m['naive_bytes']:.0f} bytes/file "
              f"(wire {m['naive_wire_s']:.5f} s/file)")
    m = measure(0, inputs)
    print(f"no baud emulation: ours {m['ours_s'] * 1e3:.2f} ms/file, naive "
          f"{m['naive_s'] * 1e3:.2f} ms/file -- the fixed round-trip cost (host + emulator "
          "threads) that adds to the wire time at every rate")
    print("wire = bytes both ways x 10 bits / baud (8N1); goal ours/wire <= 1.10")


if __name__ == "__main__":
    main()
