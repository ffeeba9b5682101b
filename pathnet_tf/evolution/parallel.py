"""K tournaments at once (`--parallel=K`): the opt-in alternative to the serial fair
tournament of `training.TaskTrainer`, all K·B candidates side by side in one batched
computation (`tf.vectorized_map`), the winners' module updates averaged per module.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from pathnet_tf.core.checks import check_positive_int
from pathnet_tf.evolution.training import TaskTrainer, all_finite, exact_fitness, select_winner


class ParallelTaskTrainer(TaskTrainer):
    """K tournaments at once: all K·B candidates train side by side in one batched
    computation (the candidates as a leading axis, `tf.vectorized_map` over one
    training step), an opt-in alternative to the serial tournament.

    Semantics, plainly: every candidate of the K tournaments starts from the same
    weights and optimizer state (the snapshot). The B candidates of one tournament
    share its T minibatches (fair, as in the serial mode); the K tournaments draw their
    own. Each tournament picks its winner by the serial rule. The K winners' updates
    are then combined **per module by averaging**: a module trained by one winner takes
    that winner's value, a module trained by several takes the mean of their values
    (equivalently, the snapshot plus the mean of their updates); frozen modules and
    modules no winner trained keep their values exactly; the readout and optimizer
    slots are combined the same way (the readout is trained by every winner). This is
    a synchronous stand-in for the paper's asynchronous workers, which each applied
    their own updates to the shared weights. With K = 1 it is the serial tournament,
    candidates side by side (equal up to float rounding).

    Args: as `TaskTrainer`, plus `tournaments`: K.
    """

    def __init__(self, model, task: int, train_x, train_y, optimizer,
                 tournament_size: int = 2, jit_compile: bool = True, tournaments: int = 1):
        check_positive_int("tournaments", tournaments)
        self.tournaments = tournaments
        super().__init__(model, task, train_x, train_y, optimizer,
                         tournament_size=tournament_size, jit_compile=jit_compile)
        path_shape = [model.num_layers, model.num_active]
        self._tournament = tf.function(
            self._tournaments_fn, jit_compile=jit_compile, autograph=False,
            input_signature=[
                tf.TensorSpec([tournaments, tournament_size, *path_shape], tf.int32),
                tf.TensorSpec([tournaments, None, None], tf.int32)])

    def _tournaments_fn(self, paths, batch_indices):
        model = self.model
        k, b = self.tournaments, self.tournament_size
        flat_paths = tf.reshape(paths, [k * b, model.num_layers, model.num_active])
        params = [tf.convert_to_tensor(v) for v in self.params]
        slots = [tuple(tf.convert_to_tensor(s) for s in slot) for slot in self.slots]
        frozen = tf.convert_to_tensor(model.frozen)
        learning_rate = tf.convert_to_tensor(self.optimizer.learning_rate)
        # The readout (and its slots) pass through `_prepare` unchanged; pfor cannot
        # tile a variable read it sees as an output, so they are tiled here instead.
        heads = [tf.repeat(t[None], k * b, axis=0) for t in params[-2:]]
        head_slots = [tuple(tf.repeat(t[None], k * b, axis=0) for t in slot)
                      for slot in slots[-2:]]
        plan, masks, cand_params, cand_slots = tf.vectorized_map(
            lambda path: self._prepare(path, params, slots, frozen)[:2]
            + tuple(tensors[:-2] for tensors in self._prepare(path, params, slots, frozen)[2:]),
            flat_paths)
        cand_params = cand_params + heads
        cand_slots = cand_slots + head_slots
        masks = masks[:-2] + [tf.ones([k * b], tf.bool)] * 2
        steps = tf.shape(batch_indices)[1]
        first_step = tf.convert_to_tensor(self.step) + 1.0

        def body(t, cand_params, cand_slots, correct, loss_sum):
            index = batch_indices[:, t]  # [K, batch]
            x = tf.repeat(tf.gather(self.train_x, index), b, axis=0)  # [K*B, batch, ...]
            y = tf.repeat(tf.gather(self.train_y, index), b, axis=0)
            step = first_step + tf.cast(t, tf.float32)
            cand_params, cand_slots, hits, loss = tf.vectorized_map(
                lambda args: self._step(*args, step, learning_rate),
                (plan, masks, cand_params, cand_slots, x, y))
            return t + 1, cand_params, cand_slots, correct + hits, loss_sum + loss

        zeros = tf.zeros([k * b])
        _, cand_params, cand_slots, correct, loss_sum = tf.while_loop(
            lambda t, *_: t < steps, body,
            (tf.constant(0), cand_params, cand_slots, zeros, zeros))
        finite = tf.vectorized_map(lambda args: all_finite([args[0], *args[1]]),
                                   (loss_sum, cand_params))
        correct, loss = self._guard(finite, correct, loss_sum / tf.cast(steps, tf.float32))
        correct, loss, finite = (tf.reshape(correct, [k, b]), tf.reshape(loss, [k, b]),
                                 tf.reshape(finite, [k, b]))
        winners = tf.map_fn(lambda fl: select_winner(fl[0], fl[1]), (correct, loss),
                            fn_output_signature=tf.int32)  # [K]
        chosen = winners + b * tf.range(k)  # flat candidate index of each winner

        def pick(tensors):
            return [tf.gather(t, chosen) for t in tensors]

        plan = [(tf.gather(indices, chosen), tf.gather(weights, chosen))
                for indices, weights in plan]
        ok = tf.gather(tf.reshape(finite, [-1]), chosen)  # [K]: a diverged winner adds nothing
        self._merge_rows(self.params, pick(cand_params), plan, ok)
        for n in range(len(self.optimizer.slot_names)):
            self._merge_rows([slot[n] for slot in self.slots],
                             pick([slot[n] for slot in cand_slots]), plan, ok)
        self.step.assign_add(tf.cast(steps, tf.float32))
        return correct, loss, winners

    def _merge_rows(self, variables, slot_values, plan, ok):
        """Averages the K winners' trained modules (`[K, ...]`, slot layout) into the
        rows of `variables`: rows no winner trained keep their values exactly. Winners
        with `ok` False (diverged) contribute nothing."""
        model, task = self.model, self.task
        rows = tf.vectorized_map(lambda values: model.slot_rows(values, task), slot_values)
        frozen = tf.convert_to_tensor(model.frozen) > 0.5
        for variable, layer, value in zip(variables, self.layers_of, rows):
            if layer is None:  # the readout: every (finite) winner trained it
                weight = tf.reshape(tf.cast(ok, value.dtype),
                                    tf.concat([[-1], tf.ones_like(tf.shape(value)[1:])], 0))
                total = tf.reduce_sum(tf.where(weight > 0, value, 0.0), axis=0)
                count = tf.reduce_sum(tf.cast(ok, value.dtype))
                variable.assign(tf.where(count > 0, total / tf.maximum(count, 1.0), variable))
                continue
            indices, weights = plan[layer]  # [K, S]
            trained = tf.logical_and(weights > 0,
                                     tf.logical_not(tf.gather(frozen[layer], indices)))
            trained = tf.logical_and(trained, ok[:, None])
            flat_indices = tf.reshape(indices, [-1, 1])
            shape = tf.shape(value)
            flat = tf.reshape(value, tf.concat([[-1], shape[2:]], 0))  # [K*S, ...]
            weight = tf.reshape(tf.cast(trained, value.dtype), [-1])  # [K*S]
            weight_b = tf.reshape(weight, tf.concat([[-1], tf.ones_like(shape[2:])], 0))
            current = tf.convert_to_tensor(variable)
            sums = tf.tensor_scatter_nd_add(tf.zeros_like(current), flat_indices,
                                            tf.where(weight_b > 0, flat, 0.0))
            counts = tf.tensor_scatter_nd_add(tf.zeros([current.shape[0]], value.dtype),
                                              flat_indices, weight)
            counts_b = tf.reshape(counts, tf.concat([[-1], tf.ones_like(shape[2:])], 0))
            # where(), not a product: a diverged winner's NaN rows must not leak in.
            variable.assign(tf.where(counts_b > 0, sums / tf.maximum(counts_b, 1.0), current))

    def run_tournaments(self, paths, batch_indices):
        """K tournaments side by side: `paths: [K, B, L, N]`, `batch_indices: [K, T,
        batch]`. Returns `(fitness [K, B], loss [K, B], winners [K])` as NumPy arrays;
        the winners' updates are merged into the model (see the class docstring)."""
        self._check_traced_slots()
        correct, loss, winners = self._tournament(paths, batch_indices)
        return (exact_fitness(correct, self._examples_per_candidate(batch_indices)),
                loss.numpy(), winners.numpy())

    def _examples_per_candidate(self, batch_indices) -> int:
        """T·batch: a tournament's indices `[T, batch]` of the K side by side."""
        return int(np.prod(np.shape(batch_indices)[1:]))

    def run_tournament(self, paths, batch_indices):
        if self.tournaments != 1:
            raise ValueError(f"run_tournament runs one tournament; this trainer runs "
                             f"{self.tournaments}: use run_tournaments")
        fitness, loss, winners = self.run_tournaments(paths[None], batch_indices[None])
        return fitness[0], loss[0], int(winners[0])
