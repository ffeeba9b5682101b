"""TensorBoard summaries of an evolution run (named so as not to shadow `logging`).

Per generation (every `summary_every`): each candidate's fitness, the winner's
fitness, the best fitness so far and the winner's position. Every `image_every`
generations: two small images, the population's module usage (`[L, M]`, the fraction
of pathways using each module) and the best pathway. Every `histogram_every`
generations: histograms of each layer's module weights. All under one tag prefix per
task, e.g. `A_1v3/fitness/best`. The per-generation writes are one compiled call
(eager summary ops cost more than a whole tournament).
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from pathnet_tf.genetic import active_mask

_PIXELS_PER_MODULE = 8


def grid_image(grid: tf.Tensor) -> tf.Tensor:
    """`[L, M]` values in [0, 1] -> `[1, L*8, M*8, 1]` image, one block per module."""
    grid = tf.repeat(tf.repeat(grid, _PIXELS_PER_MODULE, axis=0), _PIXELS_PER_MODULE, axis=1)
    return grid[None, :, :, None]


class Summaries:
    """Writes a run's TensorBoard events under `logdir`."""

    def __init__(self, logdir: str | os.PathLike, summary_every: int = 1,
                 image_every: int = 10, histogram_every: int = 50):
        self.writer = tf.summary.create_file_writer(str(logdir))
        self.summary_every = summary_every
        self.image_every = image_every
        self.histogram_every = histogram_every
        self._writers = {}

    def _compiled(self, key, signature, body):
        """`body(*tensors)` writing summaries, compiled once per `key` (tags are fixed
        at trace time, so each task prefix gets its own)."""
        if key not in self._writers:
            def write(step, *tensors):
                with self.writer.as_default(step=step):
                    body(*tensors)
                return tf.constant(0)

            self._writers[key] = tf.function(
                write, autograph=False, input_signature=[tf.TensorSpec([], tf.int64), *signature])
        return self._writers[key]

    def generation(self, prefix: str, step: int, fitness, winner: int, best_fitness: float,
                   usage, best_path: np.ndarray, num_modules: int) -> None:
        """Scalars of one generation, and the images on their cadence.

        `usage` is the `[L, M]` module usage or a callable returning it (only called
        when an image is due)."""
        if step % self.summary_every == 0:
            fitness_values = np.asarray(fitness, np.float32)

            def scalars(fitness, winner, best_fitness):
                for position in range(len(fitness_values)):
                    tf.summary.scalar(f"{prefix}/fitness/candidate_{position}",
                                      fitness[position])
                tf.summary.scalar(f"{prefix}/fitness/winner", tf.gather(fitness, winner))
                tf.summary.scalar(f"{prefix}/fitness/best", best_fitness)
                tf.summary.scalar(f"{prefix}/winner", winner)

            self._compiled(
                ("scalars", prefix), [tf.TensorSpec(fitness_values.shape, tf.float32),
                                      tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32)],
                scalars)(np.int64(step), fitness_values, np.int32(winner),
                         np.float32(best_fitness))
        if step % self.image_every == 0:
            def images(usage, best_path):
                tf.summary.image(f"{prefix}/module_usage", grid_image(usage))
                tf.summary.image(f"{prefix}/best_path", grid_image(best_path))

            usage = np.asarray(usage() if callable(usage) else usage, np.float32)
            grid = tf.TensorSpec([None, None], tf.float32)
            self._compiled(("images", prefix), [grid, grid], images)(
                np.int64(step), usage, active_mask(best_path, num_modules).astype(np.float32))

    def histograms(self, prefix: str, step: int, model) -> None:
        """Module weight histograms, every `histogram_every` generations."""
        if step % self.histogram_every:
            return
        layers = list(model.module_layers)

        def histograms():
            for index, layer in enumerate(layers):
                tf.summary.histogram(f"{prefix}/layer_{index}/kernel", layer.kernel.value)
                tf.summary.histogram(f"{prefix}/layer_{index}/bias", layer.bias.value)

        self._compiled(("histograms", prefix), [], histograms)(np.int64(step))

    def tracing_counts(self) -> dict:
        """Traces of each compiled writer (one each, whatever the run's length)."""
        return {"_".join(key): f.experimental_get_tracing_count()
                for key, f in self._writers.items()}

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()
