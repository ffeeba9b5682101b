"""Joint training, the upper bound of a task sequence (mode "joint", docs/continual.md):
every task's training data at once, the same network (fine-tuning's one fixed random
path, drawn from `[seed, 2]` as the controls' is), one readout head per task
(task-incremental), the masked SGD/Adam of the other methods.

**Not a sequence.** Every other mode learns tasks one after another (`run.Sequence`:
a `TaskRun` per task, a step between tasks). Joint training has no order, no "after
task i" and no step between tasks, so it is not run by the sequence runner (which
refuses it: `joint_mode.NotASequence`, the mode's hook) but by `run_joint`, which
`continual_mnist.run` calls for mode "joint".

**The step.** A minibatch of `batch_size` examples drawn from the union of the tasks'
training sets (epochs over the union, `training.BatchSampler`; each task is drawn in
proportion to its training images), every example through the fixed path and its own
task's head; the loss is the minibatch's mean cross-entropy. One compiled call trains a
generation, B·T steps (what a fixed path's generation is), with the NaN guard of the
other trainers (a generation whose loss or weights are not finite is not written
back, `nonfinite_generations`).

**Equal footing: the same total.** A run trains T·G generations (G =
`max_generations`, `--budget=fixed` only), so it takes exactly the gradient steps and
examples the sequential fixed-path methods (fine-tune, EWC, SI, separate) take over
all T tasks together: T·G·B·T steps of `batch_size` examples. Each task's share is G
generations (the `generations` of its results); the examples of each task actually
drawn are in `joint.examples_per_task`.

**Its accuracy matrix** is one row repeated: every task is learned at once, so
R[i][j] = the final test accuracy of task j for every i. Read so, ACC is the mean
final accuracy (the upper bound), BWT is 0 by construction (no task comes after
another) and FWT is not defined (None): the formula would compare a trained head with
the random probe, which is not transfer. `accuracy_baseline` (b, the probes on the
fresh network) is recorded as for every run.

A run keeps no checkpoint (one Split MNIST run takes well under a minute here):
SIGTERM ends it after the current generation with `RunTerminated`, and a rerun starts
it afresh. No TensorBoard events are written.
"""

from __future__ import annotations

import json
import logging
import pathlib
import shutil
import time
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from pathnet_tf.core.optimizers import make_optimizer
from pathnet_tf.evolution.evaluation import Evaluator
from pathnet_tf.evolution.genetic import random_genotype
from pathnet_tf.evolution.training import BatchSampler, all_finite
from pathnet_tf.files.atomic_io import write_json
from pathnet_tf.files.results_schema import SCHEMA_VERSION
from pathnet_tf.files.workdir import RunTerminated, held_until_sigterm
from pathnet_tf.runs import continual
from pathnet_tf.runs.accuracy_matrix import _probe_evaluator, probe_head
from pathnet_tf.runs.run import _OneTracePerTask
from pathnet_tf.runs.task_run import num_classes


