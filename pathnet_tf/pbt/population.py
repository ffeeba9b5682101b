"""The PBT population: P members' whole state, stacked, trained in turn or batched.

`Population` keeps every member's state (model weights including BatchNorm
statistics, Adam's iteration count and slots) in stacked tf.Variables with a leading
population axis [P, ...], and its hyperparameters (learning_rate, keep_prob) in [P]
variables. Members train in turn by one Keras model, one `keras.optimizers.Adam` and
one compiled epoch function: a member is assigned into the model before it trains
and read back after. `Population.train_all` trains all at once instead
(`pathnet_tf.pbt.batched`: one compiled computation over the stacked state, Adam as
the project's `MaskedAdam`). Exploit is one gather along the population axis, so a
child gets its parent's weights *and* optimizer state *and* hyperparameters, taken
as they were before anyone was overwritten.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from pathnet_tf.pbt.batched import BatchedTrainer, StateLayout
from pathnet_tf.pbt.config import HYPERPARAMETER_NAMES
from pathnet_tf.pbt.decisions import Decision
from pathnet_tf.pbt.models import (
    IMAGE_SHAPE,
    VariableDropout,
    build_model,
    count_accuracy,
    count_hits,
    mean_cross_entropy,
    with_weight_decay,
)


def _quiet_dropout_fallback(record: logging.LogRecord) -> bool:
    """Drops the vectorizer's notice (logged when `train_all` is traced) that it loops
    over the members for the dropout layers' stateless random ops: it has no batched
    kernel for them, by design (TensorFlow's own converter of the older stateless
    ops does the same, silently)."""
    return not record.getMessage().startswith("Using a while_loop for converting StatelessRandom")


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


def _adam_layout(optimizer: keras.optimizers.Adam, trainable) -> tuple[int, int, list]:
    """Where Adam's state sits in `optimizer.variables`, from public attributes only:
    (iterations, learning rate, [(momentum, velocity) per trainable variable]).

    Keras lists them as iterations, learning rate, then each variable's momentum and
    velocity, named after the variable's path; checked here, not assumed.
    """
    variables = list(optimizer.variables)
    positions = {id(v): i for i, v in enumerate(variables)}
    iteration = positions.get(id(optimizer.iterations))
    learning_rate = positions.get(id(optimizer.learning_rate))
    slots = []
    for k, variable in enumerate(trainable):
        reference = variable.path.replace("/", "_")
        pair = (2 + 2 * k, 3 + 2 * k)
        names = [variables[i].path if i < len(variables) else "" for i in pair]
        if names != [f"{optimizer.name}/{reference}_{s}" for s in ("momentum", "velocity")]:
            raise RuntimeError(f"Adam's slots of {variable.path} are not where expected: {names}.")
        slots.append(pair)
    if (iteration, learning_rate) != (0, 1) or len(variables) != 2 + 2 * len(slots):
        raise RuntimeError("Adam's variables are not (iterations, learning rate, m and v).")
    return iteration, learning_rate, slots


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
        self._layout = self._state_layout()
        self._batched = BatchedTrainer(
            self.model, self._stacked, self._layout, self.weight_decay, seed
        )

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

    def _state_layout(self) -> StateLayout:
        """Positions in `_stacked` of what `train_all` reads and writes."""
        position = {id(v): i for i, v in enumerate(self.model.weights)}
        trainable = self.model.trainable_variables
        iteration, learning_rate, slots = _adam_layout(self.optimizer, trainable)
        offset = self._num_weights
        return StateLayout(
            trainable=[position[id(v)] for v in trainable],
            # In `stateless_call` order; None: a dropout layer's seed-generator state,
            # not member state (members trained in turn share it).
            non_trainable=[position.get(id(v)) for v in self.model.non_trainable_variables],
            keep_prob=[position[id(layer.keep_prob)] for layer in self._dropouts],
            iteration=offset + iteration,
            learning_rate=offset + learning_rate,
            slots=[(offset + m, offset + v) for m, v in slots],
        )

    # Compiled computations -------------------------------------------------------

    def _train_step(self, images, labels):
        """One Adam step on images [batch, 28, 28, 1], labels [batch] int32."""
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            logits = self.model(images, training=True)
            loss = mean_cross_entropy(logits, labels)
        gradients = with_weight_decay(tape.gradient(loss, variables), variables, self.weight_decay)
        self.optimizer.apply(gradients, variables)
        return loss, count_hits(logits, labels, tf.float32)

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

    def _count_correct_impl(self, images, labels):
        return count_hits(self.model(images, training=False), labels)

    def tracing_counts(self) -> dict[str, int]:
        """How often the compiled functions were traced (1 each once used)."""
        return {
            "train": self._train_epoch.experimental_get_tracing_count(),
            "evaluate": self._count_correct.experimental_get_tracing_count(),
            "train_all": self._batched.tracing_count(),
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
        self._stacked[self._layout.learning_rate].assign(learning_rates)
        keep_probs = tf.cast(self._keep_probs, tf.float32)
        for i in self._layout.keep_prob:
            self._stacked[i].assign(keep_probs)
        tf_logger = tf.get_logger()
        tf_logger.addFilter(_quiet_dropout_fallback)
        try:
            loss, accuracy = self._batched(
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
