"""Where one standard-protocol round trip spends its time beyond the wire.

The virtual DUT runs in a child process (this script with ``--serve``), at a baud rate, on a
pty, as in ``link_efficiency.py``. Both processes record ``time.monotonic()`` (one system-wide
clock) at each step; the host loads kws01 files over the standard path (``db load`` + 13
``db`` + ``infer 1 0`` each). For every 80-byte ``db`` command and its ``m-ready``:

- host write: the host's ``write()`` call;
- sim wake: host write returned -> the virtual DUT has the bytes (pty delivery + its poll);
- sim write: the DUT's wire-time wait ended -> its reply is written (the write syscall);
- host wake: reply written -> the host has the bytes (pty delivery + the host's wake-up);
- host work: the host has the reply -> the next command's write begins (reading and
  checking the lines, building the next command);
- excess: the round trip minus the wire time of its bytes (10 bits per byte, both ways).

The instrumentation wraps private methods of the server and the link (timestamps only, the
calls go through): it is a measurement, not a mode of the product.

Usage: python benchmarks/link_round_trip.py [--baud 921600] [--files 36] [--no-poll]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = ("host write", "sim wake", "sim write", "host wake", "host work", "excess")


def serve(baud: int, out: Path) -> None:
    """Child: the virtual DUT with timestamps on receive, end of wire wait and write."""
    from tinyperf.firmware_interface.sim import server as srv
    from tinyperf.firmware_interface.sim.model import make_virtual_dut

    events: list[tuple[str, float, float]] = []
    receive, sleep_until, write_pty = (srv.SimServer._receive, srv.SimServer._sleep_until,
                                       srv.SimServer._write_pty)

    def on_receive(self, data, counted=False, arrived=None):  # type: ignore[no-untyped-def]
        events.append(("rx", time.monotonic(), len(data)))
        return receive(self, data, counted, arrived)

    def on_sleep(self, when):  # type: ignore[no-untyped-def]
        sleep_until(self, when)
        events.append(("woke", time.monotonic(), when))

    def on_write(self, data):  # type: ignore[no-untyped-def]
        write_pty(self, data)
        events.append(("tx", time.monotonic(), len(data)))

    srv.SimServer._receive = on_receive  # type: ignore[method-assign]
    srv.SimServer._sleep_until = on_sleep  # type: ignore[method-assign]
    srv.SimServer._write_pty = on_write  # type: ignore[method-assign]
    dut = make_virtual_dut("kws01", engine="litert-builtin", throughput=23)
    with srv.SimServer(dut, baud=baud or None) as server:
        print("link:", server.url, flush=True)
        sys.stdin.read()  # until the parent closes it
    out.write_text(json.dumps(events))


def measure(baud: int, files: int, poll: bool) -> tuple[dict[str, list[float]], float, float]:
    """(per-step seconds of each db round trip, seconds per file, wire seconds per file)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import link_efficiency as le
    from tinyperf.harness.link import transport
    from tinyperf.harness.link.dut import Dut
    from tinyperf.harness.run.datasets import Dataset
    from tinyperf.reference_models.demo import demo_data_dir

    if not poll:
        transport._POLL_BUDGET_S = 0.0  # the reader sleeps in select until the answer
    work = Path(tempfile.mkdtemp(prefix="link_round_trip_"))
    data_dir = demo_data_dir()
    root = le.subset(data_dir, le.interleaved_rows(data_dir)[:files], work / "ds")
    inputs = [i.data for i in Dataset(root, "kws01").inputs(all_windows=False)]
    out = work / "sim.json"
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(baud), str(out)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    host: list[tuple[str, float, float]] = []
    try:
        line = child.stdout.readline()
        if not line.startswith("link: "):
            raise RuntimeError(f"the virtual DUT did not start: {line!r}")
        link = transport.open_link(line.split(" ", 1)[1].strip(), baud or 115200)
        write, read_chunk = link.write, link._read_chunk

        def on_write(data: bytes) -> None:
            start = time.monotonic()
            write(data)
            host.append(("w", start, len(data)))
            host.append(("wrote", time.monotonic(), len(data)))

        def on_read(timeout: float) -> bytes:
            data = read_chunk(timeout)
            if data:
                host.append(("r", time.monotonic(), len(data)))
            return data

        link.write = on_write  # type: ignore[method-assign]
        link._read_chunk = on_read  # type: ignore[method-assign]
        dut = Dut(link, fast_load=False)
        dut.identify()
        for data in inputs[:3]:  # warm-up: caches, the engine's first inference
            dut.load(data)
            dut.infer(1, 0)
        host.clear()
        tx0, rx0 = link.bytes_tx, link.bytes_rx
        start = time.perf_counter()
        for data in inputs:
            dut.load(data)
            dut.infer(1, 0)
        per_file = (time.perf_counter() - start) / len(inputs)
        moved = (link.bytes_tx - tx0 + link.bytes_rx - rx0) / len(inputs)
        link.close()
    finally:
        child.stdin.close()
        child.wait(timeout=30)
    sim = json.loads(out.read_text())
    byte_s = 10.0 / baud if baud else 0.0
    return steps(host, sim, byte_s), per_file, moved * byte_s


