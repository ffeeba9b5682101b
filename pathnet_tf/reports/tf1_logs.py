"""The TF1 PathNet code's published binary MNIST logs, read and summarised.

    python -m pathnet_tf.reports.tf1_logs results/tf1_logs [--seed 0] [--resamples 2000]

The logs (`results/tf1_logs/*.log`, copied unchanged from jsikyoon/pathnet
`binary_mnist_res/`; their README says where from and under which licence) hold one
line per run, written by its `auto_binary_mnist_pathnet.sh` around the last line
`binary_mnist_pathnet.py` prints:

    17 Iteration,  Entire Iter:314,TASK1:217,TASK2:97,Overlap:4

TASK1 and TASK2 are the tasks learned first and second; `Entire Iter` is their sum;
`Overlap` the number of modules active both in task 1's best path and in task 2's
best evolved path (task 1's path, switched on during task 2 anyway, not counted).
The file name says the ordering: `1vs3_1vs2.log` is 1v3 learned first, then 1v2.

**Counting.** The TF1 code logs the loop index of the generation that reached its
threshold (0.99), counted from 0: a task solved in the first tournament logs 0. This
project counts generations from 1. `read_log` keeps the logged numbers (its means are
the TF1 README's: 1v3 168.25 first, 82.64 second); `to_runs` adds 1 for the report.

Here: reading (`ordering_of`, `read_log`, `load_logs`), `summarize` (per ordering,
per digit pair learned first against learned second, the overlap), `to_runs` (the
runs as `pathnet_tf.reports.report` records, so `report.summarize` reads them) and the CLI.
The bootstrap is `pathnet_tf.reports.stats`'s, each statistic from its own keyed stream.
NumPy and the standard library only.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
from collections.abc import Mapping, Sequence

import numpy as np

from pathnet_tf.reports.stats import (
    CONFIDENCE,
    RESAMPLES,
    add_bootstrap_arguments,
    check_bootstrap_arguments,
    describe,
    ratio_of_means,
)

__all__ = ["README_MEANS", "SETTINGS", "load_logs", "main", "ordering_of", "read_log",
           "summarize", "to_runs"]

# The TF1 README's means (digit pair: learned first, learned second), logged counting.
README_MEANS = {"1v3": (168.25, 82.64), "1v2": (196.60, 118.32),
                "4v5": (270.68, 149.31), "6v7": (93.69, 55.91)}

# What binary_mnist_pathnet.py ran with (its flag defaults), under this project's
# report setting names; the protocol differences are docs/protocol.md section 3.
SETTINGS = {"num_layers": 3, "num_modules": 10, "num_active": 3, "units": 20,
            "population_size": 20, "tournament_size": 2, "steps_per_candidate": 50,
            "batch_size": 16, "threshold": 0.99, "max_generations": 10000,
            "optimizer": "sgd", "learning_rate": 0.05}

_LINE = re.compile(r"(\d+) Iteration,\s+Entire Iter:(\d+),TASK1:(\d+),TASK2:(\d+),"
                   r"Overlap:(\d+)")
_NAME = re.compile(r"(\d)vs(\d)_(\d)vs(\d)")


# ----------------------------------------------------------------------------- reading


def ordering_of(path: str | pathlib.Path) -> str:
    """`.../1vs3_1vs2.log` -> "1v3->1v2" (task learned first -> task learned second)."""
    stem = pathlib.Path(path).stem
    match = _NAME.fullmatch(stem)
    if match is None:
        raise ValueError(f"log name {stem!r} is not like 1vs3_1vs2")
    a1, a2, b1, b2 = match.groups()
    return f"{a1}v{a2}->{b1}v{b2}"


def read_log(path: str | pathlib.Path) -> list[dict]:
    """One log -> per run {"run", "first", "second", "total", "overlap"}.

    `first` / `second`: generations of the task learned first / second as logged
    (counted from 0, see the module docstring); `total` = first + second; `run` the
    run's number in the log. Blank lines are skipped; any other line that is not a
    run's result (a crashed run leaves its last output line there) raises ValueError
    naming the file and line, as does a total that is not first + second.
    """
    path = pathlib.Path(path)
    runs = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line.strip())
        if match is None:
            raise ValueError(f"{path.name} line {number} is not a run's result: {line!r}")
        run, total, first, second, overlap = (int(v) for v in match.groups())
        if total != first + second:
            raise ValueError(f"{path.name} line {number}: Entire Iter ({total}) is not "
                             f"TASK1 + TASK2 ({first} + {second})")
        runs.append({"run": run, "first": first, "second": second, "total": total,
                     "overlap": overlap})
    return runs


def load_logs(folder: str | pathlib.Path) -> dict[str, list[dict]]:
    """Every `*vs*_*vs*.log` in `folder` -> {ordering ("1v3->1v2"): `read_log` runs}.

    ValueError if there is none, if one holds no run or two have the same ordering.
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(f"log folder {str(folder)!r} does not exist")
    logs = {}
    for path in sorted(folder.glob("*.log")):
        if _NAME.fullmatch(path.stem):
            ordering = ordering_of(path)
            if ordering in logs:
                raise ValueError(f"two logs of ordering {ordering} in {str(folder)!r}")
            logs[ordering] = read_log(path)
            if not logs[ordering]:
                raise ValueError(f"{path.name} holds no run")
    if not logs:
        raise ValueError(f"no log like 1vs3_1vs2.log in {str(folder)!r}")
    return logs


# ------------------------------------------------------------------------- summarising


def _tasks(ordering: str) -> tuple[str, str]:
    first, second = ordering.split("->")
    return first, second


def _values(runs: Sequence[dict], key: str, offset: int = 0) -> np.ndarray:
    return np.array([run[key] + offset for run in runs], dtype=np.float64)


