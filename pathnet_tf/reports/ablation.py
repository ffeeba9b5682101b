"""The TF1 gap taken apart: campaigns under protocol conditions, and their report.

    python -m pathnet_tf.reports.ablation list                     # the conditions and their flags
    python -m pathnet_tf.reports.ablation run tf1 paper+tournament --runs=50 --jobs=2
    python -m pathnet_tf.reports.ablation report                   # results/ablation/summary.*

A **condition** is a set of values of the protocol switches (`protocol.SWITCHES`):
`paper` (the defaults), `tf1` (the TF1 code's protocol, `--protocol=tf1`), one TF1
deviation switched on from the paper protocol (`paper+<switch>`), or one switched off
from the TF1 protocol (`tf1-<switch>`, leave-one-out); more changes chain
(`tf1-frozen_path-tournament`: the TF1 protocol with the paper's fair tournament and
unforced paths). `run` runs each condition's
campaign with `auto_binary_mnist_pathnet.sh` (the four orderings, PathNet unless
`--modes` says more) into `ROOT/<condition>/`; it is resumable like the script.

`report` reads every condition folder below ROOT with `pathnet_tf.reports.report` and writes
into OUT: `runs_<condition>.csv` (one row per run), `summary.json` and `summary.md`
(per condition: the first / second ratio
per digit pair and pooled with bootstrap CIs, mean task-B generations, solved
fraction, test accuracy, and the controls' task-B generations where they ran), the
reproduction table (the `tf1` condition against the TF1 code's logs,
`results/tf1_logs`, both counted from 1: each mean within ±15 %? each ratio's CI
holding the logs' ratio?), `forest.png` (each condition's pooled ratio with its CI,
1 and the logs' ratio marked) and `tf1_histograms.png` (generations of each pair
learned first and second, ours under `tf1` beside the logs'). NumPy and matplotlib
only: no TensorFlow, so it runs while campaigns run.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
from collections.abc import Sequence

import numpy as np

from pathnet_tf.experiments import protocol
from pathnet_tf.files import atomic_io
from pathnet_tf.reports import report, stats, tf1_logs
from pathnet_tf.reports.stats import RESAMPLES, add_bootstrap_arguments, check_bootstrap_arguments
from pathnet_tf.runs.modes import MODES, REFERENCE

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The campaign script ships inside the package, so an installed pathnet_tf runs it too.
CAMPAIGN_SCRIPT = (pathlib.Path(__file__).resolve().parents[1] / "scripts"
                   / "auto_binary_mnist_pathnet.sh")
ORDERINGS = "1,3:1,2 1,2:1,3 4,5:6,7 6,7:4,5"
TOLERANCE = 0.15  # the reproduction target: each mean within ±15 % of the logs'


# The listed conditions: the two presets, each TF1 deviation switched on from the paper
# protocol, and each switched off from the TF1 protocol (leave-one-out).
LISTED = ("paper", "tf1", *(f"paper+{name}" for name in protocol.SWITCHES),
          *(f"tf1-{name}" for name in protocol.SWITCHES))

# Conditions of more than one change that the ablation runs besides the 20 above.
# `tf1-frozen_path-tournament`: the TF1 protocol with the paper's fair tournament and
# unforced paths, the two choices the paper's claim needs (docs/protocol.md, sections 2-3).
COMPOUND = ("tf1-frozen_path-tournament",)

# Transfer switches (docs/transfer.md), added to a condition as `~<name>`: not TF1
# deviations, ingredients that could let a later task use the frozen path.
# fresh_noise: noise drawn afresh per minibatch, so a task can no longer be solved by
# fitting one fixed noisy training set; its threshold 0.97 is about the test accuracy the
# paper's protocol reaches (0.965 on 1v3, results/self_transfer), as 0.998 is out of reach
# then (a fresh draw of 50 % salt-and-pepper leaves ~3 % of the images ambiguous).
TRANSFER_SWITCHES = {
    "seeded": ("--seed_fraction=1",),  # task B's whole population on task A's best path
    "seeded25": ("--seed_fraction=0.25",),  # a quarter of it
    "fresh_noise": ("--noise_draw=per_batch", "--threshold=0.97"),
    "fresh_noise95": ("--noise_draw=per_batch", "--threshold=0.95"),
    "clean": ("--noise=0",),  # no noise at all (the paper's images are noisy)
}
# `@self`: the positive control, each digit pair learned twice (task B = task A).
SELF_ORDERINGS = "1,3:1,3 6,7:6,7"
# The self-transfer conditions the report lists first (`self` is `paper@self`).
SELF = ("self", "tf1@self", "paper~seeded@self", "paper~clean@self",
        "paper~clean~seeded@self", "paper~fresh_noise@self", "paper~fresh_noise~seeded25@self",
        "paper~fresh_noise~seeded@self", "paper~fresh_noise95@self",
        "paper~fresh_noise95~seeded25@self")


def _parts(name: str) -> tuple[str, list[str], bool]:
    """`name` -> (the protocol part, the transfer switches, self-transfer?)."""
    if name == "self":
        name = "paper@self"
    core, at, tail = name.partition("@")
    if at and tail != "self":
        raise ValueError(f"condition ({name!r}) may end in @self (each pair learned twice), "
                         f"not @{tail}")
    protocol_part, *transfers = core.split("~")
    for transfer in transfers:
        if transfer not in TRANSFER_SWITCHES or transfers.count(transfer) > 1:
            raise ValueError(f"condition ({name!r}): each ~<switch> once, one of "
                             f"{', '.join(TRANSFER_SWITCHES)}")
    return protocol_part, transfers, bool(at)


def condition_orderings(name: str) -> str:
    """The task orderings a condition's campaign runs: the four of results/ablation, or
    under `@self` each pair learned twice."""
    return SELF_ORDERINGS if _parts(name)[2] else ORDERINGS


def condition_switches(name: str) -> dict:
    """The switches' values of condition `name`: a base (`paper` or `tf1`) then any
    number of `+<switch>` (the TF1 code's value) and `-<switch>` (the paper's value),
    e.g. `tf1-frozen_path-tournament`. Switch names have no `+` or `-` in them. Then,
    optionally, transfer switches `~<name>` (`TRANSFER_SWITCHES`, flags beside the
    protocol's) and `@self` (`condition_orderings`); `self` is `paper@self`."""
    base, *changes = re.split(r"(?=[+-])", _parts(name)[0])
    bad = base not in protocol.PROTOCOLS or any(
        change[1:] not in protocol.SWITCHES for change in changes)
    if bad or len({change[1:] for change in changes}) < len(changes):
        raise ValueError(
            f"condition ({name!r}) must be one of {', '.join(LISTED)}, or a base "
            f"(paper, tf1) then +<switch> / -<switch>, each switch once, of "
            f"{', '.join(protocol.SWITCHES)}")
    values = dict(protocol.preset(base))
    for change in changes:
        source = "tf1" if change[0] == "+" else "paper"
        values[change[1:]] = protocol.preset(source)[change[1:]]
    return values


# name -> the switches' values (every switch, so a run's flags say all of them)
CONDITIONS = {name: condition_switches(name) for name in LISTED}


def condition_flags(name: str) -> list[str]:
    """The flags of condition `name`: every switch given explicitly, then its transfer
    switches' flags (a transfer switch's value wins, e.g. fresh_noise's threshold)."""
    values = {f"--{key}": str(value) for key, value in condition_switches(name).items()}
    for transfer in _parts(name)[1]:
        values.update(flag.split("=", 1) for flag in TRANSFER_SWITCHES[transfer])
    return [f"{key}={value}" for key, value in values.items()]


# ------------------------------------------------------------------------------ running


def run(names: Sequence[str], root, runs: int, jobs: int, batch: int, modes: str,
        extra: str = "") -> int:
    """Runs each condition's campaign in turn; returns the first non-zero exit status.

    A SIGTERM or SIGINT sent to this process reaches the running campaign (which stops
    its runs, each writing a checkpoint) and no later condition starts: the status is
    then 128 + the signal's number, and the same command continues where it stopped.
    """
    for name in names:
        condition_flags(name)  # every name checked before anything runs
    status = 0
    for name in names:
        env = dict(os.environ, RESULTS_DIR=str(pathlib.Path(root) / name), RUNS=str(runs),
                   JOBS=str(jobs), BATCH=str(batch), MODES=modes,
                   ORDERINGS=condition_orderings(name),
                   EXTRA_FLAGS=" ".join([*condition_flags(name), *extra.split()]),
                   REPORT_FLAGS="--no-figures")
        print(f"=== condition {name}: {env['EXTRA_FLAGS']}", flush=True)
        returncode, stopped_by = _run_forwarding_stops(["bash", str(CAMPAIGN_SCRIPT)], env)
        if stopped_by:
            print(f"stopped by {signal.Signals(stopped_by).name} during condition {name}: "
                  "rerun the same command to continue", file=sys.stderr, flush=True)
            return 128 + stopped_by
        status = status or returncode
    return status


def _run_forwarding_stops(command: list[str], env: dict) -> tuple[int, int]:
    """Runs `command`, passing on a SIGTERM or SIGINT this process receives meanwhile.

    Returns (its exit status, the first signal passed on or 0). Without this a SIGTERM
    (what Slurm and Ray send) would end this process alone and leave the campaign's
    runs going, orphaned.
    """
    received, children = [], []

    def forward(signum, frame):
        received.append(signum)
        for child in children:
            child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward)
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        children.append(subprocess.Popen(command, env=env))
        for signum in received:  # a stop that came while the command was starting
            children[0].send_signal(signum)
        returncode = children[0].wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return returncode, (received[0] if received else 0)


