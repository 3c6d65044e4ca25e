"""Export an all-FULLY_CONNECTED int8 ``.tflite`` (ad01) as C source for the C runtime.

Owns the conversion model file → ``fc_model_t`` (``models/ad01/fc_int8.h``): int8 weights,
int32 biases, and the per-layer requantisation parameters computed exactly as TFLite does
(``GetQuantizedConvolutionMultipler`` in double from the float32 scales, ``QuantizeMultiplier``
with ``frexp`` and round-half-away, ``CalculateActivationRangeQuantized`` for the fused
activation). The graph structure and fused activations are read from the flatbuffer with a
minimal reader; tensor data and quantisation come from the TFLite interpreter.

Usage: ``python -m tinyperf.firmware_interface.export_fc MODEL.tflite -o ad01_model_data.c``
"""

from __future__ import annotations

import argparse
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.reference_models.runtime import load_interpreter

_FC_BUILTIN = 9  # BuiltinOperator.FULLY_CONNECTED
_ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}


class ExportError(ValueError):
    """The model is not something this exporter can turn into fc_model_t."""


# -- a minimal flatbuffer reader (only what the TFLite schema walk below needs) -------------


class _Table:
    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf, self.pos = buf, pos
        vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self._vt_size = struct.unpack_from("<H", buf, vtable)[0]
        self._vtable = vtable

    def _field(self, index: int) -> int | None:
        slot = 4 + 2 * index
        if slot >= self._vt_size:
            return None
        off = struct.unpack_from("<H", self.buf, self._vtable + slot)[0]
        return self.pos + off if off else None

    def scalar(self, index: int, fmt: str, default: int = 0) -> int:
        at = self._field(index)
        return default if at is None else struct.unpack_from("<" + fmt, self.buf, at)[0]

    def table(self, index: int) -> _Table | None:
        at = self._field(index)
        if at is None:
            return None
        return _Table(self.buf, at + struct.unpack_from("<I", self.buf, at)[0])

    def _vector(self, index: int) -> tuple[int, int]:
        at = self._field(index)
        if at is None:
            return 0, 0
        start = at + struct.unpack_from("<I", self.buf, at)[0]
        return start + 4, struct.unpack_from("<I", self.buf, start)[0]

    def tables(self, index: int) -> list[_Table]:
        start, n = self._vector(index)
        offsets = (start + 4 * i for i in range(n))
        return [_Table(self.buf, at + struct.unpack_from("<I", self.buf, at)[0]) for at in offsets]

    def ints(self, index: int) -> list[int]:
        start, n = self._vector(index)
        return list(struct.unpack_from(f"<{n}i", self.buf, start)) if n else []


@dataclass(frozen=True)
class Layer:
    """One int8 fully-connected layer in the C runtime's terms."""

    weights: np.ndarray  # int8 (out, in)
    bias: np.ndarray  # int32 (out,)
    input_offset: int
    output_offset: int
    multiplier: int
    shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class FcModel:
    layers: list[Layer]
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite ``QuantizeMultiplier``: (Q31 multiplier, shift) with ``real = m * 2^shift``."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = math.floor(q * (1 << 31) + 0.5)  # std::round, q > 0
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise ExportError(f"multiplier {real} out of range")
    return q_fixed, shift


def _quantize_f32(value: float, scale: float, zero_point: int) -> int:
    scaled = float(np.float32(value) / np.float32(scale))
    rounded = math.floor(abs(scaled) + 0.5)  # std::round: half away from zero
    return zero_point + (rounded if scaled >= 0 else -rounded)


