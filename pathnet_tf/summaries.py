"""TensorBoard summaries of an evolution run (named so as not to shadow `logging`).

Per generation (every `summary_every`): each candidate's fitness, the winner's
fitness, the best fitness so far, the winner's position, and two small images: the
population's module usage (`[L, M]`, the fraction of pathways using each module) and
the best pathway. Every `histogram_every` generations: histograms of each layer's
module weights. All under one tag prefix per task, e.g. `A_1v3/fitness/best`.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from pathnet_tf.genetic import active_mask

_PIXELS_PER_MODULE = 8


def _grid_image(grid: np.ndarray) -> np.ndarray:
    """`[L, M]` values in [0, 1] -> `[1, L*8, M*8, 1]` float image, one block per module."""
    blocks = np.kron(np.asarray(grid, np.float32),
                     np.ones((_PIXELS_PER_MODULE, _PIXELS_PER_MODULE), np.float32))
    return blocks[None, :, :, None]


class Summaries:
    """Writes a run's TensorBoard events under `logdir`."""

    def __init__(self, logdir: str | os.PathLike, summary_every: int = 1,
                 histogram_every: int = 50):
        self.writer = tf.summary.create_file_writer(str(logdir))
        self.summary_every = summary_every
        self.histogram_every = histogram_every

    def generation(self, prefix: str, step: int, fitness, winner: int, best_fitness: float,
                   usage: np.ndarray, best_path: np.ndarray, num_modules: int) -> None:
        """Scalars and images of one generation (skipped off the cadence)."""
        if step % self.summary_every:
            return
        with self.writer.as_default(step=step):
            for position, value in enumerate(fitness):
                tf.summary.scalar(f"{prefix}/fitness/candidate_{position}", value)
            tf.summary.scalar(f"{prefix}/fitness/winner", fitness[winner])
            tf.summary.scalar(f"{prefix}/fitness/best", best_fitness)
            tf.summary.scalar(f"{prefix}/winner", winner)
            tf.summary.image(f"{prefix}/module_usage", _grid_image(usage))
            tf.summary.image(f"{prefix}/best_path",
                             _grid_image(active_mask(best_path, num_modules)))

    def histograms(self, prefix: str, step: int, model) -> None:
        """Module weight histograms, every `histogram_every` generations."""
        if step % self.histogram_every:
            return
        with self.writer.as_default(step=step):
            for index, layer in enumerate(model.module_layers):
                tf.summary.histogram(f"{prefix}/layer_{index}/kernel", layer.kernel.value)
                tf.summary.histogram(f"{prefix}/layer_{index}/bias", layer.bias.value)

    def text(self, tag: str, value: str) -> None:
        with self.writer.as_default(step=0):
            tf.summary.text(tag, value)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()
