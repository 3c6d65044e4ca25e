"""Export the int8 DS-CNN keyword-spotting ``.tflite`` (kws01) as C source for the C runtime.

Owns the conversion model file → ``kws01_model_t`` (``models/kws01/kws01_model.h``): the
graph must be CONV_2D, then (DEPTHWISE_CONV_2D, CONV_2D) blocks, AVERAGE_POOL_2D, RESHAPE,
FULLY_CONNECTED and SOFTMAX, all int8, with a 49x10x1 input and 12 outputs; anything else is
an :class:`ExportError` naming the op and the field. The parameters are computed as TFLite
prepares them, so the C kernels reproduce the interpreter's builtin kernels bit for bit:

- conv / depthwise: per-channel ``QuantizeMultiplier`` of ``double(in) * double(w[c]) /
  double(out)`` (``PopulateConvolutionQuantizationParams``), SAME padding as
  ``ComputePaddingWithOffset`` (the odd pixel goes to the bottom/right);
- fully connected: the per-tensor multiplier of :mod:`tinyperf.firmware_interface.export_fc`;
- softmax: the builtin int8 kernel on x86 is the float look-up-table one
  (``PopulateSoftmaxLookupTable``): ``table[d] = expf(-input_scale * beta * d)`` for the
  distance ``d = max - x`` in 0..255, normalised in float and rounded. The table is computed
  here, once, so every target sees the same 256 floats whatever its libm's ``expf`` does.

The graph is read with :mod:`tinyperf.reference_models.tflite_info` (no runtime needed).

Usage:
``python -m tinyperf.firmware_interface.export_kws kws_ref_model.tflite -o kws01_model_data.c``
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tinyperf.firmware_interface.export_fc import (
    DEFAULT_ROUNDING,
    ROUNDING,
    ExportError,
    Layer,
    _c_array,
    activation_range,
    export_cli,
    quantize_multiplier,
)
from tinyperf.formats.errors import ModelError
from tinyperf.reference_models import tflite_info
from tinyperf.reference_models.tflite_info import ModelInfo, Operator, Tensor

#: The kws01 DUT contract (reference_models spec 1.4 / 1.9): 490 int8 in, 12 int8 out.
INPUT_SHAPE = (1, 49, 10, 1)
OUTPUTS = 12
SOFTMAX_TABLE = 256  # one entry per int8 distance max - x


@dataclass(frozen=True)
class ConvLayer:
    """A CONV_2D or depth-multiplier-1 DEPTHWISE_CONV_2D in the C runtime's terms (NHWC)."""

    depthwise: bool
    in_shape: tuple[int, int, int]  # h, w, c
    out_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int]  # top, left
    weights: np.ndarray  # int8: conv (out, kh, kw, in); depthwise (kh, kw, c)
    bias: np.ndarray  # int32 (out,)
    input_offset: int
    output_offset: int
    multipliers: np.ndarray  # int32 (out,)
    shifts: np.ndarray  # int32 (out,)
    act_min: int
    act_max: int


@dataclass(frozen=True)
class PoolLayer:
    """AVERAGE_POOL_2D, VALID padding."""

    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    filter: tuple[int, int]
    stride: tuple[int, int]
    act_min: int
    act_max: int


@dataclass(frozen=True)
class SoftmaxLayer:
    exp_table: np.ndarray  # float32 (256,): expf(-input_scale * beta * d)
    output_scale: float  # float32 value
    output_zero_point: int


@dataclass(frozen=True)
class KwsModel:
    convs: list[ConvLayer]
    pool: PoolLayer
    fc: Layer
    softmax: SoftmaxLayer
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int


