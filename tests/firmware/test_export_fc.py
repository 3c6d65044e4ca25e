"""Pure parts of the exporter: TFLite's multiplier and activation-range arithmetic."""

from __future__ import annotations

import math

import pytest
from tinyperf.firmware_interface.export_fc import activation_range, quantize_multiplier


@pytest.mark.parametrize("real", [0.5, 0.25, 1.0, 0.000123, 0.999999999, 1e-5, 0.7071])
def test_quantize_multiplier_reconstructs_the_real_value(real: float) -> None:
    m, shift = quantize_multiplier(real)
    assert (1 << 30) <= m < (1 << 31)
    assert math.isclose(m * 2.0 ** (shift - 31), real, rel_tol=2 ** -30)


def test_quantize_multiplier_edge_cases() -> None:
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    # q rounds up to 2^31: halved and the shift bumped, as in TFLite
    assert quantize_multiplier(1.0 - 2 ** -40) == (1 << 30, 1)
    assert quantize_multiplier(2.0 ** -40) == (0, 0)  # shift < -31 flushes to zero


@pytest.mark.parametrize("kind,scale,zp,expected", [
    ("NONE", 0.1, 5, (-128, 127)),
    ("RELU", 0.1, 5, (5, 127)),
    ("RELU", 0.05, -128, (-128, 127)),
    ("RELU6", 0.1, -128, (-128, -68)),
    ("RELU_N1_TO_1", 0.01, 0, (-100, 100)),
])
def test_activation_range(kind: str, scale: float, zp: int, expected: tuple[int, int]) -> None:
    assert activation_range(kind, scale, zp) == expected