class JointTrainer:
    """Compiled joint training of one fixed path and one head per task (module
    docstring): `train(batch_indices [steps, batch])` runs the steps on minibatches of
    the union of the tasks' training sets."""

    def __init__(self, model, heads, tasks, path, optimizer, jit_compile: bool = True):
        self.model, self.heads, self.optimizer = model, list(heads), optimizer
        self.path = np.asarray(path, np.int32)
        self.train_x = tf.Variable(np.concatenate([t.train_x for t in tasks]).astype(np.float32),
                                   trainable=False, name="joint_train_x")
        self.train_y = tf.Variable(np.concatenate([t.train_y for t in tasks]).astype(np.int32),
                                   trainable=False, name="joint_train_y")
        self.train_task = tf.Variable(
            np.concatenate([np.full(len(t.train_y), i, np.int32) for i, t in enumerate(tasks)]),
            trainable=False, name="joint_train_task")
        self.num_examples = int(self.train_y.shape[0])
        modules = [v for layer in model.module_layers for v in (layer.kernel, layer.bias)]
        readouts = [v for h in self.heads for v in (model.readouts[h].kernel,
                                                    model.readouts[h].bias)]
        self.params = [v.value for v in modules + readouts]
        # Updates may change the path's modules (rows along axis 0) and every head.
        self.masks = []
        for index, layer in enumerate(model.module_layers):
            on_path = np.zeros(model.num_modules, bool)
            on_path[self.path[index]] = True
            for variable in (layer.kernel, layer.bias):
                self.masks.append(tf.constant(on_path.reshape(
                    [-1] + [1] * (len(variable.shape) - 1))))
        self.masks += [tf.constant(True)] * len(readouts)
        self.slots = [tuple(tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False)
                            for _ in optimizer.slot_names) for v in self.params]
        self.step = tf.Variable(0.0, trainable=False, name="step")
        self.nonfinite = tf.Variable(0, dtype=tf.int64, trainable=False, name="nonfinite")
        self._train = tf.function(self._train_fn, jit_compile=jit_compile, autograph=False,
                                  input_signature=[tf.TensorSpec([None, None], tf.int32)])

    def _loss(self, params, x, y, task):
        """The minibatch's mean cross-entropy (each example on its task's head) and the
        correct counts per task `[H]`."""
        model = self.model
        count = 2 * model.num_layers
        # The path's features: the model's own arithmetic, read out by an identity head.
        features = model.apply(list(params[:count]) + [tf.eye(model.feature_dim),
                                                       tf.zeros([model.feature_dim])],
                               x, tf.constant(self.path), self.heads[0])
        total, correct = 0.0, []
        for index in range(len(self.heads)):
            kernel, bias = params[count + 2 * index], params[count + 2 * index + 1]
            logits = tf.matmul(features, kernel) + bias
            mine = tf.equal(task, index)
            labels = tf.where(mine, y, tf.zeros_like(y))  # others' labels: masked out
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            total += tf.reduce_sum(tf.where(mine, loss, tf.zeros_like(loss)))
            hits = tf.logical_and(mine, tf.equal(
                tf.argmax(logits, axis=1, output_type=tf.int32), y))
            correct.append(tf.reduce_sum(tf.cast(hits, tf.float32)))
        return total / tf.cast(tf.shape(y)[0], tf.float32), tf.stack(correct)

    def _train_fn(self, batch_indices):
        params = [tf.convert_to_tensor(v) for v in self.params]
        slots = [tuple(tf.convert_to_tensor(s) for s in slot) for slot in self.slots]
        learning_rate = tf.convert_to_tensor(self.optimizer.learning_rate)
        first_step = tf.convert_to_tensor(self.step) + 1.0
        steps = tf.shape(batch_indices)[0]
        heads = len(self.heads)

        def body(t, params, slots, correct, seen, loss_sum):
            index = batch_indices[t]
            x, y = tf.gather(self.train_x, index), tf.gather(self.train_y, index)
            task = tf.gather(self.train_task, index)
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss, hits = self._loss(params, x, y, task)
            grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, params)]
            params, slots = self.optimizer.update(first_step + tf.cast(t, tf.float32),
                                                  params, grads, self.masks, slots,
                                                  learning_rate)
            seen += tf.reduce_sum(tf.one_hot(task, heads), axis=0)
            return (t + 1, list(params), [tuple(s) for s in slots], correct + hits, seen,
                    loss_sum + loss)

        zeros = tf.zeros([heads])
        _, params, slots, correct, seen, loss_sum = tf.while_loop(
            lambda t, *_: t < steps, body,
            (tf.constant(0), params, slots, zeros, zeros, tf.constant(0.0)))
        finite = all_finite([loss_sum, *params])

        def write_back():
            for variable, value in zip(self.params, params):
                variable.assign(value)
            for slot, values in zip(self.slots, slots):
                for variable, value in zip(slot, values):
                    variable.assign(value)
            self.step.assign_add(tf.cast(steps, tf.float32))
            return tf.constant(True)

        tf.cond(finite, write_back, lambda: tf.constant(False))  # diverged: weights kept
        self.nonfinite.assign_add(tf.cast(tf.logical_not(finite), tf.int64))
        return correct, seen, loss_sum / tf.cast(steps, tf.float32)

    def train(self, batch_indices) -> tuple:
        """Trains the steps; returns `(correct [H], seen [H], mean loss)` (NumPy):
        per task the correct predictions (before each update) and its examples drawn."""
        correct, seen, loss = self._train(np.asarray(batch_indices, np.int32))
        return correct.numpy(), seen.numpy(), float(loss)


def _check_budget(config) -> None:
    if getattr(config, "budget", "threshold") != "fixed":
        raise ValueError("mode joint needs --budget=fixed (it trains the sequence's total "
                         "steps at once; a threshold stop per task has no meaning for it)")


def run_joint(config, model, tasks, workdir, log: Callable[[str], None] = print,
              start: float | None = None, resume: bool = True, figures: bool = True,
              **options) -> dict:
    """Trains `tasks` jointly on `model` (a fresh `PathNet` with no heads; module
    docstring) for `len(tasks) · max_generations` generations and writes
    `config.json` and `results.json` (the sequence runner's keys, and `joint`) into
    `workdir`, `figures/` if `figures`. With `resume`, a finished run's results are
    returned as they are. Other `run_sequence` options (checkpoints, TensorBoard,
    observers, a trainer pool) do not apply and are ignored."""
    del options
    _check_budget(config)
    start = time.perf_counter() if start is None else start
    workdir = pathlib.Path(workdir)
    with held_until_sigterm(workdir) as stop:
        done = workdir / "results.json"
        saved = workdir / "config.json"
        if resume and done.exists() and saved.exists() and json.loads(saved.read_text()) == (
                json.loads(json.dumps(config.to_dict()))):
            log(f"run in {workdir} is already complete; results in {done}")
            return json.loads(done.read_text())
        shutil.rmtree(workdir / "tb", ignore_errors=True)
        shutil.rmtree(workdir / "ckpt", ignore_errors=True)
        done.unlink(missing_ok=True)
        write_json(saved, config.to_dict())
        quiet = _OneTracePerTask()  # one evaluator per head: TF would call it retracing
        logging.getLogger("tensorflow").addFilter(quiet)
        try:
            results = _train(config, model, tasks, log, stop)
        finally:
            logging.getLogger("tensorflow").removeFilter(quiet)
        results["wall_seconds"] = time.perf_counter() - start
        write_json(done, results)
    line = (f"joint: {len(tasks)} tasks, {results['joint']['generations']} generations; "
            f"test accuracy {', '.join(f'{a:.4f}' for a in results['final_test_accuracy'])}; "
            f"results in {done}")
    if figures:
        from pathnet_tf.runs import run_figures

        run_figures.draw_all(results, workdir / "figures")
        line += f"; figures in {workdir / 'figures'}"
    log(line)
    return results


