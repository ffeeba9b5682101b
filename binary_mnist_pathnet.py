"""PathNet transfer on binary MNIST: evolve task A, freeze its best path, evolve task B.

    python binary_mnist_pathnet.py                      # the paper's settings, 1v3 -> 1v2
    python binary_mnist_pathnet.py --task_a=4,5 --task_b=6,7 --seed=3 --workdir=runs/45_67

Writes WORKDIR/config.json, WORKDIR/results.json and TensorBoard events in WORKDIR/tb.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf.config import BinaryMnistConfig, EvolutionConfig, PathNetConfig
from pathnet_tf.data import DataError, load_mnist
from pathnet_tf.workdir import WorkdirError, prepare_workdir

_NET, _EVO = PathNetConfig(), EvolutionConfig()
FLAGS = flags.FLAGS
flags.DEFINE_integer("num_layers", _NET.num_layers, "L: layers of modules.")
flags.DEFINE_integer("num_modules", _NET.num_modules, "M: modules per layer.")
flags.DEFINE_integer("num_active", _NET.num_active, "N: modules a pathway uses per layer.")
flags.DEFINE_integer("units", _NET.units, "ReLU units per module.")
flags.DEFINE_enum("compute", _NET.compute, ["gather", "mask"],
                  "Run only the N active modules (gather) or all M, masked (mask).")
flags.DEFINE_integer("population_size", _EVO.population_size, "P: pathways in the population.")
flags.DEFINE_integer("tournament_size", _EVO.tournament_size, "B: candidates per tournament.")
flags.DEFINE_integer("steps_per_candidate", _EVO.steps_per_candidate,
                     "T: minibatches each candidate trains on per tournament.")
flags.DEFINE_integer("batch_size", _EVO.batch_size, "Examples per minibatch.")
flags.DEFINE_float("threshold", _EVO.threshold,
                   "A task is solved when a winner's fitness (training accuracy) reaches it.")
flags.DEFINE_integer("max_generations", _EVO.max_generations,
                     "Tournaments per task before giving up (the run still ends cleanly).")
flags.DEFINE_enum("mode", "pathnet", ["pathnet", "independent", "finetune"],
                  "pathnet: evolve A, freeze its path, evolve B. Controls: independent "
                  "(task B alone on one fixed random path), finetune (that fixed path "
                  "trained on A, then on B with a new readout, nothing frozen).")
flags.DEFINE_float("noise", 0.5, "Salt-and-pepper noise probability per pixel.")
flags.DEFINE_enum("optimizer", _EVO.optimizer, ["sgd", "adam"], "Optimizer of the modules.")
flags.DEFINE_float("learning_rate", None,
                   "Learning rate; default 0.05 for sgd, 0.001 for adam (README: the sweep).")
flags.DEFINE_float("mutation_rate", None, "Per-element mutation probability; default 1/(L*N).")
flags.DEFINE_enum("mutation_boundary", _EVO.mutation_boundary, ["clamp", "wrap"],
                  "Keep mutated module indices in range by clamping or wrapping.")
flags.DEFINE_list("task_a", ["1", "3"], "Digit pair of the first task, e.g. 1,3.")
flags.DEFINE_list("task_b", ["1", "2"], "Digit pair of the second task, e.g. 1,2.")
flags.DEFINE_string("data_dir", None,
                    "Directory of the four MNIST .gz IDX files; default: the bundled data/mnist.")
flags.DEFINE_integer("max_train", None, "Use only this many training images per task.")
flags.DEFINE_boolean("jit_compile", _EVO.jit_compile, "Compile each tournament with XLA.")
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
flags.DEFINE_string("workdir", "runs/binary_mnist", "Where the run writes its files.")


def config_from_flags() -> BinaryMnistConfig:
    return BinaryMnistConfig(
        pathnet=PathNetConfig(num_layers=FLAGS.num_layers, num_modules=FLAGS.num_modules,
                              num_active=FLAGS.num_active, units=FLAGS.units,
                              compute=FLAGS.compute),
        evolution=EvolutionConfig(
            population_size=FLAGS.population_size, tournament_size=FLAGS.tournament_size,
            steps_per_candidate=FLAGS.steps_per_candidate, batch_size=FLAGS.batch_size,
            threshold=FLAGS.threshold, max_generations=FLAGS.max_generations,
            optimizer=FLAGS.optimizer, learning_rate=FLAGS.learning_rate,
            mutation_rate=FLAGS.mutation_rate, mutation_boundary=FLAGS.mutation_boundary,
            jit_compile=FLAGS.jit_compile, parallel=FLAGS.parallel),
        mode=FLAGS.mode, task_a=",".join(FLAGS.task_a), task_b=",".join(FLAGS.task_b),
        noise=FLAGS.noise,
        data_dir=FLAGS.data_dir, max_train=FLAGS.max_train, seed=FLAGS.seed)


def main(argv):
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments {argv[1:]}")
    try:
        # Everything that can be wrong is checked before TensorFlow is even imported.
        config = config_from_flags()
        mnist = load_mnist(config.data_dir)
        workdir = prepare_workdir(FLAGS.workdir)
        for name in ("threads", "checkpoint_every"):
            if FLAGS[name].value <= 0:
                raise ValueError(f"{name} ({FLAGS[name].value}) must be a positive integer")
        from pathnet_tf import binary_mnist
        from pathnet_tf.training import set_threads

        set_threads(FLAGS.threads)
        binary_mnist.run(config, workdir, mnist=mnist, resume=FLAGS.resume,
                         checkpoint_every=FLAGS.checkpoint_every)
    except (ValueError, DataError, WorkdirError) as error:  # CheckpointError is one too
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    app.run(main)
