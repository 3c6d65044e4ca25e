"""Read a ``.tflite`` file without a runtime: graph, quantization, sizes, MACs and memory.

The flatbuffer is read with the generated TFLite schema that ships with the runtime package
(``ai_edge_litert.schema_py_generated``; see :func:`_schema` for the fallbacks), so every
builtin op, tensor type and options table of the schema is known by its real name. From the
first subgraph tinyperf keeps the graph, the quantization, the constant buffers and the
builtin options of the ops its figures and checks use, and derives the footprint figures
(``tinyperf models info``):

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
reads, so tests and :mod:`tinyperf.reference_models.verify` can patch a copy of a model byte
for byte.
Every malformed file raises :class:`tinyperf.formats.errors.ModelError` naming the file (the
generated classes do not validate: their raw struct/index errors are converted here).
"""

from __future__ import annotations

import functools
import importlib
import struct
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats.errors import ModelError

#: Alignment (bytes) of every tensor in the planner, as TFLite Micro's arena.
PLANNER_ALIGNMENT = 16

#: Storage of the tensor types tinyperf can size or read, by schema name (lower case):
#: numpy dtype (None: not readable as an array) and bytes per element. Types of the schema
#: not listed count 1 byte per element.
_STORAGE: dict[str, tuple[str | None, float]] = {
    "float32": ("<f4", 4), "float16": ("<f2", 2), "int32": ("<i4", 4), "uint8": ("u1", 1),
    "int64": ("<i8", 8), "string": (None, 1), "bool": ("u1", 1), "int16": ("<i2", 2),
    "complex64": ("<c8", 8), "int8": ("i1", 1), "float64": ("<f8", 8),
    "complex128": ("<c16", 16), "uint64": ("<u8", 8), "uint32": ("<u4", 4),
    "uint16": ("<u2", 2), "int4": (None, 0.5), "bfloat16": (None, 2), "int2": (None, 0.25),
    "uint4": (None, 0.5), "float8_e4m3fn": (None, 1), "float8_e5m2": (None, 1),
}

#: Builtin options decoded per op name: the schema's options table and the fields kept
#: (schema field names; the generated accessor is the CamelCase name).
OPTION_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "CONV_2D": ("Conv2DOptions", ("padding", "stride_w", "stride_h",
                                  "fused_activation_function", "dilation_w_factor",
                                  "dilation_h_factor")),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", (
        "padding", "stride_w", "stride_h", "depth_multiplier", "fused_activation_function",
        "dilation_w_factor", "dilation_h_factor")),
    **{pool: ("Pool2DOptions", ("padding", "stride_w", "stride_h", "filter_width",
                                "filter_height", "fused_activation_function"))
       for pool in ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")},
    "FULLY_CONNECTED": ("FullyConnectedOptions", (
        "fused_activation_function", "weights_format", "keep_num_dims",
        "asymmetric_quantize_inputs")),
    "SOFTMAX": ("SoftmaxOptions", ("beta",)),
    "ADD": ("AddOptions", ("fused_activation_function",)),
    "MUL": ("MulOptions", ("fused_activation_function",)),
    "SUB": ("SubOptions", ("fused_activation_function",)),
}

#: Option fields shown by their schema enum name: field -> enum class of the schema.
_ENUM_FIELDS = {"padding": "Padding", "fused_activation_function": "ActivationFunctionType"}

#: Where the generated TFLite schema may come from, first found wins.
_SCHEMA_MODULES = (
    "ai_edge_litert.schema_py_generated",
    "tflite_runtime.schema_py_generated",
    "tensorflow.lite.python.schema_py_generated",
    "tflite",  # the PyPI package of the same generated classes (one module per class)
)


# -- the generated schema -------------------------------------------------------------------------


