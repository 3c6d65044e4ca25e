"""Run a ``.tflite`` model on the host: engine selection and one model wrapper per engine.

Owns the choice of inference engine and reports which one ran (``model.engine``):

- ``tflm``: TensorFlow Lite Micro's reference kernels (the ``tflite-micro`` package), the
  runtime reference devices run. Bit-exact with a reference device on every published ic01 /
  vww01 accuracy file (spec ic_vww 6.3); the default when the package is installed.
- ``litert-ref``: the LiteRT interpreter with ``OpResolverType.BUILTIN_REF``; the fallback
  where no ``tflite-micro`` wheel exists (it differs from TFLM on 4 of 1,200 ic/vww files).
- ``litert-builtin``: builtin kernels without default delegates (bit-exact with TFLM for
  kws01; 275 of 125,440 ad01 outputs differ by 1 LSB, spec reference_models 3.3).
- ``xnnpack``: the LiteRT default (XNNPACK delegate): fastest, not DUT comparable.

LiteRT itself is ``ai_edge_litert`` → ``tflite_runtime`` → ``tensorflow.lite``.
"""

from __future__ import annotations

import importlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tinyperf.formats.errors import ModelError

#: Runtime modules in preference order; each must expose ``Interpreter``.
_RUNTIMES = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter", "tensorflow.lite")

TFLM = "tflm"
LITERT_REF = "litert-ref"
LITERT_BUILTIN = "litert-builtin"
XNNPACK = "xnnpack"
#: Every engine name ``--engine`` accepts, in preference order of DUT fidelity.
ENGINES = (TFLM, LITERT_REF, LITERT_BUILTIN, XNNPACK)
#: The LiteRT ``OpResolverType`` member of each LiteRT engine (None: the runtime default).
_RESOLVERS = {LITERT_REF: "BUILTIN_REF", LITERT_BUILTIN: "BUILTIN_WITHOUT_DEFAULT_DELEGATES",
              XNNPACK: None}
_TFLM_MISSING = (
    "TFLite Micro is not installed (pip package 'tflite-micro'; wheels exist for Linux "
    "x86_64 only, CPython 3.10-3.13)"
)


def _import_runtime() -> Any:
    errors = []
    for name in _RUNTIMES:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
    raise ModelError("no TFLite runtime available (" + "; ".join(errors) + ")")


def load_interpreter(
    path: str | Path, *, reference_kernels: bool = True, resolver: str | None = None
) -> Any:
    """Create an allocated LiteRT ``Interpreter`` for ``path``.

    ``resolver`` names an ``OpResolverType`` member (``BUILTIN_REF``, ...); without it,
    ``reference_kernels`` selects ``BUILTIN_WITHOUT_DEFAULT_DELEGATES`` (DUT comparable int8
    outputs). Runtimes without that option fall back to their default.
    """
    module = _import_runtime()
    kwargs: dict[str, Any] = {"model_path": str(path), "num_threads": 1}
    kinds = getattr(module, "OpResolverType", None)
    if kinds is None:  # tensorflow.lite keeps it under experimental
        kinds = getattr(getattr(module, "experimental", None), "OpResolverType", None)
    if resolver is None and reference_kernels:
        resolver = "BUILTIN_WITHOUT_DEFAULT_DELEGATES"
    if resolver is not None and kinds is not None:
        kwargs["experimental_op_resolver_type"] = getattr(kinds, resolver)
    try:
        interpreter = module.Interpreter(**kwargs)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"{path}: cannot load TFLite model: {exc}") from exc
    return interpreter


@dataclass(frozen=True)
class TensorInfo:
    """One input/output tensor: index, shape, dtype and affine quantization (scale 0 = none)."""

    index: int
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float
    zero_point: int

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> TensorInfo:
        scale, zero_point = details.get("quantization", (0.0, 0))
        return cls(
            int(details["index"]),
            tuple(int(d) for d in details["shape"]),
            np.dtype(details["dtype"]),
            float(scale),
            int(zero_point),
        )


