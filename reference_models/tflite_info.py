"""Read a ``.tflite`` file without a runtime: graph, quantization, sizes, MACs and memory.

Owns a small, read-only parser of the TFLite flatbuffer (only the tables tinyperf needs:
``Model``, ``OperatorCode``, ``SubGraph``, ``Tensor``, ``QuantizationParameters``,
``Buffer``, ``Operator`` and the builtin options of the ops the MLPerf Tiny models use) and the
footprint figures derived from it (``tinyperf models info``):

- parameter count = elements of every tensor backed by a non-empty constant buffer;
- constant bytes = bytes of those buffers' data; flash bytes = the file size;
- MACs per inference for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, with the adds of
  AVERAGE_POOL_2D reported separately;
- activation memory: the plain sum of all non-constant tensors, and the **peak planned**
  estimate of a greedy offset planner (the one TFLite Micro uses by default): every
  non-constant tensor lives from the op that writes it (graph inputs: op 0) to the last op
  that reads it (graph outputs: the last op), sizes are rounded up to 16 bytes, tensors are
  placed largest first at the lowest offset that does not overlap a tensor alive at the same
  time, and the peak is the highest end offset. This is reference_models spec §3.1's
  "peak planned" column. It covers tensor data only: TFLM's arena also holds per-tensor
  structs, per-channel quantization buffers and kernel scratch (spec §3.1 "tail").

The parser records the absolute file offsets of buffer data and of the option fields it
reads, so tests and :mod:`reference_models.verify` can patch a copy of a model byte for byte.
Every malformed file raises :class:`harness.errors.ModelError` naming the file.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ModelError

#: Alignment (bytes) of every tensor in the planner, as TFLite Micro's arena.
PLANNER_ALIGNMENT = 16

#: BuiltinOperator codes of the TFLite schema (the ones small models use; others print
#: as ``BUILTIN_<code>``).
BUILTIN_OPS: dict[int, str] = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    5: "DEPTH_TO_SPACE", 6: "DEQUANTIZE", 7: "EMBEDDING_LOOKUP", 8: "FLOOR",
    9: "FULLY_CONNECTED", 11: "L2_NORMALIZATION", 12: "L2_POOL_2D", 14: "LOGISTIC",
    17: "MAX_POOL_2D", 18: "MUL", 19: "RELU", 20: "RELU_N1_TO_1", 21: "RELU6", 22: "RESHAPE",
    23: "RESIZE_BILINEAR", 25: "SOFTMAX", 26: "SPACE_TO_DEPTH", 27: "SVDF", 28: "TANH",
    32: "CUSTOM", 34: "PAD", 39: "TRANSPOSE", 40: "MEAN", 41: "SUB", 42: "DIV", 43: "SQUEEZE",
    45: "STRIDED_SLICE", 49: "SPLIT", 53: "CAST", 54: "PRELU", 55: "MAXIMUM", 57: "MINIMUM",
    67: "TRANSPOSE_CONV", 70: "EXPAND_DIMS", 74: "SUM", 76: "RSQRT", 83: "PACK",
    88: "UNPACK", 97: "LEAKY_RELU", 98: "SQUARED_DIFFERENCE", 114: "QUANTIZE",
    117: "HARD_SWISH", 126: "BATCH_MATMUL",
}

#: TensorType → (name, numpy dtype or None, bytes per element).
TENSOR_TYPES: dict[int, tuple[str, str | None, float]] = {
    0: ("float32", "<f4", 4), 1: ("float16", "<f2", 2), 2: ("int32", "<i4", 4),
    3: ("uint8", "u1", 1), 4: ("int64", "<i8", 8), 5: ("string", None, 1),
    6: ("bool", "u1", 1), 7: ("int16", "<i2", 2), 8: ("complex64", "<c8", 8),
    9: ("int8", "i1", 1), 10: ("float64", "<f8", 8), 11: ("complex128", "<c16", 16),
    12: ("uint64", "<u8", 8), 15: ("uint32", "<u4", 4), 16: ("uint16", "<u2", 2),
    17: ("int4", None, 0.5),
}

ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
PADDINGS = {0: "SAME", 1: "VALID"}

# Field layouts of the builtin options tables we decode: name -> (slot, struct format, default).
# Slots follow schema.fbs declaration order.
_CONV = {"padding": (0, "b", 0), "stride_w": (1, "i", 0), "stride_h": (2, "i", 0),
         "fused_activation_function": (3, "b", 0), "dilation_w_factor": (4, "i", 1),
         "dilation_h_factor": (5, "i", 1)}
_DEPTHWISE = {"padding": (0, "b", 0), "stride_w": (1, "i", 0), "stride_h": (2, "i", 0),
              "depth_multiplier": (3, "i", 0), "fused_activation_function": (4, "b", 0),
              "dilation_w_factor": (5, "i", 1), "dilation_h_factor": (6, "i", 1)}
_POOL = {"padding": (0, "b", 0), "stride_w": (1, "i", 0), "stride_h": (2, "i", 0),
         "filter_width": (3, "i", 0), "filter_height": (4, "i", 0),
         "fused_activation_function": (5, "b", 0)}
_FC = {"fused_activation_function": (0, "b", 0), "weights_format": (1, "b", 0),
       "keep_num_dims": (2, "?", False), "asymmetric_quantize_inputs": (3, "?", False)}
_SOFTMAX = {"beta": (0, "f", 0.0)}
_ADD_MUL = {"fused_activation_function": (0, "b", 0)}

#: Options decoded per op name (the union type in the file is checked against it).
OPTION_LAYOUTS: dict[str, dict[str, tuple[int, str, Any]]] = {
    "CONV_2D": _CONV, "DEPTHWISE_CONV_2D": _DEPTHWISE, "AVERAGE_POOL_2D": _POOL,
    "MAX_POOL_2D": _POOL, "L2_POOL_2D": _POOL, "FULLY_CONNECTED": _FC, "SOFTMAX": _SOFTMAX,
    "ADD": _ADD_MUL, "MUL": _ADD_MUL, "SUB": _ADD_MUL,
}
_ENUM_OPTIONS = {"padding": PADDINGS, "fused_activation_function": ACTIVATIONS}


# -- a minimal flatbuffer reader ----------------------------------------------------------------


class _Reader:
    """Bounds-checked little-endian access to flatbuffer tables and vectors."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, what: str) -> ModelError:
        return ModelError(f"{self.source}: not a valid .tflite flatbuffer ({what})")

    def unpack(self, fmt: str, pos: int) -> Any:
        size = struct.calcsize("<" + fmt)
        if pos < 0 or pos + size > len(self.data):
            raise self.fail(f"read of {size} bytes at offset {pos} past the end")
        return struct.unpack_from("<" + fmt, self.data, pos)[0]

    def field_pos(self, table: int, slot: int) -> int | None:
        """Absolute position of field ``slot`` of the table at ``table``, or None if absent."""
        vtable = table - self.unpack("i", table)
        vt_size = self.unpack("H", vtable)
        entry = 4 + 2 * slot
        if entry + 2 > vt_size:
            return None
        rel = self.unpack("H", vtable + entry)
        return table + rel if rel else None

    def scalar(self, table: int, slot: int, fmt: str, default: Any) -> Any:
        pos = self.field_pos(table, slot)
        return default if pos is None else self.unpack(fmt, pos)

    def ref(self, table: int, slot: int) -> int | None:
        """Target of an offset field (sub-table, vector or string), or None if absent."""
        pos = self.field_pos(table, slot)
        return None if pos is None else pos + self.unpack("I", pos)

    def vector(self, table: int, slot: int) -> tuple[int, int]:
        """(position of the first element, length) of a vector field; (0, 0) if absent."""
        start = self.ref(table, slot)
        if start is None:
            return 0, 0
        length = self.unpack("I", start)
        return start + 4, length

    def tables(self, table: int, slot: int) -> list[int]:
        pos, n = self.vector(table, slot)
        return [pos + 4 * i + self.unpack("I", pos + 4 * i) for i in range(n)]

    def scalars(self, table: int, slot: int, fmt: str) -> list[Any]:
        pos, n = self.vector(table, slot)
        size = struct.calcsize("<" + fmt)
        if n and pos + n * size > len(self.data):
            raise self.fail(f"vector of {n} elements at offset {pos} past the end")
        return list(struct.unpack_from(f"<{n}{fmt}", self.data, pos)) if n else []

    def string(self, table: int, slot: int) -> str:
        pos, n = self.vector(table, slot)
        return self.data[pos:pos + n].decode("utf-8", "replace") if n else ""


