"""Keras builders of the two reference architectures (spec §1.5 kws01 DS-CNN, §2.5 ad01 AE).

Needs TensorFlow (the ``train`` extra); nothing at run time imports this module.

- :func:`ds_cnn` — the kws01 DS-CNN exactly as in the spec's layer table: Conv2D 64 (10,4)
  stride 2 -> BN -> ReLU -> Dropout 0.2 -> 4 x [DepthwiseConv2D 3x3 -> BN -> ReLU -> Conv2D 64 1x1
  -> BN -> ReLU] -> Dropout 0.4 -> AveragePooling2D **(25, 5)** -> Flatten -> Dense 12 softmax.
  L2(1e-4) only on the kernels of the five standard Conv2D layers (the reference's depthwise
  regulariser never took effect, spec §1.5). 24,908 parameters (23,756 trainable).
- :func:`dense_autoencoder` — ad01: 640 -> [Dense 128 -> BN -> ReLU] x 4 -> Dense 8 -> BN -> ReLU ->
  [Dense 128 -> BN -> ReLU] x 4 -> Dense 640 linear. 269,992 parameters (267,928 trainable).
- :func:`fold_autoencoder` — the BN-folded 10-Dense inference model that is converted to
  TFLite (spec §2.7): correct folding by default, ``legacy=True`` mimics the reference's
  bias-dropping fold (reproduces ``ad01_fp32.tflite`` from ``ad01.h5``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

KWS_INPUT_SHAPE = (49, 10, 1)
KWS_CLASSES = 12
KWS_FILTERS = 64
KWS_DS_BLOCKS = 4
KWS_L2 = 1e-4
#: The trained reference's pool (not the (24, 5) of the later repository code).
KWS_POOL = (25, 5)
KWS_PARAMS = 24_908
KWS_TRAINABLE = 23_756

AD_INPUT_DIM = 640
AD_HIDDEN = 128
AD_BOTTLENECK = 8
AD_PARAMS = 269_992
AD_TRAINABLE = 267_928
AD_FOLDED_PARAMS = 265_864

BN_MOMENTUM = 0.99
BN_EPSILON = 1e-3


def _tf() -> Any:
    import tensorflow as tf  # the "train" extra

    return tf


def ds_cnn(pool: tuple[int, int] = KWS_POOL, batch_size: int | None = None,
           bn_momentum: float = BN_MOMENTUM) -> Any:
    """Build the kws01 DS-CNN (uncompiled ``keras.Model``, input ``input_1`` [49, 10, 1]).

    ``batch_size=1`` fixes the batch dimension, as needed for the TFLite export (a dynamic
    batch turns Flatten into SHAPE/STRIDED_SLICE/PACK/RESHAPE instead of one RESHAPE).
    ``bn_momentum`` other than the spec's 0.99 is only for very short (CI) runs, where the
    moving statistics would otherwise not converge.
    """
    keras = _tf().keras
    layers, l2 = keras.layers, keras.regularizers.l2

    def bn_relu(x: Any) -> Any:
        x = layers.BatchNormalization(momentum=bn_momentum, epsilon=BN_EPSILON)(x)
        return layers.Activation("relu")(x)

    inputs = keras.Input(shape=KWS_INPUT_SHAPE, batch_size=batch_size, name="input_1")
    x = layers.Conv2D(KWS_FILTERS, (10, 4), strides=(2, 2), padding="same",
                      kernel_regularizer=l2(KWS_L2))(inputs)
    x = bn_relu(x)
    x = layers.Dropout(0.2)(x)
    for _ in range(KWS_DS_BLOCKS):
        x = layers.DepthwiseConv2D((3, 3), padding="same", depth_multiplier=1)(x)
        x = bn_relu(x)
        x = layers.Conv2D(KWS_FILTERS, (1, 1), padding="same",
                          kernel_regularizer=l2(KWS_L2))(x)
        x = bn_relu(x)
    x = layers.Dropout(0.4)(x)
    x = layers.AveragePooling2D(pool_size=pool, strides=pool, padding="valid")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(KWS_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="ds_cnn")


def dense_autoencoder(batch_size: int | None = None, bn_momentum: float = BN_MOMENTUM) -> Any:
    """Build the ad01 dense autoencoder with BatchNormalization (uncompiled ``keras.Model``)."""
    keras = _tf().keras
    layers = keras.layers
    inputs = keras.Input(shape=(AD_INPUT_DIM,), batch_size=batch_size, name="input_1")
    x = inputs
    for units in (AD_HIDDEN,) * 4 + (AD_BOTTLENECK,) + (AD_HIDDEN,) * 4:
        x = layers.Dense(units)(x)
        x = layers.BatchNormalization(momentum=bn_momentum, epsilon=BN_EPSILON)(x)
        x = layers.Activation("relu")(x)
    outputs = layers.Dense(AD_INPUT_DIM)(x)
    return keras.Model(inputs, outputs, name="ad01_autoencoder")


def fold_dense_bn(kernel: np.ndarray, bias: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                  mean: np.ndarray, var: np.ndarray, epsilon: float = BN_EPSILON,
                  legacy: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Fold ``BN(x @ kernel + bias)`` into one Dense: (kernel', bias').

    Correct: m = gamma/sqrt(var+ε), kernel' = kernel*m, bias' = beta + (bias - mean)*m. ``legacy``
    reproduces the reference ``02_convert.py`` rule bias' = beta - mean*m (drops the Dense bias).
    """
    m = gamma / np.sqrt(var + epsilon)
    folded_bias = beta - mean * m if legacy else beta + (bias - mean) * m
    return (kernel * m).astype(np.float32), folded_bias.astype(np.float32)


