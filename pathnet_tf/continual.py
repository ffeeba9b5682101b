"""The continual-learning metrics of a task sequence, from what a run records. No
TensorFlow (NumPy and the standard library only).

A run records (`accuracy_matrix.AccuracyMatrix`, results.json key `accuracy_matrix`):

- `R[i][j]`: test accuracy on task j after learning task i, every i and j. For j <= i
  it is task j's own head on task j's best path (the path it was learned with). For
  j > i task j has no trained head yet: `R[i][j]` is the accuracy of a *probe*, a
  fixed random head of task j (drawn once from the seed, Glorot-uniform, zero bias) on
  a fixed probe path (the controls' fixed path; for PathNet a path drawn from the
  seed), on the network as task i left it (docs/continual.md says why).
- `b[j]`: the same probe of task j on the freshly initialised network, before any
  task was learned (Lopez-Paz & Ranzato 2017's `b̄`).

From them (`metrics`), with T tasks (Lopez-Paz & Ranzato 2017, arXiv:1706.08840):

- ACC = mean_j R[T-1][j]: the average test accuracy after the last task;
- BWT = mean_{j<T-1} (R[T-1][j] - R[j][j]): backward transfer (negative: forgetting);
- FWT = mean_{j>0} (R[j-1][j] - b[j]): forward transfer;
- forgetting of task j < T-1 (Chaudhry et al. 2018): max_{j<=l<T-1} R[l][j] - R[T-1][j].

A task a mode did not train (`independent` learns the last task only) has no row and
no column entries: its R entries are None, and a metric that needs one is None.
`python -m pathnet_tf.continual RUNS_DIR [--out DIR]` summarises the runs below
RUNS_DIR per mode and sequence (summary.json, summary.md), means with 95% CIs.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections.abc import Sequence

from pathnet_tf import atomic_io, stats


def _mean(values) -> float | None:
    values = list(values)
    if not values or any(v is None for v in values):
        return None
    return sum(values) / len(values)


def check_matrix(matrix, baseline=None) -> int:
    """T, after checking that `matrix` is T lists of T entries (floats in [0, 1] or
    None) and `baseline` (if given) T such entries; ValueError otherwise."""
    count = len(matrix)
    if count == 0:
        raise ValueError("the accuracy matrix must have at least one row")
    rows = list(matrix) + ([baseline] if baseline is not None else [])
    for index, row in enumerate(rows):
        if len(row) != count:
            raise ValueError(f"row {index} of the accuracy matrix has {len(row)} entries, "
                             f"not {count}")
        for value in row:
            if value is not None and not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"accuracy {value!r} (row {index}) must be in [0, 1]")
    return count


def acc(matrix) -> float | None:
    """Average accuracy after the last task."""
    return _mean(matrix[-1])


def bwt(matrix) -> float | None:
    """Backward transfer; None for one task."""
    count = len(matrix)
    if count < 2:
        return None
    return _mean(None if matrix[-1][j] is None or matrix[j][j] is None
                 else matrix[-1][j] - matrix[j][j] for j in range(count - 1))


def fwt(matrix, baseline) -> float | None:
    """Forward transfer against the fresh network's accuracies `baseline`."""
    count = len(matrix)
    if count < 2 or baseline is None:
        return None
    return _mean(None if matrix[j - 1][j] is None or baseline[j] is None
                 else matrix[j - 1][j] - baseline[j] for j in range(1, count))


def forgetting(matrix) -> list:
    """Per task j < T-1: the most it lost from its best accuracy before the last task
    to its accuracy after it (None where an entry is missing)."""
    count = len(matrix)
    out = []
    for j in range(count - 1):
        earlier = [matrix[row][j] for row in range(j, count - 1)]
        if matrix[-1][j] is None or any(value is None for value in earlier):
            out.append(None)
        else:
            out.append(max(earlier) - matrix[-1][j])
    return out


def metrics(matrix, baseline=None) -> dict:
    """ACC, BWT, FWT and the forgetting per task of one run's accuracy matrix."""
    check_matrix(matrix, baseline)
    forgotten = forgetting(matrix)
    return {"acc": acc(matrix), "bwt": bwt(matrix), "fwt": fwt(matrix, baseline),
            "forgetting": forgotten, "mean_forgetting": _mean(forgotten)}


def steps_per_generation(config: dict, population: bool) -> dict:
    """Training steps (gradient steps of one path) and examples seen per generation of
    a task, from a config.json dict: a population mode trains B candidates for T steps
    on the same T minibatches (B·T steps, T·batch examples); a fixed path trains B·T
    steps on B·T minibatches (B·T·batch examples): the same compute per generation."""
    evo = config["evolution"]
    steps = evo["tournament_size"] * evo["steps_per_candidate"]
    batches = evo["steps_per_candidate"] * (1 if population and evo.get(
        "tournament", "fair") == "fair" else evo["tournament_size"])
    return {"steps": steps, "examples": batches * evo["batch_size"]}


def generations_to_threshold(task: dict, threshold: float) -> int | None:
    """The first generation whose winner reached `threshold` (None: never), from the
    task's fitness history (under a fixed budget the task goes on past it)."""
    for generation, fitness in enumerate(task.get("fitness_history") or [], start=1):
        if fitness >= threshold:
            return generation
    return None


# ------------------------------------------------------------------------- summary


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
    (EWC's λ and γ, SI's c, the stopping rule, a validation split)."""
    config = results.get("config", {})
    name = results["mode"]
    regularizer = results.get("regularizer") or {}
    if regularizer.get("method") == "ewc":
        name += f" λ={regularizer['lambda']:g}"
        if regularizer.get("gamma") is not None:
            name += f" online γ={regularizer['gamma']:g}"
    elif regularizer.get("method") == "si":
        name += f" c={regularizer['c']:g}"
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
        [_mean(r["accuracy_matrix"][i][j] for r in group) for j in range(count)]
        for i in range(count)]
    out["baseline"] = [_mean(r["accuracy_baseline"][j] for r in group) for j in range(count)]
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


def run_metrics(results: dict, config: dict, population: bool,
                num_layers: int, num_modules: int) -> dict:
    """The `continual` entry of results.json: `metrics` of the run's accuracy matrix,
    and per task its training steps, generations to the threshold and modules left
    free after it (None for a task the mode did not train)."""
    per = steps_per_generation(config, population)
    threshold = config["evolution"]["threshold"]
    tasks = results["tasks"]
    out = metrics(results["accuracy_matrix"], results["accuracy_baseline"])
    out["steps"] = [None if t is None else t["generations"] * per["steps"] for t in tasks]
    out["examples"] = [None if t is None else t["generations"] * per["examples"]
                       for t in tasks]
    out["generations_to_threshold"] = [None if t is None else
                                       generations_to_threshold(t, threshold) for t in tasks]
    out["free_modules"] = [num_layers * num_modules - frozen
                           for frozen in results["frozen_modules"]]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pathnet_tf.continual",
        description="ACC, BWT, FWT with 95%% CIs per condition of the runs below ROOT.")
    parser.add_argument("root", help="a folder holding the runs' workdirs")
    parser.add_argument("--out", help="where to write summary.json, summary.md and the "
                                      "mean accuracy matrices (default: ROOT)")
    args = parser.parse_args(argv)
    try:
        summary = summarize(args.root)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    out = pathlib.Path(args.out or args.root)
    atomic_io.write_json(out / "summary.json", summary)
    atomic_io.write_text(out / "summary.md", summary_markdown(summary))
    from pathnet_tf.accuracy_figures import plot_summary_matrices

    plot_summary_matrices(summary, out)
    print(summary_markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