class TfliteModel:
    """A single-input, single-output model under LiteRT: one sample or a batch per call.

    ``engine`` (``litert-ref``, ``litert-builtin`` or ``xnnpack``) wins over the older
    ``reference_kernels`` switch (True = ``litert-builtin``, False = ``xnnpack``).
    """

    def __init__(
        self, path: str | Path, *, reference_kernels: bool = True, engine: str | None = None
    ) -> None:
        self.path = Path(path)
        if engine is None:
            engine = LITERT_BUILTIN if reference_kernels else XNNPACK
        if engine not in _RESOLVERS:
            raise ModelError(f"{engine!r} is not a LiteRT engine; known: {sorted(_RESOLVERS)}")
        #: The engine that runs this model (``models evaluate`` / the sim banner report it).
        self.engine = engine
        self._reference_kernels = reference_kernels
        self._interpreter = self._load()
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(
                f"{path}: expected 1 input and 1 output, got {len(inputs)} and {len(outputs)}"
            )
        self.input = TensorInfo.from_details(inputs[0])
        self.output = TensorInfo.from_details(outputs[0])
        self._batch = 1

    def _sample_array(self, x: Any) -> np.ndarray:
        arr = np.asarray(x)
        if arr.dtype != self.input.dtype:
            raise ModelError(
                f"{self.path}: input dtype {arr.dtype} does not match model {self.input.dtype}"
            )
        return arr.reshape((1, *self.input.shape[1:]))

    def _ensure_batch(self, batch: int) -> None:
        if batch == self._batch:
            return
        shape = [batch, *self.input.shape[1:]]
        self._interpreter.resize_tensor_input(self.input.index, shape, strict=False)
        self._interpreter.allocate_tensors()
        self._batch = batch

    def invoke(self, x: Any) -> np.ndarray:
        """Run one sample (any shape with the right element count); returns the output row(s)."""
        self._ensure_batch(1)
        self._interpreter.set_tensor(self.input.index, self._sample_array(x))
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self.output.index)[0].copy()

    def invoke_batch(self, xs: Any) -> np.ndarray:
        """Run many samples in one invoke (resize once); loops per sample if resizing fails."""
        arr = np.asarray(xs)
        n = arr.shape[0] if arr.ndim else 0
        if n == 0:
            return np.empty((0, *self.output.shape[1:]), dtype=self.output.dtype)
        if arr.dtype != self.input.dtype:
            raise ModelError(
                f"{self.path}: input dtype {arr.dtype} does not match model {self.input.dtype}"
            )
        batch = arr.reshape((n, *self.input.shape[1:]))
        try:
            self._ensure_batch(n)
            self._interpreter.set_tensor(self.input.index, batch)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self.output.index).copy()
        except (ValueError, RuntimeError):
            # Some graphs (fixed reshape constants) cannot batch; fall back to one at a time.
            self._reset_single()
            return np.stack([self.invoke(sample) for sample in batch])

    def _reset_single(self) -> None:
        # A failed resize can leave the interpreter half-allocated: start from a fresh one.
        self._interpreter = self._load()
        self._batch = 1

    def _load(self) -> Any:
        resolver = _RESOLVERS[self.engine]
        return load_interpreter(self.path, reference_kernels=resolver is not None,
                                resolver=resolver)


# -- TensorFlow Lite Micro --------------------------------------------------------------------


def _tflm_runtime() -> Any:
    try:
        from tflite_micro.python.tflite_micro import runtime as tflm  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ModelError(f"{_TFLM_MISSING}: {exc}") from exc
    return tflm


def tflm_available() -> bool:
    """True when the ``tflite-micro`` package imports (its wheels: Linux x86_64 only)."""
    try:
        _tflm_runtime()
    except ModelError:
        return False
    return True


def default_engine(fallback: str = LITERT_REF) -> str:
    """``tflm`` when installed, else ``fallback``: the LiteRT resolver closest to TFLM for
    the model (``litert-ref`` for ic01/vww01, ``litert-builtin`` for ad01; the registry's
    ``fallback_engine``)."""
    return TFLM if tflm_available() else fallback


def resolve_engine(engine: str | None = None, fallback: str = LITERT_REF) -> str:
    """The engine a request means: ``None``/``auto`` → :func:`default_engine`; an explicit
    ``tflm`` without the package is a ``ModelError`` saying how to get it."""
    if engine in (None, "auto"):
        return default_engine(fallback)
    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r}; known: auto, {', '.join(ENGINES)}")
    if engine == TFLM and not tflm_available():
        raise ModelError(f"engine 'tflm' requested but {_TFLM_MISSING}; "
                         f"use --engine {LITERT_REF} on this platform")
    return engine