# ------------------------------------------------------------------------------ summary


def summarize_condition(folder, seed: int = 0, resamples: int = RESAMPLES) -> dict | None:
    """One condition's numbers from its runs (None if it has no runs yet)."""
    runs, skipped = report.load_runs(folder)
    pathnet = [r for r in runs if r["mode"] == REFERENCE]
    if not pathnet:
        return None
    summary = report.summarize(runs, skipped, seed=seed, resamples=resamples,
                               root=str(folder))
    ratios = {entry["task"]: {key: entry[key] for key in (
        "ratio", "ci95", "numerator_mean", "denominator_mean", "numerator_runs",
        "denominator_runs")} for entry in summary["first_vs_second"]}
    medians = first_over_second_medians(pathnet, seed, resamples)
    tasks = [r[role] for r in pathnet for role in ("task_a", "task_b")]
    accuracy = [t["test_accuracy"] for t in tasks if t.get("test_accuracy") is not None]
    task_b = {mode: {key: entry["all"][key] for key in (
        "runs", "generations_mean", "generations_mean_ci95", "solved_fraction")}
        for mode, entry in summary["task_b_by_mode"].items()}
    return {"runs": len(runs), "runs_per_mode": summary["runs_per_mode"],
            "seeds_per_ordering": {o: sum(r["ordering"] == o for r in pathnet)
                                   for o in sorted({r["ordering"] for r in pathnet})},
            "first_over_second": ratios, "first_over_second_medians": medians,
            "overlap": overlap_of(pathnet, seed, resamples), "task_b": task_b,
            "solved_fraction": float(np.mean([t["solved"] for t in tasks])),
            "solved_fraction_by_role": {role: float(np.mean([r[role]["solved"] for r in pathnet]))
                                        for role in ("task_a", "task_b")},
            "test_accuracy_mean": float(np.mean(accuracy)) if accuracy else None,
            "speedups": summary["speedups"], "settings": summary["settings"],
            "mixed_settings": summary["mixed_settings"]}


