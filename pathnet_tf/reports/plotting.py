"""Figures of repeated binary MNIST runs, from run records and the report's summary.

Inputs are what `pathnet_tf.reports.report` builds from the results files (`load_runs`,
`summarize`), never logs. Drawn with matplotlib's object-oriented API (`Figure`,
rendered by Agg), never pyplot. No TensorFlow. Each function writes one PNG
atomically and returns its path:
- `plot_first_vs_second`: histograms of generations to solve, a digit pair learned
  first (PathNet task A) vs learned second (PathNet task B), one panel per pair;
  every run is drawn, unsolved ones in a hatched bar of their own;
- `plot_overlap`: task-B generations against the modules the two best paths share
  (box + points + means), one panel per ordering;
- `plot_pathways`: the L×M grid of modules with task A's path (frozen during task B)
  and task B's path of one run, like the paper's figure;
- `plot_modes`: task-B mean generations of the modes per digit pair, 95% CIs.
`plot_all` draws all four into one folder. The figures of a single run are
`run_figures.py`'s; `python -m pathnet_tf.reports.plotting WORKDIR` redraws them.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import numpy as np
from matplotlib import ticker
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from pathnet_tf.files.figures import new_figure, save_figure
from pathnet_tf.runs.modes import MODES, REFERENCE

FIRST, SECOND = "tab:gray", "tab:blue"
PATH_A, PATH_B = "tab:blue", "tab:orange"


def _empty(path, message: str) -> pathlib.Path:
    figure, (axes,) = new_figure(5, 2)
    axes.text(0.5, 0.5, message, ha="center", va="center")
    axes.set_axis_off()
    return save_figure(figure, path)


def _pathnet(runs: Sequence[dict]) -> list[dict]:
    return [r for r in runs if r["mode"] == REFERENCE]


# ------------------------------------------------------------------ (a) first vs second


def plot_first_vs_second(runs: Sequence[dict], path) -> pathlib.Path:
    """Histograms of generations to the threshold, each digit pair as PathNet's task A
    ("learned first") and as its task B ("learned second"). Unsolved runs are counted
    in a hatched bar right of the axis' end; dashed lines: means (unsolved counted at
    the generations they ran)."""
    pathnet = _pathnet(runs)
    pairs = sorted({r[role]["name"] for r in pathnet for role in ("task_a", "task_b")})
    if not pairs:
        return _empty(path, "no PathNet runs")
    figure, panels = new_figure(5.0, 3.4, len(pairs), columns=2)
    for axes, pair in zip(panels, pairs):
        series = [("learned first (task A)", FIRST,
                   [r["task_a"] for r in pathnet if r["task_a"]["name"] == pair]),
                  ("learned second (task B)", SECOND,
                   [r["task_b"] for r in pathnet if r["task_b"]["name"] == pair])]
        everything = [t["generations"] for _, _, tasks in series for t in tasks]
        top = max(everything)
        edges = np.linspace(0, top, min(30, max(5, top)) + 1)
        width = edges[1] - edges[0]
        unsolved_at = top + width  # the bar of unsolved runs, apart from the axis' end
        for offset, (label, color, tasks) in zip((-0.2, 0.2), series):
            solved = [t["generations"] for t in tasks if t["solved"]]
            unsolved = sum(not t["solved"] for t in tasks)
            label = f"{label}: {len(tasks)} runs" + (f", {unsolved} not solved"
                                                     if unsolved else "")
            if solved:
                axes.hist(solved, bins=edges, histtype="stepfilled", alpha=0.45, color=color,
                          edgecolor=color, label=label)
            elif tasks:
                axes.plot([], [], color=color, label=label)
            if unsolved:
                axes.bar(unsolved_at + offset * width, unsolved, width=0.4 * width,
                         color="white", edgecolor=color, hatch="//")
            if tasks:
                mean = float(np.mean([t["generations"] for t in tasks]))
                axes.axvline(mean, color=color, linestyle="--", linewidth=1.2)
        axes.axvline(top + width / 2, color="black", linewidth=0.6)
        axes.text(unsolved_at, 0.98, "not\nsolved", transform=axes.get_xaxis_transform(),
                  ha="center", va="top", fontsize=7)
        axes.set_xlim(0, unsolved_at + width)
        axes.set_ylim(0, axes.get_ylim()[1] * 1.15)  # room for the "not solved" label
        axes.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        axes.set_title(pair)
        axes.set_xlabel("generations to threshold")
        axes.set_ylabel("runs")
        axes.legend(fontsize=7, loc="best")
    figure.suptitle("Generations to solve a digit pair learned first vs second "
                    "(dashed: means; hatched: not solved)", fontsize=10)
    return save_figure(figure, path)


# ---------------------------------------------------------------------------- (b) overlap


def plot_overlap(runs: Sequence[dict], path, seed: int = 0) -> pathlib.Path:
    """Task-B generations against the number of modules task B's best path shares with
    task A's: boxes, every run as a point (x: unsolved), means joined by a line; the
    band 3-5 is where the TF1 README found results best."""
    pathnet = [r for r in _pathnet(runs) if r["overlap"] is not None]
    orderings = sorted({r["ordering"] for r in pathnet})
    if not orderings:
        return _empty(path, "no PathNet runs with an overlap")
    rng = np.random.default_rng(seed)  # jitter of the points, deterministic
    figure, panels = new_figure(5.0, 3.6, len(orderings), columns=2)
    top = max(r["overlap"] for r in pathnet)
    for axes, ordering in zip(panels, orderings):
        chosen = [r for r in pathnet if r["ordering"] == ordering]
        values = sorted({r["overlap"] for r in chosen})
        groups = [[r["task_b"]["generations"] for r in chosen if r["overlap"] == v]
                  for v in values]
        axes.axvspan(2.5, 5.5, color="tab:green", alpha=0.08)
        axes.boxplot(groups, positions=values, widths=0.6, showfliers=False,
                     medianprops={"color": "black"})
        x = np.array([r["overlap"] for r in chosen]) + rng.uniform(-0.25, 0.25, len(chosen))
        y = np.array([r["task_b"]["generations"] for r in chosen])
        solved = np.array([r["task_b"]["solved"] for r in chosen], dtype=bool)
        dense = len(chosen) > 300
        axes.scatter(x[solved], y[solved], s=4 if dense else 10, alpha=0.25 if dense else 0.5,
                     color=PATH_A, linewidths=0)
        axes.scatter(x[~solved], y[~solved], s=22, marker="x", color="tab:red", linewidths=1)
        means = [float(np.mean(g)) for g in groups]
        axes.plot(values, means, color="black", marker="D", markersize=4, zorder=3)
        for value, group in zip(values, groups):
            axes.annotate(f"n={len(group)}", (value, 1.0), xycoords=("data", "axes fraction"),
                          xytext=(0, -10), textcoords="offset points", ha="center", fontsize=7)
        axes.set_xlim(-0.7, max(top, 6) + 0.7)
        axes.set_xticks(range(max(top, 6) + 1))
        axes.set_title(ordering.replace("->", " → "))
        axes.set_xlabel("modules shared by the two best paths")
        axes.set_ylabel("task B generations to threshold")
    figure.legend(handles=[
        Patch(facecolor="tab:green", alpha=0.15, label="TF1 README: 3-5 shared best"),
        Line2D([], [], color="black", marker="D", markersize=4, label="mean"),
        Line2D([], [], color=PATH_A, marker="o", linestyle="", label="a run"),
        Line2D([], [], color="tab:red", marker="x", linestyle="", label="task B not solved")],
        loc="outside lower center", ncols=4, fontsize=8)
    return save_figure(figure, path)


# --------------------------------------------------------------------------- (c) pathways


def pick_pathway_run(runs: Sequence[dict]) -> dict | None:
    """A typical PathNet run to draw: of the first ordering, the one whose task-B
    generations are nearest that ordering's median (lowest seed on ties)."""
    pathnet = [r for r in _pathnet(runs)
               if r["task_a"].get("best_path") and r["task_b"].get("best_path")]
    if not pathnet:
        return None
    ordering = sorted({r["ordering"] for r in pathnet})[0]
    chosen = [r for r in pathnet if r["ordering"] == ordering]
    median = float(np.median([r["task_b"]["generations"] for r in chosen]))
    return min(chosen, key=lambda r: (abs(r["task_b"]["generations"] - median), r["seed"]))


