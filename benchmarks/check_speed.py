"""``tinyperf check`` vs the official submission checker on a round-sized tree, side by side.

The tree is built from the real published fixtures only (``../shared/fixtures/
real_submissions`` and ``real_submissions_hard``): one round folder (``v1.3/``) holding
COPIES copies of every real submitter (Skymizer EEMBC kws/ad, STMicroelectronics MLC
kws/ad, Andes EEMBC ic with bare CRs, bosch EEMBC ic with duplicated blocks, Alibaba EEMBC
kws with signed logits; open-division trees stay open), each copy a submitter folder of its
own (``Skymizer_c00``...). Files are hard links where the file system allows (else
copies), so the tree usually costs no disk. With the default 15 copies: 105 result folders
(``results/<system>/<benchmark>``), ~930k log lines (52 MB, 44 MB of them EEMBC logs), ~32 MB
of MLC results.json (mostly energy ``power.samples``), 13 MB of EEMBC energy traces.

Why the round is v1.3 (both checkers given ``v1.3``): it is the earliest round the official
checker runs to the end. Its ``MODEL_CONFIG`` for v1.0-v1.2 has no ``required_tests`` table,
so ``--version v1.1`` stops with ``KeyError: 'required_tests'`` at the first benchmark folder
(after ~0.4 s, no CSV, no SUMMARY line): timing that measures a crash, not a check. With
v1.3 it walks all 105 folders, applies its results.txt regexes and writes one CSV row per
folder ("SUMMARY: submission looks OK"). Ours does its full work under either rule set
(every claim recomputed from log.txt, results.json and trace1-* files; same rows and
verdicts), and v1.3 is also the newest round the real fixtures come from. The ratio is only
printed when the official checker completed (exit 0 and a SUMMARY line).

Both checkers run as separate processes, as a user runs them, on the same tree in one run:
- official: ``python submission_checker.py --input TREE --version v1.3 --csv OUT`` from its
  folder in ``../shared/peers`` (needs pandas; ``--official-python`` names an interpreter
  that has it; skipped with a reason when the checker or pandas is absent);
- ours: ``python -m tinyperf check TREE --round v1.3 --format csv`` (full recomputation
  from raw logs, accuracy scored against the reference labels of ``$TINYPERF_REFERENCE_DIR``,
  else of ``../shared/reference``), with its default ``--jobs`` (the CPUs it may use: result
  folders are read and recomputed in that many forked processes) and again with
  ``--jobs 1`` (one process: the CPU figure without any worker overhead).

The two run alternately (one untimed warm-up round first, which fills a private bytecode
cache and a private rule-set cache: see :func:`bytecode_env`). Prints wall times (best of
``--repeat``) and the CPU time (user + system) of that run, ours/official for both, each
process's peak RSS, and the start-up time of ``tinyperf --help`` and ``tinyperf check
--help``. The goal is the wall ratio on an idle machine; on a shared one the CPU ratio is the
steadier figure.
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

from tinyperf.submissions import forkmap

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = (SHARED / "fixtures" / "real_submissions", SHARED / "fixtures" / "real_submissions_hard")
OFFICIAL = SHARED / "peers" / "mlcommons_tiny" / "tools" / "submission" / "submission_checker.py"
ROUND = "v1.3"


def build(root: Path, copies: int) -> tuple[Path, int, int]:
    """The round-sized tree under ``root``; returns (round folder, result folders, log lines)."""
    tree = root / ROUND
    folders = lines = 0
    for fixtures in FIXTURES:
        for division in sorted(fixtures.glob("v*/*")):
            for sub in sorted(p for p in division.iterdir() if p.is_dir()):
                for i in range(copies):
                    dst = tree / division.name / f"{sub.name}_c{i:02d}"
                    shutil.copytree(sub, dst, copy_function=_link_or_copy)
                    folders += len(list(dst.glob("results/*/*")))
                    for log in dst.rglob("log.txt"):
                        with open(log, "rb") as fh:
                            lines += sum(chunk.count(b"\n") for chunk in iter(
                                lambda fh=fh: fh.read(1 << 20), b""))
    return tree, folders, lines


Run = tuple[float, float, int, str, float]


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system (EXDEV) or no hard links: a real copy
        shutil.copy2(src, dst)


def timed(argv: list[str], cwd: Path | None = None,
          env: dict[str, str] | None = None) -> Run:
    """(wall s, peak RSS MiB, exit status, stdout, CPU s = user + system) of one child."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = proc.stdout.read() if proc.stdout else b""  # type: ignore[union-attr]
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (wall, usage.ru_maxrss / 1024, proc.returncode, out.decode(errors="replace"),
            usage.ru_utime + usage.ru_stime)


