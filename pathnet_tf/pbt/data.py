"""The PBT experiment's data: MNIST as device tensors, the validation split, epochs.

Selection uses a validation split held out from the end of the training images;
the test split is only used to report accuracy at the end. Every epoch sees every
training image (the last batch is filled up with images from the start of the same
shuffle), so no part of an epoch is dropped.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

from pathnet_tf.experiments.data import Mnist
from pathnet_tf.pbt.config import ConfigError

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


def images_to_tensor(images: np.ndarray) -> tf.Tensor:
    """uint8 [n, 28, 28] -> normalised float32 [n, 28, 28, 1] on device."""
    scaled = np.asarray(images, dtype=np.float32)[..., None] / np.float32(255.0)
    return tf.constant((scaled - MNIST_MEAN) / MNIST_STD, dtype=tf.float32)


def labels_to_tensor(labels: np.ndarray) -> tf.Tensor:
    return tf.constant(np.asarray(labels, dtype=np.int32))


@dataclasses.dataclass(frozen=True)
class Splits:
    """Training, validation (selection) and test data as device tensors.

    Images [n, 28, 28, 1] float32 normalised; labels [n] int32.
    """

    train_images: tf.Tensor
    train_labels: tf.Tensor
    validation_images: tf.Tensor
    validation_labels: tf.Tensor
    test_images: tf.Tensor
    test_labels: tf.Tensor


def split_mnist(mnist: Mnist, validation_size: int, train_subset: int | None = None) -> Splits:
    """Holds out the last `validation_size` training images for selection.

    Training uses the images before them, or only the first `train_subset` of those.
    """
    total = len(mnist.train_labels)
    if not 0 < validation_size < total:
        raise ConfigError(
            f"validation_size {validation_size} must leave training images: the "
            f"training split holds {total}."
        )
    available = total - validation_size
    size = available if train_subset is None else train_subset
    if not 0 < size <= available:
        raise ConfigError(
            f"train_subset {train_subset} must be in [1, {available}] (training "
            f"images left after validation_size {validation_size})."
        )
    return Splits(
        train_images=images_to_tensor(mnist.train_images[:size]),
        train_labels=labels_to_tensor(mnist.train_labels[:size]),
        validation_images=images_to_tensor(mnist.train_images[available:]),
        validation_labels=labels_to_tensor(mnist.train_labels[available:]),
        test_images=images_to_tensor(mnist.test_images),
        test_labels=labels_to_tensor(mnist.test_labels),
    )


def epoch_batches(num_examples: int, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """One shuffled epoch as batch indices [ceil(n / batch), batch] int32.

    Every example appears; the last batch is filled up by repeating the shuffle
    from its start, so no part of the epoch is dropped.
    """
    if num_examples < 1 or batch_size < 1:
        raise ValueError(
            f"num_examples ({num_examples}) and batch_size ({batch_size}) must be >= 1."
        )
    steps = math.ceil(num_examples / batch_size)
    order = rng.permutation(num_examples)
    return np.resize(order, steps * batch_size).reshape(steps, batch_size).astype(np.int32)


