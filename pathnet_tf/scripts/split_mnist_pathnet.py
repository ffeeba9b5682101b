"""Split MNIST with PathNet: five binary tasks learned in sequence, each task's best
path frozen for good before the next one (continual learning without forgetting).

    python split_mnist_pathnet.py                            # 0v1, 2v3, 4v5, 6v7, 8v9
    python split_mnist_pathnet.py --mode=finetune            # the contrast: forgetting
    python split_mnist_pathnet.py --tasks=0,1:2,3:4,5 --noise=0.5 --workdir=runs/split3

Writes WORKDIR/config.json, WORKDIR/results.json (a `tasks` list, and
`final_test_accuracy`: every task re-evaluated after the last one) and TensorBoard
events in WORKDIR/tb, and prints a table of the tasks at the end.

The same from an installed package: `python -m pathnet_tf.scripts.split_mnist_pathnet`
(`split_mnist_pathnet.py` in the checkout is a thin wrapper around this module).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.experiments import cli
from pathnet_tf.experiments.config import SPLIT_MNIST_TASKS, SplitMnistConfig

FLAGS = flags.FLAGS
cli.define_pathnet_flags(
    PathNetConfig(), EvolutionConfig(), units_help="ReLU units per module.",
    threshold_help="A task is solved when a winner's fitness (training accuracy) reaches it.",
    max_generations_help="Tournaments per task before giving up (the run goes on to the "
                         "next task).",
    learning_rate_help="Learning rate; default 0.05 for sgd, 0.001 for adam.")
flags.DEFINE_string("tasks", ":".join(f"{a},{b}" for a, b in SPLIT_MNIST_TASKS),
                    "The digit pairs learned in order, separated by colons.")
cli.define_mnist_flags(0.0, "Noise probability per pixel (--noise_kind; the benchmark "
                       "is run on clean images).")
cli.define_run_flags("runs/split_mnist")


def import_experiment():
    """The experiment's module, imported once the flags, data and workdir are checked."""
    from pathnet_tf.experiments import split_mnist

    return split_mnist


def run() -> None:
    cli.apply_protocol()
    config = SplitMnistConfig(tasks=FLAGS.tasks, **cli.mnist_experiment_fields())
    cli.run_mnist_experiment(config, import_experiment)


def main(argv):
    cli.run_main(argv, run)


def entry() -> None:
    """`python -m pathnet_tf.scripts.split_mnist_pathnet`, `split_mnist_pathnet.py`."""
    app.run(main, flags_parser=cli.parse_flags)


if __name__ == "__main__":
    entry()
