"""Split MNIST, the standard continual-learning benchmark: five binary tasks in
sequence (0v1, 2v3, 4v5, 6v7, 8v9), clean images, one head per task (task-
incremental). `run(config, workdir)` is what `split_mnist_pathnet.py` calls.

After the last task every task's best path is evaluated again on its own test split
(`final_test_accuracy` in results.json). Under PathNet that equals, exactly, its
accuracy right after it was learned: its modules are frozen and its head is its own.
Under fine-tuning the earlier tasks' accuracies show what they forgot.
"""

from __future__ import annotations

from collections.abc import Callable

from pathnet_tf import binary_mnist
from pathnet_tf import data as data_lib
from pathnet_tf.config import SplitMnistConfig


def run(config: SplitMnistConfig, workdir, log: Callable[[str], None] = print,
        mnist: data_lib.Mnist | None = None, resume: bool = True,
        checkpoint_every: int = 25) -> dict:
    """Runs the task sequence into `workdir`, logs the per-task table; returns the
    results (as `binary_mnist.run_pairs`)."""
    results = binary_mnist.run_pairs(config, config.tasks, workdir, log, mnist=mnist,
                                     resume=resume, checkpoint_every=checkpoint_every)
    log(table(results))
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
    return "\n".join(lines)
