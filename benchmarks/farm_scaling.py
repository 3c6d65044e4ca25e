"""Board farm scaling, measured side by side in one run (issue #15).

1. The same matrix (4 kws01 accuracy jobs, virtual DUTs pacing the wire at 115200 baud) on
   1, 2 and 4 places (place file, direct ptys): wall-time ratio vs one place (goal >= 3.2x).
2. Per-job farm overhead: three jobs in a row on one place through ``tinyperf farm run`` vs
   the same three direct ``tinyperf run`` subprocesses on the same pty (goal <= 5 %); the
   farm process's own start-up, paid once per farm run whatever its size, is shown apart.
3. RFC 2217 per-file cost: the same accuracy run on the pty and through a real labgrid
   exporter (ser2net, RFC 2217), seconds per input file (needs ``make farm-venv`` and ser2net).

    TINYPERF_REFERENCE_DIR=../shared/reference .venv/bin/python benchmarks/farm_scaling.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinyperf.reference_models.demo import demo_data_dir

from tinyperf.farm.virtual_lab import VirtualLab

REPO = Path(__file__).resolve().parents[1]


def _dataset(root: Path, files: int) -> Path:
    src, dst = demo_data_dir() / "kws01", root / "data" / "kws01"
    dst.mkdir(parents=True)
    rows = (src / "y_labels.csv").read_text().splitlines()[:files]
    (dst / "y_labels.csv").write_text("\n".join(rows) + "\n")
    for row in rows:
        shutil.copyfile(src / row.split(",")[0], dst / row.split(",")[0])
    return root / "data"


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return time.perf_counter() - start


def _farm(matrix: Path, places: Path, out: Path, parallel: int) -> float:
    return _timed([sys.executable, "-m", "tinyperf", "farm", "run", str(matrix), "--place-file",
                   str(places), "--output-dir", str(out), "--parallel", str(parallel)])


def scaling(work: Path, data: Path, jobs: int) -> None:
    with VirtualLab(work / "lab", Path("/nonexistent")) as lab:
        (work / "lab").mkdir()
        for i in range(4):
            lab.add_dut(f"kws-{i}", "local", "kws01", baud=115200)
        places = lab.place_file()
        matrix = work / "matrix.yaml"
        matrix.write_text("jobs:\n" + "".join(
            f"  - tags: {{bench: kws}}\n    benchmark: kws01\n    dataset: {data}\n"
            f"    name: job{i}\n" for i in range(jobs)))
        walls = {n: _farm(matrix, places, work / f"run-{n}", n) for n in (1, 2, 4)}
        print(f"1. {jobs} accuracy jobs at 115200 baud: " + ", ".join(
            f"{n} place(s) {w:.1f} s ({walls[1] / w:.2f}x)" for n, w in walls.items()))

        # per-job overhead: K jobs in a row on one place vs the same K direct runs; the farm
        # process's own start (once per farm run, not per job) is reported apart
        k = 3
        seq = work / "seq.yaml"
        seq.write_text("jobs:\n" + "".join(
            f"  - place: kws-0\n    benchmark: kws01\n    dataset: {data}\n    name: seq{i}\n"
            for i in range(k)))
        port = lab.boards[0].ports["dut"]

        def direct(tag: str) -> float:
            return _timed([sys.executable, "-m", "tinyperf", "run", "--port", port, "--mode",
                           "accuracy", "--dataset-path", str(data), "--output-dir",
                           str(work / f"direct-{tag}"), "--no-progress"])

        directs, farms = [], []
        for rep in range(2):  # interleaved, so drifting machine load hits both alike
            directs.append(sum(direct(f"{rep}-{i}") for i in range(k)))
            farms.append(_farm(seq, places, work / f"farm-seq-{rep}", 1))
        start = min(_timed([sys.executable, "-m", "tinyperf", "farm", "run", "--help"])
                    for _ in range(3))
        d, f = min(directs), min(farms)
        per_job = (f - start - d) / k
        print(f"2. {k} jobs in a row on one place: direct tinyperf run {d:.2f} s, through the "
              f"farm {f:.2f} s (farm process start {start:.2f} s, once per farm run); "
              f"per-job overhead {per_job:+.3f} s = {100 * per_job / (d / k):+.1f} % of a "
              f"{d / k:.2f} s job")


def rfc2217_cost(work: Path, data: Path, files: int) -> None:
    python = REPO / ".venv-farm" / "bin" / "python"
    if not python.is_file() or not shutil.which("ser2net"):
        print("3. skipped: no labgrid tool venv (make farm-venv) or no ser2net")
        return
    from tinyperf.farm.coordinator import LabgridCoordinator

    with VirtualLab(work / "lg", python.parent) as lab:
        (work / "lg").mkdir()
        board = lab.add_dut("kws-x", "hostA", "kws01", baud=0)
        lab.start_coordinator()
        lab.start_exporter("hostA")
        lab.create_places()
        lab.wait_resources(str(python))
        coordinator = LabgridCoordinator(lab.address, python=str(python))
        url = coordinator.acquire("kws-x").url("dut")
        try:
            per = {}
            for name, port in (("pty", board.ports["dut"]), ("rfc2217", url)):
                per[name] = _timed([sys.executable, "-m", "tinyperf", "run", "--port", port,
                                    "--mode", "accuracy", "--dataset-path", str(data),
                                    "--output-dir", str(work / f"lg-{name}"),
                                    "--no-progress"]) / files
        finally:
            coordinator.release("kws-x")
        print(f"3. per input file (no baud pacing): pty {1000 * per['pty']:.1f} ms, RFC 2217 "
              f"via ser2net {1000 * per['rfc2217']:.1f} ms "
              f"({per['rfc2217'] / per['pty']:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    # 100: with fast load a 20-file job lasts ~1 s, and process start-up (paid by a direct
    # run too) would hide the scheduling; the official kws01 set is 1,000 files
    parser.add_argument("--files", type=int, default=100, help="inputs per accuracy job")
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="farm-bench-") as tmp:
        work = Path(tmp)
        data = _dataset(work, args.files)
        scaling(work, data, args.jobs)
        rfc2217_cost(work, data, args.files)


if __name__ == "__main__":
    main()
