"""PathNet transfer between CIFAR-10 and SVHN: evolve one, freeze its best path, evolve the other.

    python cifar_svhn_pathnet.py --data_dir=~/tensorflow_datasets           # CIFAR -> SVHN
    python cifar_svhn_pathnet.py --first=svhn --workdir=runs/svhn_cifar      # SVHN -> CIFAR
    python cifar_svhn_pathnet.py --module_type=conv --workdir=runs/conv      # conv modules

The data sets come from tensorflow-datasets (`cifar10`, `svhn_cropped`); prepare them
with `tfds build cifar10 svhn_cropped --data_dir=DIR` on a machine with network access.
Writes WORKDIR/config.json, WORKDIR/results.json (test accuracy of each task's best
path, fitness curves) and TensorBoard events in WORKDIR/tb.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf.config import (
    FIRST_TASKS,
    MODULE_TYPES,
    PADDINGS,
    CifarSvhnConfig,
    EvolutionConfig,
    PathNetConfig,
)
from pathnet_tf.data import DataError
from pathnet_tf.workdir import WorkdirError, prepare_workdir

_DEFAULT = CifarSvhnConfig()
_NET, _EVO = _DEFAULT.pathnet, _DEFAULT.evolution
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
flags.DEFINE_integer("num_layers", _NET.num_layers, "L: layers of modules (conv + dense).")
flags.DEFINE_integer("num_modules", _NET.num_modules, "M: modules per layer.")
flags.DEFINE_integer("num_active", _NET.num_active, "N: modules a pathway uses per layer.")
flags.DEFINE_integer("units", _NET.units, "ReLU units per dense module.")
flags.DEFINE_enum("compute", _NET.compute, ["gather", "mask"],
                  "Run only the N active modules (gather) or all M, masked (mask).")
flags.DEFINE_integer("population_size", _EVO.population_size, "P: pathways in the population.")
flags.DEFINE_integer("tournament_size", _EVO.tournament_size, "B: candidates per tournament.")
flags.DEFINE_integer("steps_per_candidate", _EVO.steps_per_candidate,
                     "T: minibatches each candidate trains on per tournament.")
flags.DEFINE_integer("batch_size", _EVO.batch_size, "Examples per minibatch.")
flags.DEFINE_integer("max_generations", _EVO.max_generations,
                     "Tournaments per task (the paper runs 500).")
flags.DEFINE_float("threshold", _EVO.threshold,
                   "Stop a task early when a winner's fitness (training accuracy) reaches "
                   "it; 1.0 (default) runs all --max_generations in practice.")
flags.DEFINE_enum("optimizer", _EVO.optimizer, ["sgd", "adam"], "Optimizer of the modules.")
flags.DEFINE_float("learning_rate", None,
                   "Learning rate; default 0.003 for sgd, 0.001 for adam (SGD at the binary "
                   "MNIST default 0.05 diverges on 3072 inputs in [0, 1]).")
flags.DEFINE_float("mutation_rate", None, "Per-element mutation probability; default 1/(L*N).")
flags.DEFINE_enum("mutation_boundary", _EVO.mutation_boundary, ["clamp", "wrap"],
                  "Keep mutated module indices in range by clamping or wrapping.")
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
flags.DEFINE_integer("parallel", _EVO.parallel,
                     "0: the serial fair tournament. K > 0: K tournaments trained side by "
                     "side per call, the winners' module updates averaged (README).")
flags.DEFINE_integer("threads", 1,
                     "TensorFlow threads; 1 is fastest for these tiny matrices (README).")
flags.DEFINE_integer("checkpoint_every", 25,
                     "Save everything needed to continue every this many generations.")
flags.DEFINE_boolean("resume", True,
                     "Continue from the checkpoint in --workdir if there is one; "
                     "--noresume starts afresh (deleting that run's outputs).")
flags.DEFINE_integer("seed", 0, "Seed of every random choice.")
flags.DEFINE_string("workdir", "runs/cifar_svhn", "Where the run writes its files.")


def config_from_flags() -> CifarSvhnConfig:
    return CifarSvhnConfig(
        pathnet=PathNetConfig(num_layers=FLAGS.num_layers, num_modules=FLAGS.num_modules,
                              num_active=FLAGS.num_active, units=FLAGS.units,
                              compute=FLAGS.compute),
        evolution=EvolutionConfig(
            population_size=FLAGS.population_size, tournament_size=FLAGS.tournament_size,
            steps_per_candidate=FLAGS.steps_per_candidate, batch_size=FLAGS.batch_size,
            threshold=FLAGS.threshold, max_generations=FLAGS.max_generations,
            optimizer=FLAGS.optimizer, learning_rate=FLAGS.learning_rate,
            mutation_rate=FLAGS.mutation_rate, mutation_boundary=FLAGS.mutation_boundary,
            jit_compile=(FLAGS.module_type == "dense" if FLAGS.jit_compile is None
                         else FLAGS.jit_compile),
            parallel=FLAGS.parallel),
        first=FLAGS.first, module_type=FLAGS.module_type, conv_layers=FLAGS.conv_layers,
        conv_padding=FLAGS.conv_padding, data_dir=FLAGS.data_dir, download=FLAGS.download,
        max_train=FLAGS.max_train, seed=FLAGS.seed)


def main(argv):
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments {argv[1:]}")
    try:
        # Flags are checked before TensorFlow is even imported, the data before the
        # workdir is touched, and both before anything is trained or written.
        config = config_from_flags()
        for name in ("threads", "checkpoint_every"):
            if FLAGS[name].value <= 0:
                raise ValueError(f"{name} ({FLAGS[name].value}) must be a positive integer")
        from pathnet_tf import cifar_svhn

        builders = cifar_svhn.prepared_builders(config)
        from pathnet_tf.training import set_threads

        set_threads(FLAGS.threads)  # before tf.data reads the data sets
        workdir = prepare_workdir(FLAGS.workdir)
        tasks = cifar_svhn.load_tasks(config, builders)
        cifar_svhn.run(config, workdir, tasks=tasks, resume=FLAGS.resume,
                       checkpoint_every=FLAGS.checkpoint_every)
    except (ValueError, DataError, WorkdirError) as error:  # CheckpointError is one too
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    app.run(main)