def _train(config, model, tasks, log, stop) -> dict:
    net, evo = config.pathnet, config.evolution
    count = len(tasks)
    # The controls' fixed path and generator, drawn as `run.Sequence` draws them.
    path = random_genotype(np.random.default_rng([config.seed, 2]), net.num_layers,
                           net.num_modules, net.num_active)
    rng = np.random.default_rng([config.seed, 1])
    probes = _probe_evaluator(model)
    baseline = [probes.evaluate(path, task.test_x, task.test_y,
                                *probe_head(config.seed, j, model.feature_dim,
                                            num_classes(task)))
                for j, task in enumerate(tasks)]  # b: the fresh network, as every mode's
    heads = [model.add_task(num_classes(task)) for task in tasks]
    trainer = JointTrainer(model, heads, tasks, path,
                           make_optimizer(evo.optimizer, evo.effective_learning_rate),
                           jit_compile=evo.jit_compile)
    sampler = BatchSampler(trainer.num_examples, rng)
    steps = evo.tournament_size * evo.steps_per_candidate  # a fixed path's generation
    generations = count * evo.max_generations
    histories = [[] for _ in tasks]
    drawn = np.zeros(count, np.int64)
    started = time.perf_counter()
    for generation in range(1, generations + 1):
        if stop():
            raise RunTerminated(f"terminated (SIGTERM) at joint generation {generation - 1}; "
                                "joint runs keep no checkpoint: rerun to start afresh")
        correct, seen, loss = trainer.train(sampler.next(steps, evo.batch_size))
        drawn += seen.astype(np.int64)
        for history, hits, examples in zip(histories, correct, seen):
            history.append(float(hits) / float(examples) if examples else 0.0)
        if generation % config.log_every == 0:
            log(f"joint generation {generation}/{generations}: loss {loss:.4f}, training "
                f"accuracy per task {' '.join(f'{h[-1]:.3f}' for h in histories)}")
    seconds = time.perf_counter() - started
    final = []
    task_results = []
    for task, head, history in zip(tasks, heads, histories):
        evaluator = Evaluator(model, head)
        accuracy = evaluator.evaluate(path, task.test_x, task.test_y)
        final.append(accuracy)
        task_results.append({
            "name": task.name, **getattr(task, "info", {}),
            "generations": evo.max_generations,  # the task's share of the joint total
            "solved": False, "best_fitness": history[-1], "test_accuracy": accuracy,
            "best_path": path.tolist(), "fitness_history": history,
            "wall_seconds": seconds / count,
            "tracing_counts": {"joint": trainer._train.experimental_get_tracing_count(),
                               "evaluate": evaluator.tracing_count()},
            "nonfinite_candidates": int(trainer.nonfinite.numpy()),
            "module_usage": None, "reuse": None})
    results = {"schema_version": SCHEMA_VERSION, "mode": config.mode, "seed": config.seed,
               "num_modules": net.num_modules, "threshold": evo.threshold}
    if count == 2:
        results.update({"task_a": task_results[0], "task_b": task_results[1],
                        "overlap": None})
    per = continual.steps_per_generation(config.to_dict(), population=False)
    results.update({
        "tasks": task_results, "final_test_accuracy": final,
        "reused_frozen_modules": [None] * count, "frozen_modules": [0] * count,
        "frozen_by": np.full((net.num_layers, net.num_modules), -1).tolist(),
        # Every task learned at once: one row, repeated (module docstring).
        "accuracy_matrix": [list(final) for _ in tasks], "accuracy_baseline": baseline,
        "probe_path": path.tolist(),
        "joint": {"generations": generations, "steps": generations * per["steps"],
                  "examples": generations * per["examples"],
                  "examples_per_task": drawn.tolist(),
                  "nonfinite_generations": int(trainer.nonfinite.numpy()),
                  "train_seconds": seconds}})
    metrics = continual.run_metrics(results, config.to_dict(), False, net.num_layers,
                                    net.num_modules)
    metrics["fwt"] = None  # not defined for joint training (module docstring)
    results["continual"] = metrics
    return results
