"""The MinAtar transfer experiment's report: every `results.json` under a directory,
grouped by game pair and mode, into `summary.json`, `summary.md` and a figure of game
B's learning curves (mean and 95% bootstrap band per mode, one panel per pair).

    python -m pathnet_tf.rl.report results/minatar

Speedup, as we reconstruct the paper's: on game B, the target is the best value of
the independent control's mean learning curve (the moving average of the last 100
episodes' returns, averaged over seeds at each logged frame count); a mode's
frames-to-target is the first logged frame count at which its mean curve reaches the
target; speedup = independent's frames-to-target / the mode's (> 1: faster than
learning B from scratch). Its 95% interval resamples the seeds of each mode (and of
the control, so the target moves too) with replacement. The independent control
never plays game A: its runs on game B serve every pair ending with game B. A
resample in which the mode never reaches the target counts as speedup 0
(`not_reached` says how often).
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections import defaultdict

import numpy as np

from pathnet_tf.files.atomic_io import write_json, write_text
from pathnet_tf.reports import stats
from pathnet_tf.runs.modes import MODES

RESAMPLES = 1000


def load_runs(directory) -> list[dict]:
    """Every finished run (`results.json` with both games' entries as its mode has
    them) under `directory`, sorted by path."""
    runs = []
    for path in sorted(pathlib.Path(directory).rglob("results.json")):
        results = json.loads(path.read_text())
        if results.get("game_b") and "config" in results:
            results["path"] = str(path.parent)
            runs.append(results)
    return runs


def curves(runs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Game B's curves of `runs` on their common frame grid: `(frames [K], values
    [runs, K])`; a point before the first finished episode takes the first value."""
    length = min(len(run["game_b"]["curve"]) for run in runs)
    frames = np.array([point[0] for point in runs[0]["game_b"]["curve"][:length]], float)
    values = []
    for run in runs:
        row = np.array([np.nan if p[1] is None else p[1]
                        for p in run["game_b"]["curve"][:length]])
        first = row[~np.isnan(row)][0] if (~np.isnan(row)).any() else 0.0
        values.append(np.where(np.isnan(row), first, row))
    return frames, np.array(values)


def frames_to(frames: np.ndarray, curve: np.ndarray, target: float) -> float | None:
    reached = np.flatnonzero(curve >= target)
    return float(frames[reached[0]]) if reached.size else None


def speedup(frames, control: np.ndarray, mode: np.ndarray, seed: int, key: str) -> dict:
    """Speedup of `mode` (seeds × curve points) over `control` (module docstring)."""
    def point(control_rows, mode_rows):
        control_curve = control_rows.mean(axis=0)
        target = control_curve.max()
        needed = frames_to(frames, control_curve, target)
        achieved = frames_to(frames, mode_rows.mean(axis=0), target)
        return target, needed, achieved

    target, needed, achieved = point(control, mode)
    rng = stats.stream(seed, key)
    replicates, missed = [], 0
    for _ in range(RESAMPLES):
        _, n, a = point(control[rng.integers(0, len(control), len(control))],
                        mode[rng.integers(0, len(mode), len(mode))])
        missed += a is None
        replicates.append(0.0 if a is None else n / a)
    return {"target_return": float(target), "control_frames": needed,
            "mode_frames": achieved,
            "speedup": None if achieved is None else needed / achieved,
            "ci95": stats.interval(np.array(replicates)),
            "not_reached": missed / RESAMPLES}


def _plays_game_a(run: dict) -> bool:
    """Whether the run's mode learns game A (the modes table's `train_earlier`; False
    for the independent control, which learns game B from scratch)."""
    return MODES[run["mode"]].train_earlier


def grouped(runs: list[dict]) -> dict:
    """`{(game_a, game_b): {mode: [runs]}}`. A mode that never plays game A (the
    independent control) has its runs on game B join every pair that ends with game B."""
    pairs = {(r["games"][0], r["games"][1]) for r in runs if _plays_game_a(r)}
    pairs |= {(r["games"][0], r["games"][1]) for r in runs
              if not _plays_game_a(r) and not any(b == r["games"][1] for _, b in pairs)}
    budgets = {run["game_b"]["frames"] for run in runs}
    if len(budgets) > 1:
        raise ValueError(f"the runs have different frame budgets on game B "
                         f"({sorted(budgets)}); report each budget's runs on their own")
    groups = {pair: defaultdict(list) for pair in sorted(pairs)}
    for run in runs:
        for (a, b), modes_of_pair in groups.items():
            if b == run["games"][1] and (not _plays_game_a(run) or a == run["games"][0]):
                modes_of_pair[run["mode"]].append(run)
    return groups


