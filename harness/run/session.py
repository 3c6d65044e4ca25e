"""A session folder and its writers: log.txt, the journal, the raw traffic log, results.

``sessions/YYYYMMDD_HHMMSS/`` as the MLCommons runner makes it, plus tinyperf's own files:

- ``log.txt``       the runner's log, written and flushed line by line;
- ``journal.jsonl`` append-only, fsynced after each window: the run's configuration, then
                    one line per finished window. It is what ``--resume`` reads;
- ``traffic.log``   every byte both ways on the DUT link (``{t} tx|rx {escaped}``);
- ``results.txt``, ``results.json``  the runner's formats, written at the end;
- ``run.json``      tinyperf's summary: validity with reasons, dispersion, clock ratio.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from tinyperf.formats import mlc
from tinyperf.formats.errors import SessionError

JOURNAL_VERSION = 1


def _escape(data: bytes) -> str:
    return data.decode("latin-1").encode("unicode_escape").decode("ascii")


class Journal:
    """Append-only JSON lines, each fsynced: a killed run loses at most the window in flight."""

    def __init__(self, path: Path):
        self.path = path
        self._fh: IO[str] | None = None

    def append(self, entry: dict[str, Any]) -> None:
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8")
        self._fh.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def read(self) -> list[dict[str, Any]]:
        """Every complete entry; a torn last line (killed mid-write) is cut off the file.

        Only the last line can be torn by a kill; damage anywhere else (an edited or
        corrupted journal) is a ``SessionError`` naming the line, and the file is left as
        it is.
        """
        if not self.path.exists():
            raise SessionError("no journal.jsonl: not a tinyperf session", path=self.path.parent)
        raw = self.path.read_bytes()
        lines = raw.splitlines(keepends=True)
        entries: list[dict[str, Any]] = []
        good = 0
        for number, line in enumerate(lines, 1):
            last = number == len(lines)
            try:
                entry = json.loads(line) if line.endswith(b"\n") else None
            except (json.JSONDecodeError, UnicodeDecodeError):
                entry = None
            if entry is None or not isinstance(entry, dict):
                if last and entry is None:
                    break  # torn by a kill mid-write: cut below
                raise SessionError(f"line {number} is not a journal entry "
                                   f"({line[:60]!r}); the journal is damaged, start a new "
                                   "run", path=self.path)
            entries.append(entry)
            good += len(line)
        if good != len(raw):
            with open(self.path, "r+b") as fh:
                fh.truncate(good)
        return entries

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class Session:
    """One session folder. Use ``create`` for a new run, ``reopen`` to resume one."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = datetime.now):
        self.path = path
        self.clock = clock
        self.log_path = path / "log.txt"
        self.journal = Journal(path / "journal.jsonl")
        self._log: IO[str] | None = None
        self._traffic: IO[str] | None = None
        self._t0 = time.monotonic()

    @classmethod
    def create(cls, output_dir: Path, clock: Callable[[], datetime] = datetime.now) -> Session:
        """Make ``{output_dir}/YYYYMMDD_HHMMSS`` (``_2``, ``_3``... if that second is taken)."""
        base = mlc.session_name(clock())
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SessionError(f"cannot create the output folder: {exc}", path=output_dir) from exc
        for n in range(1, 1000):
            path = output_dir / (base if n == 1 else f"{base}_{n}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise SessionError(f"cannot create the session folder: {exc}", path=path) from exc
            return cls(path, clock)
        raise SessionError("too many sessions in one second", path=output_dir)

    @classmethod
    def reopen(cls, path: Path, clock: Callable[[], datetime] = datetime.now) -> Session:
        if not (path / "journal.jsonl").is_file():
            raise SessionError("not a resumable tinyperf session (no journal.jsonl)", path=path)
        return cls(path, clock)

    # -- log.txt ------------------------------------------------------------------------------

    def log(self, *lines: str) -> None:
        """Append lines to log.txt, stripped as the runner's logger does, flushed at once."""
        if self._log is None:
            self._log = open(self.log_path, "a", encoding="utf-8", newline="\n")
        for line in lines:
            self._log.write(line.strip() + "\n")
        self._log.flush()

    def log_offset(self) -> int:
        if self._log is not None:
            self._log.flush()
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def truncate_log(self, offset: int) -> None:
        """Cut log.txt back to ``offset`` (the end of the last journaled window)."""
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.log_path.exists():
            with open(self.log_path, "r+b") as fh:
                fh.truncate(offset)

    def stamp(self) -> str:
        return mlc.stamp(self.clock())

    # -- raw traffic ----------------------------------------------------------------------------

    def tap(self, direction: str, data: bytes, when: float) -> None:
        """A transport tap: every byte on the DUT link, both ways, with host time."""
        if self._traffic is None:
            self._traffic = open(self.path / "traffic.log", "a", encoding="ascii")
        self._traffic.write(f"{when - self._t0:12.6f} {direction} {_escape(data)}\n")

    def flush_traffic(self) -> None:
        if self._traffic is not None:
            self._traffic.flush()

    # -- final files ----------------------------------------------------------------------------

    def write_text(self, name: str, text: str) -> Path:
        """Write a whole file atomically (temp file, then rename)."""
        target = self.path / name
        tmp = target.with_suffix(target.suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return target

    def close(self) -> None:
        for fh in (self._log, self._traffic):
            if fh is not None:
                fh.close()
        self._log = self._traffic = None
        self.journal.close()