# -- parsed records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quantization:
    """Affine quantization of a tensor; per-channel when ``scale`` has more than one entry."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    quantized_dimension: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True)
class Buffer:
    """A constant buffer: where its bytes are in the file (``offset`` -1 when empty)."""

    index: int
    offset: int
    size: int


@dataclass(frozen=True)
class Tensor:
    """One tensor of the (first) subgraph. ``constant`` tensors carry buffer data."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    buffer: int
    quantization: Quantization | None
    constant: bool
    is_variable: bool = False

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        """Bytes of the tensor's data (int4 rounded up)."""
        width = _type_width(self.dtype)
        return int(np.ceil(self.elements * width))


@dataclass(frozen=True)
class Operator:
    """One op in execution order, with its decoded builtin options."""

    index: int
    op: str
    version: int
    inputs: tuple[int, ...]  # tensor indices; -1 = optional input omitted
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)
    #: absolute file offset of each decoded option field present in the file
    option_offsets: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MacCount:
    """Multiply-accumulates per inference, by op family; ``pool_adds`` are not MACs."""

    conv: int = 0
    depthwise: int = 0
    fully_connected: int = 0
    pool_adds: int = 0

    @property
    def total(self) -> int:
        """MACs of conv + depthwise + FC (pooling adds excluded, as spec §1.5 counts)."""
        return self.conv + self.depthwise + self.fully_connected


