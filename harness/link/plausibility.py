"""Is a well-formed window believable? Redundancy the protocol itself does not carry.

The protocol has no checksum: one dropped digit in an ``m-lap-us`` line still parses and can
turn a 10.87 s window into 4294.6 s. The host has two independent witnesses of the same
window: the DUT's per-inference time shown by earlier windows, and its own clock between the
arrivals of the two lap lines (scaled by the DUT/host clock ratio of earlier windows). Pure
functions; the DUT client applies them before it learns from a window.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

#: one period of a 32-bit µs counter, seconds (71.6 min)
WRAP_S = (1 << 32) / 1e6
#: the host's clock is a witness only for windows at least this long (arrival jitter)
MIN_HOST_S = 1.0
#: a window judged against the DUT's own per-inference time must be expected this long
MIN_EXPECTED_S = 0.5
#: DUT time vs the time the DUT has shown per inference: outside this factor is a link error
SPEED_FACTOR = 4.0
#: first informative window, no clock ratio known yet: DUT vs host outside this factor
FIRST_RATIO_FACTOR = 8.0
#: later windows: DUT time vs the host's scaled by the earlier clock ratio. Loose on
#: purpose: an emulated DUT (QEMU -icount) keeps DUT time while the host's speed varies
#: with load, and a dropped lap digit is off by far more than this factor
RATIO_FACTOR = 4.0


def lap_wraps(dut_mod_s: float, host_s: float | None, ratio: float | None) -> int:
    """Whole 32-bit counter periods a window lost, judged by the host's clock.

    ``dut_mod_s`` is the lap difference modulo one period. A window the host saw last
    (scaled to DUT time) at least half a period longer than that wrapped that many times.
    """
    if host_s is None or host_s < MIN_HOST_S:
        return 0
    missing = host_s * (ratio or 1.0) - dut_mod_s
    return max(0, round(missing / WRAP_S)) if missing >= WRAP_S / 2 else 0


def window_problem(iterations: int, dut_s: float, host_s: float | None,
                   history: Sequence[float], ratios: Sequence[float]) -> str | None:
    """Why a window's DUT time is not believable, or None.

    ``history`` holds the per-inference times (DUT clock) of earlier accepted windows,
    ``ratios`` the DUT/host clock ratios of earlier informative windows. A window must agree
    with at least half of its history (so one damaged early window cannot condemn every
    later one); with fewer than two earlier windows only the host's clock can object.
    """
    per = dut_s / iterations if iterations else 0.0
    if len(history) >= 2 and iterations * statistics.median(history) >= MIN_EXPECTED_S:
        agree = sum(1 for t in history if t and 1 / SPEED_FACTOR <= per / t <= SPEED_FACTOR)
        if 2 * agree < len(history):
            typical = statistics.median(history)
            return (f"the DUT timed {iterations} inferences at {dut_s:.6g} s "
                    f"({per * 1e3:.4g} ms each), {per / typical:.3g}x the "
                    f"{typical * 1e3:.4g} ms per inference of its earlier windows: a damaged "
                    "m-lap-us line?")
    if host_s is None or host_s < MIN_HOST_S:
        return None
    if ratios:
        ratio = statistics.median(ratios)
        estimate = host_s * ratio
        if not estimate / RATIO_FACTOR <= dut_s <= estimate * RATIO_FACTOR:
            return (f"the DUT timed the window at {dut_s:.6g} s, the host's clock at "
                    f"{host_s:.4g} s, i.e. {estimate:.4g} s of DUT time at the clock ratio of "
                    f"the earlier windows ({ratio:.5g}): a damaged m-lap-us line?")
        return None
    factor = dut_s / host_s
    if not 1 / FIRST_RATIO_FACTOR <= factor <= FIRST_RATIO_FACTOR:
        return (f"the DUT timed the window at {dut_s:.6g} s, the host's clock at "
                f"{host_s:.4g} s ({factor:.3g}x): a damaged m-lap-us line?")
    return None


def speed_outliers(per_inference_s: Sequence[float | None]) -> list[int]:
    """Indexes of windows whose per-inference time is off the median by ``SPEED_FACTOR``.

    The last line of defence for a run whose first window had no witness (no earlier window,
    a host clock that does not follow the DUT's): such a window is never called valid.
    """
    known = [t for t in per_inference_s if t]
    if len(known) < 3:
        return []
    median = statistics.median(known)
    return [i for i, t in enumerate(per_inference_s)
            if t and not 1 / SPEED_FACTOR <= t / median <= SPEED_FACTOR]