class _Schema:
    """The generated TFLite schema classes and the enum tables derived from them."""

    def __init__(self, module: types.ModuleType) -> None:
        import flatbuffers.table

        self.module = module
        self.ops = self.enum("BuiltinOperator")
        self.options = self.enum("BuiltinOptions")
        self.types = {code: name.lower() for code, name in self.enum("TensorType").items()}
        self.enums = {key: self.enum(cls) for key, cls in _ENUM_FIELDS.items()}

        class FieldTable(flatbuffers.table.Table):
            """A table that remembers the absolute position of the last field looked up."""

            __slots__ = ("field",)

            def Offset(self, vtableOffset: int) -> int:
                rel = super().Offset(vtableOffset)
                self.field = self.Pos + rel if rel else None
                return rel

        self.field_table = FieldTable

    def cls(self, name: str) -> Any:
        """A generated class by name (the ``tflite`` package keeps each in its own module)."""
        found = getattr(self.module, name, None)
        if found is None and hasattr(self.module, "__path__"):
            found = importlib.import_module(f"{self.module.__name__}.{name}")
        if isinstance(found, types.ModuleType):
            found = getattr(found, name)
        if found is None:
            raise ModelError(f"the TFLite schema in {self.module.__name__} has no {name}")
        return found

    def enum(self, name: str) -> dict[int, str]:
        return {v: k for k, v in vars(self.cls(name)).items()
                if not k.startswith("_") and isinstance(v, int)}

    def root(self, data: bytes) -> Any:
        model = self.cls("Model")
        get_root = getattr(model, "GetRootAs", None) or model.GetRootAsModel
        return get_root(data, 0)


@functools.cache
def _schema() -> _Schema:
    """The generated schema of the first installed package of :data:`_SCHEMA_MODULES`."""
    for name in _SCHEMA_MODULES:
        try:
            return _Schema(importlib.import_module(name))
        except ImportError:
            continue
    raise ModelError("reading .tflite files needs the generated TFLite schema and flatbuffers: "
                     "install ai-edge-litert (pip install ai-edge-litert), or on a Python it "
                     "does not support the 'tflite' package (pip install tflite)")


def __getattr__(name: str) -> Any:
    """Tables of the schema's enums, built on first use (the schema is imported lazily)."""
    if name == "BUILTIN_OPS":  # BuiltinOperator code -> name
        return dict(_schema().ops)
    if name == "TENSOR_TYPES":  # TensorType code -> (name, numpy dtype or None, bytes/element)
        return {code: (n, *_STORAGE.get(n, (None, 1))) for code, n in _schema().types.items()}
    if name == "ACTIVATIONS":
        return dict(_schema().enums["fused_activation_function"])
    if name == "PADDINGS":
        return dict(_schema().enums["padding"])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

    def activation_lower_bound(self) -> int:
        """Largest sum of the bytes of the non-constant tensors alive at one op (file order,
        no alignment, no scratch): no arena plan can be smaller (ic_vww spec 1.6)."""
        spans = tensor_lifetimes(self)
        return max((sum(self.tensors[k].nbytes for k, (a, b) in spans.items() if a <= i <= b)
                    for i in range(len(self.operators))), default=0)

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
    return _STORAGE.get(dtype, (None, 1))[1]


# -- parsing --------------------------------------------------------------------------------------


class _Malformed(Exception):
    """A structural problem found while reading; becomes a ModelError naming the file."""


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
    try:
        schema = _schema()
    except ModelError as exc:
        raise ModelError(f"{source}: {exc}") from None
    data = bytes(data)
    try:
        return _parse(schema, data, source)
    except _Malformed as exc:
        raise ModelError(f"{source}: not a valid .tflite flatbuffer ({exc})") from None
    except (struct.error, IndexError, ValueError, TypeError, OverflowError) as exc:
        # the generated accessors read without bounds checks: a read past the end (or an
        # offset out of the 32-bit range) surfaces as one of these
        raise ModelError(f"{source}: not a valid .tflite flatbuffer "
                         f"({type(exc).__name__}: {exc})") from exc


def _table(obj: Any, what: str) -> Any:
    """``obj`` (a generated table) after checking its position and vtable lie in the file.

    Every other read of the generated code goes forward from these (unsigned offsets), so
    it fails with a struct/numpy error past the end; only the vtable (a signed offset back)
    could land before the start, where Python would silently read from the end.
    """
    if obj is None:
        raise _Malformed(f"{what} missing")
    tab = obj._tab
    pos, data = tab.Pos, tab.Bytes
    if pos + 4 > len(data):
        raise _Malformed(f"{what} at offset {pos} past the end")
    vtable = pos - int.from_bytes(data[pos:pos + 4], "little", signed=True)
    if vtable < 0 or vtable + 4 > len(data):
        raise _Malformed(f"{what} at offset {pos} has its vtable outside the file")
    return obj


