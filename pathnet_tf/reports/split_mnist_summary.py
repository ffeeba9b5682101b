"""Split MNIST runs summarised per mode: per task the generations, the test accuracy
when learned and at the end, the forgetting and the modules frozen after it (runs of
`experiments/split_mnist.py`).

    python -m pathnet_tf.reports.split_mnist_summary RUNS_DIR [--out DIR]

writes summary.json and summary.md.
"""

from __future__ import annotations

import json
import pathlib
import statistics
import sys
from collections.abc import Sequence

from pathnet_tf.reports import summary_cli


def _mean_sd(values: Sequence[float]) -> dict:
    values = list(values)
    return {"mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}


def summarize(root) -> dict:
    """Per mode, over every run below `root` (results.json files with a `tasks` list of
    the same task names): per task the generations, the test accuracy when learned and
    at the end, the forgetting (the difference) and the modules frozen after it; per
    run the mean final test accuracy."""
    root = pathlib.Path(root)
    by_mode: dict[str, list[dict]] = {}
    for path in sorted(root.rglob("results.json")):
        results = json.loads(path.read_text())
        if results.get("tasks") and all(results["tasks"]):
            by_mode.setdefault(results["mode"], []).append(results)
    if not by_mode:
        raise ValueError(f"no Split MNIST results.json below {str(root)!r}")
    summary = {}
    for mode, runs in by_mode.items():
        names = [t["name"] for t in runs[0]["tasks"]]
        if any([t["name"] for t in r["tasks"]] != names for r in runs):
            raise ValueError(f"runs of mode {mode} below {str(root)!r} learn different tasks")
        tasks = []
        for index, name in enumerate(names):
            learned = [r["tasks"][index]["test_accuracy"] for r in runs]
            final = [r["final_test_accuracy"][index] for r in runs]
            tasks.append({
                "name": name,
                "generations": _mean_sd(r["tasks"][index]["generations"] for r in runs),
                "solved": sum(r["tasks"][index]["solved"] for r in runs),
                "test_accuracy_learned": _mean_sd(learned),
                "test_accuracy_final": _mean_sd(final),
                "forgetting": _mean_sd(a - b for a, b in zip(learned, final)),
                "frozen_modules": _mean_sd(r["frozen_modules"][index] for r in runs)})
        summary[mode] = {
            "runs": len(runs), "seeds": sorted(r["seed"] for r in runs), "tasks": tasks,
            "mean_final_test_accuracy": _mean_sd(
                statistics.fmean(r["final_test_accuracy"]) for r in runs)}
        if all(r.get("continual") for r in runs):  # runs that recorded R (continual.py)
            for name in ("acc", "bwt", "fwt"):
                values = [r["continual"][name] for r in runs]
                if None not in values:
                    summary[mode][name] = _mean_sd(values)
    return summary


def summary_markdown(summary: dict) -> str:
    lines = []
    for mode, entry in summary.items():
        final = entry["mean_final_test_accuracy"]
        lines += [f"## {mode}: {entry['runs']} runs (seeds {entry['seeds']})", "",
                  "| task | generations | solved | test accuracy when learned | at the end "
                  "| forgetting | frozen modules after it |", "|---|---|---|---|---|---|---|"]
        for task in entry["tasks"]:
            lines.append(
                f"| {task['name']} | {task['generations']['mean']:.1f} | "
                f"{task['solved']}/{entry['runs']} | "
                f"{task['test_accuracy_learned']['mean']:.4f} | "
                f"{task['test_accuracy_final']['mean']:.4f} | "
                f"{task['forgetting']['mean']:.4f} | {task['frozen_modules']['mean']:.1f} |")
        lines += ["", f"Mean final test accuracy over the tasks: **{final['mean']:.4f}** "
                  f"(sd {final['sd']:.4f} over runs, min {final['min']:.4f}, max "
                  f"{final['max']:.4f}).", ""]
        shown = [f"{name.upper()} {entry[name]['mean']:.4f} (sd {entry[name]['sd']:.4f})"
                 for name in ("acc", "bwt", "fwt") if name in entry]
        # the accuracy matrix's summaries (python -m pathnet_tf.reports.continual_summary)
        if shown:
            lines += ["Continual-learning metrics (docs/continual.md): " + ", ".join(shown)
                      + ".", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    return summary_cli.main(
        argv, prog="python -m pathnet_tf.reports.split_mnist_summary",
        description="Summarise Split MNIST runs per mode.",
        out_help="summary.json and summary.md", summarize=summarize,
        markdown=summary_markdown)


if __name__ == "__main__":
    sys.exit(main())
