"""Run a ``.tflite`` model on the host: interpreter selection and a small model wrapper.

Owns the choice of TFLite runtime (``ai_edge_litert`` → ``tflite_runtime`` →
``tensorflow.lite``) and of the op resolver: with ``reference_kernels=True`` the builtin
kernels without default delegates are used, which are bit-exact with TFLite Micro for kws01
(reference_models spec 3.3); XNNPACK (the runtime default) is not.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats.errors import ModelError

#: Runtime modules in preference order; each must expose ``Interpreter``.
_RUNTIMES = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter", "tensorflow.lite")


def _import_runtime() -> Any:
    errors = []
    for name in _RUNTIMES:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
    raise ModelError("no TFLite runtime available (" + "; ".join(errors) + ")")


def load_interpreter(path: str | Path, *, reference_kernels: bool = True) -> Any:
    """Create an allocated TFLite ``Interpreter`` for ``path``.

    ``reference_kernels`` selects ``OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES`` (DUT
    comparable int8 outputs); runtimes without that option fall back to their default.
    """
    module = _import_runtime()
    kwargs: dict[str, Any] = {"model_path": str(path), "num_threads": 1}
    resolver = getattr(module, "OpResolverType", None)
    if resolver is None:  # tensorflow.lite keeps it under experimental
        resolver = getattr(getattr(module, "experimental", None), "OpResolverType", None)
    if reference_kernels and resolver is not None:
        kwargs["experimental_op_resolver_type"] = resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
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
    """A single-input, single-output TFLite model: one sample or a batch per call."""

    def __init__(self, path: str | Path, *, reference_kernels: bool = True) -> None:
        self.path = Path(path)
        self._reference_kernels = reference_kernels
        self._interpreter = load_interpreter(path, reference_kernels=reference_kernels)
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
        self._interpreter = load_interpreter(self.path, reference_kernels=self._reference_kernels)
        self._batch = 1
