"""Progress off a terminal (#19 item 9): a CI log gets a line every ~10 % or 30 s with ETA."""

from __future__ import annotations

import io

from tinyperf.formats.progress import LineProgress, NoProgress, progress


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_lines_every_tenth_with_an_eta():
    out, clock = io.StringIO(), _Clock()
    bar = LineProgress(100, desc="accuracy", unit="windows", stream=out, clock=clock)
    for _ in range(100):
        clock.t += 1.0
        bar.update()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == "accuracy: 10/100 windows (10%), 0:00:10 elapsed, ETA 0:01:30"
    assert lines[-1] == "accuracy: 100/100 windows (100%), 0:01:40 elapsed"


def test_a_slow_run_prints_every_30_seconds():
    out, clock = io.StringIO(), _Clock()
    bar = LineProgress(1000, desc="accuracy", unit="windows", stream=out, clock=clock)
    for _ in range(5):
        clock.t += 31.0
        bar.update()
    assert len(out.getvalue().splitlines()) == 5


def test_a_resumed_run_counts_its_eta_from_the_new_windows_only():
    out, clock = io.StringIO(), _Clock()
    bar = LineProgress(100, 50, desc="accuracy", unit="windows", stream=out, clock=clock)
    for _ in range(10):
        clock.t += 2.0
        bar.update()
    assert out.getvalue().splitlines()[0].endswith("ETA 0:01:20")


def test_the_choice_of_display():
    log = io.StringIO()  # not a terminal
    assert isinstance(progress(10, stream=log), LineProgress)
    assert isinstance(progress(10, show=False, stream=log), NoProgress)
