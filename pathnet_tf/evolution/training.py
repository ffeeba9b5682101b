"""Compiled candidate training, the fair serial tournament and the evolve loop.

One generation (docs/design.md) is one compiled call: the tournament asks for B
genotypes; one set of T minibatch indices is drawn; each candidate starts from the
*same* weights and optimizer state (read once from the variables: the snapshot) and
trains T steps with its genotype as a tensor argument, its trained modules held as
tensors on device; the winner (the tournament's rule, compiled) is written back into
the model's variables and the losers are dropped. No weights leave the device.

**One trace:** every compiled function has an `input_signature`, so a new path or a
new batch size never retraces (the TF1 code built a new assign op per generation and
leaked memory). **Frozen = bit-identical:** updates go through the masked optimizers.
The TF1 code's unfair tournament (`--tournament=shared`) is `shared_tournament.py`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from pathnet_tf.core.checks import check_positive_int
from pathnet_tf.core.layers import first_index
from pathnet_tf.evolution.evaluation import Evaluator
from pathnet_tf.evolution.genetic import Tournament


def all_finite(tensors) -> tf.Tensor:
    """True if every entry of every tensor is finite."""
    return tf.reduce_all([tf.reduce_all(tf.math.is_finite(t)) for t in tensors])


def exact_fitness(correct, examples: int) -> np.ndarray:
    """Fitness (training accuracy) from the compiled tournament's correct counts,
    divided in float64 on the host. Inside XLA, `correct / n` becomes `correct * (1/n)`
    in float32: 792 of 800 gave 0.98999995, below a 0.99 threshold that the TF1 code
    (and arithmetic) say it meets. The compiled winner's rule compares the counts,
    which order the candidates as their fitness does."""
    return np.asarray(correct, np.float64) / examples


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
        self.order = rng.permutation(num_examples)
        self.position = 0

    def next(self, steps: int, batch_size: int) -> np.ndarray:
        """`[steps, batch_size] int32` indices."""
        needed = steps * batch_size
        chunks = []
        while needed > 0:
            if self.position == self.num_examples:
                self.order = self.rng.permutation(self.num_examples)
                self.position = 0
            take = min(needed, self.num_examples - self.position)
            chunks.append(self.order[self.position:self.position + take])
            self.position += take
            needed -= take
        return np.concatenate(chunks).reshape(steps, batch_size).astype(np.int32)


def noise_in_graph(x, kind: str, probability: float, seed):
    """`data.salt_and_pepper` / `data.additive_salt` on a minibatch inside the compiled
    step, from a stateless draw (`seed`: int64 `[2]`): the same rule, a fresh draw per
    (seed, step). `noise_draw="per_batch"` (docs/transfer.md)."""
    uniform = tf.random.stateless_uniform(tf.shape(x), seed, dtype=tf.float32)
    if kind == "salt_and_pepper":
        salt = tf.cast(uniform < probability / 2, tf.float32)
        return tf.where(uniform < probability, salt, x)
    added = tf.where(uniform >= 1.0 - probability, uniform, tf.zeros_like(uniform))
    return tf.minimum(x + added, 1.0)


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
      input_noise: `(kind, probability)` to noise every minibatch afresh in the graph
        (`noise_in_graph`, seeded by `noise_seed` and the step); None: the data as given.
    """

    def __init__(self, model, task: int, train_x, train_y, optimizer,
                 tournament_size: int = 2, jit_compile: bool = True, input_noise=None):
        self.input_noise = input_noise
        # [run seed, task]: set by the caller (TaskRun); with the step it seeds each draw.
        self.noise_seed = tf.Variable([0, 0], dtype=tf.int64, trainable=False,
                                      name="noise_seed")
        self.model = model
        self.task = task
        self.optimizer = optimizer
        self.tournament_size = tournament_size
        # Variables, not constants: `restart` gives a trainer another run's data without
        # a retrace (and a constant would be baked into the compiled program).
        self.train_x = tf.Variable(tf.convert_to_tensor(train_x, tf.float32),
                                   trainable=False, name="train_x")
        self.train_y = tf.Variable(tf.convert_to_tensor(train_y, tf.int32),
                                   trainable=False, name="train_y")
        # The tf.Variables behind the Keras variables (for in-place row scatters).
        self.params = [v.value for v in model.task_variables(task)]
        self.layers_of = model.variable_layers(task)
        self.slots = [tuple(tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False)
                            for _ in optimizer.slot_names) for v in self.params]
        self.step = tf.Variable(0.0, trainable=False, name="step")
        self.nonfinite = tf.Variable(0, dtype=tf.int64, trainable=False, name="nonfinite")
        path_shape = [model.num_layers, model.num_active]
        # autograph=False: the compiled pieces use tf.while_loop/tf.cond themselves, and
        # AutoGraph's source conversion (of this module and of Keras) cost ~2 s a run.
        self._tournament = tf.function(
            self._tournament_fn, jit_compile=jit_compile, autograph=False,
            input_signature=[tf.TensorSpec([tournament_size, *path_shape], tf.int32),
                             tf.TensorSpec([None, None], tf.int32)])
        self.evaluator = Evaluator(model, task)

    # -- compiled pieces -------------------------------------------------------------

    def _gather_slots(self, slots, plan):
        """Optimizer slots (per variable, a tuple) of the planned modules, slot layout."""
        by_name = [self.model.gather_slots([s[k] for s in slots], plan, self.task)
                   for k in range(len(self.optimizer.slot_names))]
        return [tuple(column[i] for column in by_name) for i in range(len(slots))]

    def _frozen_slots(self) -> int:
        """K of `model.plan` (always-on frozen modules planned per layer), read when the
        tournament is traced: frozen modules do not change during a task (a trainer
        whose model's K changed since retraces, `_check_traced_slots`)."""
        self._traced_slots = self.model.frozen_slots()
        return self._traced_slots

    def _check_traced_slots(self) -> None:
        """Under frozen_path "always_on", a new trace if the model's frozen modules per
        layer (K) are not those the tournament was traced for (a restarted trainer,
        a resumed run, a library user freezing mid-task)."""
        traced = getattr(self, "_traced_slots", None)
        if self.model.frozen_path != "always_on" or traced is None:
            return
        wanted = self.model.frozen_slots()
        if wanted == traced:
            return
        functions = self.__dict__.setdefault("_tournaments_by_slots", {})
        functions[traced] = function = self._tournament  # kept: K may come back
        self._tournament = functions.get(wanted) or tf.function(
            function.python_function, jit_compile=function._jit_compile,
            autograph=False, input_signature=function.input_signature)
        self._traced_slots = wanted if wanted in functions else None

    def restart(self, train_x, train_y, learning_rate: float) -> None:
        """Makes this trainer a fresh one for another run on the same model (restarted,
        `PathNet.restart`) and head: its data, zero optimizer slots and counters, the
        learning rate, the evaluator's always-on modules; the compiled functions stay."""
        self.train_x.assign(tf.convert_to_tensor(train_x, tf.float32))
        self.train_y.assign(tf.convert_to_tensor(train_y, tf.int32))
        for slot in self.slots:
            for variable in slot:
                variable.assign(tf.zeros_like(variable))
        self.step.assign(0.0)
        self.nonfinite.assign(0)
        self.optimizer.learning_rate.assign(learning_rate)
        self.evaluator.set_always_on(self.model.frozen.numpy())

    def _prepare(self, path, params, slots, frozen):
        """A candidate's plan, update masks, and its planned modules (slot layout) of
        the snapshot `params` and optimizer `slots`; `frozen`: the model's mask."""
        model, task = self.model, self.task
        plan = model.plan(path, frozen, self._frozen_slots())
        return (plan, model.slot_masks(plan, task, frozen),
                model.gather_slots(params, plan, task), self._gather_slots(slots, plan))

    def _step(self, plan, masks, params, slots, x, y, step, learning_rate):
        """One training step of one candidate on minibatch `(x, y)`. Returns its new
        params and slots, its correct count (before the update) and its loss."""
        with tf.GradientTape() as tape:
            tape.watch(params)
            logits = self.model.apply_slots(params, x, plan, self.task)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, params)
        params, slots = self.optimizer.update(step, params, grads, masks, slots,
                                              learning_rate)
        hits = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), y)
        return params, slots, tf.reduce_sum(tf.cast(hits, tf.float32)), loss

    def _step_candidates(self, weights, masks, params, slots, x, y, step, learning_rate):
        """One training step of the B candidates side by side (candidate layout,
        `model.stack_candidates`) on the same minibatch `(x, y)`. Each candidate's
        loss is its own mean; the gradient of their sum is each one's own gradient.
        Returns the new params and slots, the correct counts `[B]` (before the
        update) and the losses `[B]`."""
        with tf.GradientTape() as tape:
            tape.watch(params)
            logits = self.model.apply_candidates(params, x, weights, self.task)  # [B, n, C]
            labels = tf.broadcast_to(y, tf.shape(logits)[:2])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits), axis=1)  # [B]
            total = tf.reduce_sum(loss)
        grads = tape.gradient(total, params)
        params, slots = self.optimizer.update(step, params, grads, masks, slots,
                                              learning_rate)
        hits = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels)
        return params, slots, tf.reduce_sum(tf.cast(hits, tf.float32), axis=1), loss

    def _train_candidates(self, paths, batch_indices, params, slots, first_update=None):
        """T steps of the B candidates (`paths: [B, L, N]`) from the snapshot (`params`,
        `slots`: tensors), side by side in one loop (one set of products per step for
        all B; a candidate's arithmetic does not depend on the others). `first_update`:
        updates made since `self.step` was last written (the shared tournament's).

        `batch_indices: [T, batch]` (each step gathers its minibatch from the training
        data on device: no `[T, batch, ...]` copy up front). Returns the plans, and per
        candidate its trained planned rows and readout, their slots (slot layout); the
        correct counts `[B]` over the T minibatches (measured before each update: the
        fitness times T·batch, `exact_fitness`) and the mean loss `[B]`.
        """
        model, task = self.model, self.task
        frozen = tf.convert_to_tensor(model.frozen)
        count = paths.shape[0]  # B
        prepared = [self._prepare(paths[b], params, slots, frozen) for b in range(count)]
        plans = [p[0] for p in prepared]
        weights = model.candidate_weights(plans)  # per layer [B, S] (model.kind_weights)
        masks = model.stack_candidates([p[1] for p in prepared], task, masks=True)
        params = model.stack_candidates([p[2] for p in prepared], task)
        names = range(len(self.optimizer.slot_names))
        by_name = [model.stack_candidates([[s[k] for s in p[3]] for p in prepared], task)
                   for k in names]
        slots = [tuple(column[i] for column in by_name) for i in range(len(params))]
        steps = tf.shape(batch_indices)[0]
        learning_rate = tf.convert_to_tensor(self.optimizer.learning_rate)
        first_step = tf.convert_to_tensor(self.step) + 1.0
        if first_update is not None:
            first_step += tf.cast(first_update, tf.float32)

        def body(t, params, slots, correct, loss_sum):
            step = first_step + tf.cast(t, tf.float32)
            index = batch_indices[t]
            params, slots, hits, loss = self._step_candidates(
                weights, masks, params, slots, self._inputs(index, step),
                tf.gather(self.train_y, index), step, learning_rate)
            return t + 1, params, slots, correct + hits, loss_sum + loss

        zeros = tf.zeros([count])
        _, params, slots, correct, loss_sum = tf.while_loop(
            lambda t, *_: t < steps, body, (tf.constant(0), params, slots, zeros, zeros))
        params = model.unstack_candidates(params, task)
        by_name = [model.unstack_candidates([slot[k] for slot in slots], task) for k in names]
        slots = [[tuple(column[b][i] for column in by_name) for i in range(len(params[b]))]
                 for b in range(count)]
        return plans, params, slots, correct, loss_sum / tf.cast(steps, tf.float32)

    def _inputs(self, index, step):
        """The minibatch's images: gathered on device, then noised afresh if asked (one
        draw per step, shared by the candidates of that step)."""
        x = tf.gather(self.train_x, index)
        if self.input_noise is None:
            return x
        kind, probability = self.input_noise
        seed = tf.stack([self.noise_seed[0] * 1_000_003 + self.noise_seed[1],
                         tf.cast(step, tf.int64)])
        return noise_in_graph(x, kind, probability, seed)

    def _tournament_fn(self, paths, batch_indices):
        # The snapshot: every candidate starts from these values. The variables are not
        # written until the winner is known, so one read serves all candidates.
        params = [tf.convert_to_tensor(v) for v in self.params]
        slots = [tuple(tf.convert_to_tensor(s) for s in slot) for slot in self.slots]
        _, cand_params, cand_slots, correct, loss = self._train_candidates(
            paths, batch_indices, params, slots)
        results = [(cand_params[b], cand_slots[b], correct[b], loss[b])
                   for b in range(self.tournament_size)]
        finite = tf.stack([all_finite([r[3], *r[0]]) for r in results])
        correct, loss = self._guard(finite, tf.stack([r[2] for r in results]),
                                    tf.stack([r[3] for r in results]))
        winner = select_winner(correct, loss)

        def pick(tensors):  # the winner's tensor of each position
            return [tf.gather(tf.stack(candidates), winner) for candidates in zip(*tensors)]

        def write_back():
            plan = self.model.plan(tf.gather(paths, winner), frozen_slots=self._frozen_slots())
            self._write_rows(self.params, pick([r[0] for r in results]), plan)
            for k in range(len(self.optimizer.slot_names)):
                self._write_rows([slot[k] for slot in self.slots],
                                 pick([[slot[k] for slot in r[1]] for r in results]), plan)
            self.step.assign_add(tf.cast(tf.shape(batch_indices)[0], tf.float32))
            return tf.constant(True)

        # If every candidate diverged, nothing is written: the snapshot stays.
        tf.cond(tf.gather(finite, winner), write_back, lambda: tf.constant(False))
        return correct, loss, winner

    def _guard(self, finite, correct, loss):
        """The NaN/Inf guard: a candidate whose loss or weights are not finite gets
        correct count (fitness) 0 and loss +inf (it can only win if every candidate
        diverged, and then nothing is written back); such candidates are counted in
        `self.nonfinite`."""
        self.nonfinite.assign_add(tf.reduce_sum(tf.cast(tf.logical_not(finite), tf.int64)))
        return (tf.where(finite, correct, tf.zeros_like(correct)),
                tf.where(finite, loss, tf.fill(tf.shape(loss), float("inf"))))

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

    # -- public API ------------------------------------------------------------------

    def run_tournament(self, paths, batch_indices):
        """One tournament: each of the B candidates (`paths: [B, L, N]`) trains on the
        same minibatches (`batch_indices: [T, batch]`) from the same starting weights
        and optimizer state; the winner (`select_winner`: highest fitness, then lowest
        loss, then first) is written back into the model, the others are discarded.
        Returns `(fitness [B], loss [B], winner)` (NumPy arrays, int)."""
        self._check_traced_slots()
        correct, loss, winner = self._tournament(paths, batch_indices)
        return (exact_fitness(correct, self._examples_per_candidate(batch_indices)),
                loss.numpy(), int(winner))

    def _examples_per_candidate(self, batch_indices) -> int:
        """Examples a candidate's fitness counts (each one trains on all the indices)."""
        return int(np.size(batch_indices))

    def evaluate(self, path, x, y, batch_size: int = 4096) -> float:
        """Accuracy of pathway `path` on `(x, y)` with the current weights."""
        return self.evaluator.evaluate(path, x, y, batch_size)

    def tracing_counts(self) -> dict:
        return {"tournament": self._tournament.experimental_get_tracing_count(),
                "evaluate": self.evaluator.tracing_count()}


