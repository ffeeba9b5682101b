"""The TF1 code's tournament (docs/protocol.md item 3; `--tournament=shared`): not fair.

The B candidates train one after the other on the *same* weights, with no snapshot
and no restore: candidate b starts from what candidates 0..b-1 left, trains its T
minibatches (its own, freshly drawn: the generation's `[B·T, batch]` indices are cut
into B blocks of T) and its updates stay in the model, winner or not. Fitness is each
one's mean training accuracy over its T minibatches (its correct count, divided on
the host: `run_tournament` gives B·T·batch examples, each candidate T·batch); the winner's genotype
overwrites the loser's, as in the fair tournament (genetic.Tournament).

One compiled call per generation, like `training.TaskTrainer` (one trace; frozen
modules bit-identical through the masked optimizers). A candidate whose loss or
weights are not finite is dropped: its updates are not kept, it gets fitness 0.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from pathnet_tf.core.layers import first_index
from pathnet_tf.evolution.training import TaskTrainer, all_finite, select_winner


def scatter_rows(tensors, rows, plan, layers_of):
    """`tensors` (full, aligned with `model.task_variables`) with their planned rows
    replaced by `rows` (`model.slot_rows` of trained slots); the readout replaced."""
    updated = []
    for tensor, layer, value in zip(tensors, layers_of, rows):
        if layer is None:
            updated.append(value)
            continue
        indices = plan[layer][0]
        # A repeated module: only its first copy was trained (see TaskTrainer._write_rows).
        value = tf.gather(value, first_index(indices))
        updated.append(tf.tensor_scatter_nd_update(tensor, indices[:, None], value))
    return updated


class SharedTaskTrainer(TaskTrainer):
    """`TaskTrainer` with the shared tournament: `run_tournament(paths, batch_indices)`
    takes `[B·T, batch]` indices (B blocks of T, one per candidate, in order)."""

    def _tournament_fn(self, paths, batch_indices):
        model, task = self.model, self.task
        count = self.tournament_size
        params = [tf.convert_to_tensor(v) for v in self.params]
        slots = [tuple(tf.convert_to_tensor(s) for s in slot) for slot in self.slots]
        blocks = tf.reshape(batch_indices, [count, -1, tf.shape(batch_indices)[1]])
        steps = tf.shape(blocks)[1]  # T
        names = range(len(self.optimizer.slot_names))
        correct, loss, finite = [], [], []
        for b in range(count):
            plans, trained, trained_slots, hits, mean_loss = self._train_candidates(
                paths[b:b + 1], blocks[b], params, slots,
                first_update=b * steps if b else None)
            ok = all_finite([mean_loss[0], *trained[0]])
            new_params = scatter_rows(params, model.slot_rows(trained[0], task), plans[0],
                                      self.layers_of)
            new_slots = [scatter_rows([slot[k] for slot in slots],
                                      model.slot_rows([s[k] for s in trained_slots[0]], task),
                                      plans[0], self.layers_of) for k in names]
            params = [tf.where(ok, new, old) for new, old in zip(new_params, params)]
            slots = [tuple(tf.where(ok, new_slots[k][i], slot[k]) for k in names)
                     for i, slot in enumerate(slots)]
            correct.append(hits[0])
            loss.append(mean_loss[0])
            finite.append(ok)
        correct, loss = self._guard(tf.stack(finite), tf.stack(correct), tf.stack(loss))
        winner = select_winner(correct, loss)
        for variable, value in zip(self.params, params):  # every candidate's updates
            variable.assign(value)
        for slot, values in zip(self.slots, slots):
            for variable, value in zip(slot, values):
                variable.assign(value)
        self.step.assign_add(tf.cast(tf.shape(batch_indices)[0], tf.float32))
        return correct, loss, winner

    def _examples_per_candidate(self, batch_indices) -> int:
        return int(np.size(batch_indices)) // self.tournament_size  # a block of T each