def _ints(obj: Any, name: str) -> tuple[Any, ...]:
    """A numeric vector field as Python numbers (``()`` when absent)."""
    values = getattr(obj, f"{name}AsNumpy")()  # the generated code returns 0 when absent
    return () if isinstance(values, int) else tuple(values.tolist())


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def _parse(schema: _Schema, data: bytes, source: str) -> ModelInfo:
    model = _table(schema.root(data), "model")
    buffers = tuple(_buffer(_table(model.Buffers(i), f"buffer {i}"), i, len(data))
                    for i in range(model.BuffersLength()))
    codes = [_opcode(schema, _table(model.OperatorCodes(i), f"operator code {i}"))
             for i in range(model.OperatorCodesLength())]
    n_subgraphs = model.SubgraphsLength()
    if not n_subgraphs:
        raise _Malformed("no subgraph")
    sg = _table(model.Subgraphs(0), "subgraph 0")
    tensors = tuple(_tensor(schema, _table(sg.Tensors(i), f"tensor {i}"), i, buffers)
                    for i in range(sg.TensorsLength()))
    operators = []
    for i in range(sg.OperatorsLength()):
        op = _table(sg.Operators(i), f"op {i}")
        code_index = op.OpcodeIndex()
        if code_index >= len(codes):
            raise _Malformed(f"op {i} uses operator code {code_index} of {len(codes)}")
        name, version = codes[code_index]
        inputs, outputs = _ints(op, "Inputs"), _ints(op, "Outputs")
        for k in (*inputs, *outputs):
            if not -1 <= k < len(tensors):
                raise _Malformed(f"op {i} ({name}) refers to tensor {k} of {len(tensors)}")
        options, offsets = _options(schema, op, i, name)
        operators.append(Operator(i, name, version, inputs, outputs, options, offsets))
    inputs, outputs = _ints(sg, "Inputs"), _ints(sg, "Outputs")
    for k in (*inputs, *outputs):
        if not 0 <= k < len(tensors):
            raise _Malformed(f"graph input/output is tensor {k} of {len(tensors)}")
    return ModelInfo(
        path=source,
        file_bytes=len(data),
        version=model.Version(),
        description=_text(model.Description()),
        tensors=tensors,
        operators=tuple(operators),
        buffers=buffers,
        inputs=inputs,
        outputs=outputs,
        subgraphs=n_subgraphs,
        data=data,
    )


def _buffer(buf: Any, index: int, file_bytes: int) -> Buffer:
    n = buf.DataLength()
    if n:
        tab = buf._tab
        pos = tab.Vector(tab.Offset(4))  # absolute start of the data vector's bytes
        if pos + n > file_bytes:
            raise _Malformed(f"buffer {index} runs past the end of the file")
        return Buffer(index, pos, n)
    # Models over 2 GB keep data after the flatbuffer: offset/size fields (schema ≥ 2.14).
    offset = buf.Offset() if hasattr(buf, "Offset") else 0
    size = buf.Size() if hasattr(buf, "Size") else 0
    if offset > 1 and size:
        if offset + size > file_bytes:
            raise _Malformed(f"buffer {index} (offset {offset}) runs past the end of the file")
        return Buffer(index, offset, size)
    return Buffer(index, -1, 0)


def _opcode(schema: _Schema, code: Any) -> tuple[str, int]:
    # the schema's rule for old and new files: the larger of the two code fields
    deprecated = getattr(code, "DeprecatedBuiltinCode", lambda: 0)()  # absent before 2.4
    builtin = max(code.BuiltinCode(), deprecated)
    version = code.Version()
    name = schema.ops.get(builtin, f"BUILTIN_{builtin}")
    if name == "CUSTOM":
        custom = _text(code.CustomCode())
        return f"CUSTOM:{custom}" if custom else "CUSTOM", version
    return name, version