class _Graph:
    """Checked access to one model's tensors, with errors naming the file and op."""

    def __init__(self, info: ModelInfo) -> None:
        self.info = info

    def fail(self, op: Operator | None, message: str) -> ExportError:
        where = f" op {op.index} ({op.op})" if op is not None else ""
        return ExportError(f"{self.info.path}:{where}: {message}")

    def tensor(self, op: Operator, index: int, role: str, dtype: str = "int8") -> Tensor:
        t = self.info.tensors[index]
        if t.dtype != dtype:
            raise self.fail(op, f"{role} tensor '{t.name}' is {t.dtype}, expected {dtype}")
        if t.quantization is None and dtype != "int32":
            raise self.fail(op, f"{role} tensor '{t.name}' is not quantised")
        return t

    def per_tensor(self, op: Operator, t: Tensor, role: str) -> tuple[float, int]:
        q = t.quantization
        if q is None or len(q.scale) != 1:
            raise self.fail(op, f"{role} tensor '{t.name}' must be per-tensor quantised")
        return float(np.float32(q.scale[0])), int(q.zero_point[0])

    def hwc(self, op: Operator, t: Tensor, role: str) -> tuple[int, int, int]:
        if len(t.shape) != 4 or t.shape[0] != 1:
            raise self.fail(op, f"{role} shape {t.shape} is not 1xHxWxC")
        return int(t.shape[1]), int(t.shape[2]), int(t.shape[3])

    def constant(self, op: Operator, index: int, role: str) -> np.ndarray:
        t = self.info.tensors[index]
        if not t.constant:
            raise self.fail(op, f"{role} tensor '{t.name}' is not constant")
        return tflite_info.constant_values(self.info, index)


def _same_padding(size: int, kernel: int, stride: int, out: int) -> int:
    """TFLite ComputePaddingWithOffset for SAME: the leading pad (odd extra goes last)."""
    return max((out - 1) * stride + kernel - size, 0) // 2