def activation_range(kind: str, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite ``CalculateActivationRangeQuantized`` for int8."""
    lo, hi = -128, 127
    if kind == "RELU":
        return max(lo, _quantize_f32(0.0, scale, zero_point)), hi
    if kind == "RELU6":
        return (max(lo, _quantize_f32(0.0, scale, zero_point)),
                min(hi, _quantize_f32(6.0, scale, zero_point)))
    if kind == "RELU_N1_TO_1":
        return (max(lo, _quantize_f32(-1.0, scale, zero_point)),
                min(hi, _quantize_f32(1.0, scale, zero_point)))
    return lo, hi


def _quant(details: dict[str, Any]) -> tuple[float, int]:
    q = details["quantization_parameters"]
    if len(q["scales"]) != 1:
        raise ExportError(f"{details['name']}: only per-tensor quantisation is supported")
    return float(q["scales"][0]), int(q["zero_points"][0])


def read_model(path: str | Path) -> FcModel:
    """Read a chain of int8 FULLY_CONNECTED ops from ``path``."""
    buf = Path(path).read_bytes()
    model = _Table(buf, struct.unpack_from("<I", buf, 0)[0])
    codes = [max(c.scalar(0, "b"), c.scalar(3, "i")) for c in model.tables(1)]
    graph = model.tables(2)[0]
    interp = load_interpreter(path)
    details = {d["index"]: d for d in interp.get_tensor_details()}
    layers = []
    for op in graph.tables(3):
        if codes[op.scalar(0, "I")] != _FC_BUILTIN:
            raise ExportError("only FULLY_CONNECTED operators are supported")
        src, weights, bias = op.ints(1)
        (dst,) = op.ints(2)
        options = op.table(4)
        act = _ACTIVATIONS.get(options.scalar(0, "b") if options else 0)
        if act is None:
            raise ExportError("unsupported fused activation")
        (s_in, z_in), (s_w, z_w), (s_out, z_out) = (_quant(details[i]) for i in (src, weights, dst))
        if z_w != 0 or details[weights]["dtype"] != np.int8:
            raise ExportError("weights must be symmetric int8")
        real = (float(s_in) * float(s_w)) / float(s_out)
        multiplier, shift = quantize_multiplier(real)
        act_min, act_max = activation_range(act, s_out, z_out)
        layers.append(Layer(np.asarray(interp.get_tensor(weights), dtype=np.int8),
                            np.asarray(interp.get_tensor(bias), dtype=np.int32),
                            -z_in, z_out, multiplier, shift, act_min, act_max))
    first_in = _quant(details[graph.ints(1)[0]])
    last_out = _quant(details[graph.ints(2)[0]])
    return FcModel(layers, first_in[0], first_in[1], last_out[0], last_out[1])


def _c_array(ctype: str, name: str, values: np.ndarray) -> str:
    flat = [str(int(v)) for v in values.reshape(-1)]
    rows = [", ".join(flat[i:i + 24]) for i in range(0, len(flat), 24)]
    return f"static const {ctype} {name}[{len(flat)}] = {{\n    " + ",\n    ".join(rows) + "\n};\n"


#: C names of the requantisation variants (fc_int8.h explains which TFLite build does which).
ROUNDING = {"double": "FC_ROUNDING_DOUBLE", "single": "FC_ROUNDING_SINGLE",
            "ties-up": "FC_ROUNDING_DOUBLE_TIES_UP"}
#: Default: what the TFLite interpreter's builtin op computes on x86, so the firmware prints
#: exactly tinyperf.reference_models.dut_outputs' values (and the host evaluation's AUC).
DEFAULT_ROUNDING = "ties-up"


def to_c(model: FcModel, symbol: str, source: str, rounding: str = DEFAULT_ROUNDING) -> str:
    """C source defining ``const fc_model_t {symbol}``."""
    parts = [f"/* Generated by firmware_interface/export_fc.py from {source}; do not edit. */\n",
             '#include "fc_int8.h"\n\n']
    for i, layer in enumerate(model.layers):
        parts.append(_c_array("int8_t", f"weights_{i}", layer.weights))
        parts.append(_c_array("int32_t", f"bias_{i}", layer.bias))
    parts.append(f"\nstatic const fc_layer_t layers[{len(model.layers)}] = {{\n")
    for i, layer in enumerate(model.layers):
        out_n, in_n = layer.weights.shape
        parts.append(f"    {{{in_n}, {out_n}, weights_{i}, bias_{i}, {layer.input_offset}, "
                     f"{layer.output_offset}, {layer.multiplier}, {layer.shift}, "
                     f"{layer.act_min}, {layer.act_max}}},\n")
    parts.append("};\n\n")
    parts.append(f"const fc_model_t {symbol} = {{\n    {len(model.layers)}, layers,\n"
                 f"    {float(model.input_scale)!r}f, {model.input_zero_point},\n"
                 f"    {float(model.output_scale)!r}f, {model.output_zero_point},\n"
                 f"    {ROUNDING[rounding]},\n}};\n")
    return "".join(parts)


def export_cli(argv: list[str] | None, description: str, symbol: str,
               read: Any, render: Any) -> int:
    """``python -m firmware_interface.export_* MODEL.tflite -o FILE.c`` for an exporter whose
    ``read(path)`` parses the model and ``render(model, symbol, source, rounding)`` emits C."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("tflite", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--symbol", default=symbol)
    parser.add_argument("--rounding", choices=sorted(ROUNDING), default=DEFAULT_ROUNDING)
    args = parser.parse_args(argv)
    model = read(args.tflite)
    args.output.write_text(render(model, args.symbol, args.tflite.name, args.rounding))
    return 0


def main(argv: list[str] | None = None) -> int:
    return export_cli(argv, __doc__.splitlines()[0], "ad01_model", read_model, to_c)


if __name__ == "__main__":
    raise SystemExit(main())
