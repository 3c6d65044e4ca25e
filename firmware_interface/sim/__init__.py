"""The Python virtual DUT: the MLPerf Tiny firmware protocol on a pty or socket, no hardware.

- ``core``: the pure protocol state machine (``VirtualDut``).
- ``clock``: simulated DUT time (``SimClock``, ``LatencyModel``).
- ``model``: reference-port configuration and model from the registry.
- ``faults``: fault injection as data.
- ``fast_load``: the ``fl`` fast-load commands (docs/fast_load.md) on the core's buffer.
- ``server``: ``SimServer``, the I/O thread serving a DUT on a pty and/or TCP socket.
"""

from .clock import LatencyModel, SimClock
from .core import Delay, DutConfig, Response, VirtualDut, constant_results
from .faults import Fault, FaultPlan, load_faults
from .server import SimServer, WireStats, serve_model

__all__ = [
    "Delay",
    "DutConfig",
    "Fault",
    "FaultPlan",
    "LatencyModel",
    "Response",
    "SimClock",
    "SimServer",
    "VirtualDut",
    "WireStats",
    "constant_results",
    "load_faults",
    "serve_model",
]