def _tflm_tensor(details: dict[str, Any], index: int) -> TensorInfo:
    quant = details.get("quantization_parameters") or {}
    scales = np.asarray(quant.get("scales", []), dtype=np.float64).reshape(-1)
    zps = np.asarray(quant.get("zero_points", []), dtype=np.int64).reshape(-1)
    return TensorInfo(index, tuple(int(d) for d in details["shape"]), np.dtype(details["dtype"]),
                      float(scales[0]) if scales.size else 0.0, int(zps[0]) if zps.size else 0)


class TflmModel:
    """A single-input, single-output model under TFLite Micro's reference kernels.

    Same interface as :class:`TfliteModel`. TFLM has no batch dimension to resize, so a
    batch runs sample by sample; the models are stateless, so no reset between samples.
    """

    engine = TFLM

    def __init__(self, path: str | Path, *, arena_size: int | None = None) -> None:
        self.path = Path(path)
        tflm = _tflm_runtime()
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ModelError(f"{path}: cannot read model: {exc}") from exc
        try:
            # the default arena is 10x the file: ample for every registry model
            self._interpreter = tflm.Interpreter.from_bytes(data, arena_size=arena_size)
            inputs = self._interpreter.get_input_details(0)
            outputs = self._interpreter.get_output_details(0)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: TFLite Micro cannot load this model: {exc}") from exc
        self.input = _tflm_tensor(inputs, 0)
        self.output = _tflm_tensor(outputs, 0)

    def invoke(self, x: Any) -> np.ndarray:
        """Run one sample (any shape with the right element count); returns the output row."""
        arr = np.asarray(x)
        if arr.dtype != self.input.dtype:
            raise ModelError(
                f"{self.path}: input dtype {arr.dtype} does not match model {self.input.dtype}"
            )
        try:
            self._interpreter.set_input(arr.reshape(self.input.shape), 0)
            self._interpreter.invoke()
            return np.asarray(self._interpreter.get_output(0))[0].copy()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{self.path}: TFLite Micro invoke failed: {exc}") from exc

    def invoke_batch(self, xs: Any) -> np.ndarray:
        """Run many samples, one invoke each (outputs stacked in input order)."""
        arr = np.asarray(xs)
        n = arr.shape[0] if arr.ndim else 0
        if n == 0:
            return np.empty((0, *self.output.shape[1:]), dtype=self.output.dtype)
        batch = arr.reshape((n, *self.input.shape[1:]))
        return np.stack([self.invoke(sample) for sample in batch])


class HostModel(Protocol):
    """What every engine's model offers (``TfliteModel``, ``TflmModel``)."""

    path: Path
    engine: str
    input: TensorInfo
    output: TensorInfo

    def invoke(self, x: Any) -> np.ndarray: ...

    def invoke_batch(self, xs: Any) -> np.ndarray: ...


def load_model(path: str | Path, engine: str | None = None,
               fallback: str = LITERT_REF) -> TfliteModel | TflmModel:
    """``path`` under ``engine`` (``None``/``auto``: TFLM when installed, else ``fallback``).

    With ``auto``, a model TFLM cannot run (the hybrid kws01 float companion) falls back to
    ``fallback`` too; ``model.engine`` always names the engine actually used.
    """
    chosen = resolve_engine(engine, fallback)
    if chosen != TFLM:
        return TfliteModel(path, engine=chosen)
    try:
        return TflmModel(path)
    except ModelError:
        if engine not in (None, "auto"):
            raise
        return TfliteModel(path, engine=fallback)


@dataclass(frozen=True)
class TflmArena:
    """The arena TFLM's allocator plans for a model (``print_allocations``, 64-bit host)."""

    total: int
    head: int  # the planned activation buffers
    tail: int  # eval tensors, quantization data, node structs, persistent buffers


_ARENA_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


def tflm_arena(path: str | Path) -> TflmArena:
    """Measure the TFLM arena of ``path`` (``ModelError`` without TFLM or for a model it
    cannot run). The C++ allocator prints to the process's stdout/stderr file descriptors,
    so both are captured into a temporary file for the duration of the call."""
    model = TflmModel(path)
    with tempfile.TemporaryFile() as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            model._interpreter.print_allocations()
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
        sink.seek(0)
        text = sink.read().decode("utf-8", "replace")
    found = {k: int(v) for k, v in _ARENA_LINE.findall(text)}
    if set(found) != {"total", "head", "tail"}:
        raise ModelError(f"{path}: no arena figures in TFLM's allocation report: {text[:200]!r}")
    return TflmArena(found["total"], found["head"], found["tail"])
