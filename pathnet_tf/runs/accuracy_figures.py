"""Heat maps of the accuracy matrix R (`continual.py`): one run's
(`plot_accuracy_matrix`, `figures/accuracy_matrix.png`, drawn by
`run_figures.draw_all`) and the mean R of each condition of a summary
(`plot_summary_matrices`). No TensorFlow.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np

from pathnet_tf.files.figures import new_figure, save_figure


def _draw(axes, matrix, names, title: str) -> None:
    values = np.array([[np.nan if v is None else v for v in row] for row in matrix], float)
    count = len(values)
    image = axes.imshow(values, vmin=0.0, vmax=1.0, cmap="viridis")
    for i in range(count):
        for j in range(count):
            if np.isfinite(values[i, j]):
                axes.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center",
                          fontsize=7 if count <= 6 else 5,
                          color="black" if values[i, j] > 0.6 else "white")
    axes.set_xticks(range(count), names, fontsize=7, rotation=45 if count > 6 else 0)
    axes.set_yticks(range(count), names, fontsize=7)
    axes.set_xlabel("test task j (right of the diagonal: its random probe head)", fontsize=8)
    axes.set_ylabel("after learning task i", fontsize=8)
    axes.set_title(title, fontsize=9)
    return image


def plot_accuracy_matrix(results: dict, path) -> pathlib.Path:
    """R of one run (results.json's `accuracy_matrix`), with ACC/BWT/FWT in the title."""
    names = [f"T{index + 1}" if task is None else task["name"]
             for index, task in enumerate(results["tasks"])]
    metrics = results.get("continual") or {}
    shown = ", ".join(f"{name.upper()} {metrics[name]:.3f}" for name in ("acc", "bwt", "fwt")
                      if metrics.get(name) is not None)
    size = max(3.6, 0.45 * len(names) + 1.8)
    figure, (axes,) = new_figure(size, size)
    image = _draw(axes, results["accuracy_matrix"], names,
                  f"{results.get('mode')}, seed {results.get('seed')}: R[i][j]\n{shown}")
    figure.colorbar(image, ax=axes, shrink=0.8)
    return save_figure(figure, path)


def plot_summary_matrices(summary: dict, directory) -> list[pathlib.Path]:
    """Per task sequence of a `continual_summary.summarize` summary, the mean R of each
    condition side by side: `accuracy_matrices_<sequence>.png` in `directory`."""
    paths = []
    for sequence, conditions in summary.items():
        names = sequence.split("/")
        size = max(3.2, 0.4 * len(names) + 1.6)
        figure, panels = new_figure(size, size, len(conditions), columns=min(3, len(conditions)))
        for axes, (condition, entry) in zip(panels, conditions.items()):
            acc = entry["acc"]["mean"] if entry["acc"] else float("nan")
            _draw(axes, entry["accuracy_matrix"], names,
                  f"{condition} ({entry['runs']} runs)\nmean R, ACC {acc:.3f}")
        slug = re.sub(r"[^A-Za-z0-9]+", "_", sequence).strip("_")[:40]
        paths.append(save_figure(figure, pathlib.Path(directory) /
                                 f"accuracy_matrices_{slug}.png"))
    return paths