def steps(host: list, sim: list, byte_s: float) -> dict[str, list[float]]:
    """Each 80-byte command's round trip cut into ``STEPS`` from the merged timelines."""
    timeline = sorted([("host", *e) for e in host] + [("sim", *e) for e in sim],
                      key=lambda e: e[2])
    out: dict[str, list[float]] = {step: [] for step in STEPS}
    trips: list[dict[str, list[float]]] = []
    for side, what, when, size in timeline:
        if side == "host" and what == "w":
            trips.append({"w": [when, size]})
        elif trips:
            trips[-1].setdefault(what, []).append(when)
            if what == "tx":
                trips[-1].setdefault("tx_bytes", []).append(size)
    for trip, following in itertools.pairwise(trips):
        start, size = trip["w"]
        if size != 80 or not all(k in trip for k in ("wrote", "rx", "woke", "tx", "r")):
            continue  # db load, infer, or a round trip whose steps were not all seen
        wire = (size + sum(trip["tx_bytes"])) * byte_s
        out["host write"].append(trip["wrote"][0] - start)
        out["sim wake"].append(trip["rx"][0] - trip["wrote"][0])
        out["sim write"].append(trip["tx"][-1] - trip["woke"][-1])
        out["host wake"].append(trip["r"][-1] - trip["tx"][-1])
        out["host work"].append(following["w"][0] - trip["r"][-1])
        out["excess"].append(following["w"][0] - start - wire)
    return out


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baud", type=int, default=921600)
    parser.add_argument("--files", type=int, default=36)
    parser.add_argument("--no-poll", action="store_true",
                        help="the host sleeps in select for every answer (no poll window)")
    args = parser.parse_args()
    table, per_file, wire = measure(args.baud, args.files, not args.no_poll)
    print(f"kws01 standard path at {args.baud} baud, {args.files} files, host poll window "
          f"{'off' if args.no_poll else 'on'}: {per_file * 1e3:.2f} ms/file, wire limit "
          f"{wire * 1e3:.2f} ms/file ({per_file / wire if wire else float('nan'):.3f}x)")
    print(f"{len(table['excess'])} db round trips (80 bytes out, m-ready back), microseconds:")
    print(f"{'step':>11} {'mean':>7} {'median':>7} {'p90':>7} {'p99':>7}")
    for step, values in table.items():
        ranked = sorted(values)
        p90, p99 = (ranked[min(len(ranked) - 1, int(len(ranked) * q))] for q in (0.9, 0.99))
        print(f"{step:>11} {statistics.mean(values) * 1e6:7.1f} "
              f"{statistics.median(values) * 1e6:7.1f} {p90 * 1e6:7.1f} {p99 * 1e6:7.1f}")


if __name__ == "__main__":
    main()
