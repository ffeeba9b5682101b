"""The self-transfer report (issue 25, docs/transfer.md): does PathNet transfer when it
must, from a task to itself, and which step fails when it does not?

    python -m pathnet_tf.reports.ablation run self paper~fresh_noise~seeded25@self ... --root=ROOT
    python -m pathnet_tf.reports.self_transfer --root=ROOT --out=results/self_transfer

The campaigns are the ablation's (`ablation.py`: a condition name ending in `@self`
learns each digit pair twice; `~<switch>` adds a transfer switch). This writes what
`ablation.write_report` writes (summary.json / summary.md with the first / second
ratios, their CIs and medians, runs_<condition>.csv, forest.png) and adds, per
condition, from each run's results.json:

- `gap`: train / test accuracy when a task was solved (best fitness minus test
  accuracy), for task A and task B: what the stop measured against what was learned;
- `reuse`: task B's reuse of task A's frozen path (`reuse.py`): the runs where a
  pathway holding it won a tournament, when, and the frozen modules on the winner's
  path and in the population at the start and at the end;
- `reuse.png`: the population's mean frozen modules in task B against the generation,
  one line per condition.

NumPy and matplotlib only (no TensorFlow): it runs while campaigns run.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections.abc import Sequence

import numpy as np

from pathnet_tf.files import atomic_io
from pathnet_tf.reports import ablation
from pathnet_tf.reports.stats import RESAMPLES

CURVE_GENERATIONS = 300  # reuse.png's horizon


def pathnet_results(folder) -> list[dict]:
    """Every PathNet results.json below `folder` (a condition's campaign)."""
    return [json.loads(path.read_text())
            for path in sorted(pathlib.Path(folder).glob("pathnet/*/seed_*/results.json"))]


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def gap_summary(runs: Sequence[dict]) -> dict:
    """Per role: runs solved, their mean best fitness (the stop's training accuracy),
    mean test accuracy, and the mean gap between the two."""
    out = {}
    for role in ("task_a", "task_b"):
        solved = [r[role] for r in runs if r.get(role) and r[role]["solved"]]
        out[role] = {"solved_runs": len(solved),
                     "best_fitness": _mean(t["best_fitness"] for t in solved),
                     "test_accuracy": _mean(t["test_accuracy"] for t in solved),
                     "gap": _mean(t["best_fitness"] - t["test_accuracy"] for t in solved)}
    return out


def reuse_summary(runs: Sequence[dict]) -> dict | None:
    """Task B's reuse of task A's path over the runs that logged it (None: none did)."""
    logs = [r["task_b"]["reuse"] for r in runs if (r.get("task_b") or {}).get("reuse")]
    if not logs:
        return None
    wins = [log["first_win_holding"] for log in logs if log["first_win_holding"] is not None]

    def total(series, index):
        return float(np.sum(series[index]))

    return {
        "runs": len(logs),
        "frozen_modules": _mean(log["frozen_modules"] for log in logs),
        "seeded": _mean(log["seeded"] for log in logs),
        "holder_won_fraction": len(wins) / len(logs),
        "first_win_holding_median": float(np.median(wins)) if wins else None,
        "holding_at_start": _mean(log["holding"][0] for log in logs if log["holding"]),
        "holding_at_end": _mean(log["holding"][-1] for log in logs if log["holding"]),
        "winner_frozen_at_start": _mean(total(log["winner_frozen"], 0) for log in logs
                                        if log["winner_frozen"]),
        "winner_frozen_at_end": _mean(total(log["winner_frozen"], -1) for log in logs
                                      if log["winner_frozen"]),
        "population_frozen_at_start": _mean(total(log["population_frozen"], 0)
                                            for log in logs if log["population_frozen"]),
        "population_frozen_at_end": _mean(total(log["population_frozen"], -1)
                                          for log in logs if log["population_frozen"]),
    }


def population_curve(runs: Sequence[dict], horizon: int = CURVE_GENERATIONS):
    """Generation -> the mean over runs still evolving task B of the population's frozen
    modules (summed over layers); and how many runs each point averages."""
    sums, counts = np.zeros(horizon), np.zeros(horizon)
    for run in runs:
        log = (run.get("task_b") or {}).get("reuse")
        if not log:
            continue
        values = np.sum(log["population_frozen"], axis=1)[:horizon]
        sums[:len(values)] += values
        counts[:len(values)] += 1
    shown = counts > 0
    return np.arange(1, horizon + 1)[shown], sums[shown] / counts[shown], counts[shown]


def plot_reuse(curves: dict, path) -> pathlib.Path:
    from pathnet_tf.files.figures import new_figure, save_figure

    figure, (axes,) = new_figure(7.5, 4.2)
    for name, (generations, mean, _) in curves.items():
        if len(generations):
            axes.plot(generations, mean, linewidth=1.2, label=name)
    axes.set_xlabel("task B generation")
    axes.set_ylabel("frozen modules on a pathway (population mean)")
    axes.set_title("Task B's population on task A's frozen modules (mean over the runs "
                   "still evolving)", fontsize=9)
    axes.legend(fontsize=6, loc="best")
    return save_figure(figure, path)


def to_markdown(conditions: dict) -> str:
    lines = ["", "## What the stop measures, and the reuse of task A's path", "",
             "Gap: best fitness (training accuracy when the task stopped) minus test "
             "accuracy, mean over solved tasks. Reuse (task B): runs in which a pathway "
             "holding task A's whole best path won a tournament, the median generation of "
             "that first win, and the frozen modules on the winner's path and in the "
             "population (mean per pathway) at task B's first and last generation.", "",
             "| condition | A: fitness / test (gap) | B: fitness / test (gap) | seeded | "
             "holder won | first win (median) | winner frozen first → last | "
             "population frozen first → last |", "|---" * 8 + "|"]

    def cell(entry):
        if entry["gap"] is None:
            return ""
        return f"{entry['best_fitness']:.4f} / {entry['test_accuracy']:.4f} ({entry['gap']:+.4f})"

    for name, entry in conditions.items():
        gap, reuse = entry["gap"], entry["reuse"]
        if reuse is None:
            tail = " | | | | |"
        else:
            first = reuse["first_win_holding_median"]
            tail = (f" {reuse['seeded']:.0f} | {reuse['holder_won_fraction']:.2f} | "
                    f"{'' if first is None else f'{first:.0f}'} | "
                    f"{reuse['winner_frozen_at_start']:.2f} → {reuse['winner_frozen_at_end']:.2f}"
                    f" | {reuse['population_frozen_at_start']:.2f} → "
                    f"{reuse['population_frozen_at_end']:.2f} |")
        lines.append(f"| {name} | {cell(gap['task_a'])} | {cell(gap['task_b'])} |" + tail)
    return "\n".join(lines) + "\n"


def write(root, out, logs_folder=ablation.ROOT / "results" / "tf1_logs", seed: int = 0,
          resamples: int = RESAMPLES, figures: bool = True) -> dict:
    summary = ablation.write_report(root, out, logs_folder, seed, resamples, figures=figures)
    out = pathlib.Path(out)
    curves = {}
    for name, entry in summary["conditions"].items():
        runs = pathnet_results(pathlib.Path(root) / name)
        entry["orderings"] = ablation.condition_orderings(name)
        entry["gap"] = gap_summary(runs)
        entry["reuse"] = reuse_summary(runs)
        curves[name] = population_curve(runs)
    if figures:
        summary.setdefault("figures", []).append(plot_reuse(curves, out / "reuse.png").name)
    atomic_io.write_json(out / "summary.json", summary)
    table = ablation.to_markdown(summary).replace(
        "# The TF1 gap, condition by condition", "# Self-transfer and the transfer switches", 1)
    note = ("\nUnder `@self` (orderings " + ablation.SELF_ORDERINGS + ") each run learns one "
            "pair twice: first / second is its task A over its task B, pooled over runs.\n")
    atomic_io.write_text(out / "summary.md", table + note + to_markdown(summary["conditions"]))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="the conditions' campaign folders")
    parser.add_argument("--out", default="results/self_transfer")
    parser.add_argument("--resamples", type=int, default=RESAMPLES)
    parser.add_argument("--no-figures", action="store_true")
    args = parser.parse_args(argv)
    try:
        summary = write(args.root, args.out, resamples=args.resamples,
                        figures=not args.no_figures)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps({name: entry["first_over_second"].get("all", {}).get("ratio")
                      for name, entry in summary["conditions"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
