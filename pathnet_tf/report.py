"""Aggregates repeated binary MNIST runs into summary.json, summary.md and figures.

    python -m pathnet_tf.report RESULTS_DIR [--out DIR] [--no-figures]

Reads every `results.json` below RESULTS_DIR (and the `config.json` beside it). Mode,
digit pairs and seed come from the files themselves, never from folder names; a
results file without `mode` (written before the controls existed) counts as
`pathnet`. NumPy only: no TensorFlow is imported, so this runs while runs are going.

What is reported (all written to --out, default RESULTS_DIR):
- per mode, task role (task A / task B), digit pair and ordering ("1v3->1v2"): runs,
  solved fraction, mean, median and 95% bootstrap CIs of the generations to the
  threshold, the test accuracy mean. Independent runs learn task B only and are
  grouped by task B alone (what would have come first does not matter to them).
- **Unsolved runs** are counted at the generations they ran (max_generations): the
  mean is then a lower bound (right-censored); the median is exact while more than
  half of the runs are solved. The mean over solved runs only, and the seeds of the
  unsolved runs, are reported separately.
- speedups, ratios of mean generations with 95% bootstrap CIs (each sample resampled
  on its own): independent / PathNet and fine-tune / PathNet on task B, and
  first / second: a digit pair learned first (PathNet task A) against the same pair
  learned second (PathNet task B, in the opposite ordering). "all" pools the digit
  pairs (or orderings) by averaging their means, each pair weighted equally,
  resampled within each pair.
- the overlap of the two best paths (PathNet): counts per value and task-B
  generations per value.
- a side-by-side table with the paper's and the TF1 code's numbers.

The bootstrap is seeded (`--seed`), each statistic from its own stream keyed by its
name, so the output is deterministic and adding a group changes no other number.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import zlib
from collections.abc import Iterable, Sequence

import numpy as np

from pathnet_tf import atomic_io
from pathnet_tf.modes import MODES

CONFIDENCE = 0.95
RESAMPLES = 2000
_CHUNK = 256  # bootstrap resamples drawn at a time (bounds memory for 1000s of runs)

# The numbers this project is measured against (docs: REFERENCE.md section 2).
PAPER = {
    "threshold": 0.998,
    "independent_generations": 229,
    "pathnet_generations": 167,
    "speedup": 1.18,
    "note": ("as reported in a review of the paper; 229 / 167 = 1.37, so the reported "
             "speedup 1.18 is not the ratio of these two means (its definition is not "
             "given there)"),
}
TF1 = {
    "threshold": 0.99,
    "runs_per_ordering": 1000,
    # digit pair: (mean generations learned first, mean generations learned second)
    "first_second": {"1v3": (168, 83), "1v2": (197, 118), "4v5": (271, 149), "6v7": (94, 56)},
    "mean_overlap": 2,
    "path_modules": 9,
    "note": ("task A's path stayed switched on during task B (inflates transfer); "
             "threshold 0.99; its README: 3-5 overlapping modules best, more than 5 worse"),
}

# Settings compared across runs (config.json keys); runs differing in these are pooled
# with a warning.
_SETTINGS = {
    "num_layers": ("pathnet", "num_layers"), "num_modules": ("pathnet", "num_modules"),
    "num_active": ("pathnet", "num_active"), "units": ("pathnet", "units"),
    "population_size": ("evolution", "population_size"),
    "tournament_size": ("evolution", "tournament_size"),
    "steps_per_candidate": ("evolution", "steps_per_candidate"),
    "batch_size": ("evolution", "batch_size"), "threshold": ("evolution", "threshold"),
    "max_generations": ("evolution", "max_generations"),
    "optimizer": ("evolution", "optimizer"), "learning_rate": ("evolution", "learning_rate"),
    "noise": ("noise",), "max_train": ("max_train",),
}


# ----------------------------------------------------------------------------- loading


_ABSENT = object()


def _get(mapping, keys):
    for key in keys:
        if not isinstance(mapping, dict) or key not in mapping:
            return _ABSENT
        mapping = mapping[key]
    return mapping


def _task(raw, where: str) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError(f"{where} is not an object")
    missing = [key for key in ("name", "generations", "solved") if key not in raw]
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing)}")
    accuracy = raw.get("test_accuracy")
    return {
        "name": str(raw["name"]),
        "digits": [int(d) for d in raw.get("digits", [])],
        "generations": int(raw["generations"]),
        "solved": bool(raw["solved"]),
        "best_fitness": None if raw.get("best_fitness") is None else float(raw["best_fitness"]),
        "test_accuracy": None if accuracy is None else float(accuracy),
        "best_path": raw.get("best_path"),
    }


def read_run(path: pathlib.Path, root: pathlib.Path) -> dict:
    """One results.json (and the config.json beside it) -> a flat run record.

    Raises ValueError (or OSError / JSONDecodeError) for a file that cannot be used.
    """
    results = json.loads(path.read_text())
    if not isinstance(results, dict):
        raise ValueError("not a JSON object")
    config_path = path.with_name("config.json")
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    mode = results.get("mode") or config.get("mode") or "pathnet"
    task_a = _task(results.get("task_a"), "task_a")
    task_b = _task(results.get("task_b"), "task_b")
    if task_b is None:
        raise ValueError("task_b is missing")
    if mode != "independent" and task_a is None:
        raise ValueError(f"mode {mode!r} needs task_a")
    if mode == "independent":
        task_a = None  # it learns task B only
    seed = results.get("seed", config.get("seed"))
    if seed is None:
        raise ValueError("seed is missing")
    settings = {name: value for name, keys in _SETTINGS.items()
                if (value := _get(config, keys)) is not _ABSENT}
    overlap = results.get("overlap")
    return {
        "file": str(path.relative_to(root)),
        "mode": str(mode),
        "seed": int(seed),
        "ordering": None if task_a is None else f"{task_a['name']}->{task_b['name']}",
        "task_a": task_a,
        "task_b": task_b,
        "overlap": None if overlap is None or mode != "pathnet" else int(overlap),
        "wall_seconds": results.get("wall_seconds"),
        "settings": settings,
    }


def _mode_name(mode: str) -> str:
    return MODES[mode].label if mode in MODES else mode


def _mode_rank(mode: str) -> tuple:
    names = list(MODES)
    return (names.index(mode), "") if mode in names else (len(names), mode)


def load_runs(root: str | pathlib.Path) -> tuple[list[dict], list[dict]]:
    """Every results.json below `root` -> (runs sorted by mode, ordering, task, seed;
    skipped files as {"file", "error"})."""
    root = pathlib.Path(root)
    runs, skipped = [], []
    for path in sorted(root.rglob("results.json")):
        try:
            runs.append(read_run(path, root))
        except (OSError, ValueError, TypeError, KeyError) as error:
            skipped.append({"file": str(path.relative_to(root)), "error": str(error)})
    runs.sort(key=lambda r: (_mode_rank(r["mode"]), r["ordering"] or "",
                             r["task_b"]["name"], r["seed"], r["file"]))
    return runs, skipped


# ------------------------------------------------------------------------- statistics


def _rng(seed: int, key: str) -> np.random.Generator:
    """The bootstrap stream of one statistic: fixed by `seed` and the statistic's name."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def _resampled(strata: Sequence[np.ndarray], rng: np.random.Generator, resamples: int,
               statistic=np.mean) -> np.ndarray:
    """`[resamples]` bootstrap replicates: each stratum resampled with replacement on
    its own, `statistic` taken per stratum, then averaged over strata."""
    out = np.zeros(resamples)
    for values in strata:
        values = np.asarray(values, dtype=np.float64)
        for start in range(0, resamples, _CHUNK):
            count = min(_CHUNK, resamples - start)
            index = rng.integers(0, len(values), size=(count, len(values)))
            out[start:start + count] += statistic(values[index], axis=1)
    return out / len(strata)