def first_over_second_medians(pathnet: Sequence[dict], seed: int = 0,
                              resamples: int = RESAMPLES) -> dict:
    """Per digit pair and pooled ("all"): the median generations learned first over the
    median learned second, with bootstrap CIs (`stats.ratio_of_medians`). Beside the
    ratio of means for conditions whose runs often stop unsolved at the generation
    limit: there the means mix learning speed with how often a task fails."""
    out = {}
    for name, first, second in report.first_second_strata(pathnet):
        strata = [[[run[role] for run in runs] for runs in side]
                  for side, role in ((first, "task_a"), (second, "task_b"))]
        ratio = stats.ratio_of_medians(
            *([[t["generations"] for t in tasks] for tasks in side] for side in strata),
            seed, f"first/second median|{name}", resamples)
        if ratio is not None:
            # Exact only if every pair on both sides has more than half its runs solved:
            # otherwise a median is the generation limit, not a measurement.
            ratio["exact"] = all(2 * sum(t["solved"] for t in tasks) > len(tasks)
                                 for side in strata for tasks in side)
            out[name] = ratio
    return out


def overlap_of(runs: Sequence[dict], seed: int = 0, resamples: int = RESAMPLES) -> dict | None:
    """The modules the two best paths share (results.json's `overlap`): runs, mean and
    its bootstrap CI (None without overlaps)."""
    values = [run["overlap"] for run in runs if run.get("overlap") is not None]
    described = stats.describe(values, seed, "overlap", resamples)
    return None if described is None else {key: described[key] for key in (
        "n", "mean", "mean_ci95")}


