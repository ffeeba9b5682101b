"""PBT on MNIST with TensorFlow/Keras: models, the population, exploit copies, runs.

- `VariableDropout`: inverted dropout whose keep probability is a variable, so a new
  keep_prob takes effect inside a compiled step without retracing.
- `build_model("fc" | "conv")`: the reference protocol's classifiers
  (fc: 784 -> 256 -> 256 -> 10; conv: 3x3 convs of 16 and 32 filters, padding same,
  no pooling, then 25088 -> 10; both with BatchNorm, ReLU, dropout).
- `Population`: P members trained in turn by one Keras model, one Adam optimizer and
  one compiled epoch function. Each member's state (model weights including
  BatchNorm statistics, Adam slots and iteration count) lives in stacked
  tf.Variables with a leading population axis [P, ...], and its hyperparameters
  (learning_rate, keep_prob) in [P] variables; a member is assigned into the model
  before it trains and read back after. Exploit is one gather along the population
  axis, so a child gets its parent's weights *and* optimizer state *and*
  hyperparameters, taken as they were before anyone was overwritten.
  `Population.train_all` trains the whole population at once instead: one compiled
  function over the stacked variables, a `tf.vectorized_map` over the members of
  one step (Keras' `stateless_call` of the shared model, Adam written out on the
  stacked slots with Keras' formula). Same updates as training members in turn;
  only the dropout masks come from other random streams (one per member).
- `run(config, workdir)`: the experiment (vanilla or PBT) writing every output, and
  `evaluate_checkpoint(workdir)` for `-m test`.

Selection uses a validation split held out from the end of the training images;
the test split is only used to report accuracy at the end. Every epoch sees every
training image (the last batch is filled up with images from the start of the same
shuffle), so no part of an epoch is dropped.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import pathlib
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from pathnet_tf import atomic_io, pbt_plotting
from pathnet_tf.data import Mnist, load_mnist
from pathnet_tf.pbt import PBT, Decision
from pathnet_tf.pbt_config import HYPERPARAMETER_NAMES, MODELS, ConfigError, RunConfig

logger = logging.getLogger(__name__)

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
EVAL_CHUNK = 1000

HISTORY_FIELDS = (
    "round",
    "worker",
    "score",
    "train_loss",
    "train_accuracy",
    "learning_rate",
    "keep_prob",
    "ready",
    "copied_from",
    "mutation",
)
RESULTS_FIELDS = (
    "worker",
    "val_accuracy",
    "test_accuracy",
    "learning_rate",
    "keep_prob",
    "times_copied_into",
)


class CheckpointError(ValueError):
    """A checkpoint to evaluate is missing or unreadable."""


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


def _quiet_dropout_fallback(record: logging.LogRecord) -> bool:
    """Drops the vectorizer's notice (logged when `train_all` is traced) that it loops
    over the members for the dropout layers' stateless random ops: it has no batched
    kernel for them, by design (TensorFlow's own converter of the older stateless
    ops does the same, silently)."""
    return not record.getMessage().startswith("Using a while_loop for converting StatelessRandom")


def _mean_cross_entropy(logits, labels):
    """Mean softmax cross-entropy of logits [batch, 10] against int labels [batch]."""
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )


def _count_hits(logits, labels, dtype=tf.int32):
    """How many rows of logits [batch, 10] have their largest value at the label."""
    predictions = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.reduce_sum(tf.cast(tf.equal(predictions, labels), dtype))


def _check_hyperparameters(member: int, hyperparameters: Mapping[str, float]) -> None:
    if sorted(hyperparameters) != sorted(HYPERPARAMETER_NAMES):
        raise ValueError(
            f"member {member} hyperparameters have keys {sorted(hyperparameters)}; "
            f"expected exactly {list(HYPERPARAMETER_NAMES)}."
        )
    learning_rate = hyperparameters["learning_rate"]
    keep_prob = hyperparameters["keep_prob"]
    if not 0.0 < learning_rate < math.inf:
        raise ValueError(f"member {member} learning_rate ({learning_rate}) must be > 0 and finite.")
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"member {member} keep_prob ({keep_prob}) must be in (0, 1].")


class Population:
    """P members trained in turn by one model, one Adam optimizer, one compiled step;
    or all at once by `train_all`, one batched computation over the stacked state.

    Args:
      model_kind: "fc" or "conv".
      hyperparameters: one dict {"learning_rate", "keep_prob"} per member (P).
      weight_decay: L2 coefficient added to every gradient before Adam (as
        torch.optim.Adam's weight_decay, the reference's optimizer).
      seed: member m starts from the weights of `build_model(kind, seed + m)`.
    """

    def __init__(
        self,
        model_kind: str,
        hyperparameters: Sequence[Mapping[str, float]],
        *,
        weight_decay: float = 1e-5,
        seed: int = 0,
    ):
        if len(hyperparameters) < 1:
            raise ValueError("hyperparameters must hold one dict per member, not none.")
        for member, values in enumerate(hyperparameters):
            _check_hyperparameters(member, values)
        if not 0.0 <= weight_decay < math.inf:
            raise ValueError(f"weight_decay ({weight_decay}) must be >= 0 and finite.")
        self.size = len(hyperparameters)
        self.weight_decay = float(weight_decay)
        self.model = build_model(model_kind, seed)
        self.optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        self.optimizer.build(self.model.trainable_variables)
        self._dropouts = [
            layer for layer in self.model.layers if isinstance(layer, VariableDropout)
        ]
        # The state a member owns: model weights (trainable, BatchNorm statistics,
        # keep_prob) then optimizer variables (iterations, learning rate, Adam m, v).
        # learning_rate and keep_prob are overwritten from the [P] hyperparameter
        # variables whenever a member is loaded.
        self._num_weights = len(self.model.weights)
        self._variables = list(self.model.weights) + list(self.optimizer.variables)
        optimizer_state = [tf.convert_to_tensor(v) for v in self.optimizer.variables]
        per_member = []
        for member in range(self.size):
            fresh = build_model(model_kind, seed + member)
            weights = [tf.convert_to_tensor(w) for w in fresh.weights]
            per_member.append(weights + optimizer_state)
        self._stacked = [
            tf.Variable(tf.stack(values), trainable=False, name=f"population_{i}")
            for i, values in enumerate(zip(*per_member, strict=True))
        ]
        self._learning_rates = tf.Variable(
            [float(h["learning_rate"]) for h in hyperparameters], dtype=tf.float64
        )
        self._keep_probs = tf.Variable(
            [float(h["keep_prob"]) for h in hyperparameters], dtype=tf.float64
        )
        self._loaded: int | None = None
        self._init_batched(seed)

        self._train_epoch = tf.function(
            self._train_epoch_impl,
            input_signature=[
                tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32),
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None, None], tf.int32),
            ],
        )
        self._count_correct = tf.function(
            self._count_correct_impl,
            input_signature=[
                tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32),
                tf.TensorSpec([None], tf.int32),
            ],
        )

    def _init_batched(self, seed: int) -> None:
        """Index maps and per-member dropout seeds for `train_all`."""
        position = {id(v): i for i, v in enumerate(self._variables)}
        trainable = self.model.trainable_variables
        self._trainable_index = [position[id(v)] for v in trainable]
        # Adam's slots, in trainable-variable order (Keras keeps them in the order of
        # the variables it was built with: checked, not assumed).
        built = self.optimizer._trainable_variables
        if [id(v) for v in built] != [id(v) for v in trainable]:
            raise RuntimeError("Adam was built with other variables than the model's.")
        self._momentum_index = [position[id(v)] for v in self.optimizer._momentums]
        self._velocity_index = [position[id(v)] for v in self.optimizer._velocities]
        self._iteration_index = position[id(self.optimizer.iterations)]
        self._learning_rate_index = position[id(self.optimizer._learning_rate)]
        # Non-trainable state in `stateless_call` order: BatchNorm statistics and
        # keep_prob are stacked member state; the dropout layers' seed-generator
        # states are not (members trained in turn share them), so train_all keeps
        # one per member here.
        self._non_trainable_index = [
            position.get(id(v)) for v in self.model.non_trainable_variables
        ]
        seed_states = [v for v in self.model.non_trainable_variables if id(v) not in position]
        self._keep_prob_index = [position[id(layer.keep_prob)] for layer in self._dropouts]
        draws = np.random.default_rng([seed, 1]).integers(
            0, 2**31 - 1, size=(self.size, len(seed_states), 2)
        )
        dtype = seed_states[0].dtype if seed_states else "int32"
        self._member_seeds = tf.Variable(
            tf.cast(draws, dtype), trainable=False, name="population_dropout_seeds"
        )
        self._train_all = tf.function(
            self._train_all_impl,
            input_signature=[
                tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32),
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([self.size, None, None], tf.int32),
            ],
        )

    # Compiled computations -------------------------------------------------------

    def _train_step(self, images, labels):
        """One Adam step on images [batch, 28, 28, 1], labels [batch] int32."""
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            logits = self.model(images, training=True)
            loss = _mean_cross_entropy(logits, labels)
        gradients = self._with_weight_decay(tape.gradient(loss, variables), variables)
        self.optimizer.apply(gradients, variables)
        return loss, _count_hits(logits, labels, tf.float32)

    def _with_weight_decay(self, gradients, variables):
        """`gradients` plus weight_decay × the variables (torch.optim.Adam's L2)."""
        if not self.weight_decay:
            return gradients
        return [
            g + self.weight_decay * tf.convert_to_tensor(v)
            for g, v in zip(gradients, variables, strict=True)
        ]

    def _train_epoch_impl(self, images, labels, batch_indices):
        """Every step of batch_indices [steps, batch] in one call.

        Returns:
          (mean loss, accuracy) over the steps.
        """
        steps = tf.shape(batch_indices)[0]
        total_loss = tf.constant(0.0)
        total_correct = tf.constant(0.0)
        for step in tf.range(steps):
            indices = batch_indices[step]
            loss, correct = self._train_step(tf.gather(images, indices), tf.gather(labels, indices))
            total_loss += loss
            total_correct += correct
        num_steps = tf.cast(steps, tf.float32)
        num_examples = tf.cast(tf.size(batch_indices), tf.float32)
        return total_loss / num_steps, total_correct / num_examples

    def _member_step(self, state, images, labels):
        """One Adam step of one member; `state` = (trainable, non-trainable, Adam
        momentums, velocities, iteration, learning rate) as tensors. Written to be
        mapped over the population axis: no variable is read or written."""
        trainable, non_trainable, momentums, velocities, iteration, learning_rate = state
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            logits, non_trainable = self.model.stateless_call(
                trainable, non_trainable, images, training=True
            )
            loss = _mean_cross_entropy(logits, labels)
        gradients = self._with_weight_decay(tape.gradient(loss, trainable), trainable)
        # Keras' Adam.update_step, for every variable at once.
        opt = self.optimizer
        local_step = tf.cast(iteration + 1, tf.float32)
        alpha = (
            tf.cast(learning_rate, tf.float32)
            * tf.sqrt(1.0 - tf.pow(tf.cast(opt.beta_2, tf.float32), local_step))
            / (1.0 - tf.pow(tf.cast(opt.beta_1, tf.float32), local_step))
        )
        new_trainable, new_momentums, new_velocities = [], [], []
        for variable, gradient, m, v in zip(
            trainable, gradients, momentums, velocities, strict=True
        ):
            m = m + (gradient - m) * (1.0 - opt.beta_1)
            v = v + (tf.square(gradient) - v) * (1.0 - opt.beta_2)
            new_trainable.append(variable - m * alpha / (tf.sqrt(v) + opt.epsilon))
            new_momentums.append(m)
            new_velocities.append(v)
        new_state = (
            new_trainable,
            non_trainable,
            new_momentums,
            new_velocities,
            iteration + 1,
            learning_rate,
        )
        return new_state, loss, _count_hits(logits, labels, tf.float32)

    def _train_all_impl(self, images, labels, batch_indices):
        """Every member's steps batch_indices [P, steps, batch] in one call.

        Returns:
          (mean loss [P], accuracy [P]) over the steps.
        """
        stacked = self._stacked
        seeds = iter(range(self._member_seeds.shape[1]))
        state = (
            [stacked[i].read_value() for i in self._trainable_index],
            [
                stacked[i].read_value() if i is not None else self._member_seeds[:, next(seeds)]
                for i in self._non_trainable_index
            ],
            [stacked[i].read_value() for i in self._momentum_index],
            [stacked[i].read_value() for i in self._velocity_index],
            stacked[self._iteration_index].read_value(),
            stacked[self._learning_rate_index].read_value(),
        )
        steps = tf.shape(batch_indices)[1]

        def body(step, state, total_loss, total_correct):
            indices = batch_indices[:, step]  # [P, batch]
            state, loss, correct = tf.vectorized_map(
                lambda args: self._member_step(*args),
                (state, tf.gather(images, indices), tf.gather(labels, indices)),
            )
            return step + 1, state, total_loss + loss, total_correct + correct

        zeros = tf.zeros([self.size])
        _, state, total_loss, total_correct = tf.while_loop(
            lambda step, *_: step < steps, body, (tf.constant(0), state, zeros, zeros)
        )
        trainable, non_trainable, momentums, velocities, iteration, _ = state
        for indices, values in (
            (self._trainable_index, trainable),
            (self._momentum_index, momentums),
            (self._velocity_index, velocities),
        ):
            for i, value in zip(indices, values, strict=True):
                stacked[i].assign(value)
        seed_values = []
        for i, value in zip(self._non_trainable_index, non_trainable, strict=True):
            if i is None:
                seed_values.append(value)
            else:
                stacked[i].assign(value)
        if seed_values:
            self._member_seeds.assign(tf.stack(seed_values, axis=1))
        stacked[self._iteration_index].assign(iteration)
        num_steps = tf.cast(steps, tf.float32)
        num_examples = tf.cast(tf.size(batch_indices[0]), tf.float32)
        return total_loss / num_steps, total_correct / num_examples

    def _count_correct_impl(self, images, labels):
        return _count_hits(self.model(images, training=False), labels)

    def tracing_counts(self) -> dict[str, int]:
        """How often the compiled functions were traced (1 each once used)."""
        return {
            "train": self._train_epoch.experimental_get_tracing_count(),
            "evaluate": self._count_correct.experimental_get_tracing_count(),
            "train_all": self._train_all.experimental_get_tracing_count(),
        }

    # Moving members in and out of the model -------------------------------------

    def _check_member(self, member: int) -> int:
        if not isinstance(member, (int, np.integer)) or not 0 <= member < self.size:
            raise ValueError(f"member {member!r} must be an integer in [0, {self.size - 1}].")
        return int(member)

    def _load(self, member: int) -> None:
        if self._loaded == member:
            return
        for variable, stacked in zip(self._variables, self._stacked, strict=True):
            variable.assign(stacked[member])
        self._apply_hyperparameters(member)
        self._loaded = member

    def _apply_hyperparameters(self, member: int) -> None:
        self.optimizer.learning_rate = float(self._learning_rates[member])
        keep_prob = float(self._keep_probs[member])
        for layer in self._dropouts:
            layer.keep_prob.assign(keep_prob)

    def _store(self, member: int) -> None:
        for variable, stacked in zip(self._variables, self._stacked, strict=True):
            stacked[member].assign(tf.convert_to_tensor(variable))

    def load_member(self, member: int) -> keras.Model:
        """Assigns `member`'s state into the shared model and returns the model."""
        self._load(self._check_member(member))
        return self.model

    # Public API -----------------------------------------------------------------

    def hyperparameters(self, member: int) -> dict[str, float]:
        """`member`'s current hyperparameters (a fresh dict)."""
        member = self._check_member(member)
        return {
            "learning_rate": float(self._learning_rates[member]),
            "keep_prob": float(self._keep_probs[member]),
        }

    def set_hyperparameters(self, member: int, hyperparameters: Mapping[str, float]):
        """Gives `member` new hyperparameters; its next compiled step uses them."""
        member = self._check_member(member)
        _check_hyperparameters(member, hyperparameters)
        self._learning_rates[member].assign(float(hyperparameters["learning_rate"]))
        self._keep_probs[member].assign(float(hyperparameters["keep_prob"]))
        if self._loaded == member:
            self._apply_hyperparameters(member)

    def train(
        self,
        member: int,
        images: tf.Tensor,
        labels: tf.Tensor,
        batch_indices: np.ndarray,
    ) -> tuple[float, float]:
        """Trains `member` on the batches batch_indices [steps, batch] of the data.

        Args:
          images: [num_examples, 28, 28, 1] float32, as from `images_to_tensor`.
          labels: [num_examples] int32.
          batch_indices: [steps, batch] int indices into images.

        Returns:
          (mean training loss, training accuracy) over the steps.
        """
        member = self._check_member(member)
        self._load(member)
        loss, accuracy = self._train_epoch(
            images, labels, tf.convert_to_tensor(batch_indices, tf.int32)
        )
        self._store(member)
        return float(loss), float(accuracy)

    def train_all(
        self, images: tf.Tensor, labels: tf.Tensor, batch_indices: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Trains every member at once, member m on batch_indices[m] ([P, steps, batch]).

        The same updates as `train(m, ...)` for each m in turn (each member with its
        own hyperparameters, BatchNorm statistics and Adam state), computed as one
        batched computation over the stacked state; dropout masks come from one
        random stream per member instead of the shared model's.

        Returns:
          (mean training loss [P], training accuracy [P]) over the steps.
        """
        batch_indices = np.asarray(batch_indices)
        if batch_indices.ndim != 3 or batch_indices.shape[0] != self.size:
            raise ValueError(
                f"batch_indices has shape {list(batch_indices.shape)}; expected "
                f"[{self.size}, steps, batch]."
            )
        learning_rates = tf.cast(self._learning_rates, tf.float32)
        self._stacked[self._learning_rate_index].assign(learning_rates)
        keep_probs = tf.cast(self._keep_probs, tf.float32)
        for i in self._keep_prob_index:
            self._stacked[i].assign(keep_probs)
        tf_logger = tf.get_logger()
        tf_logger.addFilter(_quiet_dropout_fallback)
        try:
            loss, accuracy = self._train_all(
                images, labels, tf.convert_to_tensor(batch_indices, tf.int32)
            )
        finally:
            tf_logger.removeFilter(_quiet_dropout_fallback)
        self._loaded = None
        return loss.numpy(), accuracy.numpy()

    def evaluate(self, member: int, images: tf.Tensor, labels: tf.Tensor) -> float:
        """`member`'s accuracy on images [n, 28, 28, 1] float32, labels [n] int32."""
        member = self._check_member(member)
        self._load(member)
        return count_accuracy(self._count_correct, images, labels)

    def exploit(self, decisions: Sequence[Decision]) -> None:
        """Applies `PBT.step` decisions: copies, then every member's hyperparameters.

        A child gets its parent's model weights (BatchNorm statistics included) and
        Adam state (slots and iteration count) as they were before this call, all
        copies at once (one gather per stacked variable), then
        `decision.hyperparameters`.
        """
        sources = np.arange(self.size)
        for decision in decisions:
            member = self._check_member(decision.member)
            if decision.copied_from is not None:
                sources[member] = self._check_member(decision.copied_from)
        if np.any(sources != np.arange(self.size)):
            indices = tf.constant(sources, tf.int32)
            for stacked in self._stacked:
                stacked.assign(tf.gather(stacked, indices))
            self._loaded = None
        for decision in decisions:
            self.set_hyperparameters(decision.member, decision.hyperparameters)

    def member_weights(self, member: int, trainable_only: bool = False) -> list[np.ndarray]:
        """Copies of `member`'s model weights, in `model.weights` order.

        With `trainable_only`, only those in `model.trainable_weights` (no
        BatchNorm statistics, no keep_prob).
        """
        member = self._check_member(member)
        trainable = {id(v) for v in self.model.trainable_weights}
        return [
            stacked[member].numpy()
            for variable, stacked in zip(
                self.model.weights, self._stacked[: self._num_weights], strict=True
            )
            if not trainable_only or id(variable) in trainable
        ]

    def member_optimizer_state(self, member: int) -> list[np.ndarray]:
        """Copies of `member`'s optimizer variables, in `optimizer.variables` order."""
        member = self._check_member(member)
        return [s[member].numpy() for s in self._stacked[self._num_weights :]]

    @property
    def optimizer_variable_names(self) -> list[str]:
        return [v.path for v in self.optimizer.variables]

    @property
    def state_names(self) -> list[str]:
        """Names of `member_state`'s arrays: model weights, then optimizer variables."""
        return [v.path for v in self.model.weights] + self.optimizer_variable_names

    def member_state(self, member: int) -> list[np.ndarray]:
        """Copies of everything `member` owns, in `state_names` order: model weights
        (BatchNorm statistics included), then Adam's iteration count, learning rate
        and slots. With its hyperparameters, what a checkpoint needs."""
        member = self._check_member(member)
        return [stacked[member].numpy() for stacked in self._stacked]

    def set_member_state(self, member: int, values: Sequence[np.ndarray]) -> None:
        """Overwrites `member`'s weights and optimizer state with `values` (as from
        `member_state`, same shapes). Its hyperparameters are not changed: the
        learning rate and keep_prob among `values` are replaced by them on load."""
        member = self._check_member(member)
        if len(values) != len(self._stacked):
            raise ValueError(
                f"values holds {len(values)} arrays; member state has {len(self._stacked)}."
            )
        for name, stacked, value in zip(self.state_names, self._stacked, values, strict=True):
            if tuple(np.shape(value)) != tuple(stacked.shape[1:]):
                raise ValueError(
                    f"state {name} has shape {list(np.shape(value))}; expected "
                    f"{list(stacked.shape[1:])}."
                )
            stacked[member].assign(tf.cast(value, stacked.dtype))
        if self._loaded == member:
            self._loaded = None


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


def initial_hyperparameters(
    config: RunConfig, rng: np.random.Generator
) -> tuple[list[dict[str, float]], PBT | None]:
    """Each worker's starting hyperparameters, and the PBT controller (or None).

    Searched hyperparameters are drawn from their priors (by the PBT object in a
    PBT run, directly in a vanilla run); fixed ones are copied to every worker.
    """
    searched = config.searched
    controller = None
    if config.pbt is not None:
        controller = PBT(searched, config.pbt, rng)
        drawn = controller.initial_hyperparameters(config.population_size)
    else:
        drawn = [{h.name: h.sample(rng) for h in searched} for _ in range(config.population_size)]
    return [{**config.fixed, **values} for values in drawn], controller


def _worker_name(worker: int) -> str:
    return f"worker_{worker:02d}"


def run(
    config: RunConfig, workdir: str | os.PathLike, mnist: Mnist | None = None
) -> dict[str, Any]:
    """Trains the population round by round and writes every output into `workdir`.

    Outputs: config.json, history.csv, workers/worker_XX.csv, results.csv,
    results.json, tb/worker_XX/ (TensorBoard scalars), ckpt/best.keras and
    ckpt/best.json, figures/*.png. See config/README.md.

    Args:
      config: the run.
      workdir: output directory (created).
      mnist: the data; None reads it with `load_mnist(config.data_dir)`.

    Returns:
      The contents of results.json.
    """
    start = time.perf_counter()
    workdir = pathlib.Path(workdir)
    if mnist is None:
        mnist = load_mnist(config.data_dir)
    splits = split_mnist(mnist, config.validation_size, config.train_subset)
    workdir.mkdir(parents=True, exist_ok=True)
    atomic_io.write_json(workdir / "config.json", config.to_dict())

    keras.utils.set_random_seed(config.seed)
    pbt_seed, data_seed = np.random.SeedSequence(config.seed).spawn(2)
    hyperparameters, controller = initial_hyperparameters(config, np.random.default_rng(pbt_seed))
    data_rng = np.random.default_rng(data_seed)
    population = Population(
        config.model,
        hyperparameters,
        weight_decay=config.weight_decay,
        seed=config.seed,
    )
    writers = [
        tf.summary.create_file_writer(str(workdir / "tb" / _worker_name(worker)))
        for worker in range(config.population_size)
    ]
    num_train = int(splits.train_images.shape[0])
    history: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for round_index in range(1, config.rounds + 1):
        rows = []
        used_by = [population.hyperparameters(w) for w in range(config.population_size)]
        # The same shuffles in either mode: worker by worker, epoch by epoch.
        shuffles = [
            [
                epoch_batches(num_train, config.batch_size, data_rng)
                for _ in range(config.epochs_per_round)
            ]
            for _ in range(config.population_size)
        ]
        if config.batched:
            trained = [
                population.train_all(
                    splits.train_images,
                    splits.train_labels,
                    np.stack([shuffles[w][epoch] for w in range(config.population_size)]),
                )
                for epoch in range(config.epochs_per_round)
            ]
            epoch_losses = np.stack([loss for loss, _ in trained], axis=1)  # [P, epochs]
            epoch_accuracies = np.stack([accuracy for _, accuracy in trained], axis=1)
        else:
            epoch_losses = np.zeros((config.population_size, config.epochs_per_round))
            epoch_accuracies = np.zeros_like(epoch_losses)
            for worker in range(config.population_size):
                for epoch, batches in enumerate(shuffles[worker]):
                    epoch_losses[worker, epoch], epoch_accuracies[worker, epoch] = population.train(
                        worker, splits.train_images, splits.train_labels, batches
                    )
        for worker in range(config.population_size):
            used = used_by[worker]
            losses, accuracies = epoch_losses[worker], epoch_accuracies[worker]
            score = population.evaluate(worker, splits.validation_images, splits.validation_labels)
            row = {
                "round": round_index,
                "worker": worker,
                "score": score,
                "train_loss": float(np.mean(losses)),
                "train_accuracy": float(np.mean(accuracies)),
                "learning_rate": used["learning_rate"],
                "keep_prob": used["keep_prob"],
                "ready": False,
                "copied_from": None,
                "mutation": "",
            }
            rows.append(row)
            with writers[worker].as_default(step=round_index):
                tf.summary.scalar("val_accuracy", score)
                tf.summary.scalar("train_loss", row["train_loss"])
                tf.summary.scalar("train_accuracy", row["train_accuracy"])
                tf.summary.scalar("learning_rate", used["learning_rate"])
                tf.summary.scalar("keep_prob", used["keep_prob"])
        if controller is not None and round_index < config.rounds:
            decisions = controller.step([row["score"] for row in rows])
            population.exploit(decisions)
            for row, decision in zip(rows, decisions, strict=True):
                row["ready"] = decision.ready
                row["copied_from"] = decision.copied_from
                row["mutation"] = decision.mutation
        history.extend(rows)
        _write_history(workdir, history, config.population_size)
        scores = [row["score"] for row in rows]
        copies = [
            f"{row['worker']}<-{row['copied_from']}"
            for row in rows
            if row["copied_from"] is not None
        ]
        logger.info(
            "round %d/%d: best score %.4f (worker %d), mean %.4f; copies: %s",
            round_index,
            config.rounds,
            max(scores),
            int(np.argmax(scores)),
            float(np.mean(scores)),
            ", ".join(copies) or "none",
        )
    for writer in writers:
        writer.flush()
        writer.close()

    results = _finish(config, workdir, population, splits, history, rows)
    results["wall_time_s"] = round(time.perf_counter() - start, 3)
    atomic_io.write_json(workdir / "results.json", results)
    return results


def _write_history(workdir: pathlib.Path, history, population_size: int) -> None:
    atomic_io.write_csv(workdir / "history.csv", history, HISTORY_FIELDS)
    for worker in range(population_size):
        atomic_io.write_csv(
            workdir / "workers" / f"{_worker_name(worker)}.csv",
            [row for row in history if row["worker"] == worker],
            HISTORY_FIELDS,
        )


def _finish(config, workdir, population, splits, history, last_rows) -> dict:
    """Test accuracy of every worker, the best worker's checkpoint, figures."""
    scores = [row["score"] for row in last_rows]
    best = int(np.argmax(scores))
    copies_into = np.zeros(config.population_size, dtype=int)
    for row in history:
        if row["copied_from"] is not None:
            copies_into[row["worker"]] += 1
    workers = []
    for worker in range(config.population_size):
        test_accuracy = population.evaluate(worker, splits.test_images, splits.test_labels)
        final = population.hyperparameters(worker)
        workers.append(
            {
                "worker": worker,
                "val_accuracy": scores[worker],
                "test_accuracy": test_accuracy,
                "learning_rate": final["learning_rate"],
                "keep_prob": final["keep_prob"],
                "times_copied_into": int(copies_into[worker]),
            }
        )
    atomic_io.write_csv(workdir / "results.csv", workers, RESULTS_FIELDS)

    model = population.load_member(best)
    with warnings.catch_warnings():
        # Keras' own saving code calls np.array on its variables (NumPy 2 notice).
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        atomic_io.write_atomic(workdir / "ckpt" / "best.keras", model.save)
    checkpoint_info = {
        "worker": best,
        "round": config.rounds,
        "model": config.model,
        "val_accuracy": scores[best],
        "test_accuracy": workers[best]["test_accuracy"],
        "hyperparameters": population.hyperparameters(best),
    }
    atomic_io.write_json(workdir / "ckpt" / "best.json", checkpoint_info)

    lr_worker = best if config.lr_plot_worker is None else config.lr_plot_worker
    figures = pbt_plotting.plot_run(workdir, lr_worker)
    return {
        "model": config.model,
        "population_size": config.population_size,
        "rounds": config.rounds,
        "pbt": config.pbt is not None,
        "best_worker": best,
        "best_val_accuracy": scores[best],
        "best_test_accuracy": workers[best]["test_accuracy"],
        "workers": workers,
        "checkpoint": str(pathlib.Path("ckpt") / "best.keras"),
        "figures": [str(path.relative_to(workdir)) for path in figures],
        "tracing_counts": population.tracing_counts(),
    }


def evaluate_checkpoint(
    workdir: str | os.PathLike,
    mnist: Mnist | None = None,
    data_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Test accuracy of `workdir/ckpt/best.keras`; writes workdir/test_results.json.

    Raises:
      CheckpointError: the checkpoint is missing or cannot be loaded.
    """
    workdir = pathlib.Path(workdir)
    path = workdir / "ckpt" / "best.keras"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; run with -m train first.")
    try:
        model = keras.saving.load_model(path)
    except (OSError, ValueError) as error:
        raise CheckpointError(f"checkpoint {path} cannot be loaded ({error}).") from None
    if mnist is None:
        mnist = load_mnist(data_dir)
    images = images_to_tensor(mnist.test_images)
    labels = labels_to_tensor(mnist.test_labels)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32),
            tf.TensorSpec([None], tf.int32),
        ]
    )
    def count_correct(x, y):
        return _count_hits(model(x, training=False), y)

    results = {
        "checkpoint": str(path),
        "test_accuracy": count_accuracy(count_correct, images, labels),
        "num_test_images": int(images.shape[0]),
    }
    atomic_io.write_json(workdir / "test_results.json", results)
    return results
