"""TensorBoard summaries of an evolution run (named so as not to shadow `logging`).

Per generation (every `summary_every`): each candidate's fitness, the winner's
fitness, the best fitness so far and the winner's position. Every `image_every`
generations: two images, the population's module usage (`[L, M]`, the fraction of
pathways using each module) and the best pathway, 16 pixels per module with a grid
and the frozen modules outlined in blue. When a task ends: its test accuracy. Every
`histogram_every` generations: histograms of each layer's module weights. All under
one tag prefix per task, e.g. `A_1v3/fitness/best`. The per-generation writes are one
compiled call (eager summary ops cost more than a whole tournament). Once per run: the
settings, for the HParams plugin (`hparams`).
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from pathnet_tf.evolution.genetic import active_mask

BLOCK = 16  # pixels per module, grid lines and frozen border included
_LINE = 0.35  # grey of the grid lines between modules
_FROZEN = (0.15, 0.45, 0.95)  # colour of a frozen module's border


def grid_image(grid: tf.Tensor, frozen: tf.Tensor) -> tf.Tensor:
    """`[L, M]` values in [0, 1] -> `[1, L*16 + 1, M*16 + 1, 3]` RGB image: one grey
    block of 15×15 pixels per module (white = 1), a one-pixel grid line around every
    module, and a blue border (2 pixels) inside every frozen module (`frozen: [L, M]`,
    1 = frozen). Layer 1 is the top row."""
    rows, columns = tf.shape(grid)[0], tf.shape(grid)[1]
    r, c = tf.range(rows * BLOCK + 1), tf.range(columns * BLOCK + 1)
    module_r, module_c = tf.minimum(r // BLOCK, rows - 1), tf.minimum(c // BLOCK, columns - 1)

    def per_pixel(values):  # [L, M] -> [L*16 + 1, M*16 + 1]
        return tf.gather(tf.gather(values, module_r, axis=0), module_c, axis=1)

    in_r, in_c = r % BLOCK, c % BLOCK
    line = tf.logical_or(in_r[:, None] == 0, in_c[None, :] == 0)
    ring = tf.logical_or(tf.logical_or(in_r <= 2, in_r >= BLOCK - 2)[:, None],
                         tf.logical_or(in_c <= 2, in_c >= BLOCK - 2)[None, :])
    mark = tf.logical_and(per_pixel(frozen > 0.5), tf.logical_and(ring, tf.logical_not(line)))
    grey = tf.where(line, _LINE, per_pixel(grid))
    return tf.stack([tf.where(mark, value, grey) for value in _FROZEN], axis=-1)[None]


TENSORBOARD_LEVELS = ("full", "scalars", "none")


def flat_hparams(config: dict, prefix: str = "") -> dict:
    """A nested config dict -> `{"pathnet.units": 20, ...}` of the values HParams
    takes (bool, int, float, str); a list becomes "1,3"; None is left out."""
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_hparams(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = ",".join(str(item) for item in value)
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
    return flat


class Summaries:
    """Writes a run's TensorBoard events under `logdir`. `level`: "full" (everything
    below), "scalars" (no images, no histograms: campaigns) or "none" (no events, no
    `logdir`)."""

    def __init__(self, logdir: str | os.PathLike, summary_every: int = 1,
                 image_every: int = 10, histogram_every: int = 50, level: str = "full"):
        if level not in TENSORBOARD_LEVELS:
            raise ValueError(f"level ({level!r}) must be one of {', '.join(TENSORBOARD_LEVELS)}")
        self.level = level
        self.writer = tf.summary.create_file_writer(str(logdir)) if level != "none" else None
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
                   usage, best_path: np.ndarray, num_modules: int, frozen=None) -> None:
        """Scalars of one generation, and the images on their cadence.

        `usage` is the `[L, M]` module usage or a callable returning it, `frozen` the
        `[L, M]` frozen mask or a callable returning it (None: nothing frozen); both
        are only called when an image is due."""
        if self.writer is None:
            return
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
        if self.level == "full" and step % self.image_every == 0:
            def images(usage, best_path, frozen):
                tf.summary.image(f"{prefix}/module_usage", grid_image(usage, frozen))
                tf.summary.image(f"{prefix}/best_path", grid_image(best_path, frozen))

            usage = np.asarray(usage() if callable(usage) else usage, np.float32)
            frozen = (np.zeros_like(usage) if frozen is None
                      else np.asarray(frozen() if callable(frozen) else frozen, np.float32))
            grid = tf.TensorSpec([None, None], tf.float32)
            self._compiled(("images", prefix), [grid, grid, grid], images)(
                np.int64(step), usage, active_mask(best_path, num_modules).astype(np.float32),
                frozen)

    def reuse(self, prefix: str, step: int, values: dict) -> None:
        """The generation's reuse diagnostics (`reuse.ReuseLog.record`'s totals) as
        scalars `<prefix>/reuse/<name>`."""
        if self.writer is None or step % self.summary_every:
            return
        names = sorted(values)

        def scalars(numbers):
            for index, name in enumerate(names):
                tf.summary.scalar(f"{prefix}/reuse/{name}", numbers[index])

        self._compiled(("reuse", prefix), [tf.TensorSpec([len(names)], tf.float32)], scalars)(
            np.int64(step), np.asarray([values[name] for name in names], np.float32))

    def task_end(self, prefix: str, step: int, test_accuracy: float) -> None:
        """The task's test accuracy (its best path, its test split) and its generations
        when it ends, at step = its generations (`{prefix}/test_accuracy`,
        `{prefix}/generations`: the HParams plugin's metrics)."""
        if self.writer is None:
            return
        with self.writer.as_default(step=step):
            tf.summary.scalar(f"{prefix}/test_accuracy", test_accuracy)
            tf.summary.scalar(f"{prefix}/generations", step)

    def hparams(self, config: dict) -> None:
        """The run's settings (config.json's content, flattened: `pathnet.aggregation`,
        `evolution.tournament`, ...) for TensorBoard's HParams plugin, so that a
        folder of runs opened in TensorBoard compares conditions (protocol switches,
        mode, seed) against the task-end scalars."""
        if self.writer is None:
            return
        from tensorboard.plugins.hparams import api as hparams_api

        with self.writer.as_default():
            hparams_api.hparams(flat_hparams(config))

    def histograms(self, prefix: str, step: int, model) -> None:
        """Module weight histograms, every `histogram_every` generations."""
        if self.level != "full" or step % self.histogram_every:
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
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
