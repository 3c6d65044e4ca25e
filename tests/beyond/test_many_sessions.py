"""Commands over many sessions skip unusable folders (failed or interrupted runs) with one
``skipped SESSION: reason`` line each on stderr; exit 0 all used, 1 some skipped, 2 none."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinyperf.harness.analysis.history import History

from tinyperf.cli import history as history_cli
from tinyperf.cli import report as report_cli

from .conftest import copy_session


def _cli(module, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tinyperf")
    sub = parser.add_subparsers(dest="command")
    module.register(sub)
    args = parser.parse_args(argv)
    return args.handler(args)


def _broken(sessions, root: Path) -> list[Path]:
    """An empty folder, an interrupted run (log and journal only) and a truncated run.json."""
    empty = root / "empty"
    empty.mkdir()
    interrupted = copy_session(sessions.kws_perf, root / "interrupted")
    for name in ("results.json", "results.txt", "run.json"):
        (interrupted / name).unlink()
    truncated = copy_session(sessions.kws_perf, root / "truncated")
    text = (truncated / "run.json").read_text()
    (truncated / "run.json").write_text(text[: len(text) // 2])
    return [empty, interrupted, truncated]


def _skipped_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("skipped ")]


def test_report_skips_unusable_sessions(sessions, tmp_path, capsys):
    broken = _broken(sessions, tmp_path)
    rc = _cli(report_cli, ["report", str(sessions.kws_perf), *map(str, broken),
                           str(sessions.kws_acc), "--format", "md"])
    out, err = capsys.readouterr()
    assert rc == 1
    lines = _skipped_lines(err)
    assert len(lines) == 3
    for folder, line in zip(broken, lines):
        assert line.startswith(f"skipped {folder}: ")
    assert "run.json" in lines[1] and "not valid JSON" in lines[2]
    assert sessions.kws_perf.name in out and sessions.kws_acc.name in out


def test_report_all_used_exits_0_and_none_usable_exits_2(sessions, tmp_path, capsys):
    assert _cli(report_cli, ["report", str(sessions.kws_perf), "--format", "md"]) == 0
    assert _skipped_lines(capsys.readouterr().err) == []
    html = tmp_path / "r.html"
    rc = _cli(report_cli, ["report", *map(str, _broken(sessions, tmp_path)), "-o", str(html)])
    err = capsys.readouterr().err
    assert rc == 2 and len(_skipped_lines(err)) == 3 and not html.exists()
    assert "no usable session" in err


def test_history_add_skips_unusable_and_keeps_the_rest(sessions, tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    broken = _broken(sessions, tmp_path)
    rc = _cli(history_cli, ["history", "add", str(sessions.kws_perf), *map(str, broken),
                            str(sessions.kws_acc), "--tag", "main", "--db", str(db)])
    out, err = capsys.readouterr()
    assert rc == 1
    assert len(_skipped_lines(err)) == 3
    with History(db) as h:
        entries = h.list()
        assert sorted(Path(e.path).name for e in entries) == sorted(
            [sessions.kws_perf.name, sessions.kws_acc.name])
        assert all(e.tags == ["main"] for e in entries)
        assert not any(str(b) in out for b in broken)
    # a later run with only broken folders loses nothing already added
    rc = _cli(history_cli, ["history", "add", *map(str, broken), "--db", str(db)])
    assert rc == 2 and len(_skipped_lines(capsys.readouterr().err)) == 3
    with History(db) as h:
        assert len(h.list()) == 2
    assert _cli(history_cli, ["history", "add", str(sessions.ad_perf), "--db", str(db)]) == 0
    with History(db) as h:
        assert len(h.list()) == 3
