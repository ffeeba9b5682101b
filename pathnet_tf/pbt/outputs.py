"""The files a PBT MNIST run writes, the same from either backend (this process or Ray).

history.csv and workers/worker_XX.csv (one row per round and worker), results.csv
(one row per worker), ckpt/best.keras and ckpt/best.json (the best worker at the
end), figures/*.png; `run_summary` is what results.json holds in common. Every file
is written atomically. See config/README.md for the columns.
"""

from __future__ import annotations

import pathlib
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pathnet_tf.files import atomic_io
from pathnet_tf.pbt import plotting
from pathnet_tf.pbt.config import HYPERPARAMETER_NAMES, RunConfig

HISTORY_FIELDS = (
    "round",
    "worker",
    "score",
    "train_loss",
    "train_accuracy",
    "learning_rate",
    "keep_prob",
    "ready",
    "copied_from",
    "mutation",
)
RESULTS_FIELDS = (
    "worker",
    "val_accuracy",
    "test_accuracy",
    "learning_rate",
    "keep_prob",
    "times_copied_into",
)


def worker_name(worker: int) -> str:
    return f"worker_{worker:02d}"


def round_row(
    round_index: int,
    worker: int,
    score: float,
    losses: Sequence[float],
    accuracies: Sequence[float],
    used: Mapping[str, float],
) -> dict[str, Any]:
    """What one worker's round measured: the first seven HISTORY_FIELDS.

    `losses`, `accuracies`: per epoch of the round; `used`: the hyperparameters it
    trained with."""
    return {
        "round": round_index,
        "worker": worker,
        "score": float(score),
        "train_loss": float(np.mean(losses)),
        "train_accuracy": float(np.mean(accuracies)),
        "learning_rate": float(used["learning_rate"]),
        "keep_prob": float(used["keep_prob"]),
    }


def write_history(workdir: pathlib.Path, history, population_size: int) -> None:
    atomic_io.write_csv(workdir / "history.csv", history, HISTORY_FIELDS)
    for worker in range(population_size):
        atomic_io.write_csv(
            workdir / "workers" / f"{worker_name(worker)}.csv",
            [row for row in history if row["worker"] == worker],
            HISTORY_FIELDS,
        )


def times_copied_into(history, population_size: int) -> list[int]:
    """How often each worker copied another one, over the history rows."""
    copies = [0] * population_size
    for row in history:
        if row["copied_from"] is not None:
            copies[row["worker"]] += 1
    return copies


def save_model(model, path: pathlib.Path) -> None:
    """`model.save(path)`, atomically."""
    with warnings.catch_warnings():
        # Keras' own saving code calls np.array on its variables (NumPy 2 notice).
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        atomic_io.write_atomic(path, model.save)


def best_worker(workers: Sequence[Mapping[str, Any]]) -> int:
    """The worker of the highest final validation accuracy (ties: the first)."""
    return int(np.argmax([w["val_accuracy"] for w in workers]))


def write_results(
    workdir: pathlib.Path,
    config: RunConfig,
    history,
    workers: Sequence[Mapping[str, Any]],
    best_model,
    **checkpoint_info,
) -> dict[str, Any]:
    """results.csv, ckpt/best.keras and best.json, the figures of a finished run.

    Args:
      history: every history row; counts the copies into each worker.
      workers: one dict per worker of RESULTS_FIELDS but times_copied_into (added).
      best_model: the best worker's model (`best_worker(workers)`), saved.
      checkpoint_info: more keys of ckpt/best.json.

    Returns:
      The fields of results.json both backends write.
    """
    copies = times_copied_into(history, config.population_size)
    workers = [{**w, "times_copied_into": copies[w["worker"]]} for w in workers]
    atomic_io.write_csv(workdir / "results.csv", workers, RESULTS_FIELDS)
    best = best_worker(workers)
    save_model(best_model, workdir / "ckpt" / "best.keras")
    atomic_io.write_json(
        workdir / "ckpt" / "best.json",
        {
            "worker": best,
            "round": config.rounds,
            "model": config.model,
            "val_accuracy": workers[best]["val_accuracy"],
            "test_accuracy": workers[best]["test_accuracy"],
            "hyperparameters": {name: workers[best][name] for name in HYPERPARAMETER_NAMES},
            **checkpoint_info,
        },
    )
    lr_worker = best if config.lr_plot_worker is None else config.lr_plot_worker
    figures = plotting.plot_run(workdir, lr_worker)
    return {
        "model": config.model,
        "population_size": config.population_size,
        "rounds": config.rounds,
        "pbt": config.pbt is not None,
        "best_worker": best,
        "best_val_accuracy": workers[best]["val_accuracy"],
        "best_test_accuracy": workers[best]["test_accuracy"],
        "workers": workers,
        "checkpoint": str(pathlib.Path("ckpt") / "best.keras"),
        "figures": [str(path.relative_to(workdir)) for path in figures],
    }
