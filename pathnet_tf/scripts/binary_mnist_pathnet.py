"""PathNet transfer on binary MNIST: evolve task A, freeze its best path, evolve task B.

    python binary_mnist_pathnet.py                      # the paper's settings, 1v3 -> 1v2
    python binary_mnist_pathnet.py --task_a=4,5 --task_b=6,7 --seed=3 --workdir=runs/45_67
    python binary_mnist_pathnet.py --protocol=tf1       # the TF1 code's protocol (README)

Writes WORKDIR/config.json, WORKDIR/results.json and TensorBoard events in WORKDIR/tb.

The same from an installed package: `python -m pathnet_tf.scripts.binary_mnist_pathnet`
(`binary_mnist_pathnet.py` in the checkout is a thin wrapper around this module).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.experiments import cli
from pathnet_tf.experiments.config import BinaryMnistConfig

FLAGS = flags.FLAGS
cli.define_pathnet_flags(
    PathNetConfig(), EvolutionConfig(), units_help="ReLU units per module.",
    threshold_help="A task is solved when a winner's fitness (training accuracy) reaches it.",
    max_generations_help="Tournaments per task before giving up (the run still ends cleanly).",
    learning_rate_help="Learning rate; default 0.05 for sgd, 0.001 for adam (README: the "
                       "sweep).")
flags.DEFINE_list("task_a", ["1", "3"], "Digit pair of the first task, e.g. 1,3.")
flags.DEFINE_list("task_b", ["1", "2"], "Digit pair of the second task, e.g. 1,2.")
cli.define_mnist_flags(0.5, "Noise probability per pixel (--noise_kind: salt-and-pepper "
                       "by default).")
cli.define_run_flags("runs/binary_mnist")


def config_from_flags() -> BinaryMnistConfig:
    cli.apply_protocol()  # --protocol's preset, for the switches not given explicitly
    return BinaryMnistConfig(task_a=",".join(FLAGS.task_a), task_b=",".join(FLAGS.task_b),
                             **cli.mnist_experiment_fields())


def import_experiment():
    """The experiment's module, imported once the flags, data and workdir are checked."""
    from pathnet_tf.experiments import binary_mnist

    return binary_mnist


def run() -> None:
    # Everything that can be wrong is checked before TensorFlow is even imported.
    cli.run_mnist_experiment(config_from_flags(), import_experiment)


def main(argv):
    cli.run_main(argv, run)


def entry() -> None:
    """`python -m pathnet_tf.scripts.binary_mnist_pathnet`, `binary_mnist_pathnet.py`."""
    app.run(main, flags_parser=cli.parse_flags)


if __name__ == "__main__":
    entry()
