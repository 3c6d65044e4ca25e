"""Re-quantize a reference float model: rebuild it in Keras from its ``.tflite``, then int8.

A closed-division submitter may quantize the reference float weights with their own
calibration instead of shipping the reference int8 file (spec §1.7, §2.7); ``models verify``
must accept such a model. This module produces one: it reads the float ``.tflite`` graph
(``kws_ref_model_float32.tflite``, ``ad01_fp32.tflite``), builds the equivalent Keras
inference model (BatchNorm already folded into the weights, activations fused), copies every
weight as its dequantized real value, and converts it with the same post-training int8
settings as ``models build`` (:func:`tinyperf.reference_models.quantize.convert_int8`).

Supported ops: CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED,
SOFTMAX — the reference kws01/ad01 op set. Layout conversions (TFLite → Keras):
conv ``[O,H,W,I] → [H,W,I,O]``, depthwise ``[1,H,W,I·M] → [H,W,I,M]``, FC ``[O,I] → [I,O]``.

Needs TensorFlow (the ``train`` extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tinyperf.formats.errors import ModelError
from tinyperf.reference_models import quantize
from tinyperf.reference_models.tflite_info import (
    ModelInfo,
    Operator,
    dequantized_values,
    read_model,
)

_ACTIVATIONS = {"NONE": None, "RELU": "relu", "RELU6": "relu6"}


def _tf() -> Any:
    import tensorflow as tf

    return tf


def _activation(info: ModelInfo, op: Operator) -> str | None:
    name = op.options.get("fused_activation_function", "NONE")
    if name not in _ACTIVATIONS:
        raise ModelError(f"{info.path}: op {op.index} {op.op}: fused activation {name} is not "
                         f"supported")
    return _ACTIVATIONS[name]


def _padding(info: ModelInfo, op: Operator) -> str:
    padding = str(op.options.get("padding", "VALID")).lower()
    if padding not in ("same", "valid"):
        raise ModelError(f"{info.path}: op {op.index} {op.op}: padding {padding!r}")
    return padding


def _const(info: ModelInfo, op: Operator, position: int) -> np.ndarray | None:
    if position >= len(op.inputs) or op.inputs[position] < 0:
        return None
    return dequantized_values(info, op.inputs[position]).astype(np.float32)


def _layer_for(info: ModelInfo, op: Operator) -> tuple[Any, list[np.ndarray]]:
    """The Keras layer computing ``op`` and the weights to set on it after it is built."""
    layers = _tf().keras.layers
    o = op.options
    if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        if (o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)) != (1, 1):
            raise ModelError(f"{info.path}: op {op.index} {op.op}: dilation is not supported")
        kernel, bias = _const(info, op, 1), _const(info, op, 2)
        if kernel is None:
            raise ModelError(f"{info.path}: op {op.index} {op.op}: filter is not constant")
        strides = (int(o.get("stride_h", 1)), int(o.get("stride_w", 1)))
        if op.op == "CONV_2D":
            out_ch, kh, kw, _ = kernel.shape
            layer = layers.Conv2D(out_ch, (kh, kw), strides=strides, padding=_padding(info, op),
                                  activation=_activation(info, op), use_bias=bias is not None)
            weights = [kernel.transpose(1, 2, 3, 0)]
        else:
            multiplier = int(o.get("depth_multiplier", 1))
            _, kh, kw, total = kernel.shape
            layer = layers.DepthwiseConv2D((kh, kw), strides=strides, padding=_padding(info, op),
                                           depth_multiplier=multiplier,
                                           activation=_activation(info, op),
                                           use_bias=bias is not None)
            weights = [kernel.reshape(kh, kw, total // multiplier, multiplier)]
        return layer, weights + ([bias] if bias is not None else [])
    if op.op == "AVERAGE_POOL_2D":
        if _activation(info, op) is not None:
            raise ModelError(f"{info.path}: op {op.index}: fused activation on a pool")
        return layers.AveragePooling2D(
            (int(o["filter_height"]), int(o["filter_width"])),
            strides=(int(o.get("stride_h", 1)), int(o.get("stride_w", 1))),
            padding=_padding(info, op)), []
    if op.op == "RESHAPE":
        out_shape = info.tensors[op.outputs[0]].shape
        return layers.Reshape(tuple(int(d) for d in out_shape[1:])), []
    if op.op == "FULLY_CONNECTED":
        kernel, bias = _const(info, op, 1), _const(info, op, 2)
        if kernel is None:
            raise ModelError(f"{info.path}: op {op.index} FULLY_CONNECTED: weights not constant")
        layer = layers.Dense(kernel.shape[0], activation=_activation(info, op),
                             use_bias=bias is not None)
        return layer, [kernel.T] + ([bias] if bias is not None else [])
    if op.op == "SOFTMAX":
        if float(o.get("beta", 1.0)) != 1.0:
            raise ModelError(f"{info.path}: op {op.index} SOFTMAX: beta {o['beta']} != 1")
        return layers.Softmax(), []
    raise ModelError(f"{info.path}: op {op.index} {op.op} is not supported by the re-quantizer "
                     f"(CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED, "
                     f"SOFTMAX)")


def keras_from_tflite(path: str | Path) -> Any:
    """A Keras model computing the same function as the float ``.tflite`` at ``path``.

    The graph must be a chain (each op reads the previous op's output), as both reference
    models are. Input name and batch size (1) are kept, so the int8 export has the
    reference's tensor shapes.
    """
    keras = _tf().keras
    info = read_model(path)
    if info.subgraphs != 1 or len(info.inputs) != 1 or len(info.outputs) != 1:
        raise ModelError(f"{info.path}: expected one subgraph with one input and one output")
    inp = info.tensors[info.inputs[0]]
    if inp.dtype != "float32":
        raise ModelError(f"{info.path}: input is {inp.dtype}; give the float model")
    inputs = keras.Input(shape=inp.shape[1:], batch_size=inp.shape[0], name=inp.name)
    x, current = inputs, info.inputs[0]
    pending: list[tuple[Any, list[np.ndarray]]] = []
    for op in info.operators:
        if op.inputs[0] != current:
            raise ModelError(f"{info.path}: op {op.index} {op.op} does not read the previous "
                             f"op's output: only chain graphs are supported")
        layer, weights = _layer_for(info, op)
        x = layer(x)
        pending.append((layer, weights))
        current = op.outputs[0]
    if current != info.outputs[0]:
        raise ModelError(f"{info.path}: the last op does not produce the model output")
    model = keras.Model(inputs, x, name=Path(info.path).stem)
    for layer, weights in pending:
        if weights:
            layer.set_weights(weights)
    return model


def requantize(path: str | Path, representative: quantize.RepresentativeData) -> bytes:
    """Full-integer int8 ``.tflite`` bytes of the float model at ``path``.

    ``representative()`` yields float32 calibration inputs shaped ``[1, ...]``. A RESHAPE the
    current converter drops in front of FULLY_CONNECTED is restored, so the result has the
    reference's op sequence.
    """
    model = keras_from_tflite(path)
    return quantize.restore_fc_reshape(quantize.convert_int8(model, representative))


__all__ = ["keras_from_tflite", "requantize"]
