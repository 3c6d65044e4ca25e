"""The sww01 reference DUT's per-block processing, on the host (sww01_model.md 1-6).

``SwwDevice`` holds what the firmware holds between I2S blocks: the 1024-sample analysis
window, the pre-emphasis state (kept across ``start``, as on the device), the 30x40 int8
model input (filled with int8 0 at ``start``), the first-frame flag and the activation log.
``step`` runs one 512-sample block: features, shift, the real ``.tflite`` on the TFLite
reference kernels (``BUILTIN_REF``), the detection rule out[0] > 115 or first step.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats.errors import ModelError
from tinyperf.reference_models.sww import features as ft

#: Detection threshold on the int8 wakeword output (q >= 116, i.e. p >= 0.953).
THRESHOLD = 115
ROWS = 30  #: model input: 30 time rows x 40 mel columns, row 29 newest
#: The firmware's activation log size (covers the 37 500 steps of the 20-minute file).
ACTIVATION_LOG_SIZE = 64_000
_INPUT_SHAPE = (1, ROWS, 1, ft.N_MELS)


def load_reference_interpreter(path: str | Path) -> Any:
    """An allocated LiteRT interpreter on the reference kernels (deterministic integer code,
    the spec's choice for goldens; the optimised and XNNPACK kernels differ by up to 20 LSB)."""
    try:
        module = importlib.import_module("ai_edge_litert.interpreter")
    except ImportError as exc:
        raise ModelError(f"sww01 needs ai-edge-litert (the BUILTIN_REF resolver): {exc}") from exc
    try:
        interpreter = module.Interpreter(
            model_path=str(path), num_threads=1,
            experimental_op_resolver_type=module.OpResolverType.BUILTIN_REF)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(f"{path}: cannot load TFLite model: {exc}") from exc
    return interpreter


class SwwModel:
    """The wakeword ``.tflite``: 1x30x1x40 int8 in, 1x3 int8 out (index 0 = "marvin")."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._it = load_reference_interpreter(path)
        inputs, outputs = self._it.get_input_details(), self._it.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(f"{path}: expected 1 input and 1 output, got {len(inputs)} and "
                             f"{len(outputs)}")
        shape = tuple(int(d) for d in inputs[0]["shape"])
        if shape != _INPUT_SHAPE or inputs[0]["dtype"] != np.int8:
            raise ModelError(f"{path}: input is {shape} {np.dtype(inputs[0]['dtype'])}, the sww01 "
                             f"pipeline feeds {_INPUT_SHAPE} int8")
        if outputs[0]["dtype"] != np.int8:
            raise ModelError(f"{path}: output dtype is {np.dtype(outputs[0]['dtype'])}, need int8")
        self._in, self._out = inputs[0]["index"], outputs[0]["index"]

    def invoke(self, model_input: np.ndarray) -> np.ndarray:
        """Run the 1200-value int8 buffer; returns the int8 output row (3 values)."""
        self._it.set_tensor(self._in, model_input.reshape(_INPUT_SHAPE))
        self._it.invoke()
        return self._it.get_tensor(self._out)[0].copy()


@dataclass(frozen=True)
class StepOutput:
    """What one processed block produced: the int8 features shifted in, the raw int8
    wakeword output out[0], all outputs, and whether the DUT pulses ``WW_DETECTED``."""

    features: np.ndarray  # int8 (40,)
    ww: int
    outputs: tuple[int, ...]
    detected: bool
    first: bool


def detects(ww: int, first: bool) -> bool:
    """The firmware's pulse rule: out[0] > 115 (signed int8) or the first step after start."""
    return first or ww > THRESHOLD


class SwwDevice:
    """The reference DUT between ``start`` and ``stop``: feed it 512-sample blocks."""

    def __init__(self, model_path: str | Path) -> None:
        self.model = SwwModel(model_path)
        self._x_prev = np.float32(0.0)  # power-up value; start does not reset it
        self._history = np.zeros(ft.BLOCK, np.int16)
        self._input = np.zeros((ROWS, ft.N_MELS), np.int8)
        self._first = True
        self.activations: list[int] = []

    def start(self) -> None:
        """Clear the model input (int8 0) and activation log, zero the audio window, mark the
        first frame. The pre-emphasis state survives, as on the device."""
        self._history = np.zeros(ft.BLOCK, np.int16)
        self._input = np.zeros((ROWS, ft.N_MELS), np.int8)
        self._first = True
        self.activations = []

    @property
    def pre_emphasis_state(self) -> np.float32:
        """x_prev: the sample before the next analysis window (0 at power-up)."""
        return self._x_prev

    def step(self, block: np.ndarray) -> StepOutput:
        """Process one block of 512 new channel-0 samples (int16)."""
        block = np.asarray(block)
        if block.shape != (ft.BLOCK,) or block.dtype != np.int16:
            raise ValueError(f"block must be int16 of shape ({ft.BLOCK},), got {block.dtype} "
                             f"{block.shape}")
        window = np.concatenate((self._history, block))
        _, q, self._x_prev = ft.features_for_window(window, self._x_prev)
        self._history = block.copy()
        return self._infer(q)

    def step_features(self, q: np.ndarray) -> StepOutput:
        """Process one step whose int8 features were computed ahead (stream mode)."""
        q = np.asarray(q)
        if q.shape != (ft.N_MELS,) or q.dtype != np.int8:
            raise ValueError(f"features must be int8 of shape ({ft.N_MELS},), got {q.dtype} "
                             f"{q.shape}")
        return self._infer(q)

    def _infer(self, q: np.ndarray) -> StepOutput:
        self._input[:-1] = self._input[1:]  # drop the oldest row, newest goes last
        self._input[-1] = q
        out = self.model.invoke(self._input)
        ww = int(out[0])
        first, self._first = self._first, False
        if len(self.activations) < ACTIVATION_LOG_SIZE:
            self.activations.append(ww)
        return StepOutput(q.copy(), ww, tuple(int(v) for v in out), detects(ww, first), first)

    def stream_features(self, samples: np.ndarray) -> np.ndarray:
        """int8 features (n, 40) of every complete block of ``samples`` in one vectorised
        pass from the current state (call after ``start``), leaving the pre-emphasis state
        and audio window where stepping the blocks would; feed the rows to
        :meth:`step_features`."""
        samples = np.asarray(samples, dtype=np.int16)
        n = len(samples) // ft.BLOCK
        if n == 0:
            return np.zeros((0, ft.N_MELS), np.int8)
        if self._history.any():
            raise ValueError("stream_features starts from a zeroed audio window: call start()")
        _, q = ft.features_for_stream(samples, self._x_prev)
        last = (n - 1) * ft.BLOCK  # state after the last step: x[511] of its window
        self._x_prev = ft.to_float(samples[last - 1:last])[0] if n > 1 else np.float32(0)
        self._history = samples[last:last + ft.BLOCK].copy()
        return q

    def run(self, samples: np.ndarray) -> list[StepOutput]:
        """``start`` then every complete block of ``samples`` (int16 channel 0), features
        computed in one vectorised pass (same values as ``step``)."""
        self.start()
        return [self._infer(row) for row in self.stream_features(samples)]