def _interval(replicates: np.ndarray, confidence: float = CONFIDENCE) -> list[float]:
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return [float(low), float(high)]


def describe(values: Sequence[float], seed: int, key: str,
             resamples: int = RESAMPLES) -> dict | None:
    """Mean, median, their 95% bootstrap CIs, std, min, max of `values` (None if empty)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    rng = _rng(seed, key)
    return {
        "n": int(values.size),
        "mean": float(values.mean()),
        "mean_ci95": _interval(_resampled([values], rng, resamples)),
        "median": float(np.median(values)),
        "median_ci95": _interval(_resampled([values], rng, resamples, np.median)),
        "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "min": float(values.min()),
        "max": float(values.max()),
    }


def ratio_of_means(numerator: Sequence[Sequence[float]], denominator: Sequence[Sequence[float]],
                   seed: int, key: str, resamples: int = RESAMPLES) -> dict | None:
    """mean(numerator) / mean(denominator) with a 95% bootstrap CI.

    Each argument is a list of strata (e.g. one array per digit pair); a side's mean
    is the average of its strata's means. Both sides are resampled independently,
    within each stratum. None if a side has no values.
    """
    numerator = [np.asarray(s, dtype=np.float64) for s in numerator if len(s)]
    denominator = [np.asarray(s, dtype=np.float64) for s in denominator if len(s)]
    if not numerator or not denominator:
        return None
    top = float(np.mean([s.mean() for s in numerator]))
    bottom = float(np.mean([s.mean() for s in denominator]))
    if bottom == 0:
        return None
    rng = _rng(seed, key)
    replicates = _resampled(numerator, rng, resamples) / _resampled(denominator, rng, resamples)
    return {"ratio": top / bottom, "ci95": _interval(replicates), "numerator_mean": top,
            "denominator_mean": bottom, "numerator_runs": int(sum(map(len, numerator))),
            "denominator_runs": int(sum(map(len, denominator)))}


def task_stats(tasks: Sequence[dict], seeds: Sequence[int], seed: int, key: str,
               resamples: int = RESAMPLES) -> dict:
    """Generations-to-threshold statistics of one group of task records."""
    generations = np.array([t["generations"] for t in tasks], dtype=np.float64)
    solved = np.array([t["solved"] for t in tasks], dtype=bool)
    accuracies = [t["test_accuracy"] for t in tasks if t["test_accuracy"] is not None]
    return {
        "runs": len(tasks),
        "solved": int(solved.sum()),
        "unsolved": int((~solved).sum()),
        "solved_fraction": float(solved.mean()) if len(tasks) else None,
        # unsolved counted at the generations they ran (max_generations): a lower bound
        "generations": describe(generations, seed, key + "|all", resamples),
        "median_exact": bool(solved.mean() > 0.5) if len(tasks) else False,
        "generations_solved_only": describe(generations[solved], seed, key + "|solved",
                                            resamples),
        "unsolved_seeds": sorted(int(s) for s, ok in zip(seeds, solved) if not ok),
        "test_accuracy_mean": float(np.mean(accuracies)) if accuracies else None,
    }


# -------------------------------------------------------------------------- summarising


def _groups(runs: Iterable[dict]) -> dict[tuple, list[dict]]:
    """(mode, role, task name, ordering) -> runs. Independent runs: ordering None."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        for role in ("task_a", "task_b"):
            task = run[role]
            if task is not None:
                key = (run["mode"], role, task["name"], run["ordering"])
                groups.setdefault(key, []).append(run)
    return dict(sorted(groups.items(), key=lambda item: (
        _mode_rank(item[0][0]), item[0][1], item[0][3] or "", item[0][2])))


