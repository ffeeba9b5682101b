"""Figures of one run, from its results.json alone (never from logs). No TensorFlow.

`draw_all(results, directory)` writes, for any number of tasks:
- `pathways.png`: the L×M grid of modules (layer 1 at the bottom), each task's best
  path in its own colour (dots and the lines between layers), the modules each task
  froze filled in its colour and hatched: which modules a later task reused shows
  as its dot on a frozen module;
- `fitness.png`: per task, the winner's fitness and the best fitness so far against
  the generation, the threshold dashed;
- `module_usage.png` (modes that evolve a population): per task, the fraction of the
  population using each module over the generations, one row per module;
- `reuse.png` (a task evolved on top of frozen modules): its fitness, and below it the
  frozen modules on the winner's path and the population's mean, and the pathways
  holding the previous task's whole best path (`reuse.py`), the first generation one
  of them won dotted;
- `accuracy_matrix.png` (runs that recorded it): the heat map of the accuracy matrix R
  (`accuracy_figures.py`, `continual.py`).
`python -m pathnet_tf.reports.plotting WORKDIR` redraws them from WORKDIR/results.json.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from pathnet_tf.files.figures import new_figure, save_figure
from pathnet_tf.files.results_schema import version_of
from pathnet_tf.runs.modes import MODES


def color(index: int) -> str:
    return f"C{index % 10}"


def trained_tasks(results: dict) -> list[tuple[int, dict]]:
    """`(index, task results)` of the tasks the run trained, in order."""
    tasks = results.get("tasks")
    if tasks is None:  # schema 1: two tasks
        tasks = [results.get("task_a"), results.get("task_b")]
    return [(index, task) for index, task in enumerate(tasks) if task is not None]


def _num_modules(results: dict, tasks) -> int:
    given = results.get("num_modules")
    if isinstance(given, int):
        return given
    return int(max(np.max(task["best_path"]) for _, task in tasks)) + 1


def _frozen_by(results: dict, tasks, shape) -> np.ndarray:
    """`[L, M]`: the index of the task that froze each module, -1 for none."""
    if results.get("frozen_by") is not None:
        return np.asarray(results["frozen_by"])
    frozen = np.full(shape, -1)
    mode = MODES.get(results.get("mode", "pathnet"))
    if mode is not None and mode.population and len(tasks) == 2:  # schema 1
        index, first = tasks[0]
        for layer, modules in enumerate(first["best_path"]):
            frozen[layer, modules] = index
    return frozen


def plot_run_pathways(results: dict, path) -> pathlib.Path:
    tasks = trained_tasks(results)
    num_layers = len(tasks[0][1]["best_path"])
    num_modules = _num_modules(results, tasks)
    frozen = _frozen_by(results, tasks, (num_layers, num_modules))
    rows = -(-(len(tasks) + 1) // 2)  # legend rows, two entries a row
    figure, (axes,) = new_figure(max(6.5, 0.65 * num_modules + 1.5),
                                 0.8 * num_layers + 1.4 + 0.22 * rows)
    for layer in range(num_layers):
        for module in range(num_modules):
            by = int(frozen[layer, module])
            axes.add_patch(Rectangle(
                (module - 0.4, layer - 0.3), 0.8, 0.6, zorder=1,
                facecolor=color(by) if by >= 0 else "white", alpha=0.35 if by >= 0 else 1.0,
                hatch="//" if by >= 0 else None, edgecolor="0.5", linewidth=1.0))
    count = len(tasks)
    for position, (index, task) in enumerate(tasks):
        shift = (position - (count - 1) / 2) * min(0.6 / max(count, 1), 0.18)
        modules = [sorted(set(row)) for row in task["best_path"]]
        for layer in range(num_layers - 1):
            for low in modules[layer]:
                for high in modules[layer + 1]:
                    axes.plot([low + shift, high + shift], [layer + 0.1, layer + 0.9],
                              color=color(index), linewidth=1.1, alpha=0.7, zorder=2)
        for layer, row in enumerate(modules):
            axes.plot(np.asarray(row) + shift, [layer] * len(row), "o", color=color(index),
                      markersize=7, markeredgecolor="black", markeredgewidth=0.5, zorder=3)
    axes.set_xlim(-0.8, num_modules - 0.2)
    axes.set_ylim(-0.7, num_layers - 0.3)
    axes.set_xticks(range(num_modules))
    axes.set_yticks(range(num_layers), [f"layer {k + 1}" for k in range(num_layers)])
    axes.set_xlabel("module")
    reused = results.get("reused_frozen_modules") or []
    axes.set_title(f"{results.get('mode', 'pathnet')}, seed {results.get('seed')}: best "
                   "paths (dots), frozen modules (hatched)", fontsize=9)
    handles = []
    for index, task in tasks:
        label = f"{task['name']}: {task['generations']} generations"
        label += "" if task["solved"] else " (not solved)"
        if index < len(reused) and reused[index]:
            label += f", reused {reused[index]} frozen"
        handles.append(Line2D([], [], color=color(index), marker="o", linestyle="-",
                              markeredgecolor="black", markeredgewidth=0.5, label=label))
    if (frozen >= 0).any():
        handles.append(Patch(facecolor="0.8", hatch="//", edgecolor="0.5",
                             label="frozen by the task of its colour"))
    figure.legend(handles=handles, fontsize=7, loc="outside lower center",
                  ncols=min(2, len(handles)))
    return save_figure(figure, path)


def draw_fitness(axes, task: dict, index: int, threshold) -> None:
    """A task's winner fitness and best fitness so far against the generation, the
    threshold dashed."""
    history = np.asarray(task["fitness_history"], float)
    generations = np.arange(1, len(history) + 1)
    axes.plot(generations, history, color=color(index), linewidth=0.8, alpha=0.6,
              label="winner")
    axes.plot(generations, np.maximum.accumulate(history), color=color(index),
              linewidth=1.8, label="best so far")
    if threshold is not None:
        axes.axhline(threshold, color="black", linestyle="--", linewidth=0.8,
                     label=f"threshold {threshold}")


def plot_run_fitness(results: dict, path) -> pathlib.Path:
    tasks = trained_tasks(results)
    threshold = results.get("threshold")
    figure, panels = new_figure(4.2, 2.8, len(tasks), columns=min(3, len(tasks)))
    for axes, (index, task) in zip(panels, tasks):
        draw_fitness(axes, task, index, threshold)
        axes.set_title(f"{task['name']}: {'solved' if task['solved'] else 'NOT solved'} "
                       f"after {task['generations']} generations", fontsize=9)
        axes.set_xlabel("generation")
        axes.set_ylabel("fitness (training accuracy)")
        axes.legend(fontsize=7, loc="lower right")
    return save_figure(figure, path)


def plot_run_module_usage(results: dict, path) -> pathlib.Path | None:
    """None if no task recorded its population's module usage."""
    tasks = [(i, t) for i, t in trained_tasks(results) if (t.get("module_usage") or {}).get(
        "generations")]
    if not tasks:
        return None
    figure, panels = new_figure(4.2, 3.0, len(tasks), columns=min(3, len(tasks)))
    for axes, (_, task) in zip(panels, tasks):
        usage = np.asarray(task["module_usage"]["usage"], float)  # [snapshots, L, M]
        snapshots, num_layers, num_modules = usage.shape
        image = usage.reshape(snapshots, num_layers * num_modules).T  # module rows
        generations = task["module_usage"]["generations"]
        shown = axes.imshow(image, aspect="auto", origin="lower", cmap="viridis", vmin=0,
                            vmax=1, interpolation="nearest",
                            extent=(-0.5, snapshots - 0.5, -0.5, num_layers * num_modules - 0.5))
        for layer in range(1, num_layers):
            axes.axhline(layer * num_modules - 0.5, color="white", linewidth=1.0)
        ticks = sorted({0, snapshots - 1, (snapshots - 1) // 2})
        axes.set_xticks(ticks, [str(generations[k]) for k in ticks])
        axes.set_yticks([layer * num_modules + (num_modules - 1) / 2
                         for layer in range(num_layers)],
                        [f"layer {layer + 1}" for layer in range(num_layers)])
        axes.set_xlabel("generation")
        axes.set_title(f"{task['name']}: module usage of the population", fontsize=9)
        figure.colorbar(shown, ax=axes, label="fraction of pathways", shrink=0.8)
    return save_figure(figure, path)


def plot_run_reuse(results: dict, path) -> pathlib.Path | None:
    """Per task with reuse diagnostics: fitness above, reuse of the frozen modules below
    (None if no task has them)."""
    tasks = [(i, t) for i, t in trained_tasks(results) if t.get("reuse")]
    if not tasks:
        return None
    figure, panels = new_figure(4.6, 2.4, 2 * len(tasks), columns=len(tasks))
    panels = np.asarray(panels).reshape(2, len(tasks))  # fitness row, reuse row
    for column, (index, task) in enumerate(tasks):
        top, bottom = panels[0][column], panels[1][column]
        draw_fitness(top, task, index, results.get("threshold"))
        top.set_ylabel("fitness")
        top.set_title(f"{task['name']}: {task['generations']} generations, "
                      f"{task['reuse']['seeded']} seeded", fontsize=9)
        top.legend(fontsize=7, loc="lower right")
        reuse = task["reuse"]
        winner = np.sum(reuse["winner_frozen"], axis=1)
        mean = np.sum(reuse["population_frozen"], axis=1)
        steps = np.arange(1, len(winner) + 1)
        bottom.plot(steps, winner, color="tab:red", linewidth=0.6, alpha=0.6,
                    label="frozen modules on the winner's path")
        bottom.plot(steps, mean, color="tab:red", linewidth=1.8,
                    label="population mean")
        bottom.set_ylim(0, max(reuse["frozen_modules"], 1) + 0.5)
        bottom.set_ylabel("frozen modules used")
        bottom.set_xlabel("generation")
        if reuse.get("reference_path") is not None:
            held = bottom.twinx()
            held.plot(steps, reuse["holding"], color="tab:green", linewidth=1.0,
                      label="pathways holding the previous best path")
            held.set_ylim(0, max(reuse["holding"] + [1]) * 1.05)
            held.set_ylabel("pathways holding it", fontsize=7)
            if reuse.get("first_win_holding"):
                bottom.axvline(reuse["first_win_holding"], color="tab:green",
                               linestyle=":", linewidth=1.0)
            held.legend(fontsize=6, loc="upper right")
        bottom.legend(fontsize=6, loc="lower right")
    return save_figure(figure, path)


def draw_all(results: dict, directory) -> list[pathlib.Path]:
    """Every figure of one run into `directory`; returns their paths."""
    version_of(results)
    directory = pathlib.Path(directory)
    if not trained_tasks(results):
        raise ValueError("results.json holds no trained task to draw")
    paths = [plot_run_pathways(results, directory / "pathways.png"),
             plot_run_fitness(results, directory / "fitness.png")]
    usage = plot_run_module_usage(results, directory / "module_usage.png")
    reuse = plot_run_reuse(results, directory / "reuse.png")
    if reuse is not None:
        paths.append(reuse)
    if results.get("accuracy_matrix"):  # the accuracy matrix R (continual.py)
        from pathnet_tf.runs.accuracy_figures import plot_accuracy_matrix

        paths.append(plot_accuracy_matrix(results, directory / "accuracy_matrix.png"))
    return paths + ([usage] if usage is not None else [])


def redraw(workdir) -> list[pathlib.Path]:
    """Redraws WORKDIR/figures/ from WORKDIR/results.json."""
    workdir = pathlib.Path(workdir)
    path = workdir / "results.json"
    if not path.is_file():
        raise ValueError(f"{str(path)!r} does not exist: is {str(workdir)!r} a finished run?")
    try:
        results = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(path)!r} is not valid JSON ({error})") from None
    version_of(results, str(path))
    return draw_all(results, workdir / "figures")
