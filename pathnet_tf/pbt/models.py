"""The PBT experiment's MNIST classifiers and their metrics. TensorFlow/Keras.

- `VariableDropout`: inverted dropout whose keep probability is a variable, so a new
  keep_prob takes effect inside a compiled step without retracing.
- `build_model("fc" | "conv")`: the reference protocol's classifiers
  (fc: 784 -> 256 -> 256 -> 10; conv: 3x3 convs of 16 and 32 filters, padding same,
  no pooling, then 25088 -> 10; both with BatchNorm, ReLU, dropout).
- `mean_cross_entropy`, `count_hits`, `count_accuracy`: the loss and the accuracy
  every step and evaluation uses (one definition each).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from pathnet_tf.pbt.config import MODELS

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
EVAL_CHUNK = 1000


@keras.saving.register_keras_serializable(package="pathnet_tf")
class VariableDropout(keras.layers.Layer):
    """Inverted dropout whose keep probability is a variable (rate = 1 - keep_prob).

    Keras' `Dropout` holds its rate as a Python float that a compiled step bakes in;
    here `keep_prob` is a non-trainable weight read on every call. In training each
    unit is kept with probability keep_prob and scaled by 1 / keep_prob; at
    inference the layer is the identity.

    Args:
      keep_prob: initial keep probability, in (0, 1].
      seed: seed of the layer's `keras.random.SeedGenerator`.
    """

    def __init__(self, keep_prob: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 < keep_prob <= 1.0:
            raise ValueError(f"keep_prob ({keep_prob}) must be in (0, 1].")
        self.initial_keep_prob = float(keep_prob)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.keep_prob = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(keep_prob),
            trainable=False,
            name="keep_prob",
        )

    def call(self, inputs, training=None):
        if not training:
            return inputs
        keep = keras.ops.cast(self.keep_prob, inputs.dtype)
        uniform = keras.random.uniform(
            keras.ops.shape(inputs), seed=self.seed_generator, dtype=inputs.dtype
        )
        # keep_prob > 0 always (perturbation by factors > 0 cannot reach 0); the
        # maximum only guards the division.
        scaled = inputs / keras.ops.maximum(keep, 1e-7)
        return keras.ops.where(uniform < keep, scaled, keras.ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"keep_prob": self.initial_keep_prob, "seed": self.seed})
        return config


def build_model(kind: str, seed: int = 0) -> keras.Sequential:
    """The reference protocol's MNIST classifier; inputs [batch, 28, 28, 1] -> logits.

    BatchNorm uses momentum 0.9 and epsilon 1e-5 (PyTorch's defaults, as in the
    reference). All initializers and dropout layers are seeded from `seed`.
    """
    if kind not in MODELS:
        raise ValueError(f"model kind {kind!r} must be one of {', '.join(MODELS)}.")
    seeds = iter(np.random.default_rng(seed).integers(0, 2**31 - 1, size=16).tolist())

    def kernel():
        return keras.initializers.GlorotUniform(seed=next(seeds))

    def norm_relu_dropout():
        return [
            keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
            keras.layers.ReLU(),
            VariableDropout(seed=next(seeds)),
        ]

    layers: list[keras.layers.Layer] = [keras.Input(IMAGE_SHAPE)]
    if kind == "fc":
        layers.append(keras.layers.Flatten())
        for _ in range(2):
            layers.append(keras.layers.Dense(256, kernel_initializer=kernel()))
            layers.extend(norm_relu_dropout())
    else:
        for filters in (16, 32):
            layers.append(
                keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=kernel())
            )
            layers.extend(norm_relu_dropout())
        layers.append(keras.layers.Flatten())  # [batch, 28 * 28 * 32 = 25088]
    layers.append(keras.layers.Dense(NUM_CLASSES, kernel_initializer=kernel()))
    return keras.Sequential(layers, name=f"mnist_{kind}")


def mean_cross_entropy(logits, labels):
    """Mean softmax cross-entropy of logits [batch, 10] against int labels [batch]."""
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )


def count_hits(logits, labels, dtype=tf.int32):
    """How many rows of logits [batch, 10] have their largest value at the label."""
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.reduce_sum(tf.cast(tf.equal(predictions, labels), dtype))


def count_accuracy(count_correct, images: tf.Tensor, labels: tf.Tensor) -> float:
    """Accuracy from a compiled `count_correct(images, labels)`, in chunks."""
    total = int(images.shape[0])
    if total == 0:
        raise ValueError("cannot evaluate on 0 images.")
    correct = 0
    for start in range(0, total, EVAL_CHUNK):
        stop = min(start + EVAL_CHUNK, total)
        correct += int(count_correct(images[start:stop], labels[start:stop]))
    return correct / total



def with_weight_decay(gradients, variables, weight_decay: float):
    """`gradients` plus weight_decay × the variables (torch.optim.Adam's L2)."""
    if not weight_decay:
        return gradients
    return [
        g + weight_decay * tf.convert_to_tensor(v)
        for g, v in zip(gradients, variables, strict=True)
    ]
