"""Figures of a PBT run, drawn from its history.csv (never from logs). No TensorFlow.

Drawn with matplotlib's object-oriented API (`Figure`, rendered by Agg), never
pyplot, so no backend has to be chosen and nothing global is left open.

`plot_run(workdir, lr_worker)` reads workdir/history.csv and writes, atomically,
into workdir/figures/:
- accuracy_per_worker.png: each worker's validation accuracy (score) per round,
  with a marker where it copied another worker after that round;
- hyperparameter_scatter.png: learning rate (log axis) against keep_prob of every
  (round, worker), coloured by validation accuracy;
- lr_schedule_worker_XX.png: the learning rate (and keep_prob) one worker trained
  with in each round: the schedule PBT discovered.
"""

from __future__ import annotations

import os
import pathlib

import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure

from pathnet_tf.files import atomic_io


def _history(workdir: pathlib.Path) -> dict[str, np.ndarray]:
    rows = atomic_io.read_csv(workdir / "history.csv")
    if not rows:
        raise ValueError(f"{workdir / 'history.csv'} holds no rows to plot.")
    columns = {
        key: np.array([float(row[key]) for row in rows])
        for key in ("round", "worker", "score", "learning_rate", "keep_prob")
    }
    columns["copied"] = np.array([row["copied_from"] != "" for row in rows])
    return columns


def _figure(width: float, height: float):
    """A figure and its axes, without pyplot: no global state, no GUI backend."""
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots()


def _save(figure: Figure, path: pathlib.Path) -> pathlib.Path:
    """Renders with Agg (PNG from the suffix) to a temporary file, then renames."""
    atomic_io.write_atomic(path, lambda temporary: figure.savefig(temporary, dpi=100))
    return path


def plot_accuracy_per_worker(history, path: pathlib.Path) -> pathlib.Path:
    figure, axes = _figure(7, 4.5)
    for worker in np.unique(history["worker"]):
        mine = history["worker"] == worker
        rounds, scores = history["round"][mine], history["score"][mine]
        (line,) = axes.plot(rounds, scores, label=f"worker {int(worker)}")
        copied = history["copied"][mine]
        axes.scatter(rounds[copied], scores[copied], color=line.get_color(), marker="x")
    axes.set_xlabel("round")
    axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axes.set_ylabel("validation accuracy")
    axes.set_title("Accuracy per worker (x: copied another worker after this round)")
    axes.legend(fontsize="small", ncol=2)
    axes.grid(alpha=0.3)
    return _save(figure, path)


def plot_hyperparameter_scatter(history, path: pathlib.Path) -> pathlib.Path:
    figure, axes = _figure(6, 4.5)
    points = axes.scatter(
        history["learning_rate"],
        history["keep_prob"],
        c=history["score"],
        cmap="viridis",
        s=18,
    )
    axes.set_xscale("log")
    axes.xaxis.set_minor_formatter(ticker.NullFormatter())
    axes.set_xlabel("learning rate")
    axes.set_ylabel("keep_prob")
    axes.set_title("Hyperparameters of every (round, worker)")
    figure.colorbar(points, ax=axes, label="validation accuracy")
    return _save(figure, path)


def plot_lr_schedule(history, worker: int, path: pathlib.Path) -> pathlib.Path:
    mine = history["worker"] == worker
    if not np.any(mine):
        raise ValueError(f"worker {worker} does not appear in the history.")
    figure, lr_axes = _figure(6, 4)
    rounds = history["round"][mine]
    # A change shows between two rounds: it is applied after a round ends.
    lr_axes.step(rounds, history["learning_rate"][mine], where="mid", color="C0", marker="o")
    lr_axes.set_yscale("log")
    lr_axes.yaxis.set_minor_formatter(ticker.NullFormatter())
    lr_axes.set_xlabel("round")
    lr_axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    lr_axes.set_ylabel("learning rate", color="C0")
    keep_axes = lr_axes.twinx()
    keep_axes.step(rounds, history["keep_prob"][mine], where="mid", color="C1", marker="s")
    keep_axes.set_ylabel("keep_prob", color="C1")
    lr_axes.set_title(f"Hyperparameter schedule of worker {worker}")
    return _save(figure, path)


def plot_run(workdir: str | os.PathLike, lr_worker: int) -> list[pathlib.Path]:
    """Writes the three figures of a run; returns their paths."""
    workdir = pathlib.Path(workdir)
    history = _history(workdir)
    figures = workdir / "figures"
    return [
        plot_accuracy_per_worker(history, figures / "accuracy_per_worker.png"),
        plot_hyperparameter_scatter(history, figures / "hyperparameter_scatter.png"),
        plot_lr_schedule(history, lr_worker, figures / f"lr_schedule_worker_{lr_worker:02d}.png"),
    ]