@dataclass(frozen=True)
class Lifetime:
    """A non-constant tensor's planner record: first and last op, aligned size, offset."""

    tensor: int
    first: int
    last: int
    size: int
    offset: int


@dataclass(frozen=True)
class ModelInfo:
    """Everything ``tinyperf models info`` reports about one ``.tflite`` file."""

    path: str
    file_bytes: int
    version: int
    description: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    buffers: tuple[Buffer, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    subgraphs: int
    #: the file's bytes, so constant data is read without touching the disk again
    data: bytes = field(default=b"", repr=False, compare=False)

    @property
    def constant_tensors(self) -> list[Tensor]:
        return [t for t in self.tensors if t.constant]

    @property
    def parameter_count(self) -> int:
        """Elements of all constant tensors (weights, biases, shape constants)."""
        return sum(t.elements for t in self.constant_tensors)

    @property
    def constant_bytes(self) -> int:
        """Bytes of constant tensor data (each referenced buffer counted once)."""
        used = {t.buffer for t in self.constant_tensors}
        return sum(self.buffers[b].size for b in used)

    def op_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.operators:
            counts[op.op] = counts.get(op.op, 0) + 1
        return counts

    def macs(self) -> MacCount:
        return count_macs(self)

    def activation_sum(self) -> int:
        """Plain sum of the bytes of every non-constant tensor the graph uses."""
        return sum(self.tensors[lt.tensor].nbytes for lt in plan_memory(self, alignment=1))

    def activation_peak(self, alignment: int = PLANNER_ALIGNMENT) -> int:
        """Peak of the greedy offset plan (see module docstring)."""
        return max((lt.offset + lt.size for lt in plan_memory(self, alignment)), default=0)

    def weight_values(self, tensor: int) -> np.ndarray:
        """Raw values of a constant tensor (no dequantization), reshaped to its shape."""
        return constant_values(self, tensor)

    def buffer_bytes(self, tensor: int) -> bytes:
        """Raw bytes of a constant tensor's buffer (empty for non-constant tensors)."""
        t = self.tensors[tensor]
        if not t.constant:
            return b""
        buf = self.buffers[t.buffer]
        return self.data[buf.offset:buf.offset + buf.size]


def _type_width(dtype: str) -> float:
    for name, _, width in TENSOR_TYPES.values():
        if name == dtype:
            return width
    return 1


# -- parsing --------------------------------------------------------------------------------------


def read_model(path: str | Path) -> ModelInfo:
    """Parse the ``.tflite`` file at ``path``; ``ModelError`` names the file on any problem."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"{p}: cannot read model file: {exc.strerror or exc}") from exc
    return parse_model(data, str(p))


def parse_model(data: bytes, source: str = "<bytes>") -> ModelInfo:
    """Parse ``.tflite`` bytes (first subgraph only; TFLM runs that one)."""
    if len(data) < 8:
        raise ModelError(f"{source}: not a valid .tflite flatbuffer (only {len(data)} bytes)")
    if data[4:8] != b"TFL3":
        raise ModelError(f"{source}: not a .tflite file (file identifier {data[4:8]!r}, "
                         "expected b'TFL3')")
    r = _Reader(data, source)
    root = r.unpack("I", 0)
    buffers = tuple(_buffer(r, i, t) for i, t in enumerate(r.tables(root, 4)))
    codes = [_opcode(r, t) for t in r.tables(root, 1)]
    subgraphs = r.tables(root, 2)
    if not subgraphs:
        raise r.fail("no subgraph")
    sg = subgraphs[0]
    tensors = tuple(_tensor(r, i, t, buffers) for i, t in enumerate(r.tables(sg, 0)))
    operators = []
    for i, t in enumerate(r.tables(sg, 3)):
        code_index = r.scalar(t, 0, "I", 0)
        if code_index >= len(codes):
            raise r.fail(f"op {i} uses operator code {code_index} of {len(codes)}")
        name, version = codes[code_index]
        inputs = tuple(r.scalars(t, 1, "i"))
        outputs = tuple(r.scalars(t, 2, "i"))
        for k in (*inputs, *outputs):
            if k >= len(tensors):
                raise r.fail(f"op {i} ({name}) refers to tensor {k} of {len(tensors)}")
        options, offsets = _options(r, t, name)
        operators.append(Operator(i, name, version, inputs, outputs, options, offsets))
    return ModelInfo(
        path=source,
        file_bytes=len(data),
        version=r.scalar(root, 0, "I", 0),
        description=r.string(root, 3),
        tensors=tensors,
        operators=tuple(operators),
        buffers=buffers,
        inputs=tuple(r.scalars(sg, 1, "i")),
        outputs=tuple(r.scalars(sg, 2, "i")),
        subgraphs=len(subgraphs),
        data=data,
    )


def _buffer(r: _Reader, index: int, table: int) -> Buffer:
    pos, n = r.vector(table, 0)
    if n:
        if pos + n > len(r.data):
            raise r.fail(f"buffer {index} runs past the end of the file")
        return Buffer(index, pos, n)
    # Models over 2 GB keep data after the flatbuffer: offset/size fields (schema ≥ 2.14).
    offset = r.scalar(table, 1, "Q", 0)
    size = r.scalar(table, 2, "Q", 0)
    if offset > 1 and size:
        if offset + size > len(r.data):
            raise r.fail(f"buffer {index} (offset {offset}) runs past the end of the file")
        return Buffer(index, offset, size)
    return Buffer(index, -1, 0)


def _opcode(r: _Reader, table: int) -> tuple[str, int]:
    deprecated = r.scalar(table, 0, "b", 0)
    code = r.scalar(table, 3, "i", 0)
    builtin = max(code, deprecated)  # the schema's rule for old/new files
    version = r.scalar(table, 2, "i", 1)
    if builtin == 32:
        custom = r.string(table, 1)
        return f"CUSTOM:{custom}" if custom else "CUSTOM", version
    return BUILTIN_OPS.get(builtin, f"BUILTIN_{builtin}"), version


def _tensor(r: _Reader, index: int, table: int, buffers: Sequence[Buffer]) -> Tensor:
    shape = tuple(r.scalars(table, 0, "i"))
    type_code = r.scalar(table, 1, "b", 0)
    if type_code not in TENSOR_TYPES:
        raise r.fail(f"tensor {index} has unknown type {type_code}")
    buffer = r.scalar(table, 2, "I", 0)
    if buffer >= len(buffers):
        raise r.fail(f"tensor {index} uses buffer {buffer} of {len(buffers)}")
    quant = None
    qt = r.ref(table, 4)
    if qt is not None:
        scale = tuple(float(s) for s in r.scalars(qt, 2, "f"))
        if scale:
            zp = tuple(int(z) for z in r.scalars(qt, 3, "q"))
            quant = Quantization(scale, zp or (0,) * len(scale), r.scalar(qt, 6, "i", 0))
    return Tensor(
        index=index,
        name=r.string(table, 3),
        shape=shape,
        dtype=TENSOR_TYPES[type_code][0],
        buffer=buffer,
        quantization=quant,
        constant=buffers[buffer].size > 0,
        is_variable=bool(r.scalar(table, 5, "?", False)),
    )


def _options(r: _Reader, op_table: int, name: str) -> tuple[dict[str, Any], dict[str, int]]:
    layout = OPTION_LAYOUTS.get(name)
    table = r.ref(op_table, 4)
    if layout is None or table is None:
        return {}, {}
    values: dict[str, Any] = {}
    offsets: dict[str, int] = {}
    for key, (slot, fmt, default) in layout.items():
        pos = r.field_pos(table, slot)
        raw = default if pos is None else r.unpack(fmt, pos)
        if pos is not None:
            offsets[key] = pos
        values[key] = _ENUM_OPTIONS[key].get(raw, raw) if key in _ENUM_OPTIONS else raw
    return values, offsets


# -- derived figures ------------------------------------------------------------------------------


def constant_values(info: ModelInfo, tensor: int) -> np.ndarray:
    """Raw values of constant tensor ``tensor`` in its storage dtype, shaped."""
    t = info.tensors[tensor]
    if not t.constant:
        raise ModelError(f"{info.path}: tensor {tensor} ({t.name}) is not constant")
    np_dtype = next((d for n, d, _ in TENSOR_TYPES.values() if n == t.dtype), None)
    if np_dtype is None:
        raise ModelError(f"{info.path}: tensor {tensor} ({t.name}) has unsupported "
                         f"type {t.dtype}")
    buf = info.buffers[t.buffer]
    arr = np.frombuffer(info.data[buf.offset:buf.offset + buf.size], dtype=np_dtype)
    if arr.size != t.elements:
        raise ModelError(f"{info.path}: tensor {tensor} ({t.name}) has {arr.size} values in "
                         f"its buffer, shape {t.shape} needs {t.elements}")
    return arr.reshape(t.shape)


def dequantized_values(info: ModelInfo, tensor: int) -> np.ndarray:
    """Real values (float64) of a constant tensor: affine per-tensor or per-channel."""
    t = info.tensors[tensor]
    raw = constant_values(info, tensor).astype(np.float64)
    q = t.quantization
    if q is None or t.dtype in ("float32", "float16", "float64"):
        return raw
    scale = np.asarray(q.scale, dtype=np.float64)
    zp = np.asarray(q.zero_point, dtype=np.float64)
    if q.per_channel and raw.ndim:
        shape = [1] * raw.ndim
        shape[q.quantized_dimension] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return (raw - zp) * scale


def count_macs(info: ModelInfo) -> MacCount:
    """MACs per inference (batch 1 as stored in the file) by op family."""
    conv = depthwise = fc = pool = 0
    for op in info.operators:
        if op.op == "CONV_2D":
            out = info.tensors[op.outputs[0]].elements
            _, kh, kw, cin = info.tensors[op.inputs[1]].shape  # OHWI
            conv += out * kh * kw * cin
        elif op.op == "DEPTHWISE_CONV_2D":
            out = info.tensors[op.outputs[0]].elements
            _, kh, kw, _ = info.tensors[op.inputs[1]].shape  # 1HWO
            depthwise += out * kh * kw
        elif op.op == "FULLY_CONNECTED":
            w = info.tensors[op.inputs[1]].shape  # [units, in]
            rows = info.tensors[op.outputs[0]].elements // max(w[0], 1)
            fc += rows * w[0] * w[1]
        elif op.op == "AVERAGE_POOL_2D":
            out = info.tensors[op.outputs[0]].elements
            pool += out * op.options.get("filter_height", 1) * op.options.get("filter_width", 1)
    return MacCount(conv, depthwise, fc, pool)


def tensor_lifetimes(info: ModelInfo) -> dict[int, tuple[int, int]]:
    """First and last op index of every non-constant tensor used by the graph.

    Graph inputs are alive from op 0, graph outputs until the last op. Variable tensors
    (state kept across invocations) are alive for the whole graph.
    """
    n_ops = len(info.operators)
    spans: dict[int, list[int]] = {}

    def touch(k: int, at: int) -> None:
        if k < 0 or info.tensors[k].constant:
            return
        span = spans.setdefault(k, [at, at])
        span[0], span[1] = min(span[0], at), max(span[1], at)

    for k in info.inputs:
        touch(k, 0)
    for op in info.operators:
        for k in (*op.inputs, *op.outputs):
            touch(k, op.index)
    for k in info.outputs:
        touch(k, max(n_ops - 1, 0))
    for k, t in enumerate(info.tensors):
        if t.is_variable and k in spans:
            spans[k] = [0, max(n_ops - 1, 0)]
    return {k: (a, b) for k, (a, b) in sorted(spans.items())}


def _align(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment if alignment > 1 else n


def plan_memory(info: ModelInfo, alignment: int = PLANNER_ALIGNMENT) -> list[Lifetime]:
    """Greedy offset plan of the non-constant tensors (largest first, lowest free offset).

    Ties in size are broken by first use, then tensor index, so the plan is deterministic.
    """
    spans = tensor_lifetimes(info)
    order = sorted(spans, key=lambda k: (-info.tensors[k].nbytes, spans[k][0], k))
    placed: list[Lifetime] = []
    for k in order:
        first, last = spans[k]
        size = _align(info.tensors[k].nbytes, alignment)
        busy = sorted((p.offset, p.offset + p.size) for p in placed
                      if p.first <= last and first <= p.last)
        offset = 0
        for start, end in busy:
            if offset + size <= start:
                break
            offset = max(offset, end)
        placed.append(Lifetime(k, first, last, size, offset))
    return sorted(placed, key=lambda lt: lt.tensor)


# -- report ---------------------------------------------------------------------------------------


def _quant_dict(q: Quantization | None) -> dict[str, Any] | None:
    if q is None:
        return None
    out: dict[str, Any] = {"per_channel": q.per_channel}
    if q.per_channel:
        out.update(channels=len(q.scale), axis=q.quantized_dimension,
                   scale_min=min(q.scale), scale_max=max(q.scale),
                   zero_points=sorted(set(q.zero_point)))
    else:
        out.update(scale=q.scale[0], zero_point=q.zero_point[0])
    return out


def summary(info: ModelInfo) -> dict[str, Any]:
    """The ``models info`` report as plain data (JSON-ready)."""
    macs = info.macs()
    tensors = info.tensors
    io_dtype = lambda ks: [tensors[k].dtype for k in ks]  # noqa: E731
    return {
        "file": info.path,
        "file_bytes": info.file_bytes,
        "schema_version": info.version,
        "description": info.description,
        "subgraphs": info.subgraphs,
        "inputs": [{"tensor": k, "name": tensors[k].name, "shape": list(tensors[k].shape),
                    "dtype": tensors[k].dtype, "quantization": _quant_dict(tensors[k].quantization)}
                   for k in info.inputs],
        "outputs": [{"tensor": k, "name": tensors[k].name, "shape": list(tensors[k].shape),
                     "dtype": tensors[k].dtype,
                     "quantization": _quant_dict(tensors[k].quantization)}
                    for k in info.outputs],
        "io_dtypes": {"inputs": io_dtype(info.inputs), "outputs": io_dtype(info.outputs)},
        "op_count": len(info.operators),
        "op_counts": info.op_counts(),
        "operators": [
            {"index": op.index, "op": op.op, "version": op.version,
             "inputs": [{"tensor": k, "shape": list(tensors[k].shape), "dtype": tensors[k].dtype,
                         "constant": tensors[k].constant} for k in op.inputs if k >= 0],
             "outputs": [{"tensor": k, "shape": list(tensors[k].shape),
                          "dtype": tensors[k].dtype,
                          "quantization": _quant_dict(tensors[k].quantization)}
                         for k in op.outputs],
             "options": op.options,
             "constant_elements": sum(tensors[k].elements for k in op.inputs
                                      if k >= 0 and tensors[k].constant)}
            for op in info.operators
        ],
        "tensors": [{"index": t.index, "name": t.name, "shape": list(t.shape), "dtype": t.dtype,
                     "constant": t.constant, "bytes": t.nbytes,
                     "quantization": _quant_dict(t.quantization)} for t in tensors],
        "parameter_count": info.parameter_count,
        "constant_bytes": info.constant_bytes,
        "macs": {"conv": macs.conv, "depthwise": macs.depthwise,
                 "fully_connected": macs.fully_connected, "total": macs.total,
                 "pool_adds": macs.pool_adds},
        "activation_bytes": {"sum": info.activation_sum(), "peak_planned": info.activation_peak(),
                             "alignment": PLANNER_ALIGNMENT},
    }
