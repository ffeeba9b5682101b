"""summary.md: the numbers of summary.json as Markdown tables, for `pathnet_tf.reports.report`.

What belongs here: `to_markdown` and its table and number formatting helpers, and the
numbers ours are set against (`PAPER`, `TF1`: the paper's and the TF1 code's, also
copied into summary.json by `pathnet_tf.reports.report.summarize`). Reads only the summary
dict; no statistics are computed here. NumPy-free, no TensorFlow.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Sequence

from pathnet_tf.runs.modes import MODES

# The numbers this project is measured against (docs/protocol.md, sections 2 and 3).
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
             "threshold 0.99; an earlier version of its README (about earlier runs) said 3-5 "
             "overlapping modules were best; in its final logs (results/tf1_logs) task B's "
             "generations barely change with the overlap"),
}


def _mode_name(mode: str) -> str:
    return MODES[mode].label if mode in MODES else mode


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
    rows = [[" / ".join(_mode_name(m) for m in s["comparison"].split(" / ")),
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
                  f"{overlap['path_modules'] or '?'} per path). An earlier TF1 README "
                  "said 3-5 overlapping modules were best; its final logs "
                  "(results/tf1_logs) barely change with the overlap.", ""]
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
