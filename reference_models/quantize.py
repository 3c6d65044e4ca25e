"""TFLite export of trained reference models: float32 and post-training int8 (spec §1.7, §2.7).

Needs TensorFlow (the ``train`` extra). The converter settings are the reference's:

- int8: ``optimizations = [DEFAULT]``, a representative dataset fed one example at a time
  (``[1, ...]`` float32), ``supported_ops = [TFLITE_BUILTINS_INT8]``, int8 input and output.
- float32: no optimizations (a true float model; the reference's ``kws_ref_model_float32``
  used ``DEFAULT`` without data and is therefore hybrid, which TFLite Micro rejects).

Models are exported with a fixed batch of 1 (the reference files' ``[1, ...]`` inputs).

Current converters (TF >= 2.16) remove the RESHAPE in front of FULLY_CONNECTED
(``AVERAGE_POOL_2D [1,1,1,64] → FULLY_CONNECTED`` reads the 4-D tensor directly).
:func:`restore_fc_reshape` puts the reference's RESHAPE ``[1,1,1,64] → [1,64]`` (int32 shape
constant ``[-1, 64]``, no options) back, so an exported DS-CNN has the reference's 13-op
sequence and passes ``models verify``'s graph check; the computation is unchanged (RESHAPE is
a copy and FULLY_CONNECTED flattens its input the same way).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

RepresentativeData = Callable[[], Iterable[np.ndarray]]


def _tf() -> Any:
    import tensorflow as tf

    return tf


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the converter's stdout/stderr chatter (SavedModel signatures, MLIR logs)."""
    if os.environ.get("TINYPERF_TRAIN_VERBOSE"):
        yield
        return
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        yield


def _converter(model: Any) -> Any:
    return _tf().lite.TFLiteConverter.from_keras_model(model)


def convert_float(model: Any) -> bytes:
    """Pure float32 TFLite (no optimizations) of a fixed-batch Keras model."""
    with _quiet():
        return bytes(_converter(model).convert())


def convert_int8(model: Any, representative: RepresentativeData) -> bytes:
    """Full-integer TFLite with int8 I/O, calibrated on ``representative()``.

    ``representative`` returns an iterable of single float32 inputs shaped like the model
    input *including* the batch dimension of 1; each is fed as one calibration step.
    """
    tf = _tf()
    conv = _converter(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]

    def gen() -> Iterator[list[np.ndarray]]:
        for x in representative():
            yield [np.asarray(x, dtype=np.float32)]

    conv.representative_dataset = gen
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    with _quiet():
        return bytes(conv.convert())


def _opcode_name(model: Any, index: int) -> str:
    from tensorflow.lite.tools import flatbuffer_utils

    return str(flatbuffer_utils.opcode_to_name(model, index))


def restore_fc_reshape(data: bytes) -> bytes:
    """Insert RESHAPE ``[1,..,C] → [1,C]`` before each FULLY_CONNECTED that reads a >2-D tensor.

    Returns ``data`` unchanged when there is nothing to do. The new tensor copies the
    quantization of the FC input (RESHAPE keeps scale and zero point).
    """
    from tensorflow.lite.python import schema_py_generated as fb
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(data))
    changed = False
    for sg in model.subgraphs:
        new_ops = []
        for op in sg.operators:
            src_index = op.inputs[0] if len(op.inputs) else -1
            if (_opcode_name(model, op.opcodeIndex) == "FULLY_CONNECTED" and src_index >= 0
                    and len(sg.tensors[src_index].shape) > 2):
                src = sg.tensors[src_index]
                shape = [int(src.shape[0]), int(np.prod(src.shape[1:]))]
                buf = fb.BufferT()
                const = [-1, shape[1]]  # the reference's Flatten constant
                buf.data = np.frombuffer(np.array(const, dtype="<i4").tobytes(), dtype=np.uint8)
                model.buffers.append(buf)
                shape_t = fb.TensorT()
                shape_t.shape = np.array([2], dtype=np.int32)
                shape_t.type = fb.TensorType.INT32
                shape_t.buffer = len(model.buffers) - 1
                shape_t.name = b"flatten/Const"
                out_t = fb.TensorT()
                out_t.shape = np.array(shape, dtype=np.int32)
                out_t.type = src.type
                out_t.buffer = src.buffer  # the (empty) buffer of an activation tensor
                out_t.name = b"flatten/Reshape"
                out_t.quantization = src.quantization
                sg.tensors += [shape_t, out_t]
                reshape = fb.OperatorT()
                reshape.opcodeIndex = _reshape_opcode(model, fb)
                reshape.inputs = np.array([src_index, len(sg.tensors) - 2], dtype=np.int32)
                reshape.outputs = np.array([len(sg.tensors) - 1], dtype=np.int32)
                new_ops.append(reshape)
                op.inputs = np.array(op.inputs, dtype=np.int32)
                op.inputs[0] = len(sg.tensors) - 1
                changed = True
            new_ops.append(op)
        sg.operators = new_ops
    if not changed:
        return data
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _reshape_opcode(model: Any, fb: Any) -> int:
    for i, code in enumerate(model.operatorCodes):
        if _opcode_name(model, i) == "RESHAPE":
            return i
    code = fb.OperatorCodeT()
    code.builtinCode = fb.BuiltinOperator.RESHAPE
    code.deprecatedBuiltinCode = fb.BuiltinOperator.RESHAPE
    code.version = 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


__all__ = ["convert_float", "convert_int8", "restore_fc_reshape"]