def logs_summary(folder, seed: int = 0, resamples: int = RESAMPLES) -> tuple[dict, dict]:
    """The TF1 logs summarised like a condition, counted from 1 (as our runs are): the
    first / second ratios per pair and pooled, and the overlap (`overlap_of`)."""
    runs = tf1_logs.to_runs(tf1_logs.load_logs(folder))
    summary = report.summarize(runs, seed=seed, resamples=resamples, root=str(folder))
    return ({entry["task"]: {key: entry[key] for key in ("ratio", "ci95", "numerator_mean",
                                                          "denominator_mean")}
             for entry in summary["first_vs_second"]}, overlap_of(runs, seed, resamples))


def reproduction(ours: dict, logs: dict) -> list[dict]:
    """Per digit pair (and pooled): our `tf1` condition's means and ratio against the
    logs', with the target checks (means within ±15 %, ratio CI holding the logs')."""
    rows = []
    for pair, theirs in logs.items():
        mine = ours.get(pair)
        if mine is None:
            continue
        first = mine["numerator_mean"] / theirs["numerator_mean"] - 1
        second = mine["denominator_mean"] / theirs["denominator_mean"] - 1
        low, high = mine["ci95"]
        rows.append({"pair": pair, "ours_first": mine["numerator_mean"],
                     "ours_second": mine["denominator_mean"],
                     "logs_first": theirs["numerator_mean"],
                     "logs_second": theirs["denominator_mean"],
                     "first_difference": first, "second_difference": second,
                     "means_within_tolerance": abs(first) <= TOLERANCE
                     and abs(second) <= TOLERANCE,
                     "ours_ratio": mine["ratio"], "ours_ratio_ci95": mine["ci95"],
                     "logs_ratio": theirs["ratio"], "logs_ratio_ci95": theirs["ci95"],
                     "ratio_ci_holds_logs_ratio": low <= theirs["ratio"] <= high})
    return rows


def _is_condition(name: str) -> bool:
    try:
        condition_switches(name)
    except ValueError:
        return False
    return True


def condition_folders(root) -> list[str]:
    """The folders below `root` named as conditions: the listed ones in their order,
    then any other condition name, sorted."""
    root = pathlib.Path(root)
    present = {f.name for f in root.iterdir() if f.is_dir()} if root.is_dir() else set()
    listed = [name for name in [*SELF, *CONDITIONS, *COMPOUND] if name in present]
    return listed + sorted(n for n in present - set(listed) if _is_condition(n))


def summarize(root, logs_folder, seed: int = 0, resamples: int = RESAMPLES) -> dict:
    root = pathlib.Path(root)
    conditions = {}
    for name in condition_folders(root):
        summary = summarize_condition(root / name, seed, resamples)
        if summary is not None:
            conditions[name] = {"flags": condition_flags(name), **summary}
    logs, logs_overlap = logs_summary(logs_folder, seed, resamples)
    tf1 = conditions.get("tf1")
    return {"root": str(root), "conditions": conditions, "tf1_logs": logs,
            "tf1_logs_overlap": logs_overlap,
            "tolerance": TOLERANCE, "counting": "generations counted from 1 (the TF1 "
            "logs count from 0: one is added to each of their runs)",
            "reproduction": reproduction(tf1["first_over_second"], logs) if tf1 else []}


# ------------------------------------------------------------------------------ outputs


def _interval(value: dict) -> str:
    low, high = value["ci95"]
    return f"{value['ratio']:.2f} [{low:.2f}, {high:.2f}]"


