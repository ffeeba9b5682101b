"""Compiled evaluation of pathways: a pathway's accuracy on a task's examples with the
current weights, one trace whatever the path or the number of examples. With
frozen_path "always_on" an evaluator keeps the modules frozen before its task (they
take part in the task's every pass, and modules frozen by later tasks do not).
"""

from __future__ import annotations

import tensorflow as tf


class Evaluator:
    """Compiled evaluation of pathways on one task's head: one trace whatever the path
    or the number of examples."""

    def __init__(self, model, task: int, always_on=None):
        self.model, self.task = model, task
        self.params = [v.value for v in model.task_variables(task)]
        # frozen_path "always_on": the modules on in every pass of this task, those frozen
        # before it (`[L, M]`; default: frozen now, when the task starts; a variable, so
        # that a resumed run can set it, `set_always_on`, without a retrace).
        self.always_on = None if model.frozen_path != "always_on" else tf.Variable(
            model.frozen.numpy() if always_on is None else always_on, dtype=tf.float32,
            trainable=False)
        self._evaluate = tf.function(
            self._evaluate_fn, autograph=False,
            input_signature=[tf.TensorSpec([model.num_layers, model.num_active], tf.int32),
                             tf.TensorSpec([None, *model.example_shape], tf.float32),
                             tf.TensorSpec([None], tf.int32)])

    def _evaluate_fn(self, path, x, y):
        params = [tf.convert_to_tensor(v) for v in self.params]
        logits = self.model.apply(params, x, path, self.task, self.always_on)
        hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y)
        return tf.reduce_sum(tf.cast(hits, tf.int32))

    def set_always_on(self, always_on) -> None:
        """The `[L, M]` modules frozen before this task (frozen_path "always_on" only)."""
        if self.always_on is not None:
            self.always_on.assign(always_on)

    def evaluate(self, path, x, y, batch_size: int = 4096) -> float:
        """Accuracy of pathway `path` (`[L, N]`) on `(x, y)` with the current weights."""
        path = tf.constant(path, tf.int32)
        correct = 0
        for start in range(0, len(x), batch_size):
            correct += int(self._evaluate(path, x[start:start + batch_size],
                                          y[start:start + batch_size]))
        return correct / len(x)

    def tracing_count(self) -> int:
        return self._evaluate.experimental_get_tracing_count()