def plot_pathways(run: dict, path, num_modules: int | None = None) -> pathlib.Path:
    """The L×M grid of modules of one PathNet run (layer 1 at the bottom): task A's
    best path, filled and hatched (its modules are the ones frozen during task B), and
    task B's best path, thick outline and joined by lines, as in the paper's figure."""
    path_a = np.asarray(run["task_a"]["best_path"], dtype=int)  # [L, N]
    path_b = np.asarray(run["task_b"]["best_path"], dtype=int)  # [L, N]
    num_layers = path_a.shape[0]
    if num_modules is None:
        num_modules = run.get("settings", {}).get("num_modules")
    if not isinstance(num_modules, int):
        num_modules = int(max(path_a.max(), path_b.max())) + 1
    figure, (axes,) = new_figure(max(5.0, 0.65 * num_modules + 1.5), 0.75 * num_layers + 1.6)
    in_a = [set(row.tolist()) for row in path_a]
    in_b = [set(row.tolist()) for row in path_b]
    for layer in range(num_layers):
        for module in range(num_modules):
            frozen = module in in_a[layer]
            axes.add_patch(Rectangle(
                (module - 0.35, layer - 0.3), 0.7, 0.6, facecolor=PATH_A if frozen else "white",
                alpha=1.0, hatch="//" if frozen else None,
                edgecolor=PATH_B if module in in_b[layer] else "0.6",
                linewidth=3.0 if module in in_b[layer] else 1.0, zorder=2))
    for modules, color, shift in ((in_a, PATH_A, -0.06), (in_b, PATH_B, 0.06)):
        for layer in range(num_layers - 1):
            for low in modules[layer]:
                for high in modules[layer + 1]:
                    axes.plot([low + shift, high + shift], [layer + 0.3, layer + 0.7],
                              color=color, linewidth=1.2, alpha=0.8, zorder=1)
    axes.set_xlim(-0.8, num_modules - 0.2)
    axes.set_ylim(-0.8, num_layers - 0.2)
    axes.set_xticks(range(num_modules))
    axes.set_yticks(range(num_layers), [f"layer {k + 1}" for k in range(num_layers)])
    axes.set_xlabel("module")
    shared = sum(len(a & b) for a, b in zip(in_a, in_b))
    task_a, task_b = run["task_a"], run["task_b"]
    axes.set_title(
        f"{task_a['name']} → {task_b['name']}, seed {run['seed']}: A in "
        f"{task_a['generations']}, B in {task_b['generations']} generations"
        f"{'' if task_b['solved'] else ' (not solved)'}; {shared} shared", fontsize=9)
    figure.legend(handles=[
        Patch(facecolor=PATH_A, hatch="//", edgecolor="0.6",
              label=f"task A's path ({task_a['name']}), frozen during B"),
        Patch(facecolor="white", edgecolor=PATH_B, linewidth=3.0,
              label=f"task B's path ({task_b['name']})")],
        fontsize=7, loc="outside lower center", ncols=2)
    return save_figure(figure, path)


