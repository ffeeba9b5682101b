"""One PBT run on MNIST in this process: the round loop, its outputs, `-m test`.

- `run(config, workdir)`: the experiment (vanilla or PBT) writing every output;
- `evaluate_checkpoint(workdir)`: test accuracy of the best checkpoint (`-m test`);
- `initial_hyperparameters`: the workers' starting values (the Ray backend draws
  them here too, so both backends start alike).
"""

from __future__ import annotations

import logging
import os
import pathlib
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from pathnet_tf.experiments.data import Mnist, load_mnist
from pathnet_tf.files import atomic_io
from pathnet_tf.pbt.config import RunConfig
from pathnet_tf.pbt.data import epoch_batches, images_to_tensor, labels_to_tensor, split_mnist
from pathnet_tf.pbt.decisions import PBT
from pathnet_tf.pbt.models import IMAGE_SHAPE, count_accuracy, count_hits
from pathnet_tf.pbt.outputs import best_worker, round_row, worker_name, write_history, write_results
from pathnet_tf.pbt.population import Population

logger = logging.getLogger(__name__)


class BestCheckpointError(ValueError):
    """A checkpoint to evaluate is missing or unreadable."""


def initial_hyperparameters(
    config: RunConfig, rng: np.random.Generator
) -> tuple[list[dict[str, float]], PBT | None]:
    """Each worker's starting hyperparameters, and the PBT controller (or None).

    Searched hyperparameters are drawn from their priors (by the PBT object in a
    PBT run, directly in a vanilla run); fixed ones are copied to every worker.
    """
    searched = config.searched
    controller = None
    if config.pbt is not None:
        controller = PBT(searched, config.pbt, rng)
        drawn = controller.initial_hyperparameters(config.population_size)
    else:
        drawn = [{h.name: h.sample(rng) for h in searched} for _ in range(config.population_size)]
    return [{**config.fixed, **values} for values in drawn], controller