def _overlap(runs: Sequence[dict]) -> dict:
    """Overlap counts per value and the second task's generations per value."""
    values = _values(runs, "overlap").astype(int)
    by_value = {}
    for value in range(int(values.max()) + 1):
        second = _values([r for r, v in zip(runs, values) if v == value], "second")
        by_value[str(value)] = {
            "runs": int(second.size),
            "second_mean": float(second.mean()) if second.size else None,
            "second_median": float(np.median(second)) if second.size else None,
        }
    return {"mean": float(values.mean()), "max": int(values.max()), "by_value": by_value}


def _ratio(first: Sequence[np.ndarray], second: Sequence[np.ndarray], seed: int, key: str,
           resamples: int) -> dict:
    """first / second, logged counting, and the same counted from 1 (this project's)."""
    logged = ratio_of_means(first, second, seed, key, resamples)
    counted = ratio_of_means([s + 1 for s in first], [s + 1 for s in second], seed,
                             key + "|counted", resamples)
    return {**logged, "counted_from_one": {"ratio": counted["ratio"],
                                           "ci95": counted["ci95"]}}


def summarize(logs: Mapping[str, Sequence[dict]], seed: int = 0,
              resamples: int = RESAMPLES) -> dict:
    """`load_logs`' dict -> per ordering and per digit pair statistics (plain dict).

    "orderings": runs, mean/median (95% bootstrap CIs) of the first and second task's
    generations, first / second (two different digit pairs: by itself no measure of
    transfer) and the overlap. "pairs": a digit pair learned first (in the orderings
    where it is first) against the same pair learned second (in the opposite ones),
    ratio of means with a 95% CI; "all" averages the pairs' means, each pair weighted
    equally, resampled within each pair (as `pathnet_tf.reports.report` does). Logged
    counting throughout; each ratio also `counted_from_one`.
    """
    orderings = {}
    for ordering, runs in sorted(logs.items()):
        first_task, second_task = _tasks(ordering)
        first, second = _values(runs, "first"), _values(runs, "second")
        orderings[ordering] = {
            "runs": len(runs),
            "first_task": first_task,
            "second_task": second_task,
            "first": describe(first, seed, f"tf1|{ordering}|first", resamples),
            "second": describe(second, seed, f"tf1|{ordering}|second", resamples),
            "first_over_second": _ratio([first], [second], seed,
                                        f"tf1|{ordering}|first/second", resamples),
            "overlap": _overlap(runs),
        }
    first_of, second_of = {}, {}
    for ordering, runs in logs.items():
        first_task, second_task = _tasks(ordering)
        first_of.setdefault(first_task, []).append((ordering, _values(runs, "first")))
        second_of.setdefault(second_task, []).append((ordering, _values(runs, "second")))
    common = sorted(set(first_of) & set(second_of))
    pairs = {}
    for pair in common:
        first = np.concatenate([v for _, v in first_of[pair]])
        second = np.concatenate([v for _, v in second_of[pair]])
        pairs[pair] = {
            "first_orderings": sorted(o for o, _ in first_of[pair]),
            "second_orderings": sorted(o for o, _ in second_of[pair]),
            "first": describe(first, seed, f"tf1|{pair}|learned first", resamples),
            "second": describe(second, seed, f"tf1|{pair}|learned second", resamples),
            "first_over_second": _ratio([first], [second], seed, f"tf1|first/second|{pair}",
                                        resamples),
            "tf1_readme": list(README_MEANS[pair]) if pair in README_MEANS else None,
        }
    if len(common) > 1:
        strata = [(np.concatenate([v for _, v in first_of[p]]),
                   np.concatenate([v for _, v in second_of[p]])) for p in common]
        pairs["all"] = {"pairs": common, "first_over_second": _ratio(
            [f for f, _ in strata], [s for _, s in strata], seed, "tf1|first/second|all",
            resamples)}
    return {
        "num_runs": int(sum(len(runs) for runs in logs.values())),
        "counting": ("generations as logged: the 0-based index of the generation that "
                     "reached the threshold 0.99 (this project's count is one more); "
                     "ratios also given counted_from_one"),
        "bootstrap": {"resamples": resamples, "seed": seed, "confidence": CONFIDENCE,
                      "method": "percentile, each sample resampled on its own"},
        "orderings": orderings,
        "pairs": pairs,
    }


def _report_task(name: str, generations: int) -> dict:
    return {"name": name, "digits": [int(d) for d in name.split("v")],
            "generations": generations, "solved": True, "best_fitness": None,
            "test_accuracy": None, "best_path": None}


def to_runs(logs: Mapping[str, Sequence[dict]]) -> list[dict]:
    """The logged runs as `pathnet_tf.reports.report` run records (mode "pathnet", every task
    solved, generations counted from 1), so `report.summarize(to_runs(logs))` works.

    A run's `seed` is its number in its log; `settings` is `SETTINGS`.
    """
    out = []
    for ordering, runs in sorted(logs.items()):
        first, second = _tasks(ordering)
        for run in runs:
            out.append({
                "file": f"tf1_logs {ordering} run {run['run']}",
                "mode": "pathnet", "seed": run["run"], "ordering": ordering,
                "task_a": _report_task(first, run["first"] + 1),
                "task_b": _report_task(second, run["second"] + 1),
                "overlap": run["overlap"], "wall_seconds": None,
                "settings": dict(SETTINGS),
            })
    return out


# --------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pathnet_tf.reports.tf1_logs",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="folder holding the TF1 logs (1vs3_1vs2.log, ...)")
    add_bootstrap_arguments(parser)
    args = parser.parse_args(argv)
    check_bootstrap_arguments(parser, args)
    try:
        logs = load_logs(args.folder)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summarize(logs, seed=args.seed, resamples=args.resamples), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