# ------------------------------------------------------------------------------ (d) modes


def plot_modes(summary: dict, path) -> pathlib.Path:
    """Task-B mean generations per digit pair (and averaged over pairs) of each mode,
    with 95% bootstrap CIs, from `summary["task_b_by_mode"]`."""
    by_mode = summary.get("task_b_by_mode") or {}
    modes = list(by_mode)
    pairs = sorted({p for m in modes for p in by_mode[m] if p != "all"})
    if not pairs:
        return _empty(path, "no task B results")
    groups = pairs + (["all"] if len(pairs) > 1 else [])
    figure, (axes,) = new_figure(1.4 * len(groups) * max(1, len(modes)) / 2 + 3, 3.8)
    width = 0.8 / len(modes)
    for k, mode in enumerate(modes):
        xs, means, lows, highs = [], [], [], []
        for g, pair in enumerate(groups):
            entry = by_mode[mode].get(pair)
            if entry is None:
                continue
            if pair == "all":
                mean, ci = entry["generations_mean"], entry["generations_mean_ci95"]
            else:
                mean, ci = entry["generations"]["mean"], entry["generations"]["mean_ci95"]
            xs.append(g - 0.4 + width * (k + 0.5))
            means.append(mean)
            lows.append(mean - ci[0])
            highs.append(ci[1] - mean)
        known = MODES.get(mode)
        axes.bar(xs, means, width=width, color=known.color if known else f"C{k + 3}",
                 label=known.label if known else mode,
                 yerr=[lows, highs], capsize=3, error_kw={"linewidth": 1})
    axes.set_xticks(range(len(groups)),
                    [p if p != "all" else "all pairs\n(averaged)" for p in groups])
    axes.set_xlabel("task B")
    axes.set_ylabel("mean generations to threshold (95% CI)")
    axes.set_title("Task B: PathNet against learning from scratch and fine-tuning", fontsize=10)
    axes.legend(fontsize=8)
    return save_figure(figure, path)


def plot_all(runs: Sequence[dict], summary: dict, directory) -> list[pathlib.Path]:
    """All four figures into `directory`; returns their paths."""
    directory = pathlib.Path(directory)
    paths = [plot_first_vs_second(runs, directory / "first_vs_second.png"),
             plot_overlap(runs, directory / "overlap.png")]
    run = pick_pathway_run(runs)
    if run is not None:
        modules = (summary.get("settings") or {}).get("num_modules")
        paths.append(plot_pathways(run, directory / "pathways.png",
                                   modules if isinstance(modules, int) else None))
    paths.append(plot_modes(summary, directory / "modes.png"))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m pathnet_tf.reports.plotting WORKDIR ...`: redraws each run's figures/ from
    its results.json (`run_figures`)."""
    import argparse
    import sys

    from pathnet_tf.runs import run_figures

    parser = argparse.ArgumentParser(prog="python -m pathnet_tf.reports.plotting",
                                     description="Redraw a run's figures from its "
                                                 "results.json into WORKDIR/figures/.")
    parser.add_argument("workdirs", nargs="+", metavar="WORKDIR")
    args = parser.parse_args(argv)
    for workdir in args.workdirs:
        try:
            paths = run_figures.redraw(workdir)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"{workdir}: {', '.join(p.name for p in paths)} in "
              f"{pathlib.Path(workdir) / 'figures'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
