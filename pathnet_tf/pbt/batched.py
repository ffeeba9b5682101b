"""`Population.train_all`: every member's steps as one compiled, batched computation.

One `tf.function` over the population's stacked variables [P, ...]: a
`tf.while_loop` over the steps, and in each step a `tf.vectorized_map` over the
members of Keras' `stateless_call` of the shared model, then Adam as the project's
pure update rule, `pathnet_tf.core.optimizers.MaskedAdam.update`, with all-true masks
(Keras' default betas and epsilon, so the same rule as the `keras.optimizers.Adam`
of members trained in turn, to float rounding). Each member keeps its own
hyperparameters, BatchNorm statistics and Adam slots; only the dropout masks come
from other random streams (one per member, kept here).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from pathnet_tf.core.optimizers import MaskedAdam
from pathnet_tf.pbt.models import IMAGE_SHAPE, count_hits, mean_cross_entropy, with_weight_decay


@dataclasses.dataclass(frozen=True)
class StateLayout:
    """Positions in the population's stacked variables.

    Attributes:
      trainable: the model's trainable variables, in `trainable_variables` order.
      non_trainable: `non_trainable_variables`, in `stateless_call` order; None for a
        dropout layer's seed-generator state (not member state).
      keep_prob: each dropout layer's keep_prob.
      iteration, learning_rate: Adam's step count and learning rate.
      slots: Adam's (m, v) per trainable variable, in the same order.
    """

    trainable: list[int]
    non_trainable: list[int | None]
    keep_prob: list[int]
    iteration: int
    learning_rate: int
    slots: list[tuple[int, int]]


class BatchedTrainer:
    """The compiled `train_all(images, labels, batch_indices [P, steps, batch])`.

    Reads and writes `stacked` in place (trainable weights, BatchNorm statistics,
    Adam's slots and iteration count); the learning rate and keep_prob are read from
    it, so the caller writes the members' values there first.

    Args:
      model: the shared Keras model (only its `stateless_call` is used).
      stacked: the population's stacked tf.Variables [P, ...].
      layout: where each piece of state sits in `stacked`.
      weight_decay: L2 coefficient added to every gradient before Adam.
      seed: seeds the members' dropout streams.
    """

    def __init__(self, model, stacked, layout: StateLayout, weight_decay: float, seed: int):
        self.model = model
        self.stacked = stacked
        self.layout = layout
        self.weight_decay = weight_decay
        size = int(stacked[0].shape[0])
        # The learning rate is passed per member; MaskedAdam's own variable is unused.
        self.adam = MaskedAdam(learning_rate=1e-3)
        seed_states = [
            v for v, i in zip(model.non_trainable_variables, layout.non_trainable) if i is None
        ]
        draws = np.random.default_rng([seed, 1]).integers(
            0, 2**31 - 1, size=(size, len(seed_states), 2)
        )
        dtype = seed_states[0].dtype if seed_states else "int32"
        self.member_seeds = tf.Variable(
            tf.cast(draws, dtype), trainable=False, name="population_dropout_seeds"
        )
        self._function = tf.function(
            self._train_all,
            input_signature=[
                tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32),
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([size, None, None], tf.int32),
            ],
        )

    def __call__(self, images, labels, batch_indices):
        """(mean loss [P], accuracy [P]) over the steps."""
        return self._function(images, labels, batch_indices)

    def tracing_count(self) -> int:
        return self._function.experimental_get_tracing_count()

    def _member_step(self, state, images, labels):
        """One Adam step of one member; `state` = (trainable, non-trainable, slots,
        iteration, learning rate) as tensors. Written to be mapped over the
        population axis: no variable is read or written."""
        trainable, non_trainable, slots, iteration, learning_rate = state
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            logits, non_trainable = self.model.stateless_call(
                trainable, non_trainable, images, training=True
            )
            loss = mean_cross_entropy(logits, labels)
        gradients = with_weight_decay(tape.gradient(loss, trainable), trainable, self.weight_decay)
        masks = [tf.ones_like(variable, tf.bool) for variable in trainable]
        step = tf.cast(iteration + 1, tf.float32)
        trainable, slots = self.adam.update(
            step, trainable, gradients, masks, slots, tf.cast(learning_rate, tf.float32)
        )
        new_state = (trainable, non_trainable, [tuple(s) for s in slots], iteration + 1,
                     learning_rate)
        return new_state, loss, count_hits(logits, labels, tf.float32)

    def _train_all(self, images, labels, batch_indices):
        stacked, layout = self.stacked, self.layout
        seeds = iter(range(self.member_seeds.shape[1]))
        state = (
            [stacked[i].read_value() for i in layout.trainable],
            [
                stacked[i].read_value() if i is not None else self.member_seeds[:, next(seeds)]
                for i in layout.non_trainable
            ],
            [(stacked[m].read_value(), stacked[v].read_value()) for m, v in layout.slots],
            stacked[layout.iteration].read_value(),
            stacked[layout.learning_rate].read_value(),
        )
        steps = tf.shape(batch_indices)[1]

        def body(step, state, total_loss, total_correct):
            indices = batch_indices[:, step]  # [P, batch]
            state, loss, correct = tf.vectorized_map(
                lambda args: self._member_step(*args),
                (state, tf.gather(images, indices), tf.gather(labels, indices)),
            )
            return step + 1, state, total_loss + loss, total_correct + correct

        zeros = tf.zeros([batch_indices.shape[0]])
        _, state, total_loss, total_correct = tf.while_loop(
            lambda step, *_: step < steps, body, (tf.constant(0), state, zeros, zeros)
        )
        trainable, non_trainable, slots, iteration, _ = state
        for i, value in zip(layout.trainable, trainable, strict=True):
            stacked[i].assign(value)
        for (m, v), (m_value, v_value) in zip(layout.slots, slots, strict=True):
            stacked[m].assign(m_value)
            stacked[v].assign(v_value)
        seed_values = []
        for i, value in zip(layout.non_trainable, non_trainable, strict=True):
            if i is None:
                seed_values.append(value)
            else:
                stacked[i].assign(value)
        if seed_values:
            self.member_seeds.assign(tf.stack(seed_values, axis=1))
        stacked[layout.iteration].assign(iteration)
        num_steps = tf.cast(steps, tf.float32)
        num_examples = tf.cast(tf.size(batch_indices[0]), tf.float32)
        return total_loss / num_steps, total_correct / num_examples
