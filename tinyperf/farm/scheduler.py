"""Run a matrix's jobs over the places, in parallel: one job per place at a time.

One thread per place that some job can use; at most ``parallel`` places are worked at
once. A place thread acquires its place, takes jobs it may run (named for it, or whose tags
it has) one at a time, and releases the place when none is left or when the place is lost.
After a failed job the place is checked: a lost place (exporter killed, board unplugged)
stops its thread, its jobs fail with the reason, and jobs matched by tags stay free for the
other places. Nothing a job wrote is removed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tinyperf.farm.jobs import Outcome, run_job
from tinyperf.farm.journal import FarmJournal
from tinyperf.farm.matrix import Job
from tinyperf.farm.places import Place, PlaceError, PlaceSource
from tinyperf.formats.errors import ConformanceError

#: ``on_event(place, message)``: one progress line for a place.
EventSink = Callable[[str, str], None]
JobRunner = Callable[..., Outcome]


@dataclass
class FarmResult:
    """Every job's outcome, in matrix order (jobs never started: ``failed`` with why)."""

    outcomes: dict[str, tuple[str | None, Outcome]] = field(default_factory=dict)

    @property
    def failed(self) -> dict[str, tuple[str | None, Outcome]]:
        return {j: o for j, o in self.outcomes.items() if o[1].state != "done"}


class _Board:
    """Shared job queue: which job runs where, guarded by one lock."""

    def __init__(self, jobs: Sequence[Job]):
        self.pending = list(jobs)
        self.lock = threading.Lock()

    def take(self, place: Place) -> Job | None:
        with self.lock:
            ordered = sorted(self.pending, key=lambda j: j.place is None)  # named jobs first
            for job in ordered:
                if job.matches(place.name, place.tags):
                    self.pending.remove(job)
                    return job
        return None

    def take_named(self, place: str) -> list[Job]:
        with self.lock:
            named = [j for j in self.pending if j.place == place]
            for j in named:
                self.pending.remove(j)
        return named


class Farm:
    """Runs ``jobs`` on the places of ``source`` into ``root``, journaling every step."""

    def __init__(self, jobs: Sequence[Job], source: PlaceSource, root: Path, *,
                 parallel: int | None = None, on_event: EventSink = lambda _p, _m: None,
                 runner: JobRunner = run_job):
        self.jobs = list(jobs)
        self.source = source
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.parallel = parallel
        self.on_event = on_event
        self.runner = runner
        self.journal = FarmJournal(self.root)
        self.result = FarmResult()
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def _finish(self, job: Job, place: str | None, outcome: Outcome) -> None:
        with self._lock:
            self.result.outcomes[job.id] = (place, outcome)
        self.journal.record(job.id, outcome.state, place=place, reason=outcome.reason,
                            session=str(outcome.session) if outcome.session else None,
                            seconds=round(outcome.seconds, 3), rc=outcome.rc)

    def _fail(self, job: Job, place: str | None, reason: str) -> None:
        self._finish(job, place, Outcome("failed", reason, None, 0.0))

    def run(self) -> FarmResult:
        """Run every job; returns when all ended (or ``stop`` was set and they stopped)."""
        places = self.source.places()
        usable = [p for p in places if any(j.matches(p.name, p.tags) for j in self.jobs)]
        known = {p.name for p in places}
        board = _Board(self.jobs)
        for job in self.jobs:
            if job.place is not None and job.place not in known:
                board.take_named(job.place)
                self._fail(job, job.place, f"no place named {job.place!r} in "
                                           f"{self.source.describe()}")
            elif not any(job.matches(p.name, p.tags) for p in places):
                board.pending.remove(job)
                self._fail(job, None, f"no place matches {job.target()}")
        slots = threading.BoundedSemaphore(max(1, self.parallel or len(usable) or 1))
        threads = [threading.Thread(target=self._place_worker, args=(p, board, slots),
                                    name=f"farm-{p.name}", daemon=True) for p in usable]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        except KeyboardInterrupt:
            self.stop.set()
            for t in threads:
                t.join(30)
            raise
        for job in board.pending:  # tag jobs whose places were all lost
            self._fail(job, None, f"every place matching {job.target()} was lost or busy")
        return FarmResult({j.id: self.result.outcomes[j.id] for j in self.jobs
                           if j.id in self.result.outcomes})

    def _place_worker(self, summary: Place, board: _Board,
                      slots: threading.BoundedSemaphore) -> None:
        name = summary.name
        with slots:
            if self.stop.is_set():
                return
            try:
                place = self.source.acquire(name)
            except ConformanceError as exc:
                reason = str(exc)
                self.on_event(name, f"cannot acquire: {reason}")
                for job in board.take_named(name):
                    self._fail(job, name, reason)
                return
            self.on_event(name, "acquired")
            try:
                self._work(place, board)
            finally:
                try:
                    self.source.release(name)
                    self.on_event(name, "released")
                except ConformanceError as exc:
                    self.on_event(name, f"release failed: {exc}")

    def _work(self, place: Place, board: _Board) -> None:
        done = 0
        while not self.stop.is_set():
            job = board.take(place)
            if job is None:
                return
            self.journal.record(job.id, "running", place=place.name)
            started = time.monotonic()

            def on_start(resume: Path | None, job: Job = job) -> None:
                verb = f"resuming {resume.name}" if resume else "running"
                self.on_event(place.name, f"{job.id}: {verb}")

            try:
                outcome = self.runner(job, place, self.root, should_stop=self.stop.is_set,
                                      on_start=on_start)
            except PlaceError as exc:  # the place lacks a resource this job needs
                outcome = Outcome("failed", str(exc), None, time.monotonic() - started)
            done += 1
            lost = self.source.check(place.name) if outcome.state == "failed" else None
            if lost:
                outcome = Outcome("failed", f"place {place.name} lost ({lost}): "
                                            f"{outcome.reason}", outcome.session,
                                  outcome.seconds, outcome.rc)
            self._finish(job, place.name, outcome)
            tail = f" ({outcome.reason})" if outcome.reason else ""
            self.on_event(place.name, f"{job.id}: {outcome.state} in {outcome.seconds:.1f} s"
                                      f"{tail}")
            if lost:
                for other in board.take_named(place.name):
                    self._fail(other, place.name, f"place {place.name} lost ({lost})")
                return
