"""The farm run's folder: its settings, the job journal, one folder per job.

    D/farm.json        how the run was started (matrix, place source, parallel): --resume reads it
    D/matrix.yaml      the matrix as it was given
    D/journal.jsonl    append-only, fsynced: one line per job state change
    D/jobs/<job-id>/   job.log (the `tinyperf run` output) and sessions/<session>/

A job's state is its last journal line: ``running``, ``done`` (valid session), ``invalid``
(the run finished but is not valid), ``failed`` (with the reason) or ``interrupted``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyperf.formats.errors import ConfigError

SETTINGS = "farm.json"
JOURNAL = "journal.jsonl"
MATRIX_COPY = "matrix.yaml"
FINISHED = ("done",)


@dataclass(frozen=True)
class JobState:
    """The last thing the journal says about a job."""

    job: str
    state: str
    place: str | None = None
    session: str | None = None
    reason: str | None = None
    seconds: float | None = None

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> JobState:
        return cls(entry["job"], entry["state"], entry.get("place"), entry.get("session"),
                   entry.get("reason"), entry.get("seconds"))


class FarmJournal:
    """Append-only JSON lines, fsynced, safe to write from the place threads."""

    def __init__(self, root: Path):
        self.path = Path(root) / JOURNAL
        self._lock = threading.Lock()

    def record(self, job: str, state: str, **fields: Any) -> None:
        entry = {"t": round(time.time(), 3), "job": job, "state": state,
                 **{k: v for k, v in fields.items() if v is not None}}
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def states(self) -> dict[str, JobState]:
        """Each job's last state; a torn last line (killed mid-write) is ignored."""
        if not self.path.exists():
            return {}
        out: dict[str, JobState] = {}
        for raw in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and "job" in entry and "state" in entry:
                out[entry["job"]] = JobState.from_entry(entry)
        return out


def write_settings(root: Path, settings: dict[str, Any]) -> None:
    (Path(root) / SETTINGS).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def read_settings(root: Path) -> dict[str, Any]:
    path = Path(root) / SETTINGS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("not a farm run folder (no farm.json)", path=root) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read farm.json: {exc}", path=path) from exc
    if not isinstance(data, dict) or "matrix" not in data:
        raise ConfigError("farm.json names no matrix", path=path)
    return data


def pending(job_ids: Iterable[str], states: dict[str, JobState]) -> list[str]:
    """The jobs a ``--resume`` runs again: every one not finished."""
    return [j for j in job_ids if j not in states or states[j].state not in FINISHED]