def best(runs: list[Run]) -> Run:
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
    with tempfile.TemporaryDirectory(prefix="check-speed-") as tmp:
        env = bytecode_env(Path(tmp))
        tree, folders, lines = build(Path(tmp), args.copies)
        print(f"tree: {ROUND}, {args.copies} copies of every real fixture submitter: "
              f"{folders} result folders, {lines} log lines")
        ref = env.get("TINYPERF_REFERENCE_DIR") or str(SHARED / "reference")
        env["TINYPERF_REFERENCE_DIR"] = ref
        print(f"reference labels: {ref}" + ("" if Path(ref).is_dir() else
                                             " (absent: accuracy claims not recomputed)"))
        ours_argv = [sys.executable, "-m", "tinyperf", "check", str(tree), "--round", ROUND,
                     "--format", "csv"]
        py = official_python(args.official_python)
        off_argv = None
        if not OFFICIAL.is_file():
            print(f"official: skipped ({OFFICIAL} absent)")
        elif py is None:
            print("official: skipped (no interpreter with pandas; pass --official-python)")
        else:
            off_argv = [py, OFFICIAL.name, "--input", str(tree), "--version", ROUND,
                        "--csv", str(Path(tmp) / "official.csv")]
        # alternated, so a busy neighbour slows both alike; the first round is a warm-up
        ours_runs, off_runs, serial_runs = [], [], []
        for i in range(args.repeat + 1):
            run = timed(ours_argv, env=env)
            if i:
                ours_runs.append(run)
                serial_runs.append(timed([*ours_argv, "--jobs", "1"], env=env))
            if off_argv is not None:
                run = timed(off_argv, cwd=OFFICIAL.parent, env=env)
                if i:
                    off_runs.append(run)
        ours = best(ours_runs)
        serial = best(serial_runs)
        print(f"ours:     {ours[0]:.3f} s wall, {ours[4]:.3f} s CPU, peak RSS {ours[1]:.0f} MiB, "
              f"exit {ours[2]} ({forkmap.default_jobs()} processes)")
        print(f"ours, --jobs 1: {serial[0]:.3f} s wall, {serial[4]:.3f} s CPU, peak RSS "
              f"{serial[1]:.0f} MiB, exit {serial[2]}")
        if off_runs:
            off = best(off_runs)
            summary = [ln for ln in off[3].splitlines() if "SUMMARY" in ln]
            print(f"official: {off[0]:.3f} s wall, {off[4]:.3f} s CPU, peak RSS {off[1]:.0f} MiB, "
                  f"exit {off[2]} ({summary[-1].strip() if summary else 'no SUMMARY line'})")
            if off[2] == 0 and summary:
                # CPU too: on a shared machine the wall times also measure the neighbours
                print(f"ours/official: {ours[0] / off[0]:.2f} wall, {ours[4] / off[4]:.2f} CPU")
            else:  # a crash is not a check: no ratio against it
                tail = off[3].strip().splitlines()[-1:] or ["no output"]
                print(f"ours/official: not measured (official checker did not complete: "
                      f"{tail[0]})")
        for argv in (["--help"], ["check", "--help"]):
            wall = best([timed([sys.executable, "-m", "tinyperf", *argv], env=env)
                         for _ in range(5)])[0]
            print(f"tinyperf {' '.join(argv)}: {wall:.3f} s")
    return 0


def bytecode_env(tmp: Path) -> dict[str, str]:
    """The children's environment: compiled bytecode kept between runs, in a private cache.

    An installed package is byte-compiled by pip; a development checkout run with
    ``PYTHONDONTWRITEBYTECODE=1`` recompiles all ~50 tinyperf modules on every start (~0.1-0.2
    s), which measures the checkout, not the checker. Both checkers get the same treatment
    (the official one and pandas too), in ``tmp`` so the source tree stays untouched. Our
    layered rule sets are cached the same way (``tinyperf.rules.ruleset``), in ``tmp`` too,
    so the warm-up fills it and a cache left by an earlier run plays no part.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env["TINYPERF_RULES_CACHE_DIR"] = str(tmp / "rules-cache")
    return env


if __name__ == "__main__":
    sys.exit(main())
