"""Progress of a long run: a bar on a terminal, plain lines in a CI log, nothing if asked.

A 30-minute accuracy run in a CI log used to print nothing until the end. Off a terminal a
line is printed every ``every_fraction`` of the work or every ``every_s`` seconds, whichever
comes first, with done/total, the elapsed time and an ETA from the rate so far.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class LineProgress:
    """Progress as occasional full lines (for logs that are not terminals)."""

    def __init__(self, total: int, initial: int = 0, *, desc: str = "", unit: str = "",
                 stream: TextIO | None = None, every_fraction: float = 0.1,
                 every_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.done = initial
        self.desc = desc
        self.unit = unit
        self.stream = stream or sys.stderr
        self.every_fraction = every_fraction
        self.every_s = every_s
        self._clock = clock
        self._start = clock()
        self._initial = initial
        self._last_time = self._start
        self._last_done = initial

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self._clock()
        step = max(1, int(self.total * self.every_fraction))
        if self.done >= self.total or self.done - self._last_done >= step \
                or now - self._last_time >= self.every_s:
            self._print(now)

    def line(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        elapsed = now - self._start
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        text = f"{self.desc}: {self.done}/{self.total} {self.unit}{pct}, {_clock(elapsed)} elapsed"
        new = self.done - self._initial
        if 0 < new and self.done < self.total:
            text += f", ETA {_clock(elapsed / new * (self.total - self.done))}"
        return text

    def _print(self, now: float) -> None:
        print(self.line(now), file=self.stream, flush=True)
        self._last_time = now
        self._last_done = self.done

    def close(self) -> None:
        pass


class NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress(total: int, initial: int = 0, *, show: bool | None = None, desc: str = "",
             unit: str = "", stream: TextIO | None = None, threads: bool = True) -> Any:
    """A tqdm bar on a terminal, ``LineProgress`` elsewhere, nothing when ``show`` is False.

    ``show=None`` decides by whether ``stream`` (stderr) is a terminal. ``threads=False``:
    no tqdm monitor thread (a process that forks workers must stay single-threaded).
    """
    stream = stream or sys.stderr
    if show is False:
        return NoProgress()
    tty = stream.isatty() if hasattr(stream, "isatty") else False
    if tty:
        from tqdm import tqdm

        bar = tqdm if threads else type("tqdm", (tqdm,), {"monitor_interval": 0})
        return bar(total=total, initial=initial, unit=unit, desc=desc, leave=False,
                   file=stream)
    return LineProgress(total, initial, desc=desc, unit=unit, stream=stream)