def summarize(runs: list[dict], seed: int = 0) -> dict:
    summary = {"pairs": []}
    for (a, b), groups in grouped(runs).items():
        entry = {"game_a": a, "game_b": b, "modes": {}}
        # The speedups are over the from-scratch control: the first mode of the table
        # that learns game B alone.
        scratch = [m for m in MODES if not MODES[m].train_earlier and groups.get(m)]
        control = curves(groups[scratch[0]]) if scratch else None  # (frames, values)
        for mode in MODES:
            members = groups.get(mode)
            if not members:
                continue
            frames, values = curves(members)
            finals = [run["game_b"]["mean_return_last_100"] or 0.0 for run in members]
            record = {
                "runs": len(members), "seeds": sorted(r["config"]["seed"] for r in members),
                "frames": members[0]["game_b"]["frames"],
                "final_return": stats.describe(finals, seed, f"{a}/{b}/{mode}/final"),
                "game_a_final_return": (stats.describe(
                    [r["game_a"]["mean_return_last_100"] or 0.0 for r in members], seed,
                    f"{a}/{b}/{mode}/a") if members[0]["game_a"] else None),
                "curve_frames": frames.tolist(), "curve_mean": values.mean(0).tolist()}
            if control and MODES[mode].train_earlier:
                control_frames, control_values = control
                length = min(len(frames), len(control_frames))
                record["speedup"] = speedup(frames[:length], control_values[:, :length],
                                            values[:, :length], seed, f"{a}/{b}/{mode}")
            entry["modes"][mode] = record
        summary["pairs"].append(entry)
    return summary


def markdown(summary: dict) -> str:
    lines = ["| game A → game B | mode | runs | game B return, last 100 episodes (mean, "
             "95% CI) | speedup over independent (95% CI) |", "|---|---|---|---|---|"]
    for entry in summary["pairs"]:
        for mode, record in entry["modes"].items():
            final = record["final_return"]
            cell = f"{final['mean']:.2f} [{final['mean_ci95'][0]:.2f}, {final['mean_ci95'][1]:.2f}]"
            if "speedup" in record:
                s = record["speedup"]
                value = "not reached" if s["speedup"] is None else f"{s['speedup']:.2f}"
                speed = (f"{value} [{s['ci95'][0]:.2f}, {s['ci95'][1]:.2f}] (target "
                         f"{s['target_return']:.2f}; missed in {s['not_reached']:.0%} of "
                         "resamples)")
            else:
                speed = "1 (the control)"
            lines.append(f"| {entry['game_a']} → {entry['game_b']} | {MODES[mode].label} | "
                         f"{record['runs']} | {cell} | {speed} |")
    return "\n".join(lines) + "\n"


def figure(runs: list[dict], path, seed: int = 0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = grouped(runs)
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.8), squeeze=False)
    rng = stats.stream(seed, "figure")
    for axis, ((a, b), members) in zip(axes[0], groups.items()):
        for mode in MODES:
            chosen = members.get(mode)
            if not chosen:
                continue
            frames, values = curves(chosen)
            replicates = np.array([values[rng.integers(0, len(values), len(values))].mean(0)
                                   for _ in range(RESAMPLES)])
            low, high = np.percentile(replicates, [2.5, 97.5], axis=0)
            axis.plot(frames, values.mean(0), color=MODES[mode].color,
                      label=f"{MODES[mode].label} ({len(chosen)})")
            axis.fill_between(frames, low, high, color=MODES[mode].color, alpha=0.2)
        axis.set_title(f"{a} → {b}")
        axis.set_xlabel("frames of game B")
        axis.set_ylabel("return, moving average of 100 episodes")
        axis.legend(fontsize=8)
    fig.tight_layout()

    from pathnet_tf.files.atomic_io import write_atomic

    write_atomic(path, lambda temporary: fig.savefig(temporary, dpi=110))
    plt.close(fig)


def main(argv) -> None:
    if len(argv) != 2:
        sys.exit("usage: python -m pathnet_tf.rl.report DIRECTORY")
    directory = pathlib.Path(argv[1])
    runs = load_runs(directory)
    if not runs:
        sys.exit(f"error: no finished results.json under {str(directory)!r}")
    try:
        summary = summarize(runs)
    except ValueError as error:
        sys.exit(f"error: {error}")
    write_json(directory / "summary.json", summary)
    write_text(directory / "summary.md", markdown(summary))
    figure(runs, directory / "curves.png")
    print(markdown(summary), end="")


if __name__ == "__main__":
    main(sys.argv)