def fold_autoencoder(model: Any, legacy: bool = False, batch_size: int | None = 1) -> Any:
    """Return the BN-folded 10-Dense inference model of a trained :func:`dense_autoencoder`.

    ReLU is the Dense activation of the first 9 layers, so the converter emits exactly 10
    FULLY_CONNECTED ops with fused ReLU on ops 0-8 (spec §2.7). Loading ``ad01.h5`` weights
    into :func:`dense_autoencoder` and folding with ``legacy=True`` gives ``ad01_fp32``.
    """
    keras = _tf().keras
    layers = keras.layers
    dense = [ly for ly in model.layers if isinstance(ly, layers.Dense)]
    norms = [ly for ly in model.layers if isinstance(ly, layers.BatchNormalization)]
    if len(dense) != len(norms) + 1:
        raise ValueError(f"expected n Dense + (n-1) BN layers, got {len(dense)} / {len(norms)}")
    inputs = keras.Input(shape=(AD_INPUT_DIM,), batch_size=batch_size, name="input_1")
    x = inputs
    weights = []
    for d, bn in zip(dense[:-1], norms):
        kernel, bias = d.get_weights()
        gamma, beta, mean, var = bn.get_weights()
        weights.append(fold_dense_bn(kernel, bias, gamma, beta, mean, var,
                                     float(bn.epsilon), legacy))
        x = layers.Dense(kernel.shape[1], activation="relu")(x)
    weights.append(tuple(dense[-1].get_weights()))
    outputs = layers.Dense(AD_INPUT_DIM)(x)
    folded = keras.Model(inputs, outputs, name="ad01_autoencoder_folded")
    for layer, (k, b) in zip([ly for ly in folded.layers if isinstance(ly, layers.Dense)],
                             weights):
        layer.set_weights([k, b])
    return folded


def param_counts(model: Any) -> dict[str, int]:
    """{"total", "trainable", "non_trainable"} parameter counts of a Keras model."""
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    non_trainable = int(sum(int(np.prod(w.shape)) for w in model.non_trainable_weights))
    return {"total": trainable + non_trainable, "trainable": trainable,
            "non_trainable": non_trainable}


__all__ = ["AD_PARAMS", "KWS_PARAMS", "KWS_POOL", "dense_autoencoder", "ds_cnn",
           "fold_autoencoder", "fold_dense_bn", "param_counts"]
