"""harness.analysis.history: indexing, filters, tags, migrations, concurrent and killed writers."""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tinyperf.formats.errors import SessionError
from tinyperf.harness.analysis import history
from tinyperf.harness.analysis.history import History

from tinyperf.cli import history as history_cli

from .conftest import copy_session


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tinyperf")
    sub = parser.add_subparsers(dest="command")
    history_cli.register(sub)
    args = parser.parse_args(["history", *argv])
    return args.handler(args)


def test_add_is_idempotent_and_lists_with_filters(sessions, tmp_path):
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        a = h.add(sessions.kws_perf, firmware_git="v1.0-3-gabc", tags=["main"])
        assert h.add(sessions.kws_perf) == a  # same row, firmware_git kept
        h.add(sessions.kws_acc)
        h.add(sessions.ad_perf, board="nucleo")
        assert len(h.list()) == 3
        assert [e.model for e in h.list(model="kws01", mode="accuracy")] == ["kws01"]
        assert [e.board for e in h.list(board="nucleo")] == ["nucleo"]
        e = h.get(a)
        assert e.firmware_git == "v1.0-3-gabc" and e.tags == ["main"]
        assert e.figures["median_throughput"] == pytest.approx(
            e.intervals["throughput"]["estimate"])
        assert len(e.windows["throughput"]) == 5
        assert h.resolve("main").id == a and h.resolve(str(a)).id == a
        assert h.resolve(str(sessions.kws_perf)).id == a
        with pytest.raises(SessionError, match="neither a session folder"):
            h.resolve("nosuchtag")


def test_tag_resolution_prefers_the_candidates_model_and_mode(sessions, tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        perf = h.add(sessions.kws_perf, tags=["main"])
        acc = h.add(sessions.kws_acc, tags=["main"])
        assert h.resolve("main", model="kws01", mode="performance").id == perf
        assert h.resolve("main", model="kws01", mode="accuracy").id == acc
        assert h.tag(sessions.ad_perf, "main") not in (perf, acc)  # a folder is indexed


def test_entry_falls_back_to_stored_windows_when_the_folder_is_gone(sessions, tmp_path):
    folder = copy_session(sessions.kws_perf, tmp_path / "moved")
    with History(tmp_path / "h.sqlite") as h:
        sid = h.add(folder)
        (folder / "run.json").unlink()
        rec = h.get(sid).to_record()
    assert len(rec.window_throughput) == 5 and rec.mode == "performance"


def test_migration_from_version_1_keeps_rows(tmp_path):
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    con.execute("INSERT INTO schema_version VALUES (1)")
    history.MIGRATIONS[0](con)
    con.execute("INSERT INTO sessions (path, content_sha256, indexed_at, mode, model, valid, "
                "figures_json, intervals_json) VALUES ('/old', 'x', 'now', 'performance', "
                "'kws01', 1, '{}', '{}')")
    con.commit()
    con.close()
    with History(db) as h:
        assert h.version() == history.SCHEMA_VERSION == 2
        (old,) = h.list()
        assert old.path == "/old" and old.windows == {}
        assert h.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "new.sqlite"
    History(db).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE schema_version SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(SessionError, match="newer than this tinyperf"):
        History(db)


def _many_copies(src: Path, root: Path, count: int) -> list[Path]:
    return [copy_session(src, root / f"s{i:03d}") for i in range(count)]


WRITER = textwrap.dedent("""
    import sys
    from tinyperf.harness.analysis.history import History
    db, *folders = sys.argv[1:]
    with History(db) as h:
        for f in folders:
            h.add(f, tags=["t"])
""")


def test_two_processes_writing_at_once_lose_nothing(sessions, tmp_path):
    folders = _many_copies(sessions.kws_perf, tmp_path, 60)
    db = tmp_path / "h.sqlite"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db),
                               *map(str, folders[k::2])]) for k in (0, 1)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with History(db) as h:
        entries = h.list()
        assert len(entries) == 60 and {e.path for e in entries} == {str(f) for f in folders}
        assert all(e.tags == ["t"] for e in entries)


KILLED = textwrap.dedent("""
    import os, signal, sys
    from tinyperf.harness.analysis.history import History
    db, first, second = sys.argv[1:]
    h = History(db)
    h.add(first)
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)  # after the session row, before its tags
    h._write_tags = die
    h.add(second, tags=["half"])
""")


def test_writer_killed_mid_transaction_leaves_no_half_rows(sessions, tmp_path):
    first, second = _many_copies(sessions.kws_perf, tmp_path, 2)
    db = tmp_path / "h.sqlite"
    proc = subprocess.run([sys.executable, "-c", KILLED, str(db), str(first), str(second)],
                          timeout=60)
    assert proc.returncode == -9
    with History(db) as h:
        assert [e.path for e in h.list()] == [str(first)]
        assert h.db.execute("SELECT COUNT(*) FROM tags").fetchone()[0] == 0
        assert h.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_cli_add_tag_and_list(sessions, tmp_path, capsys):
    db = str(tmp_path / "h.sqlite")
    assert _cli(["add", str(sessions.kws_perf), str(sessions.kws_acc), "--tag", "nightly",
                 "--firmware-git", "v2.1", "--db", db]) == 0
    assert _cli(["tag", str(sessions.kws_perf), "main", "--db", db]) == 0
    capsys.readouterr()
    assert _cli(["--db", db, "--model", "kws01", "--mode", "performance"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "main,nightly" in out[1] and "throughput 23.0" in out[1]


def test_default_path_uses_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYPERF_HISTORY", str(tmp_path / "x.sqlite"))
    assert history.default_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("TINYPERF_HISTORY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert history.default_path() == tmp_path / "tinyperf" / "history.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert str(history.default_path()).endswith(".local/share/tinyperf/history.sqlite")