def run(
    config: RunConfig, workdir: str | os.PathLike, mnist: Mnist | None = None
) -> dict[str, Any]:
    """Trains the population round by round and writes every output into `workdir`.

    Outputs: config.json, history.csv, workers/worker_XX.csv, results.csv,
    results.json, tb/worker_XX/ (TensorBoard scalars), ckpt/best.keras and
    ckpt/best.json, figures/*.png. See config/README.md.

    Args:
      config: the run.
      workdir: output directory (created).
      mnist: the data; None reads it with `load_mnist(config.data_dir)`.

    Returns:
      The contents of results.json.
    """
    start = time.perf_counter()
    workdir = pathlib.Path(workdir)
    if mnist is None:
        mnist = load_mnist(config.data_dir)
    splits = split_mnist(mnist, config.validation_size, config.train_subset)
    workdir.mkdir(parents=True, exist_ok=True)
    atomic_io.write_json(workdir / "config.json", config.to_dict())

    keras.utils.set_random_seed(config.seed)
    pbt_seed, data_seed = np.random.SeedSequence(config.seed).spawn(2)
    hyperparameters, controller = initial_hyperparameters(config, np.random.default_rng(pbt_seed))
    data_rng = np.random.default_rng(data_seed)
    population = Population(
        config.model,
        hyperparameters,
        weight_decay=config.weight_decay,
        seed=config.seed,
    )
    writers = [
        tf.summary.create_file_writer(str(workdir / "tb" / worker_name(worker)))
        for worker in range(config.population_size)
    ]
    num_train = int(splits.train_images.shape[0])
    history: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for round_index in range(1, config.rounds + 1):
        rows = []
        used_by = [population.hyperparameters(w) for w in range(config.population_size)]
        # The same shuffles in either mode: worker by worker, epoch by epoch.
        shuffles = [
            [
                epoch_batches(num_train, config.batch_size, data_rng)
                for _ in range(config.epochs_per_round)
            ]
            for _ in range(config.population_size)
        ]
        if config.batched:
            trained = [
                population.train_all(
                    splits.train_images,
                    splits.train_labels,
                    np.stack([shuffles[w][epoch] for w in range(config.population_size)]),
                )
                for epoch in range(config.epochs_per_round)
            ]
            epoch_losses = np.stack([loss for loss, _ in trained], axis=1)  # [P, epochs]
            epoch_accuracies = np.stack([accuracy for _, accuracy in trained], axis=1)
        else:
            epoch_losses = np.zeros((config.population_size, config.epochs_per_round))
            epoch_accuracies = np.zeros_like(epoch_losses)
            for worker in range(config.population_size):
                for epoch, batches in enumerate(shuffles[worker]):
                    epoch_losses[worker, epoch], epoch_accuracies[worker, epoch] = population.train(
                        worker, splits.train_images, splits.train_labels, batches
                    )
        for worker in range(config.population_size):
            used = used_by[worker]
            losses, accuracies = epoch_losses[worker], epoch_accuracies[worker]
            score = population.evaluate(worker, splits.validation_images, splits.validation_labels)
            row = {
                **round_row(round_index, worker, score, losses, accuracies, used),
                "ready": False,
                "copied_from": None,
                "mutation": "",
            }
            rows.append(row)
            with writers[worker].as_default(step=round_index):
                tf.summary.scalar("val_accuracy", score)
                tf.summary.scalar("train_loss", row["train_loss"])
                tf.summary.scalar("train_accuracy", row["train_accuracy"])
                tf.summary.scalar("learning_rate", used["learning_rate"])
                tf.summary.scalar("keep_prob", used["keep_prob"])
        if controller is not None and round_index < config.rounds:
            decisions = controller.step([row["score"] for row in rows])
            population.exploit(decisions)
            for row, decision in zip(rows, decisions, strict=True):
                row["ready"] = decision.ready
                row["copied_from"] = decision.copied_from
                row["mutation"] = decision.mutation
        history.extend(rows)
        write_history(workdir, history, config.population_size)
        scores = [row["score"] for row in rows]
        copies = [
            f"{row['worker']}<-{row['copied_from']}"
            for row in rows
            if row["copied_from"] is not None
        ]
        logger.info(
            "round %d/%d: best score %.4f (worker %d), mean %.4f; copies: %s",
            round_index,
            config.rounds,
            max(scores),
            int(np.argmax(scores)),
            float(np.mean(scores)),
            ", ".join(copies) or "none",
        )
    for writer in writers:
        writer.flush()
        writer.close()

    results = _finish(config, workdir, population, splits, history, rows)
    results["wall_time_s"] = round(time.perf_counter() - start, 3)
    atomic_io.write_json(workdir / "results.json", results)
    return results


def _finish(config, workdir, population, splits, history, last_rows) -> dict:
    """Test accuracy of every worker, the best worker's checkpoint, figures."""
    workers = [
        {
            "worker": worker,
            "val_accuracy": last_rows[worker]["score"],
            "test_accuracy": population.evaluate(worker, splits.test_images, splits.test_labels),
            **population.hyperparameters(worker),
        }
        for worker in range(config.population_size)
    ]
    model = population.load_member(best_worker(workers))
    results = write_results(workdir, config, history, workers, model)
    results["tracing_counts"] = population.tracing_counts()
    return results


def evaluate_checkpoint(
    workdir: str | os.PathLike,
    mnist: Mnist | None = None,
    data_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Test accuracy of `workdir/ckpt/best.keras`; writes workdir/test_results.json.

    Raises:
      BestCheckpointError: the checkpoint is missing or cannot be loaded.
    """
    workdir = pathlib.Path(workdir)
    path = workdir / "ckpt" / "best.keras"
    if not path.is_file():
        raise BestCheckpointError(f"checkpoint {path} does not exist; run with -m train first.")
    try:
        model = keras.saving.load_model(path)
    except (OSError, ValueError) as error:
        raise BestCheckpointError(f"checkpoint {path} cannot be loaded ({error}).") from None
    if mnist is None:
        mnist = load_mnist(data_dir)
    images = images_to_tensor(mnist.test_images)
    labels = labels_to_tensor(mnist.test_labels)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, *IMAGE_SHAPE], tf.float32),
            tf.TensorSpec([None], tf.int32),
        ]
    )
    def count_correct(x, y):
        return count_hits(model(x, training=False), y)

    results = {
        "checkpoint": str(path),
        "test_accuracy": count_accuracy(count_correct, images, labels),
        "num_test_images": int(images.shape[0]),
    }
    atomic_io.write_json(workdir / "test_results.json", results)
    return results
