"""The analysis window both feature pipelines use."""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=2)
def periodic_hann(length: int) -> np.ndarray:
    """Periodic Hann window, ``w[n] = 0.5 - 0.5 cos(2 pi n / length)`` (read-only, cached)."""
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)
    window.setflags(write=False)
    return window