def _controls_markdown(summary: dict) -> list[str]:
    """The controls' table: task-B generations per mode and PathNet's speedups over
    them, for the conditions whose campaigns ran a control."""
    conditions = summary["conditions"].values()
    # The modes (in the table's order) that some condition ran beside PathNet.
    shown = [m for m in MODES if any(m in e["task_b"] for e in conditions
                                     if set(e["task_b"]) - {REFERENCE})]
    controls = [m for m in shown if m != REFERENCE]
    rows = []
    for name, entry in summary["conditions"].items():
        task_b = entry["task_b"]
        if set(task_b) <= {REFERENCE}:
            continue
        cells = []
        for mode in shown:
            value = task_b.get(mode)
            cells.append("" if value is None else
                         f"{value['generations_mean']:.1f} ({value['runs']}, "
                         f"{value['solved_fraction']:.0%} solved)")
        speedups = {s["comparison"]: s for s in entry["speedups"] if s["task_b"] == "all"}
        for control in controls:
            comparison = f"{control} / {REFERENCE}"
            cells.append(_interval(speedups[comparison]) if comparison in speedups else "")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    reference = MODES[REFERENCE].label
    header = ([MODES[m].label for m in shown]
              + [f"{MODES[m].label} / {reference}" for m in controls])
    return ["", "## The controls", "",
            "Task-B generations (mean over the four orderings' task B; runs; solved), and "
            f"{reference}'s speedups on task B: > 1 is {reference} faster. 95 % bootstrap "
            "CIs.", "", "| condition | " + " | ".join(header) + " |",
            "|---" * (len(header) + 1) + "|", *rows]


def to_markdown(summary: dict) -> str:
    lines = ["# The TF1 gap, condition by condition", "",
             "First / second: mean generations of a digit pair learned first (PathNet "
             "task A) over the same pair learned second (task B of the opposite "
             "ordering); > 1 is transfer. 95 % bootstrap CIs. " + summary["counting"] + ". "
             "Medians: the same ratio of median generations, for conditions whose runs "
             "often stop unsolved at the generation limit (they count at the limit: the "
             "means then mix speed with failure); †: more than half of some pair's runs "
             "stopped unsolved, so that pair's median is the limit, not a measurement. "
             "Solved: PathNet's task A / task B.",
             "Overlap: modules the two best paths share (mean).",
             "", "| condition | runs | first / second, all pairs | medians, all pairs | 1v3 | "
             "1v2 | 4v5 | 6v7 | task-B generations | solved | test accuracy | overlap |",
             "|---" * 12 + "|"]
    for name, entry in summary["conditions"].items():
        ratios = entry["first_over_second"]
        medians = entry.get("first_over_second_medians", {})
        cells = [_interval(ratios[p]) if p in ratios else "" for p in
                 ("all", "1v3", "1v2", "4v5", "6v7")]
        cells.insert(1, "" if "all" not in medians else _interval(medians["all"])
                     + ("" if medians["all"]["exact"] else " †"))
        task_b = entry["task_b"].get(REFERENCE, {})
        accuracy = entry["test_accuracy_mean"]
        solved = entry.get("solved_fraction_by_role")
        lines.append(f"| {name} | {entry['runs']} | " + " | ".join(cells)
                     + f" | {task_b.get('generations_mean', float('nan')):.1f} | "
                     + (f"{solved['task_a']:.2f} / {solved['task_b']:.2f}" if solved else
                        f"{entry['solved_fraction']:.3f}") + " | "
                     + ("" if accuracy is None else f"{accuracy:.4f}") + " | "
                     + _overlap_cell(entry.get("overlap")) + " |")
    lines += _controls_markdown(summary)
    logs = summary["tf1_logs"]
    lines += ["", "TF1 logs (4 × 1000 runs): " + ", ".join(
        f"{pair} {_interval(value)}" for pair, value in logs.items()), ""]
    if summary["reproduction"]:
        lines += ["## The tf1 condition against the TF1 logs", "",
                  "| pair | ours first → second | logs first → second | difference | "
                  f"within ±{TOLERANCE:.0%} | ours ratio | logs ratio | CI holds logs' |",
                  "|---" * 8 + "|"]
        for row in summary["reproduction"]:
            low, high = row["ours_ratio_ci95"]
            lines.append(
                f"| {row['pair']} | {row['ours_first']:.1f} → {row['ours_second']:.1f} | "
                f"{row['logs_first']:.1f} → {row['logs_second']:.1f} | "
                f"{row['first_difference']:+.0%} / {row['second_difference']:+.0%} | "
                f"{'yes' if row['means_within_tolerance'] else 'no'} | "
                f"{row['ours_ratio']:.2f} [{low:.2f}, {high:.2f}] | {row['logs_ratio']:.2f} | "
                f"{'yes' if row['ratio_ci_holds_logs_ratio'] else 'no'} |")
        ours = summary["conditions"]["tf1"].get("overlap")
        theirs = summary.get("tf1_logs_overlap")
        if ours and theirs:
            lines += ["", "Modules the two best paths share (of L·N), mean [95 % CI]: ours "
                      f"{_overlap_cell(ours, True)} ({ours['n']} runs), the TF1 logs "
                      f"{_overlap_cell(theirs, True)} ({theirs['n']} runs)."]
    return "\n".join(lines) + "\n"


