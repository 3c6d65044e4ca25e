"""What ``--verify-results`` costs: kws01 accuracy files over the virtual DUT, with and without.

``--verify-results`` re-reads each window's results with the standard ``results`` command
(one more round trip per window) so a digit damaged on the wire in ``m-results`` is caught
and the window run again. Measured side by side in one run, per emulated baud rate: seconds
per file for load + ``infer 1 0``, the same plus ``results``, and the ratio.
Usage: TINYPERF_REFERENCE_DIR=... python benchmarks/verify_results_cost.py [--files 20]
"""

from __future__ import annotations

import argparse
import time

from tinyperf.firmware_interface.sim.model import make_virtual_dut
from tinyperf.firmware_interface.sim.server import SimServer
from tinyperf.harness.link.dut import Dut
from tinyperf.harness.link.transport import open_link
from tinyperf.harness.run.datasets import Dataset
from tinyperf.reference_models.demo import demo_data_dir


def per_file(baud: int, files: int, verify: bool) -> float:
    inputs = Dataset(demo_data_dir(), "kws01").inputs(all_windows=True)[:files]
    with SimServer(make_virtual_dut("kws01", throughput=23.0), pty=True, baud=baud) as server:
        dut = Dut(open_link(server.url, baud))
        dut.identify()
        start = time.perf_counter()
        for item in inputs:
            dut.load(item.data)
            res = dut.infer(1, 0)
            if verify:
                assert dut.results() == res.results
        return (time.perf_counter() - start) / len(inputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--bauds", default="115200,921600")
    args = parser.parse_args()
    print(f"{'baud':>8} {'plain s/file':>13} {'verified s/file':>16} {'cost':>7}")
    for baud in (int(b) for b in args.bauds.split(",")):
        plain = per_file(baud, args.files, False)
        verified = per_file(baud, args.files, True)
        print(f"{baud:>8} {plain:>13.4f} {verified:>16.4f} {verified / plain - 1:>+7.1%}")


if __name__ == "__main__":
    main()
