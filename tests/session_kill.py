"""Crash a running session on purpose: the resume tests kill a real ``tinyperf run``."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path


def journal_windows(session: Path) -> int:
    """Windows journaled so far in ``session`` (0 before the journal exists)."""
    path = session / "journal.jsonl"
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if '"type":"window"' in line)


def kill_after_windows(proc: subprocess.Popen[bytes], output_dir: Path, windows: int,
                       timeout_s: float = 60.0, poll_s: float = 0.01) -> Path | None:
    """SIGKILL ``proc`` once its session under ``output_dir`` has journaled ``windows``
    windows (or when ``timeout_s`` passes or it ends); return that session folder."""
    deadline = time.monotonic() + timeout_s
    session = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(output_dir.glob("*"))
        session = found[0] if found else None
        if session is not None and journal_windows(session) >= windows:
            break
        time.sleep(poll_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return session
