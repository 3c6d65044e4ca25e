"""Energy monitors behind one small interface, chosen by a ``--monitor`` spec string.

``EnergyMonitor`` is what the energy runner drives; each family lives in its own module
and registers a factory under its scheme (``lpm01a:PORT``, ``js220``, ``js110``,
``file:PATH``), so adding a monitor never touches the runner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tinyperf.harness.energy.capture import Capture
from tinyperf.harness.energy.errors import MonitorError
from tinyperf.harness.energy.integrate import Accuracy


class EnergyMonitor(Protocol):
    """One acquisition: set up, power the DUT, capture, hand back samples and edges.

    ``mark`` is the monitor time (s) of the data received so far; ``sync`` waits until the
    data of everything that already happened has arrived and returns ``mark``. The runner
    takes a mark before each ``infer`` and a synced mark after it: the span in which the
    window's two timestamp edges must lie. A monitor that cannot tell (a file recorded by
    another tool) returns NaN and the windows are paired in order instead.

    ``sync(edges=n)`` also waits (bounded) until ``n`` timestamp edges of this acquisition
    have arrived, for monitors that count them as they come (``edges_seen() -> int``,
    optional); others ignore ``edges``.

    Optional: ``snapshot() -> Capture``, the data received so far without stopping. A
    monitor that has it gets each window evaluated (and journaled) as soon as the window
    ends, which is what makes an energy run resumable; see ``supports_snapshot``.
    """

    name: str
    accuracy: Accuracy

    def configure(self, voltage: float) -> None: ...

    def power(self, on: bool) -> None: ...

    def start(self) -> None: ...

    def mark(self) -> float: ...

    def sync(self, edges: int | None = None) -> float: ...

    def stop(self) -> Capture: ...

    def close(self) -> None: ...


def edges_seen(monitor: object) -> int | None:
    """Timestamp edges ``monitor`` has received so far, or None when it does not count them."""
    count = getattr(monitor, "edges_seen", None)
    return count() if callable(count) else None


def supports_snapshot(monitor: object) -> bool:
    """True when ``monitor`` can hand out its capture so far (per-window evaluation)."""
    return callable(getattr(monitor, "snapshot", None))


Factory = Callable[[str, dict[str, Any]], EnergyMonitor]
_REGISTRY: dict[str, Factory] = {}


def register(scheme: str, factory: Factory) -> None:
    """Make ``scheme[:ARG]`` open a monitor through ``factory(arg, options)``."""
    _REGISTRY[scheme] = factory


def _load_builtin() -> None:
    # importing the modules registers their schemes; done lazily so that a missing
    # optional dependency (joulescope, pyjls) only matters when that monitor is used
    from . import filemonitor, joulescope, lpm01a  # noqa: F401


def open_monitor(spec: str, **options: Any) -> EnergyMonitor:
    """Open the monitor named by ``spec`` (``lpm01a:/dev/ttyACM0``, ``js220``, ``file:x.jls``)."""
    _load_builtin()
    scheme, _, arg = spec.partition(":")
    factory = _REGISTRY.get(scheme.lower())
    if factory is None:
        raise MonitorError(f"unknown monitor {scheme!r} (known: {', '.join(sorted(_REGISTRY))})")
    return factory(arg, options)


__all__ = ["EnergyMonitor", "open_monitor", "register", "supports_snapshot"]