def _overlap_cell(overlap: dict | None, interval: bool = False) -> str:
    if overlap is None:
        return ""
    low, high = overlap["mean_ci95"]
    return f"{overlap['mean']:.2f}" + (f" [{low:.2f}, {high:.2f}]" if interval else "")


def plot_forest(summary: dict, path) -> pathlib.Path:
    """Each condition's pooled first / second ratio with its CI; 1 and the logs' marked;
    the ratio of medians as a hollow diamond (apart from the dot where runs stopped
    unsolved at the generation limit: their means mix speed with failure; none, and a
    † after the name, where a median is the limit itself)."""
    from pathnet_tf.reports.plotting import new_figure, save_figure

    names = [n for n, e in summary["conditions"].items() if "all" in e["first_over_second"]]
    figure, (axes,) = new_figure(7, 0.35 * max(len(names), 2) + 1)
    medians_labelled, labels = False, []
    for row, name in enumerate(names):
        value = summary["conditions"][name]["first_over_second"]["all"]
        low, high = value["ci95"]
        color = "tab:red" if name.startswith("tf1") else "tab:blue"
        axes.plot([low, high], [row, row], color=color)
        axes.plot([value["ratio"]], [row], "o", color=color)
        median = summary["conditions"][name].get("first_over_second_medians", {}).get("all")
        exact = median is None or median.get("exact", True)
        labels.append(name if exact else name + " †")
        if median and exact:
            axes.plot([median["ratio"]], [row], "D", markerfacecolor="none", color=color,
                      label=None if medians_labelled else "ratio of medians")
            medians_labelled = True
    axes.axvline(1.0, color="black", linewidth=0.8)
    logs = summary["tf1_logs"].get("all")
    if logs:
        axes.axvspan(*logs["ci95"], color="tab:red", alpha=0.15)
        axes.axvline(logs["ratio"], color="tab:red", linestyle="--", linewidth=0.8,
                     label=f"TF1 logs {logs['ratio']:.2f}")
    if logs or medians_labelled:
        axes.legend(loc="lower right")
    axes.set_yticks(range(len(names)), labels)
    axes.invert_yaxis()
    axes.set_xlabel("first / second generations (> 1: transfer; †: a median at the limit)")
    return save_figure(figure, path)


def plot_tf1_histograms(runs: Sequence[dict], logs_runs: Sequence[dict], path) -> pathlib.Path:
    """Per digit pair: generations learned first and learned second, ours (bars) and
    the TF1 logs' (lines), as fractions of runs."""
    from pathnet_tf.reports.plotting import FIRST, SECOND, new_figure, save_figure

    pairs = ["1v3", "1v2", "4v5", "6v7"]
    figure, axes = new_figure(4, 2.6, panels=len(pairs), columns=2)
    for ax, pair in zip(axes, pairs):
        series = []
        for source in (runs, logs_runs):
            first = [r["task_a"]["generations"] for r in source
                     if r["mode"] == REFERENCE and r["task_a"]["name"] == pair]
            second = [r["task_b"]["generations"] for r in source
                      if r["mode"] == REFERENCE and r["task_b"]["name"] == pair]
            series.append((first, second))
        values = [v for pair_series in series for side in pair_series for v in side]
        top = float(np.percentile(values, 99)) if values else 1.0
        bins = np.linspace(0, max(top, 1.0), 30)
        for (first, second), ours in zip(series, (True, False)):
            for data, color, label in ((first, FIRST, "first"), (second, SECOND, "second")):
                if not data:
                    continue
                weights = np.full(len(data), 1.0 / len(data))
                if ours:
                    ax.hist(np.minimum(data, bins[-1]), bins, weights=weights, color=color,
                            alpha=0.45, label=f"ours, {label} (n={len(data)})")
                else:
                    ax.hist(np.minimum(data, bins[-1]), bins, weights=weights, color=color,
                            histtype="step", linestyle="--",
                            label=f"TF1 logs, {label} (n={len(data)})")
        ax.set_title(pair)
        ax.set_xlabel("generations to 0.99")
        ax.legend(fontsize=7)
    return save_figure(figure, path)


