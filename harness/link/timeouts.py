"""Deadlines passed down the call chain instead of scattered sleeps and timeouts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Deadline:
    """A point in monotonic time. ``remaining`` never goes below zero."""

    seconds: float
    start: float = field(default_factory=time.monotonic)

    @property
    def expires_at(self) -> float:
        return self.start + self.seconds

    @property
    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.expires_at

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start
