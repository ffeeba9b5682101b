"""The continual-learning summary of many runs: ACC, BWT, FWT, forgetting, steps and
free modules per mode and task sequence, means with 95% bootstrap CIs, from the
`continual` entries of their results.json (the metrics are defined in
`runs/continual.py`).

    python -m pathnet_tf.reports.continual_summary RUNS_DIR [--out DIR]

writes summary.json, summary.md and the mean accuracy matrices' heat maps.
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Sequence

from pathnet_tf.reports import stats, summary_cli
from pathnet_tf.runs.continual import mean_or_none


def read_runs(root) -> list[dict]:
    """Every results.json below `root` holding an accuracy matrix, with its config."""
    runs = []
    for path in sorted(pathlib.Path(root).rglob("results.json")):
        results = json.loads(path.read_text())
        if not isinstance(results, dict) or not results.get("accuracy_matrix"):
            continue
        config_path = path.with_name("config.json")
        results["config"] = (json.loads(config_path.read_text())
                             if config_path.exists() else {})
        results["file"] = str(path.relative_to(root))
        runs.append(results)
    return runs


def _sequence_name(results: dict) -> str:
    return "/".join(task["name"] for task in results["tasks"] if task is not None)


def _condition(results: dict) -> str:
    """A run's condition: its mode plus the settings that make it another method
    (EWC's λ and γ, SI's c, an optimizer other than the default SGD at 0.05, the
    stopping rule, a validation split)."""
    config = results.get("config", {})
    name = results["mode"]
    regularizer = results.get("regularizer") or {}
    if regularizer.get("method") == "ewc":
        name += f" λ={regularizer['lambda']:g}"
        if regularizer.get("gamma") is not None:
            name += f" online γ={regularizer['gamma']:g}"
    elif regularizer.get("method") == "si":
        name += f" c={regularizer['c']:g}"
    evolution = config.get("evolution", {})
    optimizer, rate = evolution.get("optimizer", "sgd"), evolution.get("learning_rate")
    if optimizer != "sgd" or rate is not None:  # the default, SGD at 0.05, is not named
        name += f", {optimizer}" + ("" if rate is None else f" lr={rate:g}")
    if config.get("budget") == "fixed":
        name += f", fixed {config['evolution']['max_generations']} gen."
    else:
        name += ", threshold stop"
    if config.get("validation"):
        name += " (validation)"
    return name


def summarize(root, seed: int = 0, resamples: int = stats.RESAMPLES) -> dict:
    """Per task sequence and condition (`_condition`): ACC, BWT, FWT, the mean
    forgetting, generations and training steps per task, modules left free, each as
    `stats.describe` (mean with its 95% bootstrap CI) over the runs (seeds); and the
    mean accuracy matrix."""
    runs = read_runs(root)
    if not runs:
        raise ValueError(f"no results.json with an accuracy_matrix below {str(root)!r}")
    grouped: dict[str, dict[str, list]] = {}
    for results in runs:
        grouped.setdefault(_sequence_name(results), {}).setdefault(
            _condition(results), []).append(results)
    summary = {}
    for sequence, conditions in grouped.items():
        summary[sequence] = {}
        for condition, group in sorted(conditions.items()):
            summary[sequence][condition] = _summarize_group(group, seed, resamples)
    return summary


def _summarize_group(group: Sequence[dict], seed: int, resamples: int) -> dict:
    first = group[0]
    key = f"{first['mode']}|{_condition(first)}"
    out = {"mode": first["mode"], "runs": len(group),
           "seeds": sorted(r["seed"] for r in group),
           "wall_seconds": sum(r.get("wall_seconds") or 0.0 for r in group)}
    for name in ("acc", "bwt", "fwt", "mean_forgetting"):
        values = [r["continual"][name] for r in group]
        out[name] = (None if any(v is None for v in values)
                     else stats.describe(values, seed, f"{key}|{name}", resamples))
    count = len(first["accuracy_matrix"])
    out["accuracy_matrix"] = [
        [mean_or_none(r["accuracy_matrix"][i][j] for r in group) for j in range(count)]
        for i in range(count)]
    out["baseline"] = [mean_or_none(r["accuracy_baseline"][j] for r in group) for j in range(count)]
    per_task = []
    for index, name in enumerate(task["name"] for task in first["tasks"] if task):
        tasks = [r["tasks"][index] for r in group]
        if any(task is None for task in tasks):
            per_task.append({"name": name})
            continue
        entry = {"name": name,
                 "generations": stats.describe([t["generations"] for t in tasks], seed,
                                               f"{key}|{index}|generations", resamples),
                 "solved": sum(bool(t["solved"]) for t in tasks),
                 "steps": stats.describe([r["continual"]["steps"][index] for r in group],
                                         seed, f"{key}|{index}|steps", resamples)}
        reached = [r["continual"]["generations_to_threshold"][index] for r in group]
        entry["reached_threshold"] = sum(g is not None for g in reached)
        free = [r["continual"]["free_modules"][index] for r in group]
        entry["free_modules"] = stats.describe(free, seed, f"{key}|{index}|free", resamples)
        per_task.append(entry)
    out["tasks"] = per_task
    return out


def _cell(entry: dict | None, scale: float = 100.0) -> str:
    if entry is None:
        return "–"
    low, high = entry["mean_ci95"]
    return f"{entry['mean'] * scale:.2f} [{low * scale:.2f}, {high * scale:.2f}]"


def summary_markdown(summary: dict) -> str:
    lines = []
    for sequence, conditions in summary.items():
        lines += [f"## {sequence}", "",
                  "ACC, BWT, FWT and forgetting in % (mean over runs [95% bootstrap CI]); "
                  "steps: gradient steps per task (mean over tasks and runs).", "",
                  "| condition | runs | ACC | BWT | FWT | mean forgetting | steps/task | "
                  "tasks reaching the threshold | wall s |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for condition, entry in conditions.items():
            tasks = [t for t in entry["tasks"] if "steps" in t]
            steps = (sum(t["steps"]["mean"] for t in tasks) / len(tasks)) if tasks else 0
            reached = " ".join(f"{t['reached_threshold']}/{entry['runs']}" for t in tasks)
            lines.append(
                f"| {condition} | {entry['runs']} | {_cell(entry['acc'])} | "
                f"{_cell(entry['bwt'])} | {_cell(entry['fwt'])} | "
                f"{_cell(entry['mean_forgetting'])} | {steps:.0f} | {reached} | "
                f"{entry['wall_seconds']:.0f} |")
        lines.append("")
    return "\n".join(lines)


def _draw(summary: dict, out: pathlib.Path) -> None:
    from pathnet_tf.runs.accuracy_figures import plot_summary_matrices

    plot_summary_matrices(summary, out)


def main(argv: Sequence[str] | None = None) -> int:
    return summary_cli.main(
        argv, prog="python -m pathnet_tf.reports.continual_summary",
        description="ACC, BWT, FWT with 95%% CIs per condition of the runs below ROOT.",
        out_help="summary.json, summary.md and the mean accuracy matrices",
        summarize=summarize, markdown=summary_markdown, draw=_draw)


if __name__ == "__main__":
    sys.exit(main())
