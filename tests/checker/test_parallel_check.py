"""#18 speed: result folders read and recomputed in forked workers, per-input data dropped
once figures exist. Neither may change a report: the same rows, findings and figures as
one process reading the whole tree first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tinyperf.rules.engine import check
from tinyperf.rules.ruleset import load_ruleset, resolve_version
from tinyperf.submissions import forkmap
from tinyperf.submissions.loader import detect_version, load, rounds_in

from tinyperf import api

REAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real_submissions"


KEPT = ("version", "ok", "incomplete", "findings", "results")


def _eager(path: Path, ref: Path | None) -> list[dict[str, object]]:
    """Every round of ``path`` the way the checker read trees before: loaded whole, then
    checked (nothing dropped, one process)."""
    out = []
    for one in rounds_in(path) or [path]:
        version = resolve_version(detect_version(one) or "v1.3")[0]
        report = check(load(one), load_ruleset(version), ref).as_dict()
        out.append({k: report[k] for k in KEPT})
    return out


def _reports(reports: list[api.Report]) -> list[dict[str, object]]:
    return [{k: r.as_dict()[k] for k in KEPT} for r in reports]


@pytest.mark.parametrize("which", ["real", "hard"])
def test_lazy_reading_and_dropped_raw_data_change_no_report(which: str, hard: Path,
                                                            reference_dir: Path) -> None:
    tree = REAL if which == "real" else hard
    if not tree.is_dir():
        pytest.skip(f"{tree} not present")
    lazy = _reports(api.check_rounds(tree, reference_dir=reference_dir, jobs=1))
    assert lazy == _eager(tree, reference_dir)
    assert any(r["results"] for r in lazy)


@pytest.mark.parametrize("which", ["real", "hard"])
def test_cli_with_worker_processes_prints_the_same_report(which: str, hard: Path,
                                                          reference_dir: Path) -> None:
    """The CLI as users run it (a fresh single-threaded process, so it really forks):
    ``--jobs 3`` and ``--jobs 1`` print the same JSON and CSV, and the same exit status."""
    tree = REAL if which == "real" else hard
    if not tree.is_dir():
        pytest.skip(f"{tree} not present")
    env = {**os.environ, "TINYPERF_REFERENCE_DIR": str(reference_dir)}

    def run(jobs: int, fmt: str) -> tuple[int, str]:
        p = subprocess.run([sys.executable, "-m", "tinyperf", "check", str(tree), "--format",
                            fmt, "--jobs", str(jobs)], capture_output=True, text=True,
                           env=env, timeout=110)
        return p.returncode, p.stdout

    for fmt in ("json", "csv"):
        one, three = run(1, fmt), run(3, fmt)
        assert one == three
        assert one[1].strip()
    assert json.loads(run(3, "json")[1])


@pytest.mark.parametrize("fmt", ["csv", "json"])  # less and more than a pipe's buffer
def test_the_command_skips_its_teardown_and_loses_no_output(fmt: str, hard: Path,
                                                            reference_dir: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    """``tinyperf check`` as a process leaves by ``os._exit`` once its output is flushed
    (cli.main.entry): what it prints on a pipe and writes with ``-o``, and its exit status,
    are exactly what ``main()`` prints and returns in this process."""
    from tinyperf.cli.main import main

    tree = hard if hard.is_dir() else REAL
    # buffered as a user's process is (an unbuffered stdout would hide a missing flush)
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
           "TINYPERF_REFERENCE_DIR": str(reference_dir)}
    argv = ["check", str(tree), "--format", fmt, "--jobs", "1"]
    capsys.readouterr()
    status = main([*argv, "--reference-dir", str(reference_dir)])
    expected = capsys.readouterr().out
    assert (len(expected) < 8192) == (fmt == "csv")  # the short one stays in the buffer
    piped = subprocess.run([sys.executable, "-m", "tinyperf", *argv], capture_output=True,
                           text=True, env=env, timeout=110)
    assert (piped.returncode, piped.stdout) == (status, expected)
    out = tmp_path / f"report.{fmt}"
    written = subprocess.run([sys.executable, "-m", "tinyperf", *argv, "-o", str(out)],
                             capture_output=True, text=True, env=env, timeout=110)
    assert written.returncode == status
    assert out.read_text(encoding="utf-8") == expected


def _fresh_process(code: str) -> str:
    """stdout of ``code`` run by a new interpreter: single-threaded, so it really forks
    (pytest's process may hold threads of other tests)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forked on Linux only")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True).stdout


def test_fork_map_forks_and_keeps_item_order() -> None:
    code = ("import os\n"
            "from tinyperf.submissions import forkmap\n"
            "assert forkmap.available()\n"
            "pids = forkmap.fork_map(lambda i: (i, os.getpid()), range(9), 3, [9, 1, 1, 5, 1,"
            " 1, 1, 4, 1])\n"
            "assert [i for i, _ in pids] == list(range(9)), pids\n"
            "print(len({p for _, p in pids}), os.getpid() in {p for _, p in pids})\n")
    assert _fresh_process(code).split() == ["3", "True"]  # three processes, the parent one of them


def test_fork_map_redoes_the_share_of_a_dead_worker() -> None:
    """A worker killed mid-way (here: it exits at once without sending anything) loses
    nothing: the parent computes that share itself, and an error raised there surfaces
    as it would without workers."""
    code = ("import os\n"
            "from tinyperf.submissions import forkmap\n"
            "parent = os.getpid()\n"
            "def f(i):\n"
            "    if os.getpid() != parent:\n"
            "        os._exit(9)\n"
            "    return i * i\n"
            "print(forkmap.fork_map(f, range(6), 2))\n"
            "def g(i):\n"
            "    if i == 5:\n"
            "        raise KeyError('item 5')\n"
            "    return i\n"
            "try:\n"
            "    forkmap.fork_map(g, range(6), 2)\n"
            "except KeyError as exc:\n"
            "    print('raised', exc)\n")
    assert _fresh_process(code).splitlines() == ["[0, 1, 4, 9, 16, 25]", "raised 'item 5'"]


def test_fork_map_runs_in_process_where_it_cannot_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forkmap, "available", lambda: False)
    assert forkmap.fork_map(lambda i: (i, os.getpid()), range(4), 4) == \
        [(i, os.getpid()) for i in range(4)]