def _generations(runs: Iterable[dict], role: str) -> list[int]:
    return [run[role]["generations"] for run in runs]


def _by_task(runs: Iterable[dict], mode: str, role: str) -> dict[str, list[dict]]:
    """Task name -> runs of `mode` whose `role` task has that name (all orderings)."""
    out: dict[str, list[dict]] = {}
    for run in runs:
        if run["mode"] == mode and run[role] is not None:
            out.setdefault(run[role]["name"], []).append(run)
    return dict(sorted(out.items()))


def _settings(runs: Sequence[dict]) -> tuple[dict, list[str]]:
    values: dict[str, list] = {}
    for run in runs:
        for name, value in run["settings"].items():
            if value not in values.setdefault(name, []):
                values[name].append(value)
    settings, mixed = {}, []
    for name, seen in values.items():
        settings[name] = seen[0] if len(seen) == 1 else seen
        if len(seen) > 1:
            mixed.append(name)
    return settings, mixed


def _speedups(runs, seed, resamples) -> list[dict]:
    out = []
    pathnet_b = _by_task(runs, "pathnet", "task_b")
    # independent / PathNet: the same digit pair learned from scratch vs as PathNet's B.
    independent_b = _by_task(runs, "independent", "task_b")
    common = [name for name in pathnet_b if name in independent_b]
    for name in common + (["all"] if len(common) > 1 else []):
        names = common if name == "all" else [name]
        ratio = ratio_of_means([_generations(independent_b[n], "task_b") for n in names],
                               [_generations(pathnet_b[n], "task_b") for n in names],
                               seed, f"independent/pathnet|{name}", resamples)
        if ratio is not None:
            out.append({"comparison": "independent / pathnet", "task_b": name,
                        "ordering": None, **ratio})
    # fine-tune / PathNet: the same ordering.
    orderings = sorted({r["ordering"] for r in runs if r["mode"] == "pathnet"}
                       & {r["ordering"] for r in runs if r["mode"] == "finetune"})
    for ordering in orderings + (["all"] if len(orderings) > 1 else []):
        chosen = orderings if ordering == "all" else [ordering]
        finetune = [_generations([r for r in runs if r["mode"] == "finetune"
                                  and r["ordering"] == o], "task_b") for o in chosen]
        pathnet = [_generations([r for r in runs if r["mode"] == "pathnet"
                                 and r["ordering"] == o], "task_b") for o in chosen]
        ratio = ratio_of_means(finetune, pathnet, seed, f"finetune/pathnet|{ordering}",
                               resamples)
        task_b = "all" if ordering == "all" else ordering.split("->")[1]
        if ratio is not None:
            out.append({"comparison": "finetune / pathnet", "task_b": task_b,
                        "ordering": ordering, **ratio})
    return out