def _conv(g: _Graph, op: Operator) -> ConvLayer:
    depthwise = op.op == "DEPTHWISE_CONV_2D"
    opts = op.options
    if len(op.inputs) != 3 or op.inputs[2] < 0:
        raise g.fail(op, "needs input, weights and bias")
    src = g.tensor(op, op.inputs[0], "input")
    w_t = g.tensor(op, op.inputs[1], "weights")
    g.tensor(op, op.inputs[2], "bias", "int32")
    dst = g.tensor(op, op.outputs[0], "output")
    if opts.get("dilation_h_factor", 1) != 1 or opts.get("dilation_w_factor", 1) != 1:
        raise g.fail(op, "dilation must be 1")
    if depthwise and opts.get("depth_multiplier") != 1:
        raise g.fail(op, f"depth_multiplier {opts.get('depth_multiplier')} (only 1 supported)")
    act = opts.get("fused_activation_function")
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise g.fail(op, f"unsupported fused activation {act}")
    (s_in, z_in), (s_out, z_out) = g.per_tensor(op, src, "input"), g.per_tensor(op, dst, "output")
    in_shape, out_shape = g.hwc(op, src, "input"), g.hwc(op, dst, "output")
    weights = g.constant(op, op.inputs[1], "weights").astype(np.int8)
    bias = g.constant(op, op.inputs[2], "bias").astype(np.int32)
    out_c = out_shape[2]
    if depthwise:
        if weights.ndim != 4 or weights.shape[0] != 1 or weights.shape[3] != out_c \
                or in_shape[2] != out_c:
            raise g.fail(op, f"depthwise weights {weights.shape} do not match channels {out_c}")
        kernel = (int(weights.shape[1]), int(weights.shape[2]))
        weights = weights[0]
    else:
        if weights.ndim != 4 or weights.shape[0] != out_c or weights.shape[3] != in_shape[2]:
            raise g.fail(op, f"weights {weights.shape} do not match {in_shape} -> {out_shape}")
        kernel = (int(weights.shape[1]), int(weights.shape[2]))
    if bias.shape != (out_c,):
        raise g.fail(op, f"bias shape {bias.shape}, expected ({out_c},)")
    q = w_t.quantization
    assert q is not None  # checked by g.tensor
    if len(q.scale) != out_c or any(z != 0 for z in q.zero_point):
        raise g.fail(op, "weights must be symmetric per-channel int8 (one scale per output "
                         f"channel, zero point 0); got {len(q.scale)} scales")
    stride = (int(opts["stride_h"]), int(opts["stride_w"]))
    if opts["padding"] == "SAME":
        expect = (-(-in_shape[0] // stride[0]), -(-in_shape[1] // stride[1]))
        pad = (_same_padding(in_shape[0], kernel[0], stride[0], expect[0]),
               _same_padding(in_shape[1], kernel[1], stride[1], expect[1]))
    else:
        expect = ((in_shape[0] - kernel[0]) // stride[0] + 1,
                  (in_shape[1] - kernel[1]) // stride[1] + 1)
        pad = (0, 0)
    if expect != out_shape[:2]:
        raise g.fail(op, f"output {out_shape} does not follow from {in_shape}, kernel {kernel}, "
                         f"stride {stride}, {opts['padding']}")
    mults, shifts = [], []
    for s_w in q.scale:
        # PopulateConvolutionQuantizationParams: every factor widened to double first
        m, s = quantize_multiplier(float(s_in) * float(np.float32(s_w)) / float(s_out))
        mults.append(m)
        shifts.append(s)
    act_min, act_max = activation_range(act, s_out, z_out)
    return ConvLayer(depthwise, in_shape, out_shape, kernel, stride, pad, weights, bias,
                     -z_in, z_out, np.array(mults, dtype=np.int32),
                     np.array(shifts, dtype=np.int32), act_min, act_max)


def _pool(g: _Graph, op: Operator) -> PoolLayer:
    opts = op.options
    src, dst = g.tensor(op, op.inputs[0], "input"), g.tensor(op, op.outputs[0], "output")
    if g.per_tensor(op, src, "input") != g.per_tensor(op, dst, "output"):
        raise g.fail(op, "input and output quantisation differ (TFLite requires them equal)")
    if opts["padding"] != "VALID":
        raise g.fail(op, f"padding {opts['padding']} (only VALID supported)")
    in_shape, out_shape = g.hwc(op, src, "input"), g.hwc(op, dst, "output")
    filt = (int(opts["filter_height"]), int(opts["filter_width"]))
    stride = (int(opts["stride_h"]), int(opts["stride_w"]))
    expect = ((in_shape[0] - filt[0]) // stride[0] + 1, (in_shape[1] - filt[1]) // stride[1] + 1,
              in_shape[2])
    if expect != out_shape:
        raise g.fail(op, f"output {out_shape} does not follow from {in_shape}, filter {filt}")
    act = opts.get("fused_activation_function")
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise g.fail(op, f"unsupported fused activation {act}")
    s_out, z_out = g.per_tensor(op, dst, "output")
    return PoolLayer(in_shape, out_shape, filt, stride, *activation_range(act, s_out, z_out))


def _fc(g: _Graph, op: Operator) -> Layer:
    src = g.tensor(op, op.inputs[0], "input")
    w_t = g.tensor(op, op.inputs[1], "weights")
    dst = g.tensor(op, op.outputs[0], "output")
    act = op.options.get("fused_activation_function")
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise g.fail(op, f"unsupported fused activation {act}")
    (s_in, z_in), (s_w, z_w), (s_out, z_out) = (g.per_tensor(op, src, "input"),
                                                g.per_tensor(op, w_t, "weights"),
                                                g.per_tensor(op, dst, "output"))
    if z_w != 0:
        raise g.fail(op, "weights must be symmetric int8")
    weights = g.constant(op, op.inputs[1], "weights").astype(np.int8)
    if weights.ndim != 2:
        raise g.fail(op, f"weights shape {weights.shape} is not (out, in)")
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        g.tensor(op, op.inputs[2], "bias", "int32")
        bias = g.constant(op, op.inputs[2], "bias").astype(np.int32)
    else:
        bias = np.zeros(weights.shape[0], dtype=np.int32)
    multiplier, shift = quantize_multiplier(float(s_in) * float(s_w) / float(s_out))
    return Layer(weights, bias, -z_in, z_out, multiplier, shift,
                 *activation_range(act, s_out, z_out))


def softmax_table(input_scale: float, beta: float) -> np.ndarray:
    """``expf(-input_scale * beta * d)`` for d = 0..255, as TFLite's float32 maths computes it.

    The product is float32 (``scale * val`` in PopulateSoftmaxLookupTable); exp is evaluated
    in double and rounded once to float32, i.e. correctly rounded (glibc's expf agrees).
    """
    scale = np.float32(-np.float32(input_scale) * np.float32(beta))
    args = scale * np.arange(SOFTMAX_TABLE, dtype=np.float32)
    return np.array([math.exp(float(a)) for a in args], dtype=np.float64).astype(np.float32)


def _softmax(g: _Graph, op: Operator) -> SoftmaxLayer:
    src, dst = g.tensor(op, op.inputs[0], "input"), g.tensor(op, op.outputs[0], "output")
    s_in, _ = g.per_tensor(op, src, "input")
    s_out, z_out = g.per_tensor(op, dst, "output")
    if s_out != 1.0 / 256 or z_out != -128:
        raise g.fail(op, f"int8 softmax output must be scale 1/256, zero point -128 "
                         f"(got {s_out}, {z_out})")
    return SoftmaxLayer(softmax_table(s_in, float(op.options["beta"])), s_out, z_out)


def read_model(path: str | Path) -> KwsModel:
    """Read and check the kws01 DS-CNN graph at ``path``; ExportError explains any mismatch."""
    try:
        info = tflite_info.read_model(path)
    except ModelError as exc:
        raise ExportError(str(exc)) from exc
    g = _Graph(info)
    ops = list(info.operators)
    names = [op.op for op in ops]
    blocks = (len(ops) - 5) // 2
    expected = (["CONV_2D"] + ["DEPTHWISE_CONV_2D", "CONV_2D"] * blocks
                + ["AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"])
    if len(ops) < 5 or names != expected:
        raise g.fail(None, "not a DS-CNN keyword-spotting graph: ops are " + ", ".join(names)
                     + "; expected CONV_2D, (DEPTHWISE_CONV_2D, CONV_2D)*, AVERAGE_POOL_2D, "
                       "RESHAPE, FULLY_CONNECTED, SOFTMAX")
    if len(info.inputs) != 1 or len(info.outputs) != 1:
        raise g.fail(None, f"{len(info.inputs)} inputs / {len(info.outputs)} outputs, expected 1/1")
    first, last = info.tensors[info.inputs[0]], info.tensors[info.outputs[0]]
    if first.shape != INPUT_SHAPE or first.dtype != "int8":
        raise g.fail(None, f"input '{first.name}' is {first.dtype} {first.shape}, expected "
                           f"int8 {INPUT_SHAPE} (the 490 kws01 bytes)")
    if last.shape != (1, OUTPUTS) or last.dtype != "int8":
        raise g.fail(None, f"output '{last.name}' is {last.dtype} {last.shape}, "
                           f"expected int8 (1, {OUTPUTS})")
    # every op must read the previous op's output: a chain, no branches
    for prev, op in itertools.pairwise(ops):
        if op.inputs[0] != prev.outputs[0]:
            raise g.fail(op, "does not consume the previous op's output (not a chain)")
    if ops[0].inputs[0] != info.inputs[0] or ops[-1].outputs[0] != info.outputs[0]:
        raise g.fail(None, "the op chain does not run from the model input to its output")
    convs = [_conv(g, op) for op in ops[:-4]]
    pool = _pool(g, ops[-4])
    if info.tensors[ops[-3].outputs[0]].elements != pool.out_shape[0] * pool.out_shape[1] \
            * pool.out_shape[2] or pool.out_shape[:2] != (1, 1):
        raise g.fail(ops[-3], "RESHAPE must flatten a 1x1xC pooled map")
    fc = _fc(g, ops[-2])
    if fc.weights.shape[1] != pool.out_shape[2] or fc.weights.shape[0] != OUTPUTS:
        raise g.fail(ops[-2], f"weights {fc.weights.shape} do not map {pool.out_shape[2]} "
                              f"features to {OUTPUTS} classes")
    softmax = _softmax(g, ops[-1])
    s_in, z_in = g.per_tensor(ops[0], first, "input")
    return KwsModel(convs, pool, fc, softmax, s_in, z_in, softmax.output_scale,
                    softmax.output_zero_point)


def _c_floats(name: str, values: np.ndarray) -> str:
    # hex float literals: exact in C99 whatever the compiler's decimal conversion does
    flat = [float(v).hex() + "f" for v in np.asarray(values, dtype=np.float32).reshape(-1)]
    rows = [", ".join(flat[i:i + 4]) for i in range(0, len(flat), 4)]
    return f"static const float {name}[{len(flat)}] = {{\n    " + ",\n    ".join(rows) + "\n};\n"


def to_c(model: KwsModel, symbol: str, source: str, rounding: str = DEFAULT_ROUNDING) -> str:
    """C source defining ``const kws01_model_t {symbol}``."""
    parts = [f"/* Generated by firmware_interface/export_kws.py from {source}; do not edit. */\n",
             '#include "kws01_model.h"\n\n']
    for i, c in enumerate(model.convs):
        parts += [_c_array("int8_t", f"conv_w_{i}", c.weights),
                  _c_array("int32_t", f"conv_b_{i}", c.bias),
                  _c_array("int32_t", f"conv_m_{i}", c.multipliers),
                  _c_array("int32_t", f"conv_s_{i}", c.shifts)]
    fc = model.fc
    parts += [_c_array("int8_t", "fc_w", fc.weights), _c_array("int32_t", "fc_b", fc.bias),
              _c_floats("softmax_exp", model.softmax.exp_table)]
    parts.append(f"\nstatic const conv_layer_t convs[{len(model.convs)}] = {{\n")
    for i, c in enumerate(model.convs):
        dims = ", ".join(str(v) for v in (*c.in_shape, *c.out_shape, *c.kernel, *c.stride, *c.pad))
        parts.append(f"    {{{int(c.depthwise)}, {dims},\n     conv_w_{i}, conv_b_{i}, "
                     f"{c.input_offset}, {c.output_offset}, conv_m_{i}, conv_s_{i}, "
                     f"{c.act_min}, {c.act_max}}},\n")
    p = model.pool
    pool_dims = ", ".join(str(v) for v in (*p.in_shape, *p.out_shape, *p.filter, *p.stride))
    out_n, in_n = fc.weights.shape
    parts.append("};\n\n")
    parts.append(f"const kws01_model_t {symbol} = {{\n"
                 f"    {len(model.convs)}, convs,\n"
                 f"    {{{pool_dims}, {p.act_min}, {p.act_max}}},\n"
                 f"    {{{in_n}, {out_n}, fc_w, fc_b, {fc.input_offset}, {fc.output_offset}, "
                 f"{fc.multiplier}, {fc.shift}, {fc.act_min}, {fc.act_max}}},\n"
                 f"    {{softmax_exp, {float(model.softmax.output_scale).hex()}f, "
                 f"{model.softmax.output_zero_point}}},\n"
                 f"    {float(model.input_scale)!r}f, {model.input_zero_point},\n"
                 f"    {float(model.output_scale).hex()}f, {model.output_zero_point},\n"
                 f"    {ROUNDING[rounding]},\n}};\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    return export_cli(argv, __doc__.splitlines()[0], "kws01_model", read_model, to_c)


if __name__ == "__main__":
    raise SystemExit(main())
