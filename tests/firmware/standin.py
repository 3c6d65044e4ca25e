"""Python twin of the host port's stand-in model (ports/posix/th_model_standin.c).

Output k is the mean of the input bytes at positions i with i % outputs == k, divided by
255: deterministic, input-dependent, and computed with the same double operations as C.
"""

from __future__ import annotations

from collections.abc import Callable


def standin_values(tensor: bytes, outputs: int) -> list[float]:
    """The values the stand-in prints for one input tensor."""
    values = []
    for k in range(outputs):
        part = tensor[k::outputs]
        values.append(sum(part) / (255.0 * len(part)) if part else 0.0)
    return values


def standin_infer_fn(outputs: int) -> Callable[[bytes], list[float]]:
    """An ``infer_fn`` for ``VirtualDut`` that computes what the C stand-in prints."""
    return lambda tensor: standin_values(tensor, outputs)