def _first_vs_second(runs, seed, resamples) -> list[dict]:
    first = _by_task(runs, "pathnet", "task_a")
    second = _by_task(runs, "pathnet", "task_b")
    common = [name for name in first if name in second]
    out = []
    for name in common + (["all"] if len(common) > 1 else []):
        names = common if name == "all" else [name]
        ratio = ratio_of_means([_generations(first[n], "task_a") for n in names],
                               [_generations(second[n], "task_b") for n in names],
                               seed, f"first/second|{name}", resamples)
        if ratio is None:
            continue
        entry = {"task": name, **ratio}
        if name != "all":
            entry["first_orderings"] = sorted({r["ordering"] for r in first[name]})
            entry["second_orderings"] = sorted({r["ordering"] for r in second[name]})
            entry["first_solved"] = sum(r["task_a"]["solved"] for r in first[name])
            entry["second_solved"] = sum(r["task_b"]["solved"] for r in second[name])
            if name in TF1["first_second"]:
                entry["tf1"] = list(TF1["first_second"][name])
        out.append(entry)
    return out


def _overlap_table(runs: Sequence[dict], path_modules: int | None) -> dict | None:
    runs = [r for r in runs if r["overlap"] is not None]
    if not runs:
        return None
    values = np.array([r["overlap"] for r in runs])
    top = max(int(values.max()), path_modules or 0)
    by_value = {}
    for value in range(top + 1):
        chosen = [r for r in runs if r["overlap"] == value]
        generations = _generations(chosen, "task_b")
        by_value[str(value)] = {
            "runs": len(chosen),
            "task_b_generations_mean": float(np.mean(generations)) if chosen else None,
            "task_b_generations_median": float(np.median(generations)) if chosen else None,
            "task_b_solved": sum(r["task_b"]["solved"] for r in chosen),
        }
    bands = {}
    for band, low, high in (("0-2", 0, 2), ("3-5", 3, 5), ("6+", 6, top)):
        chosen = [r for r in runs if low <= r["overlap"] <= high]
        bands[band] = {"runs": len(chosen), "task_b_generations_mean":
                       float(np.mean(_generations(chosen, "task_b"))) if chosen else None}
    return {"runs": len(runs), "mean": float(values.mean()),
            "counts": {k: v["runs"] for k, v in by_value.items()},
            "by_value": by_value, "bands": bands}


