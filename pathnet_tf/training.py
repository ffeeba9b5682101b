"""Compiled candidate training, the fair serial tournament and the evolve loop.

One generation (DESIGN.md) is one compiled call: the tournament asks for B
genotypes; one set of T minibatch indices is drawn; each candidate starts from the
*same* weights and optimizer state (read once from the variables: the snapshot) and
trains T steps with its genotype as a tensor argument, its trained modules held as
tensors on device; the winner (the tournament's rule, compiled) is written back into
the model's variables and the losers are dropped. No weights leave the device.

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


def select_winner(fitness, loss):
    """The compiled twin of `genetic.select_winner`: the highest fitness, ties to the
    lowest loss, then to the first candidate. `fitness, loss: [B]` -> int32 scalar."""
    best = tf.equal(fitness, tf.reduce_max(fitness))
    return tf.argmin(tf.where(best, loss, tf.fill(tf.shape(loss), float("inf"))),
                     output_type=tf.int32)


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
      train_x: `[n, *model.example_shape] float32` (`[n, input_dim]`, or images
        `[n, height, width, channels]`), train_y: `[n] int32`; kept on device.
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
        path_shape = [model.num_layers, model.num_active]
        self._tournament = tf.function(
            self._tournament_fn, jit_compile=jit_compile,
            input_signature=[tf.TensorSpec([tournament_size, *path_shape], tf.int32),
                             tf.TensorSpec([None, None], tf.int32)])
        self._evaluate = tf.function(
            self._evaluate_fn,
            input_signature=[tf.TensorSpec(path_shape, tf.int32),
                             tf.TensorSpec([None, *model.example_shape], tf.float32),
                             tf.TensorSpec([None], tf.int32)])

    # -- compiled pieces -------------------------------------------------------------

    def _gather_slots(self, slots, plan):
        """Optimizer slots (per variable, a tuple) of the planned modules, slot layout."""
        by_name = [self.model.gather_slots([s[k] for s in slots], plan, self.task)
                   for k in range(len(self.optimizer.slot_names))]
        return [tuple(column[i] for column in by_name) for i in range(len(slots))]

    def _train_candidate(self, path, xs, ys, params, slots):
        """T steps of one candidate from the snapshot (`params`, `slots`: tensors).

        `xs: [T, batch, *example_shape]`, `ys: [T, batch]`. Returns the trained planned rows
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
        xs = tf.gather(self.train_x, batch_indices)  # [T, batch, ...]
        ys = tf.gather(self.train_y, batch_indices)  # [T, batch]
        # The snapshot: every candidate starts from these values. The variables are not
        # written until the winner is known, so one read serves all candidates.
        params = [tf.convert_to_tensor(v) for v in self.params]
        slots = [tuple(tf.convert_to_tensor(s) for s in slot) for slot in self.slots]
        results = [self._train_candidate(paths[b], xs, ys, params, slots)
                   for b in range(self.tournament_size)]
        fitness = tf.stack([r[2] for r in results])
        loss = tf.stack([r[3] for r in results])
        winner = select_winner(fitness, loss)

        def pick(tensors):  # the winner's tensor of each position
            return [tf.gather(tf.stack(candidates), winner) for candidates in zip(*tensors)]

        plan = self.model.plan(tf.gather(paths, winner))
        self._write_rows(self.params, pick([r[0] for r in results]), plan)
        for k in range(len(self.optimizer.slot_names)):
            self._write_rows([slot[k] for slot in self.slots],
                             pick([[slot[k] for slot in r[1]] for r in results]), plan)
        self.step.assign_add(tf.cast(tf.shape(xs)[0], tf.float32))
        return fitness, loss, winner

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

    def _evaluate_fn(self, path, x, y):
        params = [tf.convert_to_tensor(v) for v in self.params]
        logits = self.model.apply(params, x, path, self.task)
        hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y)
        return tf.reduce_sum(tf.cast(hits, tf.int32))

    # -- public API ------------------------------------------------------------------

    def run_tournament(self, paths, batch_indices):
        """One tournament: each of the B candidates (`paths: [B, L, N]`) trains on the
        same minibatches (`batch_indices: [T, batch]`) from the same starting weights
        and optimizer state; the winner (`select_winner`: highest fitness, then lowest
        loss, then first) is written back into the model, the others are discarded.
        Returns `(fitness [B], loss [B], winner)` (NumPy arrays, int)."""
        fitness, loss, winner = self._tournament(paths, batch_indices)
        return fitness.numpy(), loss.numpy(), int(winner)

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
        fitness, loss, winner = trainer.run_tournament(paths, batch_indices)
        if tournament.tell(fitness, loss) != winner:
            raise RuntimeError(f"the compiled tournament chose candidate {winner}, the "
                               f"genetic algorithm another, for fitness {fitness}, loss {loss}")
        history.append(float(fitness[winner]))
        if fitness[winner] >= best_fitness:
            best_fitness, best_path = float(fitness[winner]), paths[winner].copy()
        solved = best_fitness >= threshold
        if on_generation is not None:
            on_generation(generation, paths, fitness, winner, best_fitness, best_path)
    return EvolveResult(generations=generation, solved=solved, best_fitness=best_fitness,
                        best_path=best_path, fitness_history=history,
                        wall_seconds=time.perf_counter() - start)


def set_threads(threads: int) -> bool:
    """Uses `threads` threads for TensorFlow's (and XLA's) intra-op and inter-op
    pools. PathNet's matrices are tiny (16 × 784 × 60): one thread per process beats
    a thread pool's hand-offs, and leaves the other core to a second run.
    Must run before TensorFlow executes anything; returns False if it was too late."""
    if threads <= 0:
        raise ValueError(f"threads ({threads}) must be a positive integer")
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        return False
    return True
