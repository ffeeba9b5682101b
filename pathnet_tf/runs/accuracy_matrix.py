"""Recording the accuracy matrix R of a task sequence while it runs (`continual.py`
defines R, the probes and the metrics; docs/continual.md says why the probes).

`AccuracyMatrix` is a sequence hook (`run.Sequence` calls it): at the first task's
start it measures `b`, each task's probe on the fresh network; at each task's end
(before the mode's step between tasks) the row `R[i]`: every trained task j <= i on
its own head and best path, every later task j > i by its probe. Its state (the rows
so far and `b`) goes into the run's checkpoint, so a resumed run records the same R.

A probe of task j: a head drawn once from `[seed, 3, j]` (Glorot-uniform kernel
`[features, classes]`, zero bias; NumPy, so no draw of Keras's generators moves and
every other result of the run stays what it was) on the probe path (the controls'
fixed path; for a population mode a path drawn from `[seed, 3]`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from pathnet_tf.evolution.evaluation import Evaluator
from pathnet_tf.evolution.genetic import random_genotype
from pathnet_tf.runs import continual
from pathnet_tf.runs.task_run import num_classes


def probe_head(seed: int, task: int, features: int, classes: int) -> tuple:
    """Task `task`'s probe head: `(kernel [features, classes], bias [classes])` float32."""
    rng = np.random.default_rng([seed, 3, task])
    limit = np.sqrt(6.0 / (features + classes))
    kernel = rng.uniform(-limit, limit, size=(features, classes)).astype(np.float32)
    return kernel, np.zeros(classes, np.float32)


class ProbeEvaluator:
    """Compiled accuracy of a head given as tensors (not one of the model's) on a path
    with the current module weights: one trace for every probe of a model."""

    def __init__(self, model):
        self.model = model
        self._evaluate = tf.function(
            self._evaluate_fn, autograph=False,
            input_signature=[tf.TensorSpec([model.num_layers, model.num_active], tf.int32),
                             tf.TensorSpec([None, *model.example_shape], tf.float32),
                             tf.TensorSpec([None], tf.int32),
                             tf.TensorSpec([model.feature_dim, None], tf.float32),
                             tf.TensorSpec([None], tf.float32)])

    def _evaluate_fn(self, path, x, y, kernel, bias):
        model = self.model
        plan = model.plan(path)
        slots = []
        for index, layer in enumerate(model.module_layers):
            slots += layer.to_slots(tf.convert_to_tensor(layer.kernel),
                                    tf.convert_to_tensor(layer.bias), plan[index][0])
        logits = model.apply_slots(slots + [kernel, bias], x, plan, None)
        hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y)
        return tf.reduce_sum(tf.cast(hits, tf.int32))

    def evaluate(self, path, x, y, kernel, bias, batch_size: int = 4096) -> float:
        path = tf.constant(path, tf.int32)
        correct = 0
        for start in range(0, len(x), batch_size):
            correct += int(self._evaluate(path, x[start:start + batch_size],
                                          y[start:start + batch_size], kernel, bias))
        return correct / len(x)


def _probe_evaluator(model) -> ProbeEvaluator:
    """One per model (a pool's model serves many runs: one trace for all)."""
    kept = model.__dict__.get("_probe_evaluator")
    if kept is None:
        kept = model.__dict__["_probe_evaluator"] = ProbeEvaluator(model)
    return kept


class AccuracyMatrix:
    """The sequence hook that records R and b (module docstring)."""

    name = "accuracy_matrix"

    def __init__(self, sequence):
        config, model = sequence.config, sequence.model
        net = config.pathnet
        self.count = len(sequence.tasks)
        self.rows: list = [None] * self.count
        self.baseline: list | None = None
        self.probe_path = (sequence.fixed_path if sequence.fixed_path is not None else
                           random_genotype(np.random.default_rng([config.seed, 3]),
                                           net.num_layers, net.num_modules, net.num_active))
        self.heads = [probe_head(config.seed, j, model.feature_dim, num_classes(task))
                      for j, task in enumerate(sequence.tasks)]
        self.population = sequence.mode.population

    def _probe(self, sequence, j: int) -> float:
        task = sequence.tasks[j]
        return _probe_evaluator(sequence.model).evaluate(
            self.probe_path, task.test_x, task.test_y, *self.heads[j])

    def task_start(self, sequence, run) -> None:
        del run
        if self.baseline is None:  # the first task: the network is as initialised
            self.baseline = [self._probe(sequence, j) for j in range(self.count)]

    def task_end(self, sequence, run) -> None:
        """Row `sequence.index` of R (the task just learned is in `sequence.finished`)."""
        index = sequence.index
        row, head = [], 0
        for j, task in enumerate(sequence.tasks):
            if j > index:
                row.append(self._probe(sequence, j))
                continue
            results = sequence.finished[j]
            if results is None:  # not trained by this mode
                row.append(None)
                continue
            evaluator = (run.trainer.evaluator if j == index else
                         sequence.evaluators.get(head))
            if evaluator is None:  # finished before a resume
                evaluator = sequence.evaluators[head] = Evaluator(
                    sequence.model, head, sequence.frozen_before(j))
            row.append(evaluator.evaluate(np.asarray(results["best_path"], np.int32),
                                          task.test_x, task.test_y))
            head += 1
        self.rows[index] = row

    def state(self) -> tuple[dict, dict]:
        return {}, {"rows": self.rows, "baseline": self.baseline}

    def load_state(self, arrays: dict, header: dict) -> None:
        del arrays
        self.rows, self.baseline = list(header["rows"]), header["baseline"]

    def results(self, sequence) -> dict:
        """results.json's `accuracy_matrix` (R; a row per task, None for a task the
        mode did not train), `accuracy_baseline` (b), `probe_path` and `continual`
        (`continual.run_metrics`)."""
        net = sequence.config.pathnet
        rows = [row if row is not None else [None] * self.count for row in self.rows]
        out = {"accuracy_matrix": rows, "accuracy_baseline": self.baseline,
               "probe_path": self.probe_path.tolist()}
        out["continual"] = continual.run_metrics(
            {**out, "tasks": sequence.finished, "frozen_modules": sequence.frozen},
            sequence.config.to_dict(), self.population, net.num_layers, net.num_modules)
        return out