class RepeatedTrainer:
    """The controls' trainer: one pathway trained for `repeats` × T steps per
    generation, the compute of one B-candidate tournament, so generations compare
    with PathNet's directly. It takes the generation's `[repeats·T, batch]` minibatch
    indices and runs them as `repeats` compiled calls of T steps on a one-candidate
    `TaskTrainer`; the generation's fitness (and loss) is that of its last T steps,
    measured like a PathNet candidate's. Everything else is the inner trainer's."""

    def __init__(self, trainer: TaskTrainer, repeats: int):
        if trainer.tournament_size != 1:
            raise ValueError("RepeatedTrainer needs a one-candidate TaskTrainer")
        self.inner = trainer
        self.repeats = repeats

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def run_tournament(self, paths, batch_indices):
        for chunk in np.split(batch_indices, self.repeats):
            fitness, loss, winner = self.inner.run_tournament(paths, chunk)
        return fitness, loss, winner


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
           state: EvolveResult | None = None,
           checkpoint_every: int = 0,
           on_checkpoint: Callable[[EvolveResult], None] | None = None,
           stop: Callable[[], bool] | None = None,
           ) -> EvolveResult:
    """Runs tournaments until a winner's fitness reaches `threshold` or
    `max_generations` have run. Never raises for an unsolved task: `solved` says.

    A generation is one tournament. With a `parallel.ParallelTaskTrainer` K tournaments run per
    call and are counted one by one (up to the first that solves the task).
    `on_generation(generation, paths, fitness, winner, best_fitness, best_path)` is
    called after each one (`paths: [B, L, N]`, `fitness: [B]`). `state`: where a
    resumed run left off. `on_checkpoint(state)` is called every `checkpoint_every`
    generations (at the end of a call) while the task is not finished. `stop()` is
    asked after every call: if True (a SIGTERM, say) the loop ends there, after an
    `on_checkpoint` of the state so far, and the task is left unfinished.
    """
    start = time.perf_counter()
    state = state or EvolveResult(generations=0, solved=False, best_fitness=-1.0,
                                  best_path=None, fitness_history=[], wall_seconds=0.0)
    parallel = getattr(trainer, "tournaments", None)
    best_fitness, best_path = state.best_fitness, state.best_path
    history = list(state.fitness_history)
    generation = state.generations
    solved = state.solved
    saved = generation

    def current():
        return EvolveResult(generations=generation, solved=solved, best_fitness=best_fitness,
                            best_path=best_path, fitness_history=list(history),
                            wall_seconds=state.wall_seconds + time.perf_counter() - start)

    while generation < max_generations and not solved:
        if parallel is None:
            paths = tournament.ask()[None]
            batch_indices = sampler.next(steps_per_candidate, batch_size)
            fitness, loss, winner = trainer.run_tournament(paths[0], batch_indices)
            fitness, loss, winners = fitness[None], loss[None], np.array([winner])
        else:
            paths = tournament.ask(parallel)
            batch_indices = np.stack([sampler.next(steps_per_candidate, batch_size)
                                      for _ in range(parallel)])
            fitness, loss, winners = trainer.run_tournaments(paths, batch_indices)
        told = (tournament.tell(fitness[0], loss[0]) if parallel is None
                else tournament.tell(fitness, loss))
        if not np.array_equal(np.ravel(told), winners):
            raise RuntimeError(f"the compiled tournament chose {winners}, the genetic "
                               f"algorithm {told}, for fitness {fitness}, loss {loss}")
        for k, winner in enumerate(winners):
            if generation == max_generations or solved:
                break
            generation += 1
            history.append(float(fitness[k, winner]))
            if fitness[k, winner] >= best_fitness:
                best_fitness, best_path = float(fitness[k, winner]), paths[k, winner].copy()
            solved = best_fitness >= threshold
            if on_generation is not None:
                on_generation(generation, paths[k], fitness[k], winner, best_fitness,
                              best_path)
        finished = solved or generation >= max_generations
        if (checkpoint_every and on_checkpoint is not None and not finished
                and generation - saved >= checkpoint_every):
            on_checkpoint(current())
            saved = generation
        if stop is not None and not finished and stop():
            if on_checkpoint is not None and generation != saved:
                on_checkpoint(current())
            break
    return current()


def set_threads(threads: int) -> bool:
    """Uses `threads` threads for TensorFlow's (and XLA's) intra-op and inter-op
    pools. PathNet's matrices are tiny (16 × 784 × 60): one thread per process beats
    a thread pool's hand-offs, and leaves the other core to a second run.
    Must run before TensorFlow executes anything; returns False if it was too late."""
    check_positive_int("threads", threads)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        return False
    return True
