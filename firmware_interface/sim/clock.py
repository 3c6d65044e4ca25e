"""The virtual DUT's notion of time: a microsecond counter and a per-inference latency model.

Owns simulated DUT time only. Wall time is never spent here: the core advances the counter
by the simulated latency of the work it pretends to do, and the server decides whether to
sleep (``realtime`` factor) for it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from tinyperf.formats.errors import ConfigError


class SimClock:
    """A free-running µs counter: ``offset + simulated advances (+ wall time if following)``.

    ``follow_wall=True`` makes the counter also run with real time between commands, like a
    board's timer; ``False`` keeps it fully deterministic (unit tests). The 32-bit wrap is
    applied where it is printed (``msg_lap_us``), not here.
    """

    def __init__(self, offset_us: int = 0, *, follow_wall: bool = False) -> None:
        self._offset = int(offset_us)
        self._advanced = 0
        self._follow_wall = follow_wall
        self._t0 = time.monotonic()

    def now_us(self) -> int:
        wall = int((time.monotonic() - self._t0) * 1e6) if self._follow_wall else 0
        return self._offset + self._advanced + wall

    def advance(self, us: int) -> None:
        if us < 0:
            raise ValueError("the DUT clock cannot run backwards")
        self._advanced += int(us)


@dataclass
class LatencyModel:
    """Simulated time of inferences: fixed latency, optional gaussian jitter and rare slow runs.

    The total for N inferences is drawn in O(1) (sum of N jittered latencies ≈ normal with
    σ·√N; number of slow runs ~ binomial), so ``infer 160000`` costs no more than ``infer 1``.
    Deterministic for a given ``seed``.
    """

    latency_us: float = 1e6 / 23.0
    jitter_us: float = 0.0
    slow_probability: float = 0.0
    slow_factor: float = 10.0
    seed: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.latency_us > 0:
            raise ConfigError(f"latency must be > 0 µs, got {self.latency_us}", key="latency_us")
        if self.jitter_us < 0:
            raise ConfigError("jitter must be >= 0", key="jitter_us")
        if not 0.0 <= self.slow_probability <= 1.0:
            raise ConfigError("slow probability must be in [0, 1]", key="slow_probability")
        if self.slow_factor < 1.0:
            raise ConfigError("slow factor must be >= 1", key="slow_factor")
        self._rng = np.random.default_rng(self.seed)

    @classmethod
    def from_throughput(cls, inferences_per_s: float, **kwargs: float) -> LatencyModel:
        """Latency of a DUT doing ``inferences_per_s`` (e.g. 23.0 for the kws01 reference)."""
        if not inferences_per_s > 0:
            raise ConfigError(f"throughput must be > 0, got {inferences_per_s}", key="throughput")
        return cls(latency_us=1e6 / inferences_per_s, **kwargs)  # type: ignore[arg-type]

    def total_us(self, n: int) -> int:
        """Simulated µs for ``n`` back-to-back inferences (≥ 1 µs each)."""
        if n <= 0:
            return 0
        total = n * self.latency_us
        if self.jitter_us:
            total += float(self._rng.normal()) * self.jitter_us * math.sqrt(n)
        if self.slow_probability:
            slow = int(self._rng.binomial(n, self.slow_probability))
            total += slow * (self.slow_factor - 1.0) * self.latency_us
        return max(n, round(total))
