"""One farm job = one ``tinyperf run`` subprocess on one place's ports.

A subprocess rather than ``run_session`` in a thread: a job that hangs past its deadline or
whose link dies can be killed without touching the other places' jobs; Ctrl-C reaches each
run as its own SIGINT, so its session is kept and marked as ``tinyperf run`` does; the
runner's per-process state (logging, progress, signal handlers) stays per job; and the
job's whole output lands in ``job.log``. The cost is one interpreter start per job (about
1 s, measured in ``benchmarks/farm_scaling.py``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tinyperf.farm.matrix import Job
from tinyperf.farm.places import Place

#: exit codes of ``tinyperf run``: valid, finished but not valid
RC_VALID, RC_INVALID = 0, 1


@dataclass(frozen=True)
class Outcome:
    """How a job ended."""

    state: str  # done | invalid | failed | interrupted
    reason: str | None
    session: Path | None
    seconds: float
    rc: int | None = None


def job_dir(root: Path, job: Job) -> Path:
    return Path(root) / "jobs" / job.id


def latest_session(folder: Path) -> Path | None:
    """The newest session folder the job's runs wrote (``sessions/<timestamp>``)."""
    sessions = sorted(p for p in (folder / "sessions").glob("*") if (p / "journal.jsonl").exists())
    return sessions[-1] if sessions else None


def session_finished(session: Path) -> bool:
    """A run that got to its end (valid or not) wrote run.json without ``interrupted``."""
    try:
        data = json.loads((session / "run.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and not data.get("interrupted")


def run_argv(job: Job, place: Place, folder: Path, resume: Path | None) -> list[str]:
    """The ``tinyperf run`` command line for ``job`` on ``place`` (resuming ``resume``)."""
    argv = [sys.executable, "-m", "tinyperf", "run", "--no-progress",
            "--dataset-path", str(job.dataset), "--output-dir", str(folder / "sessions")]
    if job.mode == "energy":
        assert job.energy is not None
        e = job.energy
        argv += ["--interface", place.url(e.interface),
                 "--monitor", f"{e.monitor_kind}:{place.url(e.monitor)}"]
        if e.board:
            argv += ["--board", e.board]
        if resume is None:
            argv += ["--voltage", str(e.voltage)]
    else:
        argv += ["--port", place.url(job.dut)]
        if job.baud:
            argv += ["--baud", str(job.baud)]
    if job.timeout:
        argv += ["--timeout", str(job.timeout)]
    if resume is not None:
        return [*argv, "--resume", str(resume)]
    argv += ["--mode", job.mode]
    if job.test_script is not None:
        argv += ["--test-script", str(job.test_script)]
    if job.iterations is not None and job.mode != "accuracy":  # accuracy: once per input
        argv += ["--iterations", str(job.iterations)]
    if job.warmups is not None:
        argv += ["--warmups", str(job.warmups)]
    return argv


def _reason(log: Path, session: Path | None, rc: int) -> str:
    """Why a run failed: run.json's reasons, else the run's own error line."""
    if rc == RC_INVALID and session is not None:
        try:
            reasons = json.loads((session / "run.json").read_text(encoding="utf-8"))["reasons"]
            return "not valid: " + "; ".join(reasons)
        except (OSError, KeyError, TypeError, json.JSONDecodeError):
            pass
    try:
        lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace")
                 .splitlines() if ln.strip()]
    except OSError:
        lines = []
    errors = [ln for ln in lines if ln.startswith("tinyperf: ")]
    if errors:
        return errors[-1].removeprefix("tinyperf: error: ").removeprefix("tinyperf: ")
    return f"tinyperf run exited with {rc}" + (f": {lines[-1]}" if lines else "")


def run_job(job: Job, place: Place, root: Path, *,
            should_stop: Callable[[], bool] = lambda: False,
            on_start: Callable[[Path | None], None] = lambda _s: None) -> Outcome:
    """Run (or resume) ``job`` on ``place``; never raises for the job's own failures."""
    folder = job_dir(root, job)
    folder.mkdir(parents=True, exist_ok=True)
    previous = latest_session(folder)
    resume = previous if previous is not None and not session_finished(previous) else None
    argv = run_argv(job, place, folder, resume)
    on_start(resume)
    started = time.monotonic()
    log = folder / "job.log"
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        rc, why = _wait(proc, job.job_timeout, should_stop)
    seconds = time.monotonic() - started
    session = latest_session(folder)
    if why is not None:
        return Outcome("interrupted" if why == "stopped" else "failed",
                       why if why != "stopped" else "stopped by the user", session, seconds, rc)
    if rc == RC_VALID:
        return Outcome("done", None, session, seconds, rc)
    state = "invalid" if rc == RC_INVALID else "failed"
    return Outcome(state, _reason(log, session, rc), session, seconds, rc)


def _wait(proc: subprocess.Popen[bytes], limit_s: float, should_stop: Callable[[], bool]
          ) -> tuple[int | None, str | None]:
    """Wait for the run; SIGINT it (the session is kept) on stop or past its deadline."""
    deadline = time.monotonic() + limit_s
    why = None
    while True:
        try:
            return proc.wait(timeout=0.2), why
        except subprocess.TimeoutExpired:
            pass
        if why is None and (should_stop() or time.monotonic() > deadline):
            why = "stopped" if should_stop() else f"no end within the job timeout ({limit_s:g} s)"
            proc.send_signal(signal.SIGINT)
            try:
                return proc.wait(timeout=10), why
            except subprocess.TimeoutExpired:
                proc.kill()
                return proc.wait(), why
