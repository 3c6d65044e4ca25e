"""What a reference DUT prints in ``m-results`` for the bytes it was sent (pure computation).

Owns the firmware's input conversion (``th_load_tensor``) and result computation
(``th_results``) for kws01, ad01 (reference_models spec 1.9 and 2.9), ic01 and vww01 (ic_vww
spec 2.3 and 3.1):

- kws01: the 490 bytes are the int8 input tensor verbatim; the 12 int8 softmax outputs are
  dequantized and printed with 3 decimals *truncated* (not rounded).
- ad01: the 2560 bytes are 640 float32 LE values, quantized with C ``round()`` (half away
  from zero) and clamped; the result is one value, the mean squared error between the
  dequantized output and the *original* float input, printed with ``%0.3f`` (rounded).
- ic01 / vww01: the 3,072 / 27,648 bytes are raw uint8 HWC RGB pixels; the port converts
  each to int8 as ``byte - 128`` (= ``byte XOR 0x80``); the 10 / 2 int8 softmax outputs are
  dequantized, ``(q + 128) / 256``, and printed with ``%0.3f`` (rounded; vww01's port adds a
  comma after every value, which is the printer's business, not this module's).

Used by the virtual DUT and by host-side evaluation, so both produce the numbers a
reference board would print. The model argument is anything shaped like
:class:`tinyperf.reference_models.runtime.TfliteModel` (``input``/``output`` info, ``invoke``,
``invoke_batch``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from tinyperf.formats.errors import ModelError

KWS01_INPUT_BYTES = 490
AD01_WINDOW_BYTES = 2560
AD01_STRIDE_BYTES = 512
IC01_INPUT_BYTES = 32 * 32 * 3
VWW01_INPUT_BYTES = 96 * 96 * 3
RESULTS_DECIMALS = 3

ResultsFn = Callable[[bytes], list[float]]


class _Quant(Protocol):
    scale: float
    zero_point: int


class Model(Protocol):
    """The part of ``TfliteModel`` this module needs."""

    input: Any
    output: Any

    def invoke(self, x: Any) -> np.ndarray: ...

    def invoke_batch(self, xs: Any) -> np.ndarray: ...


def truncate_decimals(value: float, decimals: int = RESULTS_DECIMALS) -> float:
    """Cut ``value`` (≥ 0) to ``decimals`` digits the way the kws firmware prints it.

    The firmware prints the digits ⌊10p⌋, ⌊100p⌋ mod 10, … so 0.0078125 shows as 0.007.
    """
    factor = 10**decimals
    return math.floor(value * factor) / factor


def dequantize(q: np.ndarray, quant: _Quant) -> np.ndarray:
    """Real values of int8 data: ``(q - zero_point) * scale`` in float64."""
    return (q.astype(np.float64) - quant.zero_point) * quant.scale


def quantize_c_round(x: np.ndarray, quant: _Quant) -> np.ndarray:
    """int8 of float32 data as the ad01 firmware does it: ``clamp(round(v/s) + zp)``.

    The division is float32 (C ``float / float``); ``round`` is C ``round()``: half away
    from zero, which numpy's ``round`` (half to even) is not.
    """
    scaled = (x.astype(np.float32) / np.float32(quant.scale)).astype(np.float64)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return np.clip(rounded + quant.zero_point, -128, 127).astype(np.int8)


# -- kws01 ----------------------------------------------------------------------------------


def kws01_values(output_q: np.ndarray, quant: _Quant) -> list[float]:
    """Printed values for one raw int8 output row: dequantized and truncated to 3 decimals."""
    return [truncate_decimals(float(p)) for p in dequantize(np.asarray(output_q), quant)]


def kws01_results(model: Model, raw490: bytes) -> list[float]:
    """The 12 values a reference kws01 DUT prints for the 490 int8 input bytes."""
    if len(raw490) != KWS01_INPUT_BYTES:
        raise ModelError(f"kws01 input must be {KWS01_INPUT_BYTES} bytes, got {len(raw490)}")
    x = np.frombuffer(raw490, dtype=np.int8)
    return kws01_values(model.invoke(x), model.output)


# -- ad01 -----------------------------------------------------------------------------------


def _ad01_floats(raw: bytes) -> np.ndarray:
    if len(raw) % AD01_WINDOW_BYTES:
        raise ModelError(
            f"ad01 input must be a multiple of {AD01_WINDOW_BYTES} bytes, got {len(raw)}"
        )
    return np.frombuffer(raw, dtype="<f4").reshape(-1, AD01_WINDOW_BYTES // 4)


def ad01_scores(model: Model, windows: np.ndarray) -> np.ndarray:
    """Unrounded MSE per window for an ``(n, 640)`` float32 array, in one batched invoke."""
    q = quantize_c_round(windows, model.input)
    out = dequantize(model.invoke_batch(q), model.output)
    return np.mean((out - windows.astype(np.float64)) ** 2, axis=1)


def ad01_results(model: Model, raw2560: bytes) -> list[float]:
    """The single (unrounded) value a reference ad01 DUT prints, as ``%0.3f``, for one window."""
    if len(raw2560) != AD01_WINDOW_BYTES:
        raise ModelError(f"ad01 input must be {AD01_WINDOW_BYTES} bytes, got {len(raw2560)}")
    window = _ad01_floats(raw2560)[0]
    q = quantize_c_round(window, model.input)
    out = dequantize(np.asarray(model.invoke(q)).reshape(-1), model.output)
    return [float(np.mean((out - window.astype(np.float64)) ** 2))]


def ad01_file_windows(
    data: bytes, window: int = AD01_WINDOW_BYTES, stride: int = AD01_STRIDE_BYTES
) -> list[bytes]:
    """Cut one ``*_hist_librosa.bin`` into the runner's windows (protocol spec 4.5)."""
    if len(data) < window:
        return []
    return [data[k : k + window] for k in range(0, len(data) - window + 1, stride)]


