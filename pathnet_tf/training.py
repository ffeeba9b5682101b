"""Compiled candidate training, the fair serial tournament and the evolve loop.

One generation (DESIGN.md): the tournament asks for B genotypes; one set of T
minibatch indices is drawn; each candidate starts from the *same* weights and
optimizer state (read once from the variables: the snapshot), trains T steps inside
one compiled call with its genotype as a tensor argument, and its trained state is
kept aside on device; the tournament picks the winner, whose state becomes the model's.

**One trace:** every compiled function has an `input_signature`, so a new path or a
new batch size never retraces (the TF1 code built a new assign op per generation and
leaked memory). **Frozen = bit-identical:** updates go through the masked optimizers.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from pathnet_tf.genetic import Tournament
from pathnet_tf.layers import first_index


class BatchSampler:
    """Minibatch indices drawn from successive random permutations (epochs) of n
    examples, so every example is seen once per epoch and batches are shuffled."""

    def __init__(self, num_examples: int, rng: np.random.Generator):
        if num_examples <= 0:
            raise ValueError(f"num_examples ({num_examples}) must be positive")
        self.num_examples = num_examples
        self.rng = rng
        self._order = rng.permutation(num_examples)
        self._position = 0

    def next(self, steps: int, batch_size: int) -> np.ndarray:
        """`[steps, batch_size] int32` indices."""
        needed = steps * batch_size
        chunks = []
        while needed > 0:
            if self._position == self.num_examples:
                self._order = self.rng.permutation(self.num_examples)
                self._position = 0
            take = min(needed, self.num_examples - self._position)
            chunks.append(self._order[self._position:self._position + take])
            self._position += take
            needed -= take
        return np.concatenate(chunks).reshape(steps, batch_size).astype(np.int32)


class TaskTrainer:
    """Compiled training and evaluation of pathways on one task.

    Args:
      model: a `PathNet`.
      task: index of the task's readout head.
      train_x: `[n, input_dim] float32`, train_y: `[n] int32`; kept on device.
      optimizer: a masked optimizer (`optimizers.make_optimizer`), fresh per task.
      tournament_size: B, the number of candidates per tournament.
      jit_compile: compile the tournament with XLA.
    """

    def __init__(self, model, task: int, train_x, train_y, optimizer,
                 tournament_size: int = 2, jit_compile: bool = True):
        self.model = model
        self.task = task
        self.optimizer = optimizer
        self.tournament_size = tournament_size
        self.train_x = tf.constant(train_x, tf.float32)
        self.train_y = tf.constant(train_y, tf.int32)
        # The tf.Variables behind the Keras variables (for in-place row scatters).
        self.params = [v.value for v in model.task_variables(task)]
        self.layers_of = model.variable_layers(task)
        self.slots = [tuple(tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False)
                            for _ in optimizer.slot_names) for v in self.params]
        self.step = tf.Variable(0.0, trainable=False, name="step")
        # Each candidate's trained modules (in slot layout) and readout, their optimizer
        # slots, step and path: kept aside on device until the tournament names the winner.
        probe_path = tf.zeros([model.num_layers, model.num_active], tf.int32)
        slot_shapes = [t.shape for t in model.gather_slots(self.params, model.plan(probe_path),
                                                           task)]

        def zeros(shape, dtype=tf.float32):
            return tf.Variable(tf.zeros(shape, dtype), trainable=False)

        self.kept = [{
            "params": [zeros(shape) for shape in slot_shapes],
            "slots": [tuple(zeros(shape) for _ in optimizer.slot_names) for shape in slot_shapes],
            "step": zeros([]),
            "path": zeros([model.num_layers, model.num_active], tf.int32),
        } for _ in range(tournament_size)]
        path_shape = [model.num_layers, model.num_active]
        self._tournament = tf.function(
            self._tournament_fn, jit_compile=jit_compile,
            input_signature=[tf.TensorSpec([tournament_size, *path_shape], tf.int32),
                             tf.TensorSpec([None, None], tf.int32)])
        self._adopt = tf.function(self._adopt_fn,
                                  input_signature=[tf.TensorSpec([], tf.int32)])
        self._evaluate = tf.function(
            self._evaluate_fn,
            input_signature=[tf.TensorSpec(path_shape, tf.int32),
                             tf.TensorSpec([None, model.input_dim], tf.float32),
                             tf.TensorSpec([None], tf.int32)])

    # -- compiled pieces -------------------------------------------------------------

    def _gather_slots(self, slots, plan):
        """Optimizer slots (per variable, a tuple) of the planned modules, slot layout."""
        by_name = [self.model.gather_slots([s[k] for s in slots], plan, self.task)
                   for k in range(len(self.optimizer.slot_names))]
        return [tuple(column[i] for column in by_name) for i in range(len(slots))]

    def _train_candidate(self, path, xs, ys, params, slots):
        """T steps of one candidate from the snapshot (`params`, `slots`: tensors).

        `xs: [T, batch, input_dim]`, `ys: [T, batch]`. Returns the trained planned rows
        and readout, their slots, the mean training accuracy over the T minibatches
        (the fitness, measured before each update) and the mean loss.
        """
        model, task = self.model, self.task
        plan = model.plan(path)
        masks = model.slot_masks(plan, task)
        params = model.gather_slots(params, plan, task)
        slots = self._gather_slots(slots, plan)
        steps = tf.shape(xs)[0]

        def body(t, params, slots, correct, loss_sum):
            x, y = xs[t], ys[t]
            with tf.GradientTape() as tape:
                tape.watch(params)
                logits = model.apply_slots(params, x, plan, task)
                loss = tf.reduce_mean(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            grads = tape.gradient(loss, params)
            step = self.step + tf.cast(t + 1, tf.float32)
            params, slots = self.optimizer.update(step, params, grads, masks, slots)
            hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y)
            correct += tf.reduce_sum(tf.cast(hits, tf.float32))
            return t + 1, params, slots, correct, loss_sum + loss

        _, params, slots, correct, loss_sum = tf.while_loop(
            lambda t, *_: t < steps, body,
            (tf.constant(0), params, slots, tf.constant(0.0), tf.constant(0.0)))
        fitness = correct / tf.cast(tf.size(ys), tf.float32)
        return params, slots, fitness, loss_sum / tf.cast(steps, tf.float32)

    def _tournament_fn(self, paths, batch_indices):
        xs = tf.gather(self.train_x, batch_indices)  # [T, batch, input_dim]
        ys = tf.gather(self.train_y, batch_indices)  # [T, batch]
        # The snapshot: every candidate starts from these values. The variables are not
        # written during the tournament (only `kept` is), so one read serves all.
        params = [tf.convert_to_tensor(v) for v in self.params]
        slots = [tuple(tf.convert_to_tensor(s) for s in slot) for slot in self.slots]
        steps = tf.cast(tf.shape(xs)[0], tf.float32)
        fitness, losses = [], []
        for b, kept in enumerate(self.kept):
            trained, trained_slots, acc, loss = self._train_candidate(
                paths[b], xs, ys, params, slots)
            for variable, value in zip(kept["params"], trained):
                variable.assign(value)
            for variables, values in zip(kept["slots"], trained_slots):
                for variable, value in zip(variables, values):
                    variable.assign(value)
            kept["step"].assign(self.step + steps)
            kept["path"].assign(paths[b])
            fitness.append(acc)
            losses.append(loss)
        return tf.stack(fitness), tf.stack(losses)

    def _write_rows(self, variables, slot_values, plan):
        """Writes trained modules (slot layout) back into their rows of `variables`."""
        rows = self.model.slot_rows(slot_values, self.task)
        for variable, layer, value in zip(variables, self.layers_of, rows):
            if layer is None:
                variable.assign(value)
                continue
            indices = plan[layer][0]
            # A module repeated in the path: its copies hold different values (only the
            # first was trained); write the first one's everywhere so the scatter is exact.
            value = tf.gather(value, first_index(indices))
            variable.scatter_nd_update(indices[:, None], value)

    def _adopt_fn(self, winner):
        def adopt(kept):
            plan = self.model.plan(tf.convert_to_tensor(kept["path"]))
            self._write_rows(self.params, kept["params"], plan)
            for k in range(len(self.optimizer.slot_names)):
                self._write_rows([slot[k] for slot in self.slots],
                                 [slot[k] for slot in kept["slots"]], plan)
            self.step.assign(kept["step"])
            return tf.constant(0)

        return tf.switch_case(winner, [lambda kept=kept: adopt(kept) for kept in self.kept])

    def _evaluate_fn(self, path, x, y):
        params = [tf.convert_to_tensor(v) for v in self.params]
        logits = self.model.apply(params, x, path, self.task)
        hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y)
        return tf.reduce_sum(tf.cast(hits, tf.int32))

    # -- public API ------------------------------------------------------------------

    def run_tournament(self, paths, batch_indices):
        """Trains each of the B candidates (`paths: [B, L, N]`) on the same minibatches
        (`batch_indices: [T, batch]`) from the same starting state. Returns
        `(fitness [B], loss [B])` as NumPy arrays; the model is unchanged until
        `adopt(winner)`."""
        fitness, loss = self._tournament(paths, batch_indices)
        return fitness.numpy(), loss.numpy()

    def adopt(self, winner: int) -> None:
        """Makes candidate `winner`'s trained weights and optimizer state the model's."""
        self._adopt(tf.constant(winner, tf.int32))

    def evaluate(self, path, x, y, batch_size: int = 4096) -> float:
        """Accuracy of pathway `path` on `(x, y)` with the current weights."""
        path = tf.constant(path, tf.int32)
        correct = 0
        for start in range(0, len(x), batch_size):
            correct += int(self._evaluate(path, x[start:start + batch_size],
                                          y[start:start + batch_size]))
        return correct / len(x)

    def tracing_counts(self) -> dict:
        return {"tournament": self._tournament.experimental_get_tracing_count(),
                "adopt": self._adopt.experimental_get_tracing_count(),
                "evaluate": self._evaluate.experimental_get_tracing_count()}


@dataclasses.dataclass
class EvolveResult:
    """What evolving one task produced."""

    generations: int
    solved: bool
    best_fitness: float
    best_path: np.ndarray  # [L, N]
    fitness_history: list  # winner's fitness per generation
    wall_seconds: float


def evolve(trainer: TaskTrainer, tournament: Tournament, sampler: BatchSampler, *,
           steps_per_candidate: int, batch_size: int, threshold: float,
           max_generations: int,
           on_generation: Callable[..., None] | None = None,
           ) -> EvolveResult:
    """Runs tournaments until a winner's fitness reaches `threshold` or
    `max_generations` have run. Never raises for an unsolved task: `solved` says.

    `on_generation(generation, paths, fitness, winner, best_fitness, best_path)` is
    called after each one (`paths: [B, L, N]`, `fitness: [B]`).
    """
    start = time.perf_counter()
    best_fitness, best_path = -1.0, None
    history = []
    generation = 0
    solved = False
    while generation < max_generations and not solved:
        generation += 1
        paths = tournament.ask()
        batch_indices = sampler.next(steps_per_candidate, batch_size)
        fitness, loss = trainer.run_tournament(paths, batch_indices)
        winner = tournament.tell(fitness, loss)
        trainer.adopt(winner)
        history.append(float(fitness[winner]))
        if fitness[winner] >= best_fitness:
            best_fitness, best_path = float(fitness[winner]), paths[winner].copy()
        solved = best_fitness >= threshold
        if on_generation is not None:
            on_generation(generation, paths, fitness, winner, best_fitness, best_path)
    return EvolveResult(generations=generation, solved=solved, best_fitness=best_fitness,
                        best_path=best_path, fitness_history=history,
                        wall_seconds=time.perf_counter() - start)