def test_partition_balances_cost_and_gives_the_parent_the_lightest_share() -> None:
    costs = [10, 1, 1, 7, 3, 3, 2, 9]
    groups = forkmap.partition(costs, 3)
    assert sorted(i for g in groups for i in g) == list(range(8))
    loads = [sum(costs[i] for i in g) for g in groups]
    assert loads == sorted(loads) and max(loads) - min(loads) <= 2
    assert all(g == sorted(g) for g in groups)


def test_jobs_must_be_a_positive_count(capsys: pytest.CaptureFixture[str]) -> None:
    from tinyperf.cli.main import main

    for bad, why in (("0", "--jobs must be at least 1, got 0"),
                     ("-1", "--jobs must be at least 1, got -1"),
                     ("two", "--jobs takes a whole number, got 'two'")):
        with pytest.raises(SystemExit) as exc:
            main(["check", str(REAL), "--jobs", bad])
        assert exc.value.code == 2
        assert why in capsys.readouterr().err


def test_dropped_run_keeps_what_rules_read() -> None:
    """After ``drop_raw`` a folder keeps its claims, identity and problems and the timed
    infers of an EEMBC log; its per-input records and samples are gone."""
    if not REAL.is_dir():
        pytest.skip("real_submissions fixtures not present")
    tree = load(REAL / "v1.1", read=False)
    runs = [run for _s, _y, b in tree.benchmarks() for run in b.modes.values()]
    assert runs and all(run.unread and run.claims is None for run in runs)
    from tinyperf.submissions.loader import read_benchmark

    for _s, _y, bench in tree.benchmarks():
        read_benchmark(tree.root, bench)  # type: ignore[arg-type]
    acc = next(r for r in runs if r.name == "accuracy" and r.eembc_log is not None)
    perf = next(r for r in runs if r.name == "performance" and r.eembc_log is not None)
    timed = [i.iterations for i in perf.eembc_log.infers if i.iterations > 1]
    assert len(acc.eembc_log.infers) > 100 and timed
    claims, identity = acc.claims, dict(acc.identity)
    for run in runs:
        run.drop_raw()
    assert acc.eembc_log.infers == [] and acc.claims is claims and acc.identity == identity
    assert [i.iterations for i in perf.eembc_log.infers] == timed
    assert all(r.timestamps is None and r.energy_trace is None and r.mlc_log_results == []
               for r in runs)


def test_check_progress_bar_starts_no_thread() -> None:
    """A folder of rounds on a terminal shows a tqdm bar; its monitor thread would make
    every later round skip its workers (a process with threads does not fork)."""
    import io
    import threading

    from tinyperf.formats.progress import progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    pytest.importorskip("tqdm")
    before = threading.active_count()
    bar = progress(3, stream=Tty(), threads=False)
    bar.update(1)
    assert threading.active_count() == before
    bar.close()
