"""PathNet among continual-learning methods: Split MNIST or Permuted MNIST, any mode of
the table (pathnet, finetune, ewc, si, independent; the bounds separate and joint), the
accuracy matrix R and ACC / BWT / FWT in results.json (docs/continual.md).

    python continual_mnist_pathnet.py --mode=pathnet                  # Split MNIST
    python continual_mnist_pathnet.py --mode=ewc --ewc_lambda=1000 --budget=fixed \\
        --max_generations=100
    python continual_mnist_pathnet.py --benchmark=permuted --mode=si --si_c=0.5
    python continual_mnist_pathnet.py --mode=joint --budget=fixed --max_generations=100
    python -m pathnet_tf.reports.continual_summary runs/continual \
        --out results/continual  # the table

Writes WORKDIR/config.json, WORKDIR/results.json (`accuracy_matrix`,
`accuracy_baseline`, `continual`) and WORKDIR/figures/accuracy_matrix.png.

The same from an installed package: `python -m pathnet_tf.scripts.continual_mnist_pathnet`
(`continual_mnist_pathnet.py` in the checkout is a thin wrapper around this module).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.experiments import cli
from pathnet_tf.experiments.config import SPLIT_MNIST_TASKS
from pathnet_tf.experiments.continual_mnist import (
    BENCHMARKS,
    BUDGETS,
    DEFAULT_EWC_LAMBDA,
    DEFAULT_SI_C,
    DEFAULT_SI_XI,
    ContinualMnistConfig,
)

FLAGS = flags.FLAGS
cli.define_pathnet_flags(
    PathNetConfig(), EvolutionConfig(), units_help="ReLU units per module.",
    threshold_help="A task is solved when a winner's fitness (training accuracy) reaches "
                   "it (with --budget=threshold the task then ends).",
    max_generations_help="Generations per task: the most (--budget=threshold) or all "
                         "(--budget=fixed).",
    learning_rate_help="Learning rate; default 0.05 for sgd, 0.001 for adam.")
flags.DEFINE_enum("benchmark", "split", list(BENCHMARKS),
                  "split: Split MNIST (binary digit pairs, --tasks); permuted: Permuted "
                  "MNIST (--num_tasks tasks of ten digits, pixels permuted per task).")
flags.DEFINE_string("tasks", ":".join(f"{a},{b}" for a, b in SPLIT_MNIST_TASKS),
                    "Split MNIST: the digit pairs learned in order, separated by colons.")
flags.DEFINE_integer("num_tasks", 10, "Permuted MNIST: the number of tasks.")
flags.DEFINE_enum("budget", "threshold", list(BUDGETS),
                  "threshold: a task ends when a winner reaches --threshold (or after "
                  "--max_generations); fixed: every task runs --max_generations "
                  "generations, every method the same training steps.")
flags.DEFINE_float("ewc_lambda", DEFAULT_EWC_LAMBDA, "EWC's lambda (mode ewc), > 0.")
flags.DEFINE_float("ewc_gamma", None, "Online EWC's decay gamma in (0, 1] (mode ewc); "
                   "unset: one penalty per task.")
flags.DEFINE_float("si_c", DEFAULT_SI_C, "SI's c (mode si), > 0.")
flags.DEFINE_float("si_xi", DEFAULT_SI_XI, "SI's damping xi (mode si), > 0.")
flags.DEFINE_boolean("validation", False, "Test on the last tenth of each task's training "
                     "images (not trained on) instead of its test split: for sweeps.")
cli.define_mnist_flags(0.0, "Noise probability per pixel (--noise_kind; Split MNIST only; "
                       "the benchmarks are run on clean images).")
cli.define_run_flags("runs/continual")


def run() -> None:
    cli.apply_protocol()
    config = ContinualMnistConfig(
        benchmark=FLAGS.benchmark, tasks=FLAGS.tasks, num_tasks=FLAGS.num_tasks,
        budget=FLAGS.budget, ewc_lambda=FLAGS.ewc_lambda, ewc_gamma=FLAGS.ewc_gamma,
        si_c=FLAGS.si_c, si_xi=FLAGS.si_xi, validation=FLAGS.validation,
        **cli.mnist_experiment_fields())
    cli.run_mnist_experiment(config, experiment)


def experiment():
    from pathnet_tf.experiments import continual_mnist

    return continual_mnist


def main(argv):
    cli.run_main(argv, run)


def entry() -> None:
    """`python -m pathnet_tf.scripts.continual_mnist_pathnet`, `continual_mnist_pathnet.py`."""
    app.run(main, flags_parser=cli.parse_flags)


if __name__ == "__main__":
    entry()
