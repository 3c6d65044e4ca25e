"""Run history: a local SQLite index of finished sessions (stdlib ``sqlite3``).

One file, by default ``$TINYPERF_HISTORY`` or ``$XDG_DATA_HOME/tinyperf/history.sqlite``
(``~/.local/share/tinyperf/history.sqlite``). The schema is versioned: ``schema_version``
holds one row, ``MIGRATIONS[i]`` takes the database from version ``i`` to ``i + 1``, and
opening a database applies the missing ones inside one write transaction.

Concurrency: WAL mode, a busy timeout, and every write inside ``BEGIN IMMEDIATE`` …
``COMMIT``, so two writers serialise instead of failing, and a writer killed mid-way
leaves nothing behind (SQLite rolls the open transaction back on the next open).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tinyperf.formats.errors import SessionError
from tinyperf.harness.analysis.session_reader import (
    EnergyData,
    LatencyData,
    SessionRecord,
    read_session,
)

BUSY_TIMEOUT_S = 30.0


def default_path() -> Path:
    """``$TINYPERF_HISTORY``, else the user data dir (XDG) ``tinyperf/history.sqlite``."""
    env = os.environ.get("TINYPERF_HISTORY")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tinyperf" / "history.sqlite"


# -- schema ---------------------------------------------------------------------------------------


def _v1(db: sqlite3.Connection) -> None:
    """Sessions and tags."""
    db.execute("""CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        content_sha256 TEXT NOT NULL,
        started TEXT, indexed_at TEXT NOT NULL,
        mode TEXT NOT NULL, model TEXT NOT NULL, board TEXT, firmware TEXT,
        model_sha256 TEXT, firmware_git TEXT, valid INTEGER NOT NULL,
        figures_json TEXT NOT NULL, intervals_json TEXT NOT NULL)""")
    db.execute("""CREATE TABLE tags (
        name TEXT NOT NULL,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        created TEXT NOT NULL,
        PRIMARY KEY (name, session_id))""")


def _v2(db: sqlite3.Connection) -> None:
    """Per-window values, so ``compare`` works from the history when a folder has moved;
    and indexes for the ``history`` filters."""
    db.execute("ALTER TABLE sessions ADD COLUMN windows_json TEXT NOT NULL DEFAULT '{}'")
    db.execute("CREATE INDEX sessions_model_board ON sessions(model, board, mode)")
    db.execute("CREATE INDEX tags_name ON tags(name)")


#: ``MIGRATIONS[i]`` upgrades schema version ``i`` to ``i + 1``.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Entry:
    """One indexed session as the history stores it."""

    id: int
    path: str
    started: str | None
    mode: str
    model: str
    board: str | None
    firmware: str | None
    model_sha256: str | None
    firmware_git: str | None
    valid: bool
    figures: dict[str, Any]
    intervals: dict[str, Any]
    windows: dict[str, Any]
    tags: list[str]

    def primary(self) -> tuple[str, float | None]:
        """The headline figure: median throughput, top-1, AUC (ad01) or µJ/inference."""
        f = self.figures
        if self.mode == "accuracy":
            if self.model.startswith("ad"):
                return "auc", f.get("auc")
            return "top1", f.get("top1")
        if self.mode == "energy" and self.windows.get("energy_uj"):
            vals = sorted(self.windows["energy_uj"])
            return "energy_uj", vals[len(vals) // 2]
        return "throughput", f.get("median_throughput")

    def to_record(self) -> SessionRecord:
        """The session itself when its folder still exists, else what the history kept
        (figures and per-window values; no per-file scores)."""
        if Path(self.path, "run.json").is_file():
            return read_session(self.path)
        energy = None
        if self.windows.get("energy_uj"):
            energy = EnergyData(list(self.windows["energy_uj"]),
                                list(self.windows.get("energy_u_uj") or []))
        latency = LatencyData(list(self.windows["latency_ms"])) \
            if self.windows.get("latency_ms") else None
        return SessionRecord(path=Path(self.path), mode=self.mode, model=self.model,
                             vendor=self.board, firmware=self.firmware, valid=self.valid,
                             reasons=[], figures=self.figures, started=self.started,
                             window_throughput=list(self.windows.get("throughput") or []),
                             energy=energy, latency=latency, model_sha256=self.model_sha256)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class History:
    """The history database. Use as a context manager, or call ``close``."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise SessionError(f"history database: {exc}", path=self.path) from None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: taken at once (IMMEDIATE), committed or rolled back whole."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def version(self) -> int:
        row = self.db.execute("SELECT name FROM sqlite_master WHERE name='schema_version'"
                              ).fetchone()
        if row is None:
            return 0
        return int(self.db.execute("SELECT version FROM schema_version").fetchone()[0])

    def _migrate(self) -> None:
        if self.version() == SCHEMA_VERSION:
            return
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            if db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
                db.execute("INSERT INTO schema_version VALUES (0)")
            current = self.version()  # re-read under the lock: another process may have won
            if current > SCHEMA_VERSION:
                raise SessionError(f"schema version {current} is newer than this tinyperf "
                                   f"({SCHEMA_VERSION})", path=self.path)
            for step in MIGRATIONS[current:]:
                step(db)
            db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    # -- writing ----------------------------------------------------------------------------------

    def add(self, session: str | Path | SessionRecord, *, firmware_git: str | None = None,
            tags: tuple[str, ...] | list[str] = (), board: str | None = None,
            model_sha256: str | None = None) -> int:
        """Index a session (idempotent: the same path updates its row, keeps its id)."""
        rec = session if isinstance(session, SessionRecord) else read_session(session)
        values = _row_values(rec, firmware_git, board, model_sha256)
        with self.transaction() as db:
            db.execute("""INSERT INTO sessions (path, content_sha256, started, indexed_at, mode,
                    model, board, firmware, model_sha256, firmware_git, valid, figures_json,
                    intervals_json, windows_json)
                VALUES (:path, :content_sha256, :started, :indexed_at, :mode, :model, :board,
                    :firmware, :model_sha256, :firmware_git, :valid, :figures_json,
                    :intervals_json, :windows_json)
                ON CONFLICT(path) DO UPDATE SET content_sha256=excluded.content_sha256,
                    started=excluded.started, indexed_at=excluded.indexed_at,
                    mode=excluded.mode, model=excluded.model,
                    board=COALESCE(:board_given, sessions.board, excluded.board),
                    firmware=excluded.firmware,
                    model_sha256=COALESCE(excluded.model_sha256, sessions.model_sha256),
                    firmware_git=COALESCE(excluded.firmware_git, sessions.firmware_git),
                    valid=excluded.valid, figures_json=excluded.figures_json,
                    intervals_json=excluded.intervals_json, windows_json=excluded.windows_json
                """, {**values, "board_given": board})
            sid = int(db.execute("SELECT id FROM sessions WHERE path = ?",
                                 (values["path"],)).fetchone()[0])
            self._write_tags(db, sid, tags)
        return sid

    def _write_tags(self, db: sqlite3.Connection, sid: int, tags: Any) -> None:
        for name in tags:
            check_tag(name)
            db.execute("INSERT OR REPLACE INTO tags (name, session_id, created) "
                       "VALUES (?, ?, ?)", (name, sid, _now()))

    def tag(self, ref: str | int | Path, name: str) -> int:
        """Tag the session ``ref`` (id, tag or path; a path is indexed first)."""
        check_tag(name)
        path = Path(str(ref))
        sid = self.add(path) if path.is_dir() else self.resolve(ref).id
        with self.transaction() as db:
            self._write_tags(db, sid, [name])
        return sid

    # -- reading ----------------------------------------------------------------------------------

    def list(self, *, model: str | None = None, board: str | None = None,
             mode: str | None = None, tag: str | None = None,
             limit: int | None = None) -> list[Entry]:
        """Sessions matching every given filter, newest first."""
        where, args = [], []
        for column, value in (("model", model), ("board", board), ("mode", mode)):
            if value is not None:
                where.append(f"s.{column} = ?")
                args.append(value)
        if tag is not None:
            where.append("s.id IN (SELECT session_id FROM tags WHERE name = ?)")
            args.append(tag)
        sql = "SELECT s.* FROM sessions s"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.started DESC, s.id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._entry(row) for row in self._rows(sql, args)]

    def get(self, sid: int) -> Entry:
        rows = self._rows("SELECT * FROM sessions WHERE id = ?", [sid])
        if not rows:
            raise SessionError(f"no session with id {sid} in the history", path=self.path)
        return self._entry(rows[0])

    def by_path(self, path: str | Path) -> Entry | None:
        rows = self._rows("SELECT * FROM sessions WHERE path = ?", [str(Path(path).resolve())])
        return self._entry(rows[0]) if rows else None

    def by_tag(self, name: str, *, model: str | None = None,
               mode: str | None = None) -> Entry | None:
        """The most recently tagged session carrying ``name`` (optionally of a model/mode)."""
        sql = ("SELECT s.* FROM sessions s JOIN tags t ON t.session_id = s.id WHERE t.name = ?")
        args: list[Any] = [name]
        if model is not None:
            sql += " AND s.model = ?"
            args.append(model)
        if mode is not None:
            sql += " AND s.mode = ?"
            args.append(mode)
        rows = self._rows(sql + " ORDER BY t.created DESC, t.rowid DESC LIMIT 1", args)
        return self._entry(rows[0]) if rows else None

    def resolve(self, ref: str | int | Path, *, model: str | None = None,
                mode: str | None = None) -> Entry:
        """A history id, a tag (most recent, of ``model``/``mode`` if given) or a path."""
        text = str(ref)
        if text.isdigit():
            return self.get(int(text))
        found = self.by_tag(text, model=model, mode=mode) or self.by_path(text)
        if found is None:
            raise SessionError(f"{text!r} is neither a session folder, a history id nor a tag"
                               + (f" of a {model} {mode} session" if model else ""),
                               path=self.path)
        return found

    def _rows(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        self.db.row_factory = sqlite3.Row
        return self.db.execute(sql, args).fetchall()

    def _entry(self, row: sqlite3.Row) -> Entry:
        tags = [r[0] for r in self.db.execute(
            "SELECT name FROM tags WHERE session_id = ? ORDER BY name", (row["id"],))]
        return Entry(id=row["id"], path=row["path"], started=row["started"],
                     mode=row["mode"], model=row["model"], board=row["board"],
                     firmware=row["firmware"], model_sha256=row["model_sha256"],
                     firmware_git=row["firmware_git"], valid=bool(row["valid"]),
                     figures=json.loads(row["figures_json"]),
                     intervals=json.loads(row["intervals_json"]),
                     windows=json.loads(row["windows_json"]), tags=tags)


def check_tag(name: str) -> None:
    """Refuse an empty tag, one with spaces or one of only digits (an id)."""
    if not name or name.isdigit() or any(c.isspace() for c in name):
        raise SessionError(f"bad tag {name!r}: non-empty, no spaces, not only digits")


def _row_values(rec: SessionRecord, firmware_git: str | None, board: str | None,
                model_sha256: str | None) -> dict[str, Any]:
    windows: dict[str, Any] = {}
    if rec.window_throughput:
        windows["throughput"] = rec.window_throughput
    if rec.energy is not None:
        windows["energy_uj"] = rec.energy.uj_per_inference
        windows["energy_u_uj"] = rec.energy.uncertainty_uj
    if rec.latency is not None:
        windows["latency_ms"] = rec.latency.ms
    return {"path": str(rec.path), "content_sha256": rec.content_sha256,
            "started": rec.started, "indexed_at": _now(), "mode": rec.mode,
            "model": rec.model, "board": board or rec.board, "firmware": rec.firmware,
            "model_sha256": model_sha256 or rec.model_sha256, "firmware_git": firmware_git,
            "valid": int(rec.valid), "figures_json": json.dumps(rec.figures, sort_keys=True),
            "intervals_json": json.dumps({k: v.as_dict() for k, v in rec.intervals.items()},
                                         sort_keys=True),
            "windows_json": json.dumps(windows)}
