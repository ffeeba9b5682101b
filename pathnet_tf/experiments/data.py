"""MNIST from IDX files, and the noisy binary MNIST tasks of the PathNet paper.

NumPy only: nothing here imports TensorFlow, so data loading and task building are
tested in milliseconds and the training code decides how to put arrays on device.

- `load_mnist(data_dir)` reads the four standard MNIST files (gzipped IDX, or
  uncompressed with the same names minus ".gz") and validates them, raising
  `DataError` with one sentence naming the path and what was expected (in
  `mnist_files.py`, importable from here).
- `validate_digits(digits)` turns "1,3" or (1, 3) into a checked pair of digits.
- `salt_and_pepper(images, probability, rng)` replaces pixels by 0 or 1;
  `additive_salt(images, probability, rng)` is the TF1 code's noise (adds, no pepper).
- `binary_task(mnist, digits, noise, rng)` builds one binary task: the two digits,
  scaled to [0, 1], flattened to 784, noised once, shuffled.

All randomness comes from the `numpy.random.Generator` passed in; nothing is
cached between calls.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

# Reading the files is mnist_files.py's; its public names are importable from here too.
from pathnet_tf.files.mnist_files import (  # noqa: F401
    DEFAULT_MNIST_DIR,
    IMAGE_COLS,
    IMAGE_ROWS,
    IMAGE_SIZE,
    IMAGES_MAGIC,
    LABELS_MAGIC,
    NUM_CLASSES,
    DataError,
    Mnist,
    load_mnist,
)

NOISE_KINDS = ("salt_and_pepper", "additive_salt")  # binary_task's noise_kind
# binary_task's train_split: all 60,000 training images, or the 55,000 of TF's
# `input_data` loader (the TF1 code's), which holds out the first 5,000 as validation.
TRAIN_SPLITS = ("full", "tf1")
TF1_VALIDATION_SIZE = 5000


@dataclasses.dataclass(frozen=True, eq=False)
class BinaryTask:
    """One binary classification task: digits[0] (label 0) vs digits[1] (label 1).

    Attributes:
      name: e.g. "1v3".
      digits: the two digits, (label-0 digit, label-1 digit).
      train_x: [num_train, 784] float32 in [0, 1], noised once, shuffled.
      train_y: [num_train] int32, 0 for digits[0] and 1 for digits[1].
      test_x: [num_test, 784] float32 in [0, 1], noised the same way
        (an independent draw), shuffled.
      test_y: [num_test] int32.
    """

    name: str
    digits: tuple[int, int]
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    num_classes = 2

    @property
    def info(self) -> dict:
        """What results.json records of the task besides its name."""
        return {"digits": list(self.digits)}

    def __repr__(self) -> str:
        return (
            f"BinaryTask(name={self.name!r}, train_x={list(self.train_x.shape)}, "
            f"test_x={list(self.test_x.shape)})"
        )



def validate_digits(digits: Sequence[int] | str) -> tuple[int, int]:
    """Checks a digit pair given as a sequence, or a string like "1,3" or "1v3".

    Returns:
      (first digit, second digit), plain ints in 0-9, different from each other.

    Raises:
      DataError: not exactly two integers, a digit outside 0-9, or the same digit
        twice.
    """
    if isinstance(digits, str):
        shown = repr(digits)
        parts = digits.replace("v", ",").split(",")
        try:
            values = [int(part) for part in parts]
        except ValueError:
            raise DataError(
                f"digit pair {shown} must be two integers in 0-9 separated by a "
                "comma, like '1,3'."
            ) from None
    else:
        try:
            items = list(digits)
        except TypeError:
            raise DataError(
                f"digit pair {digits!r} must be a sequence of two digits in 0-9 or "
                "a string like '1,3'."
            ) from None
        for item in items:
            if isinstance(item, (bool, np.bool_)) or not isinstance(
                item, (int, np.integer)
            ):
                raise DataError(
                    f"digit {item!r} in digit pair {digits!r} must be an integer "
                    "in 0-9."
                )
        values = [int(item) for item in items]
        shown = str(tuple(values))
    if len(values) != 2:
        raise DataError(
            f"digit pair {shown} must name exactly two digits in 0-9, not "
            f"{len(values)}."
        )
    for value in values:
        if not 0 <= value < NUM_CLASSES:
            raise DataError(f"digit {value} in digit pair {shown} must be in 0-9.")
    if values[0] == values[1]:
        raise DataError(f"digit pair {shown} must name two different digits in 0-9.")
    return values[0], values[1]


def _validate_probability(probability: float, what: str) -> float:
    """Returns `probability` as a float, or raises DataError if not in [0, 1]."""
    try:
        value = float(probability)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 <= value <= 1.0:  # Also rejects NaN.
        raise DataError(f"{what} {probability!r} must be a number in [0, 1].")
    return value


def salt_and_pepper(
    images: np.ndarray, probability: float, rng: np.random.Generator
) -> np.ndarray:
    """Salt-and-pepper noise: each pixel, with `probability`, becomes 0.0 or 1.0.

    Each pixel independently is replaced with chance `probability`, by 1.0 (salt)
    or 0.0 (pepper) with equal chance, and otherwise kept.

    Args:
      images: float array of any shape, values in [0, 1]; not modified.
      probability: chance in [0, 1] that a pixel is replaced.
      rng: the only source of randomness (one uniform draw per pixel).

    Returns:
      A new float32 array shaped like `images`; with probability 0 an equal copy.

    Raises:
      DataError: `probability` is not a number in [0, 1].
    """
    probability = _validate_probability(probability, "salt-and-pepper probability")
    images = np.asarray(images, dtype=np.float32)
    # One uniform u per pixel: u < p/2 -> salt (1.0), p/2 <= u < p -> pepper (0.0).
    uniform = rng.random(images.shape, dtype=np.float32)
    replaced = uniform < np.float32(probability)
    salt = uniform < np.float32(probability / 2)
    return np.where(replaced, salt.astype(np.float32), images).astype(
        np.float32, copy=False
    )


def additive_salt(
    images: np.ndarray, probability: float, rng: np.random.Generator
) -> np.ndarray:
    """The TF1 code's noise (docs/protocol.md section 3, item 8): additive salt, no pepper.

    One uniform draw u in [0, 1) per pixel; where u >= 1 - `probability` (so with
    chance `probability`), the pixel gets + u, u itself (in [0.5, 1) for the TF1
    code's probability 0.5), and is clipped to 1. Other pixels are kept.

    Args and result as `salt_and_pepper`.
    """
    probability = _validate_probability(probability, "additive salt probability")
    images = np.asarray(images, dtype=np.float32)
    uniform = rng.random(images.shape, dtype=np.float32)
    added = np.where(uniform >= np.float32(1.0 - probability), uniform, np.float32(0.0))
    return np.minimum(images + added, np.float32(1.0)).astype(np.float32, copy=False)


def binary_task(
    mnist: Mnist,
    digits: Sequence[int] | str,
    noise: float = 0.5,
    rng: np.random.Generator | None = None,
    max_train: int | None = None,
    max_test: int | None = None,
    noise_kind: str = "salt_and_pepper",
    train_split: str = "full",
    noise_train: bool = True,
) -> BinaryTask:
    """Builds the noisy binary task digits[0] (label 0) vs digits[1] (label 1).

    Selects the two digits from both splits, scales uint8 to float32 in [0, 1],
    flattens to 784, shuffles each split, keeps the first `max_train` / `max_test`
    shuffled examples if asked, then applies `salt_and_pepper(noise)` (or the
    `noise_kind` named) once to each split (independent draws): a fixed noisy
    copy from which training samples batches. The shuffle is drawn before the
    noise, so one seed gives the same example order whatever `noise` is.

    Args:
      mnist: from `load_mnist`.
      digits: two different digits in 0-9, as a sequence or a string like "1,3".
      noise: salt-and-pepper probability in [0, 1] (the paper's binary MNIST
        tasks use 0.5).
      rng: the only source of randomness (required); one seed gives bit-identical
        arrays.
      max_train: if given, a positive int: keep at most this many training
        examples (for tiny tests).
      max_test: if given, a positive int: keep at most this many test examples.
      noise_kind: "salt_and_pepper" (the paper's) or "additive_salt" (the TF1
        code's, `additive_salt`), drawn with probability `noise`.
      noise_train: False leaves the training images clean (the trainer then noises
        each minibatch afresh, `noise_draw="per_batch"`); the noise is drawn all the
        same, so the test images are those of `noise_train=True`.
      train_split: "full" (the 60,000 training images) or "tf1" (the 55,000 of TF's
        `input_data` loader, which the TF1 code trains on: training images 5,000
        to 59,999, the first 5,000 being its validation set).

    Returns:
      A `BinaryTask` named like "1v3".

    Raises:
      DataError: a bad digit pair, noise, max_train or max_test, or a digit with
        no examples in a split.
      TypeError: `rng` is not a `numpy.random.Generator`.
    """
    first, second = validate_digits(digits)
    noise = _validate_probability(noise, "noise")
    if noise_kind not in NOISE_KINDS:
        raise DataError(f"noise_kind {noise_kind!r} must be one of {', '.join(NOISE_KINDS)}.")
    if train_split not in TRAIN_SPLITS:
        raise DataError(
            f"train_split {train_split!r} must be one of {', '.join(TRAIN_SPLITS)}.")
    for name, limit in (("max_train", max_train), ("max_test", max_test)):
        if limit is not None and (
            isinstance(limit, (bool, np.bool_))
            or not isinstance(limit, (int, np.integer))
            or limit < 1
        ):
            raise DataError(f"{name} {limit!r} must be a positive integer or None.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "binary_task needs rng, a numpy.random.Generator, not "
            f"{type(rng).__name__}."
        )

    first_train = TF1_VALIDATION_SIZE if train_split == "tf1" else 0
    splits = {}
    for split, images, labels, limit in (
        ("train", mnist.train_images[first_train:], mnist.train_labels[first_train:],
         max_train),
        ("test", mnist.test_images, mnist.test_labels, max_test),
    ):
        for digit in (first, second):
            if not np.any(labels == digit):
                raise DataError(
                    f"digit {digit} has no examples in the MNIST {split} split."
                )
        (indices,) = np.nonzero((labels == first) | (labels == second))
        indices = indices[rng.permutation(indices.size)][:limit]
        x = images[indices].reshape(indices.size, -1).astype(np.float32)
        x /= np.float32(255.0)
        y = (labels[indices] == second).astype(np.int32)
        splits[split] = (x, y)

    add_noise = salt_and_pepper if noise_kind == "salt_and_pepper" else additive_salt
    train_x = add_noise(splits["train"][0], noise, rng)
    test_x = add_noise(splits["test"][0], noise, rng)
    if not noise_train:  # drawn all the same: the test images do not depend on it
        train_x = splits["train"][0]
    return BinaryTask(
        name=f"{first}v{second}",
        digits=(first, second),
        train_x=train_x,
        train_y=splits["train"][1],
        test_x=test_x,
        test_y=splits["test"][1],
    )
