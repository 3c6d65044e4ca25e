"""``tinyperf check`` vs the official submission checker on a round-sized tree, side by side.

The tree is built from the real published fixtures only (``../shared/fixtures/
real_submissions`` and ``real_submissions_hard``): one round folder (``v1.1/``) holding
COPIES copies of every real submitter (Skymizer EEMBC kws/ad, STMicroelectronics MLC
kws/ad, Andes EEMBC ic with bare CRs, bosch EEMBC ic with duplicated blocks, Alibaba EEMBC
kws with signed logits; open-division trees stay open), each copy a submitter folder of its
own (``Skymizer_c00``...). Files are hard links, so the tree costs no disk. With the default
15 copies: 105 result folders (``results/<system>/<benchmark>``) and ~600k log lines.

Both checkers run as separate processes, as a user runs them, on the same tree in one run:
- official: ``python submission_checker.py --input TREE --version v1.1 --csv OUT`` from its
  folder in ``../shared/peers`` (needs pandas; ``--official-python`` names an interpreter
  that has it; skipped with a reason when the checker or pandas is absent);
- ours: ``python -m tinyperf check TREE --round v1.1 --format csv`` (full recomputation
  from raw logs, reference labels from ``$TINYPERF_REFERENCE_DIR`` when set).

Prints wall times (best of ``--repeat``), ours/official, each process's peak RSS, and the
start-up time of ``tinyperf --help`` and ``tinyperf check --help``.
Usage: python benchmarks/check_speed.py [--copies 15] [--repeat 3] [--official-python PY]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = (SHARED / "fixtures" / "real_submissions", SHARED / "fixtures" / "real_submissions_hard")
OFFICIAL = SHARED / "peers" / "mlcommons_tiny" / "tools" / "submission" / "submission_checker.py"
ROUND = "v1.1"


def build(root: Path, copies: int) -> tuple[Path, int, int]:
    """The round-sized tree under ``root``; returns (round folder, result folders, log lines)."""
    tree = root / ROUND
    folders = lines = 0
    for fixtures in FIXTURES:
        for division in sorted(fixtures.glob("v*/*")):
            for sub in sorted(p for p in division.iterdir() if p.is_dir()):
                for i in range(copies):
                    dst = tree / division.name / f"{sub.name}_c{i:02d}"
                    shutil.copytree(sub, dst, copy_function=os.link)
                    folders += len(list(dst.glob("results/*/*")))
                    for log in dst.rglob("log.txt"):
                        with open(log, "rb") as fh:
                            lines += sum(chunk.count(b"\n") for chunk in iter(
                                lambda fh=fh: fh.read(1 << 20), b""))
    return tree, folders, lines


def timed(argv: list[str], cwd: Path | None = None,
          env: dict[str, str] | None = None) -> tuple[float, float, int, str]:
    """(wall s, peak RSS MiB, exit status, stdout) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = proc.stdout.read() if proc.stdout else b""  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode, out.decode(errors="replace")


def best(runs: list[tuple[float, float, int, str]]) -> tuple[float, float, int, str]:
    return min(runs, key=lambda r: r[0])


def official_python(arg: str | None) -> str | None:
    for py in ([arg] if arg else []) + [sys.executable, "python3"]:
        ok = subprocess.run([py, "-c", "import pandas"], capture_output=True).returncode == 0
        if ok:
            return py
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--official-python", help="interpreter with pandas for the official checker")
    args = ap.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="check-speed-") as tmp:
        tree, folders, lines = build(Path(tmp), args.copies)
        print(f"tree: {ROUND}, {args.copies} copies of every real fixture submitter: "
              f"{folders} result folders, {lines} log lines")
        ours = best([timed([sys.executable, "-m", "tinyperf", "check", str(tree), "--round",
                            ROUND, "--format", "csv"], env=env) for _ in range(args.repeat)])
        print(f"ours:     {ours[0]:.3f} s wall, peak RSS {ours[1]:.0f} MiB, exit {ours[2]}")
        py = official_python(args.official_python)
        if not OFFICIAL.is_file():
            print(f"official: skipped ({OFFICIAL} absent)")
        elif py is None:
            print("official: skipped (no interpreter with pandas; pass --official-python)")
        else:
            off = best([timed([py, OFFICIAL.name, "--input", str(tree), "--version", ROUND,
                               "--csv", str(Path(tmp) / "official.csv")], cwd=OFFICIAL.parent)
                        for _ in range(args.repeat)])
            summary = [ln for ln in off[3].splitlines() if "SUMMARY" in ln]
            print(f"official: {off[0]:.3f} s wall, peak RSS {off[1]:.0f} MiB "
                  f"({summary[-1].strip() if summary else 'no SUMMARY line'})")
            print(f"ours/official: {ours[0] / off[0]:.2f}")
    for argv in (["--help"], ["check", "--help"]):
        wall = best([timed([sys.executable, "-m", "tinyperf", *argv]) for _ in range(5)])[0]
        print(f"tinyperf {' '.join(argv)}: {wall:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
