"""Aggregates repeated binary MNIST runs into summary.json, summary.md and figures.

    python -m pathnet_tf.reports.report RESULTS_DIR [--out DIR] [--no-figures]

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

Here: reading the runs (`read_run`, `load_runs`), `summarize`, `report` and the CLI.
The bootstrap statistics are in `pathnet_tf.reports.stats`, summary.md in
`pathnet_tf.reports.report_markdown`, the settings compared across runs in
`pathnet_tf.reports.report_settings`; their public names are importable from here too.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections.abc import Iterable, Sequence

import numpy as np

from pathnet_tf.files import atomic_io
from pathnet_tf.files.results_schema import version_of
from pathnet_tf.reports.report_markdown import PAPER, TF1, to_markdown
from pathnet_tf.reports.report_settings import compare_settings, run_settings
from pathnet_tf.reports.stats import (
    CONFIDENCE,
    RESAMPLES,
    add_bootstrap_arguments,
    check_bootstrap_arguments,
    describe,
    interval,
    ratio_of_means,
    resampled,
    stream,
    task_stats,
)
from pathnet_tf.runs.modes import MODES, REFERENCE

__all__ = ["CONFIDENCE", "PAPER", "RESAMPLES", "TF1", "describe", "first_second_strata",
           "load_runs", "main",
           "ratio_of_means", "read_run", "report", "summarize", "task_stats", "to_markdown"]

# ----------------------------------------------------------------------------- loading



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
    version_of(results, "this results.json")  # 1 (no version) and 2 read alike here
    config_path = path.with_name("config.json")
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    mode = results.get("mode") or config.get("mode") or "pathnet"
    task_a = _task(results.get("task_a"), "task_a")
    task_b = _task(results.get("task_b"), "task_b")
    if task_b is None:
        raise ValueError("task_b is missing")
    entry = MODES.get(mode)  # the modes table says what a run of `mode` holds
    learns_a = entry.train_earlier if entry is not None else mode != "independent"
    if learns_a and task_a is None:
        raise ValueError(f"mode {mode!r} needs task_a")
    if not learns_a:
        task_a = None  # it learns task B only
    seed = results.get("seed", config.get("seed"))
    if seed is None:
        raise ValueError("seed is missing")
    settings = run_settings(config)
    overlap = results.get("overlap")
    return {
        "file": str(path.relative_to(root)),
        "mode": str(mode),
        "seed": int(seed),
        "ordering": None if task_a is None else f"{task_a['name']}->{task_b['name']}",
        "task_a": task_a,
        "task_b": task_b,
        "overlap": None if overlap is None or not (
            entry.population if entry is not None else mode == "pathnet") else int(overlap),
        "wall_seconds": results.get("wall_seconds"),
        "settings": settings,
    }


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


def _speedups(runs, seed, resamples) -> list[dict]:
    """PathNet's task-B speedups over each control of the modes table: a mode that
    learns task B alone (`train_earlier` False: independent) over the same digit pair
    as PathNet's B; a fixed-path mode that learns both tasks (finetune, ewc, si) over
    the same ordering."""
    out = []
    pathnet_b = _by_task(runs, REFERENCE, "task_b")
    alone = [name for name, mode in MODES.items() if not mode.train_earlier]
    ordered = [name for name, mode in MODES.items()
               if mode.train_earlier and not mode.population]
    # independent / PathNet: the same digit pair learned from scratch vs as PathNet's B.
    for control in alone:
        control_b = _by_task(runs, control, "task_b")
        common = [name for name in pathnet_b if name in control_b]
        for name in common + (["all"] if len(common) > 1 else []):
            names = common if name == "all" else [name]
            ratio = ratio_of_means([_generations(control_b[n], "task_b") for n in names],
                                   [_generations(pathnet_b[n], "task_b") for n in names],
                                   seed, f"{control}/{REFERENCE}|{name}", resamples)
            if ratio is not None:
                out.append({"comparison": f"{control} / {REFERENCE}", "task_b": name,
                            "ordering": None, **ratio})
    # fine-tune / PathNet (and every other fixed-path control): the same ordering.
    for control in ordered:
        orderings = sorted({r["ordering"] for r in runs if r["mode"] == REFERENCE}
                           & {r["ordering"] for r in runs if r["mode"] == control})
        for ordering in orderings + (["all"] if len(orderings) > 1 else []):
            chosen = orderings if ordering == "all" else [ordering]
            controls = [_generations([r for r in runs if r["mode"] == control
                                      and r["ordering"] == o], "task_b") for o in chosen]
            pathnet = [_generations([r for r in runs if r["mode"] == REFERENCE
                                     and r["ordering"] == o], "task_b") for o in chosen]
            ratio = ratio_of_means(controls, pathnet, seed, f"{control}/{REFERENCE}|{ordering}",
                                   resamples)
            task_b = "all" if ordering == "all" else ordering.split("->")[1]
            if ratio is not None:
                out.append({"comparison": f"{control} / {REFERENCE}", "task_b": task_b,
                            "ordering": ordering, **ratio})
    return out


def first_second_strata(runs: Iterable[dict]) -> list[tuple[str, list[list[dict]],
                                                                list[list[dict]]]]:
    """PathNet's digit pairs learned both first and second, each alone and then pooled
    ("all", when there are two or more): (name, the runs learning it first, the runs
    learning it second), each side one list of runs per pair (the ratios' strata)."""
    first = _by_task(runs, REFERENCE, "task_a")
    second = _by_task(runs, REFERENCE, "task_b")
    common = [name for name in first if name in second]
    groups = [(name, [name]) for name in common] + ([("all", common)] if len(common) > 1 else [])
    return [(name, [first[n] for n in names], [second[n] for n in names])
            for name, names in groups]


def _first_vs_second(runs, seed, resamples) -> list[dict]:
    out = []
    for name, first, second in first_second_strata(runs):
        ratio = ratio_of_means([_generations(runs, "task_a") for runs in first],
                               [_generations(runs, "task_b") for runs in second],
                               seed, f"first/second|{name}", resamples)
        if ratio is None:
            continue
        entry = {"task": name, **ratio}
        if name != "all":
            (first,), (second,) = first, second
            entry["first_orderings"] = sorted({r["ordering"] for r in first})
            entry["second_orderings"] = sorted({r["ordering"] for r in second})
            entry["first_solved"] = sum(r["task_a"]["solved"] for r in first)
            entry["second_solved"] = sum(r["task_b"]["solved"] for r in second)
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
    settings, mixed = compare_settings(runs)
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
        replicates = resampled(strata, stream(seed, f"taskb|{mode}|all"), resamples)
        entry["all"] = {"runs": int(sum(map(len, strata))), "pairs": len(strata),
                        "generations_mean": mean, "generations_mean_ci95": interval(replicates),
                        "solved_fraction": float(np.mean([r["task_b"]["solved"] for chosen
                                                          in by_task.values() for r in chosen]))}
        task_b_by_mode[mode] = entry
    layers, active = settings.get("num_layers"), settings.get("num_active")
    path_modules = layers * active if isinstance(layers, int) and isinstance(active, int) else None
    pathnet = [r for r in runs if r["mode"] == REFERENCE]
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
        from pathnet_tf.reports import plotting

        drawn = [str(p.relative_to(out)) for p in plotting.plot_all(runs, summary,
                                                                    out / "figures")]
    summary["figures"] = drawn
    atomic_io.write_json(out / "summary.json", summary)
    atomic_io.write_text(out / "summary.md", to_markdown(summary, drawn))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pathnet_tf.reports.report",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dir", help="folder searched (recursively) for results.json")
    parser.add_argument("--out", help="where summary.json, summary.md and figures/ go "
                        "(default: RESULTS_DIR)")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    add_bootstrap_arguments(parser)
    args = parser.parse_args(argv)
    check_bootstrap_arguments(parser, args)
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