def summarize(runs: Sequence[dict], skipped: Sequence[dict] = (), seed: int = 0,
              resamples: int = RESAMPLES, root: str = "") -> dict:
    """Everything summary.json holds, from run records (see `load_runs`)."""
    settings, mixed = _settings(runs)
    groups = []
    for (mode, role, name, ordering), chosen in _groups(runs).items():
        stats = task_stats([r[role] for r in chosen], [r["seed"] for r in chosen], seed,
                           f"group|{mode}|{role}|{name}|{ordering}", resamples)
        groups.append({"mode": mode, "role": role, "task": name, "ordering": ordering,
                       "seeds": len({r["seed"] for r in chosen}), **stats})
    # Task B per mode and digit pair, pooled over orderings, and "all" (pairs averaged).
    task_b_by_mode = {}
    for mode in sorted({r["mode"] for r in runs}, key=_mode_rank):
        by_task = _by_task(runs, mode, "task_b")
        entry = {name: task_stats([r["task_b"] for r in chosen], [r["seed"] for r in chosen],
                                  seed, f"taskb|{mode}|{name}", resamples)
                 for name, chosen in by_task.items()}
        strata = [_generations(chosen, "task_b") for chosen in by_task.values()]
        mean = float(np.mean([np.mean(s) for s in strata]))
        replicates = _resampled(strata, _rng(seed, f"taskb|{mode}|all"), resamples)
        entry["all"] = {"runs": int(sum(map(len, strata))), "pairs": len(strata),
                        "generations_mean": mean, "generations_mean_ci95": _interval(replicates),
                        "solved_fraction": float(np.mean([r["task_b"]["solved"] for chosen
                                                          in by_task.values() for r in chosen]))}
        task_b_by_mode[mode] = entry
    layers, active = settings.get("num_layers"), settings.get("num_active")
    path_modules = layers * active if isinstance(layers, int) and isinstance(active, int) else None
    pathnet = [r for r in runs if r["mode"] == "pathnet"]
    overlap = None
    if any(r["overlap"] is not None for r in pathnet):
        overlap = {"path_modules": path_modules,
                   "all": _overlap_table(pathnet, path_modules),
                   "per_ordering": {o: _overlap_table([r for r in pathnet if r["ordering"] == o],
                                                      path_modules)
                                    for o in sorted({r["ordering"] for r in pathnet})}}
    counts, seconds = {}, {}
    for run in runs:
        counts[run["mode"]] = counts.get(run["mode"], 0) + 1
        if isinstance(run["wall_seconds"], int | float):
            seconds.setdefault(run["mode"], []).append(float(run["wall_seconds"]))
    return {
        "root": root,
        "num_runs": len(runs),
        "runs_per_mode": counts,
        "wall_seconds_mean_per_mode": {m: float(np.mean(v)) for m, v in seconds.items()},
        "skipped_files": list(skipped),
        "settings": settings,
        "mixed_settings": mixed,
        "unsolved_policy": ("unsolved runs are counted at the generations they ran "
                            "(max_generations): right-censored, so means are lower bounds; "
                            "medians are exact when more than half of the runs are solved "
                            "(median_exact); means over solved runs only and the unsolved "
                            "seeds are reported separately"),
        "bootstrap": {"resamples": resamples, "seed": seed, "confidence": CONFIDENCE,
                      "method": "percentile, each sample resampled on its own"},
        "groups": groups,
        "task_b_by_mode": task_b_by_mode,
        "speedups": _speedups(runs, seed, resamples),
        "first_vs_second": _first_vs_second(runs, seed, resamples),
        "overlap": overlap,
        "reference": {"paper": PAPER, "tf1": {**TF1, "first_second": {
            k: list(v) for k, v in TF1["first_second"].items()}}},
    }


# ---------------------------------------------------------------------------- markdown