def ad01_file_scores(
    model: Model, data: bytes, window: int = AD01_WINDOW_BYTES, stride: int = AD01_STRIDE_BYTES
) -> np.ndarray:
    """Unrounded per-window scores of a whole file (batched); round to 3 for printed values."""
    parts = ad01_file_windows(data, window, stride)
    if not parts:
        return np.empty(0)
    return ad01_scores(model, _ad01_floats(b"".join(parts)))


# -- ic01 / vww01 ---------------------------------------------------------------------------


def image_bytes_to_int8(raw: bytes) -> np.ndarray:
    """The reference ic/vww ports' ``th_load_tensor``: int8 = byte - 128 for every byte."""
    return (np.frombuffer(raw, dtype=np.uint8) ^ 0x80).view(np.int8)


def softmax_values(output_q: np.ndarray, quant: _Quant) -> list[float]:
    """Printed values (before ``%0.3f``) of one int8 softmax row: exact ``(q - zp)·scale``."""
    return [float(p) for p in dequantize(np.asarray(output_q).reshape(-1), quant)]


def _image_results(model: Model, raw: bytes, expected: int, name: str) -> list[float]:
    if len(raw) != expected:
        raise ModelError(f"{name} input must be {expected} bytes, got {len(raw)}")
    return softmax_values(model.invoke(image_bytes_to_int8(raw)), model.output)


def ic01_results(model: Model, raw3072: bytes) -> list[float]:
    """The 10 values a reference ic01 DUT prints (``%0.3f``) for one 3,072-byte ``.bin``."""
    return _image_results(model, raw3072, IC01_INPUT_BYTES, "ic01")


def vww01_results(model: Model, raw27648: bytes) -> list[float]:
    """The 2 values (notperson, person) a reference vww01 DUT prints for one ``.bin``."""
    return _image_results(model, raw27648, VWW01_INPUT_BYTES, "vww01")


def image_batch_outputs(model: Model, files: Sequence[bytes]) -> np.ndarray:
    """Raw int8 outputs ``(n, classes)`` for many ic/vww ``.bin`` contents (one batch call)."""
    if not files:
        return np.empty((0, *model.output.shape[1:]), dtype=np.int8)
    x = np.stack([image_bytes_to_int8(raw) for raw in files])
    return np.asarray(model.invoke_batch(x))


# -- per-model dispatch ---------------------------------------------------------------------

_RESULTS: dict[str, Callable[[Model, bytes], list[float]]] = {
    "kws_softmax": kws01_results,
    "ad_mse": ad01_results,
    "ic_softmax": ic01_results,
    "vww_softmax": vww01_results,
}


def results_function(kind: str, model: Model) -> ResultsFn:
    """Bind a model to the result computation named in the registry (``dut_results.kind``)."""
    try:
        compute = _RESULTS[kind]
    except KeyError:
        raise ModelError(f"unknown DUT results kind {kind!r}; known: {sorted(_RESULTS)}") from None

    def infer(raw: bytes) -> list[float]:
        return compute(model, raw)

    return infer


def printed_values(values: Sequence[float], decimals: int = RESULTS_DECIMALS) -> list[float]:
    """The numbers a host reads back from ``%0.{decimals}f`` of ``values``."""
    return [float(f"{v:.{decimals}f}") for v in values]