def _tensor(schema: _Schema, t: Any, index: int, buffers: Sequence[Buffer]) -> Tensor:
    type_code = t.Type()
    if type_code not in schema.types:
        raise _Malformed(f"tensor {index} has unknown type {type_code}")
    buffer = t.Buffer()
    if buffer >= len(buffers):
        raise _Malformed(f"tensor {index} uses buffer {buffer} of {len(buffers)}")
    quant = None
    q = t.Quantization()
    scale = _ints(_table(q, f"quantization of tensor {index}"), "Scale") if q is not None else ()
    if scale:
        zp = _ints(q, "ZeroPoint")
        quant = Quantization(scale, zp or (0,) * len(scale), q.QuantizedDimension())
    return Tensor(
        index=index,
        name=_text(t.Name()),
        shape=_ints(t, "Shape"),
        dtype=schema.types[type_code],
        buffer=buffer,
        quantization=quant,
        constant=buffers[buffer].size > 0,
        is_variable=bool(t.IsVariable()),
    )


def _camel(field_name: str) -> str:
    return "".join(part.capitalize() for part in field_name.split("_"))


def _options(schema: _Schema, op: Any, index: int,
             name: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The decoded fields of ``op``'s builtin options and their absolute file offsets."""
    wanted = OPTION_FIELDS.get(name)
    if wanted is None:
        return {}, {}
    table = op.BuiltinOptions()
    if table is None:
        return {}, {}
    cls_name, fields = wanted
    kind = op.BuiltinOptionsType()
    if schema.options.get(kind) != cls_name:
        raise _Malformed(f"op {index} ({name}) has options "
                         f"{schema.options.get(kind, kind)}, expected {cls_name}")
    opts = schema.cls(cls_name)()
    opts._tab = schema.field_table(table.Bytes, table.Pos)
    _table(opts, f"options of op {index} ({name})")
    values: dict[str, Any] = {}
    offsets: dict[str, int] = {}
    for key in fields:
        raw = getattr(opts, _camel(key))()
        if opts._tab.field is not None:
            offsets[key] = opts._tab.field
        enum = schema.enums.get(key)
        values[key] = enum.get(raw, raw) if enum is not None else raw
    return values, offsets


# -- derived figures ------------------------------------------------------------------------------


def constant_values(info: ModelInfo, tensor: int) -> np.ndarray:
    """Raw values of constant tensor ``tensor`` in its storage dtype, shaped."""
    t = info.tensors[tensor]
    if not t.constant:
        raise ModelError(f"{info.path}: tensor {tensor} ({t.name}) is not constant")
    np_dtype = _STORAGE.get(t.dtype, (None, 1))[0]
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
            out = _output_elements(info, op)
            _, kh, kw, cin = _weight_shape(info, op, 4)  # OHWI
            conv += out * kh * kw * cin
        elif op.op == "DEPTHWISE_CONV_2D":
            out = _output_elements(info, op)
            _, kh, kw, _ = _weight_shape(info, op, 4)  # 1HWO
            depthwise += out * kh * kw
        elif op.op == "FULLY_CONNECTED":
            w = _weight_shape(info, op, 2)  # [units, in]
            rows = _output_elements(info, op) // max(w[0], 1)
            fc += rows * w[0] * w[1]
        elif op.op == "AVERAGE_POOL_2D":
            out = _output_elements(info, op)
            pool += out * op.options.get("filter_height", 1) * op.options.get("filter_width", 1)
    return MacCount(conv, depthwise, fc, pool)


def _output_elements(info: ModelInfo, op: Operator) -> int:
    if not op.outputs or op.outputs[0] < 0:
        raise ModelError(f"{info.path}: op {op.index} ({op.op}) has no output tensor")
    return info.tensors[op.outputs[0]].elements


def _weight_shape(info: ModelInfo, op: Operator, rank: int) -> tuple[int, ...]:
    """Shape of ``op``'s weights (input 1); a malformed graph is a ModelError, not a crash."""
    k = op.inputs[1] if len(op.inputs) > 1 else -1
    shape = info.tensors[k].shape if k >= 0 else ()
    if len(shape) != rank:
        raise ModelError(f"{info.path}: op {op.index} ({op.op}) has weights of shape "
                         f"{shape}, expected {rank} dimensions")
    return shape


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
                             "alignment": PLANNER_ALIGNMENT,
                             "live_set_lower_bound": info.activation_lower_bound()},
    }
