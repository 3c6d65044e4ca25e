"""Map a function over items in forked worker processes; results come back in item order.

Why fork and not a pool: a checker worker needs the parent's state (imported modules,
rule settings, reference labels) and a pool would pickle it over or import it again; a
forked child has it for free, runs its share of the items and sends back one pickled list.
The parent takes a share too, so ``jobs`` processes use ``jobs`` cores.

Only on Linux (fork is the default start method there and numpy is fork-safe; macOS
discourages fork after its system frameworks are loaded) and only in a single-threaded
caller (the CLI): elsewhere, and with ``jobs <= 1``, the map runs in this process. A child
that dies or fails hands its items back: the parent computes them itself, so an exception
surfaces exactly as it would serially, and nothing is lost.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def available() -> bool:
    """True where :func:`fork_map` really forks."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") \
        and threading.active_count() == 1


def default_jobs() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def partition(costs: Sequence[float], bins: int) -> list[list[int]]:
    """Item indices in ``bins`` groups of near-equal total cost (largest first, each to the
    least loaded group), each group in item order; group 0 is the lightest."""
    loads = [0.0] * bins
    groups: list[list[int]] = [[] for _ in range(bins)]
    for i in sorted(range(len(costs)), key=lambda i: -costs[i]):
        k = loads.index(min(loads))
        loads[k] += costs[i]
        groups[k].append(i)
    order = sorted(range(bins), key=lambda k: loads[k])
    return [sorted(groups[k]) for k in order]


def fork_map(fn: Callable[[T], R], items: Sequence[T], jobs: int,
             costs: Sequence[float] | None = None) -> list[R]:
    """``[fn(x) for x in items]``, spread over ``jobs`` processes by ``costs``.

    Results must be picklable. What ``fn`` changes in shared objects stays in the child
    that ran it: only the returned values come back.
    """
    jobs = min(jobs, len(items))
    if jobs <= 1 or not available():
        return [fn(x) for x in items]
    groups = partition(costs if costs is not None else [1.0] * len(items), jobs)
    children = []
    for group in groups[1:]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its share, one pickle to the parent, and out
            os.close(read_end)
            _child(fn, items, group, write_end)
        os.close(write_end)
        children.append((pid, read_end, group))
    results: list[R | None] = [None] * len(items)
    for i in groups[0]:
        results[i] = fn(items[i])
    for pid, read_end, group in children:
        with os.fdopen(read_end, "rb") as fh:
            data = fh.read()
        os.waitpid(pid, 0)
        try:
            values = pickle.loads(data) if data else None
        except Exception:  # a truncated pickle: the child died while writing
            values = None
        if not isinstance(values, list) or len(values) != len(group):
            values = [fn(items[i]) for i in group]  # redo here: same result or same error
        for i, value in zip(group, values):
            results[i] = value
    return results  # type: ignore[return-value]


def _child(fn: Callable[[T], R], items: Sequence[T], group: list[int], fd: int) -> None:
    status = 0
    try:
        payload = pickle.dumps([fn(items[i]) for i in group], pickle.HIGHEST_PROTOCOL)
    except BaseException:  # the parent redoes this share and reports what fails there
        payload, status = b"", 1
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
    finally:
        os._exit(status)  # no atexit handlers, no flush of the parent's buffered output
