"""PathNet transfer between CIFAR-10 and SVHN: evolve one, freeze its best path, evolve the other.

    python cifar_svhn_pathnet.py --data_dir=~/tensorflow_datasets           # CIFAR -> SVHN
    python cifar_svhn_pathnet.py --first=svhn --workdir=runs/svhn_cifar      # SVHN -> CIFAR
    python cifar_svhn_pathnet.py --module_type=conv --workdir=runs/conv      # conv modules

The data sets come from tensorflow-datasets (`cifar10`, `svhn_cropped`); prepare them
with `tfds build cifar10 svhn_cropped --data_dir=DIR` on a machine with network access.
Writes WORKDIR/config.json, WORKDIR/results.json (test accuracy of each task's best
path, fitness curves) and TensorBoard events in WORKDIR/tb.

The same from an installed package: `python -m pathnet_tf.scripts.cifar_svhn_pathnet`
(`cifar_svhn_pathnet.py` in the checkout is a thin wrapper around this module).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf.core.shapes import PADDINGS
from pathnet_tf.experiments import cli
from pathnet_tf.experiments.config import FIRST_TASKS, MODULE_TYPES, CifarSvhnConfig
from pathnet_tf.files.workdir import prepare_workdir

_DEFAULT = CifarSvhnConfig()
FLAGS = flags.FLAGS
flags.DEFINE_string("first", _DEFAULT.first,
                    f"The data set learnt first (task A), one of {', '.join(FIRST_TASKS)}; "
                    "the other is task B.")
flags.DEFINE_string("module_type", _DEFAULT.module_type,
                    f"One of {', '.join(MODULE_TYPES)}: dense = L layers of linear ReLU "
                    "modules on the flattened images (the paper); conv = --conv_layers of "
                    "conv modules on the 32x32x3 images, then dense layers up to L.")
flags.DEFINE_string("conv_layers", ",".join(":".join(map(str, layer))
                                            for layer in _DEFAULT.conv_layers),
                    "With --module_type=conv: filters:kernel_size:stride of each conv layer "
                    "of modules (8 kernels per module as in the paper's Atari modules; "
                    "32x32 -> 14x14 -> 6x6).")
flags.DEFINE_string("conv_padding", _DEFAULT.conv_padding,
                    f"Padding of the conv modules, one of {', '.join(PADDINGS)}.")
cli.define_pathnet_flags(
    _DEFAULT.pathnet, _DEFAULT.evolution, units_help="ReLU units per dense module.",
    threshold_help="Stop a task early when a winner's fitness (training accuracy) reaches "
                   "it; 1.0 (default) runs all --max_generations in practice.",
    max_generations_help="Tournaments per task (the paper runs 500).",
    learning_rate_help="Learning rate; default 0.003 for sgd, 0.001 for adam (SGD at the "
                       "binary MNIST default 0.05 diverges on 3072 inputs in [0, 1]).")
flags.DEFINE_string("data_dir", None,
                    "tensorflow-datasets data directory holding prepared cifar10 and "
                    "svhn_cropped; default: tfds's (~/tensorflow_datasets).")
flags.DEFINE_boolean("download", False,
                     "Let tfds download and prepare a data set missing from --data_dir "
                     "(needs network access); without it a missing data set stops the run.")
flags.DEFINE_integer("max_train", None, "Use only this many training images per task.")
flags.DEFINE_boolean("jit_compile", None,
                     "Compile each tournament with XLA; default: on for dense modules, off "
                     "for conv (XLA's CPU convolutions made a tournament ~13x slower).")
cli.define_run_flags("runs/cifar_svhn")


def config_from_flags() -> CifarSvhnConfig:
    jit_compile = (FLAGS.module_type == "dense" if FLAGS.jit_compile is None
                   else FLAGS.jit_compile)
    return CifarSvhnConfig(
        pathnet=cli.pathnet_config(), evolution=cli.evolution_config(jit_compile),
        mode=FLAGS.mode, first=FLAGS.first, module_type=FLAGS.module_type,
        conv_layers=FLAGS.conv_layers, conv_padding=FLAGS.conv_padding,
        data_dir=FLAGS.data_dir, download=FLAGS.download, max_train=FLAGS.max_train,
        seed=FLAGS.seed)


def run() -> None:
    # Flags are checked before TensorFlow is even imported, the data before the
    # workdir is touched, and both before anything is trained or written.
    config = config_from_flags()
    cli.use_xla_cache()
    from pathnet_tf.experiments import cifar_svhn

    builders = cifar_svhn.prepared_builders(config)
    from pathnet_tf.evolution.training import set_threads

    set_threads(FLAGS.threads)  # before tf.data reads the data sets
    workdir = prepare_workdir(FLAGS.workdir)
    tasks = cifar_svhn.load_tasks(config, builders)
    cifar_svhn.run(config, workdir, tasks=tasks, resume=FLAGS.resume,
                   checkpoint_every=FLAGS.checkpoint_every, figures=FLAGS.figures,
                   tensorboard=FLAGS.tensorboard)


def main(argv):
    cli.run_main(argv, run)


def entry() -> None:
    """`python -m pathnet_tf.scripts.cifar_svhn_pathnet`, `cifar_svhn_pathnet.py`."""
    app.run(main, flags_parser=cli.parse_flags)


if __name__ == "__main__":
    entry()