def _f(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ci(interval, digits: int = 1) -> str:
    return "–" if interval is None else f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def _arrow(ordering: str | None) -> str:
    return "–" if ordering is None else ordering.replace("->", " → ")


def _seeds(seeds: Sequence[int], limit: int = 12) -> str:
    if not seeds:
        return ""
    shown = ", ".join(map(str, seeds[:limit]))
    return shown + (f", … ({len(seeds)})" if len(seeds) > limit else "")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _overall(speedups: Sequence[dict], comparison: str) -> dict | None:
    """The pooled ("all") ratio of `comparison`, or its only one, or None."""
    chosen = [s for s in speedups if s["comparison"] == comparison]
    pooled = [s for s in chosen if s["task_b"] == "all"]
    return pooled[0] if pooled else (chosen[0] if len(chosen) == 1 else None)


def to_markdown(summary: dict, figures: Sequence[str] = ()) -> str:
    """summary.md: the same numbers as summary.json, as tables."""
    settings = summary["settings"]
    seconds = summary["wall_seconds_mean_per_mode"]
    per_mode = ", ".join(f"{_mode_name(m)} {n}"
                         + (f", {seconds[m]:.0f} s each" if m in seconds else "")
                         for m, n in summary["runs_per_mode"].items())
    lines = ["# Binary MNIST: PathNet against its controls", "",
             f"{summary['num_runs']} runs below `{summary['root']}` ({per_mode}).", ""]
    if summary["skipped_files"]:
        lines += [f"**{len(summary['skipped_files'])} results files could not be read** "
                  "(listed in summary.json, `skipped_files`).", ""]
    if settings:
        lines += ["Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()) + ".", ""]
    if summary["mixed_settings"]:
        lines += ["**Warning:** runs with different " + ", ".join(summary["mixed_settings"])
                  + " are pooled below.", ""]
    boot = summary["bootstrap"]
    lines += [f"Generations are tournaments (B×T training steps each, the same for every "
              f"mode). {summary['unsolved_policy'][0].upper()}{summary['unsolved_policy'][1:]}."
              f" CIs: 95% percentile bootstrap, {boot['resamples']} resamples, seed "
              f"{boot['seed']}.", ""]

    lines += ["## Generations to threshold", ""]
    rows = []
    for g in summary["groups"]:
        gen, solved_only = g["generations"], g["generations_solved_only"]
        rows.append([_mode_name(g["mode"]), g["role"][-1].upper(), g["task"],
                     _arrow(g["ordering"]), str(g["runs"]),
                     f"{g['solved']}/{g['runs']} ({_f(100 * g['solved_fraction'])}%)",
                     f"{_f(gen['mean'])} {_ci(gen['mean_ci95'])}",
                     _f(gen["median"]) + ("" if g["median_exact"] else " ≥"),
                     f"{_f(solved_only and solved_only['mean'])} "
                     f"({solved_only['n'] if solved_only else 0})",
                     _f(g["test_accuracy_mean"], 4), _seeds(g["unsolved_seeds"])])
    lines += _table(["mode", "task", "pair", "ordering", "runs", "solved",
                     "mean gens [95% CI]", "median", "mean solved only (n)",
                     "test acc.", "unsolved seeds"], rows)
    lines += ["A median marked ≥ is a lower bound (half or more of the runs unsolved).", ""]

    lines += ["## Task B by mode", ""]
    modes = list(summary["task_b_by_mode"])
    pairs = sorted({p for m in modes for p in summary["task_b_by_mode"][m] if p != "all"})
    rows = []
    for pair in pairs + (["all"] if len(pairs) > 1 else []):
        row = [pair if pair != "all" else "all (pairs averaged)"]
        for mode in modes:
            entry = summary["task_b_by_mode"][mode].get(pair)
            if entry is None:
                row.append("–")
            elif pair == "all":
                row.append(f"{_f(entry['generations_mean'])} "
                           f"{_ci(entry['generations_mean_ci95'])} ({entry['runs']})")
            else:
                row.append(f"{_f(entry['generations']['mean'])} "
                           f"{_ci(entry['generations']['mean_ci95'])} ({entry['runs']})")
        rows.append(row)
    lines += _table(["task B"] + [f"{_mode_name(m)}: mean [95% CI] (runs)"
                                  for m in modes], rows)

    lines += ["## Speedups (ratios of mean task-B generations; > 1: PathNet faster)", ""]
    rows = [[s["comparison"].replace("finetune", "fine-tune").replace("pathnet", "PathNet"),
             s["task_b"] if s["ordering"] in (None, "all") else _arrow(s["ordering"]),
             f"{_f(s['numerator_mean'])} / {_f(s['denominator_mean'])}",
             f"**{_f(s['ratio'], 2)}** {_ci(s['ci95'], 2)}",
             f"{s['numerator_runs']} / {s['denominator_runs']}"] for s in summary["speedups"]]
    lines += _table(["ratio", "task B", "means", "ratio [95% CI]", "runs"], rows) if rows else [
        "No pair of modes to compare.", ""]

    lines += ["## Learned first vs learned second (PathNet)", "",
              "First: the pair as task A; second: the same pair as task B after the other "
              "pair (the opposite ordering). Ratio first / second: > 1 means transfer.", ""]
    rows = []
    for s in summary["first_vs_second"]:
        tf1 = s.get("tf1")
        rows.append([s["task"], f"{_f(s['numerator_mean'])} → {_f(s['denominator_mean'])}",
                     f"**{_f(s['ratio'], 2)}** {_ci(s['ci95'], 2)}",
                     f"{s['numerator_runs']} / {s['denominator_runs']}",
                     "–" if not tf1 else f"{tf1[0]} → {tf1[1]} ({tf1[0] / tf1[1]:.2f})"])
    lines += _table(["pair", "mean gens first → second", "ratio [95% CI]", "runs",
                     "TF1 code"], rows) if rows else ["No digit pair was learned both first "
                                                      "and second.", ""]

    overlap = summary["overlap"]
    if overlap:
        lines += ["## Overlap of the two best paths (PathNet)", "",
                  f"Modules task B's best path shares with task A's (of "
                  f"{overlap['path_modules'] or '?'} per path). The TF1 README: 3-5 "
                  "overlapping modules best, more than 5 worse.", ""]
        tables = {"all": overlap["all"], **overlap["per_ordering"]}
        seen = [v for v, n in overlap["all"]["counts"].items() if n]
        values = [str(v) for v in range(int(seen[-1]) + 1)] if seen else []

        def cell(table, key):
            entry = table["bands"].get(key) or table["by_value"].get(key)
            if not entry or not entry["runs"]:
                return "0"
            return f"{entry['runs']}: {_f(entry['task_b_generations_mean'])}"

        rows = [[v] + [cell(t, v) for t in tables.values()] for v in values]
        rows += [[f"**{b}**"] + [cell(t, b) for t in tables.values()]
                 for b in ("0-2", "3-5", "6+")]
        rows += [["mean overlap"] + [_f(t["mean"], 2) for t in tables.values()]]
        lines += ["Cells: runs: their mean task-B generations.", ""]
        lines += _table(["overlap"] + [_arrow(n) if n != "all" else "all orderings"
                                       for n in tables], rows)

    lines += ["## Against the paper and the TF1 code", ""]
    by_mode = summary["task_b_by_mode"]
    ours_ind = by_mode.get("independent", {}).get("all")
    ours_pn = by_mode.get("pathnet", {}).get("all")
    speed = _overall(summary["speedups"], "independent / pathnet")
    finetune = _overall(summary["speedups"], "finetune / pathnet")
    rows = [["task B mean gens, independent", str(PAPER["independent_generations"]), "–",
             "–" if not ours_ind else f"{_f(ours_ind['generations_mean'])} "
             f"{_ci(ours_ind['generations_mean_ci95'])}"],
            ["task B mean gens, PathNet", str(PAPER["pathnet_generations"]), "–",
             "–" if not ours_pn else f"{_f(ours_pn['generations_mean'])} "
             f"{_ci(ours_pn['generations_mean_ci95'])}"],
            ["speedup independent / PathNet", f"{PAPER['speedup']} (229/167 = 1.37)", "–",
             "–" if not speed else f"{_f(speed['ratio'], 2)} {_ci(speed['ci95'], 2)}"],
            ["speedup fine-tune / PathNet", "–", "–",
             "–" if not finetune else f"{_f(finetune['ratio'], 2)} "
             f"{_ci(finetune['ci95'], 2)}"]]
    ours_first = {s["task"]: s for s in summary["first_vs_second"]}
    for pair, (first, second) in TF1["first_second"].items():
        s = ours_first.get(pair)
        rows.append([f"{pair} first → second", "–",
                     f"{first} → {second} ({first / second:.2f})",
                     "–" if not s else f"{_f(s['numerator_mean'])} → "
                     f"{_f(s['denominator_mean'])} ({_f(s['ratio'], 2)} {_ci(s['ci95'], 2)})"])
    rows.append(["mean overlap of the best paths", "–",
                 f"≈{TF1['mean_overlap']} of {TF1['path_modules']}",
                 "–" if not overlap else f"{_f(overlap['all']['mean'], 2)} of "
                 f"{overlap['path_modules'] or '?'}"])
    rows.append(["threshold", str(PAPER["threshold"]), str(TF1["threshold"]),
                 str(settings.get("threshold", "–"))])
    lines += _table(["measure", "paper", "TF1 code (1000 runs/ordering)", "ours"], rows)
    lines += [f"Paper: {PAPER['note']}. TF1 code: {TF1['note']}.", ""]
    if figures:
        lines += ["## Figures", ""] + [f"![{pathlib.Path(f).stem}]({f})" for f in figures] + [""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------- main


def report(root: str | pathlib.Path, out: str | pathlib.Path | None = None,
           figures: bool = True, seed: int = 0, resamples: int = RESAMPLES) -> dict:
    """Reads the runs below `root`, writes summary.json, summary.md (and figures/*.png)
    into `out` (default `root`); returns the summary."""
    root = pathlib.Path(root)
    if not root.is_dir():
        raise ValueError(f"results directory {str(root)!r} does not exist")
    out = pathlib.Path(out) if out is not None else root
    runs, skipped = load_runs(root)
    if not runs:
        raise ValueError(f"no usable results.json below {str(root)!r}"
                         + (f" ({len(skipped)} unreadable)" if skipped else ""))
    summary = summarize(runs, skipped, seed=seed, resamples=resamples, root=str(root))
    drawn = []
    if figures:
        from pathnet_tf import plotting

        drawn = [str(p.relative_to(out)) for p in plotting.plot_all(runs, summary,
                                                                    out / "figures")]
    summary["figures"] = drawn
    atomic_io.write_json(out / "summary.json", summary)
    atomic_io.write_text(out / "summary.md", to_markdown(summary, drawn))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pathnet_tf.report",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dir", help="folder searched (recursively) for results.json")
    parser.add_argument("--out", help="where summary.json, summary.md and figures/ go "
                        "(default: RESULTS_DIR)")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    parser.add_argument("--resamples", type=int, default=RESAMPLES,
                        help="bootstrap resamples per statistic")
    args = parser.parse_args(argv)
    if args.resamples < 1:
        parser.error(f"--resamples ({args.resamples}) must be a positive integer")
    try:
        summary = report(args.results_dir, args.out, figures=not args.no_figures,
                         seed=args.seed, resamples=args.resamples)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    out = pathlib.Path(args.out or args.results_dir)
    per_mode = ", ".join(f"{m} {n}" for m, n in summary["runs_per_mode"].items())
    print(f"{summary['num_runs']} runs ({per_mode}); "
          f"{len(summary['skipped_files'])} unreadable; wrote {out / 'summary.json'}, "
          f"{out / 'summary.md'}" + (f" and {len(summary['figures'])} figures in "
                                     f"{out / 'figures'}" if summary["figures"] else ""))
    for speedup in summary["speedups"] + [dict(s, comparison="first / second")
                                          for s in summary["first_vs_second"]]:
        print(f"  {speedup['comparison']} ({speedup.get('task_b', speedup.get('task'))}): "
              f"{speedup['ratio']:.2f} [{speedup['ci95'][0]:.2f}, {speedup['ci95'][1]:.2f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