RUN_COLUMNS = ("mode", "ordering", "seed", "task_a_generations", "task_a_solved",
               "task_a_test_accuracy", "task_b", "task_b_generations", "task_b_solved",
               "task_b_test_accuracy", "overlap")


def run_rows(folder) -> list[dict]:
    """One condition's runs as table rows (`runs_<condition>.csv`: what the summary is
    computed from, small enough to commit where the run folders are not)."""
    runs, _ = report.load_runs(folder)
    rows = []
    for run in runs:
        row = {"mode": run["mode"], "ordering": run["ordering"], "seed": run["seed"],
               "task_b": run["task_b"]["name"], "overlap": run["overlap"]}
        for role in ("task_a", "task_b"):
            task = run[role] or {}
            row.update({f"{role}_generations": task.get("generations"),
                        f"{role}_solved": task.get("solved"),
                        f"{role}_test_accuracy": task.get("test_accuracy")})
        rows.append(row)
    return rows


def write_report(root, out, logs_folder, seed: int = 0,
                 resamples: int = RESAMPLES, figures: bool = True) -> dict:
    summary = summarize(root, logs_folder, seed, resamples)
    if not summary["conditions"]:
        raise ValueError(f"no condition below {str(root)!r} has runs yet")
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in summary["conditions"]:
        atomic_io.write_csv(out / f"runs_{name}.csv", run_rows(pathlib.Path(root) / name),
                            RUN_COLUMNS)
    if figures:
        summary["figures"] = [plot_forest(summary, out / "forest.png").name]
        if "tf1" in summary["conditions"]:
            runs, _ = report.load_runs(pathlib.Path(root) / "tf1")
            logs_runs = tf1_logs.to_runs(tf1_logs.load_logs(logs_folder))
            summary["figures"].append(
                plot_tf1_histograms(runs, logs_runs, out / "tf1_histograms.png").name)
    atomic_io.write_json(out / "summary.json", summary)
    atomic_io.write_text(out / "summary.md", to_markdown(summary))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the conditions and their flags")
    running = commands.add_parser("run", help="run conditions' campaigns")
    running.add_argument("conditions", nargs="+")
    running.add_argument("--root", default="results/ablation/runs")
    running.add_argument("--runs", type=int, default=50, help="seeds per ordering")
    running.add_argument("--jobs", type=int, default=2)
    running.add_argument("--batch", type=int, default=25)
    running.add_argument("--modes", default="pathnet")
    running.add_argument("--extra", default="", help="more flags for every run")
    reporting = commands.add_parser("report", help="summary.json, summary.md, figures")
    reporting.add_argument("--root", default="results/ablation/runs")
    reporting.add_argument("--out", default="results/ablation")
    reporting.add_argument("--logs", default=str(ROOT / "results" / "tf1_logs"))
    add_bootstrap_arguments(reporting)
    reporting.add_argument("--no-figures", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "report":
        check_bootstrap_arguments(reporting, args)
    try:
        if args.command == "list":
            for name in [*CONDITIONS, *COMPOUND, *SELF]:
                orderings = "" if name not in SELF else f" (orderings {SELF_ORDERINGS})"
                print(f"{name}: {' '.join(condition_flags(name))}{orderings}")
            return 0
        if args.command == "run":
            return run(args.conditions, args.root, args.runs, args.jobs, args.batch,
                       args.modes, args.extra)
        summary = write_report(args.root, args.out, args.logs, args.seed, args.resamples,
                               figures=not args.no_figures)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{len(summary['conditions'])} condition(s); wrote {args.out}/summary.json, "
          f"summary.md" + (", " + ", ".join(summary.get("figures", [])) if
                           summary.get("figures") else ""))
    print(json.dumps({name: entry["first_over_second"].get("all", {}).get("ratio")
                      for name, entry in summary["conditions"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
