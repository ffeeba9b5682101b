"""Split MNIST, the standard continual-learning benchmark: five binary tasks in
sequence (0v1, 2v3, 4v5, 6v7, 8v9), clean images, one head per task (task-
incremental). `run(config, workdir)` is what `split_mnist_pathnet.py` calls.

After the last task every task's best path is evaluated again on its own test split
(`final_test_accuracy` in results.json); after every task, every task (`accuracy_matrix`,
R, and ACC / BWT / FWT, `continual.py`). Under PathNet that equals, exactly, its
accuracy right after it was learned: its modules are frozen and its head is its own.
Under fine-tuning the earlier tasks' accuracies show what they forgot.

Many runs are summarised by `python -m pathnet_tf.reports.split_mnist_summary`.
Nothing here but `run` imports TensorFlow.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable

from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.config import SplitMnistConfig


def run(config: SplitMnistConfig, workdir, log: Callable[[str], None] = print,
        mnist: data_lib.Mnist | None = None, **options) -> dict:
    """Runs the task sequence into `workdir`, logs the per-task table; returns the
    results (as `binary_mnist.run_pairs`, which takes `options` on to
    `run.run_sequence`)."""
    from pathnet_tf.experiments import binary_mnist

    results = binary_mnist.run_pairs(config, config.tasks, workdir, log, mnist=mnist,
                                     **options)
    log(table(results))
    if options.get("figures", True):
        log(f"figures in {pathlib.Path(workdir) / 'figures'}")
    return results


def table(results: dict) -> str:
    """A Markdown table of a Split MNIST run: per task its generations, test accuracy
    when learned and at the end, the modules frozen so far; the mean final accuracy."""
    lines = ["| task | generations | solved | test accuracy when learned | at the end | "
             "frozen modules after it |", "|---|---|---|---|---|---|"]
    finals = []
    for task, final, frozen in zip(results["tasks"], results["final_test_accuracy"],
                                   results["frozen_modules"]):
        if task is None:
            continue
        finals.append(final)
        lines.append(f"| {task['name']} | {task['generations']} | {task['solved']} | "
                     f"{task['test_accuracy']:.4f} | {final:.4f} | {frozen} |")
    mean = sum(finals) / len(finals)
    lines.append(f"mean final test accuracy over {len(finals)} tasks: {mean:.4f} "
                 f"({results['mode']})")
    metrics = results.get("continual") or {}
    shown = [f"{name.upper()} {metrics[name]:.4f}" for name in ("acc", "bwt", "fwt")
             if metrics.get(name) is not None]
    if shown:
        lines.append("; ".join(shown) + " (the accuracy matrix R: results.json, "
                     "figures/accuracy_matrix.png)")
    return "\n".join(lines)
