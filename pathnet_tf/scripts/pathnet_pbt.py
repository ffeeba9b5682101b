"""PBT of PathNet's learning rate and mutation rate on binary MNIST task A.

    python pathnet_pbt.py                                  # 8 members on 1v3, paper sizes
    python pathnet_pbt.py --num_members=4 --max_generations=300 --workdir=runs/pbt_45 \\
        --task=4,5

A population of independent PathNet runs on one task; every --ready_generations
generations the bottom quarter copies a top member (weights, optimizer state, GA
population, hyperparameters) and perturbs its hyperparameters. Stops when a member
reaches --threshold or every member has used --max_generations; then runs plain
PathNet with the default settings (--baseline_seeds runs, each with the whole PBT
budget). Writes WORKDIR/config.json, history.csv and results.json.

The same from an installed package: `python -m pathnet_tf.scripts.pathnet_pbt`
(`pathnet_pbt.py` in the checkout is a thin wrapper around this module).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.experiments import cli
from pathnet_tf.experiments.data import DataError, load_mnist
from pathnet_tf.files.workdir import WorkdirError, prepare_workdir
from pathnet_tf.pbt.decisions import Hyperparameter, PBTConfig

_NET, _EVO = PathNetConfig(), EvolutionConfig()
FLAGS = flags.FLAGS
flags.DEFINE_integer("num_layers", _NET.num_layers, "L: layers of modules.")
flags.DEFINE_integer("num_modules", _NET.num_modules, "M: modules per layer.")
flags.DEFINE_integer("num_active", _NET.num_active, "N: modules a pathway uses per layer.")
flags.DEFINE_integer("units", _NET.units, "ReLU units per module.")
flags.DEFINE_integer("population_size", _EVO.population_size,
                     "P: pathways in each member's GA population.")
flags.DEFINE_integer("steps_per_candidate", _EVO.steps_per_candidate,
                     "T: minibatches each candidate trains on per tournament.")
flags.DEFINE_integer("batch_size", _EVO.batch_size, "Examples per minibatch.")
flags.DEFINE_float("threshold", _EVO.threshold,
                   "Solved when a tournament winner's training fitness reaches it.")
flags.DEFINE_enum("optimizer", _EVO.optimizer, ["sgd", "adam"], "Optimizer of the modules.")
flags.DEFINE_list("task", ["1", "3"], "Digit pair of the task, e.g. 1,3.")
flags.DEFINE_float("noise", 0.5, "Salt-and-pepper noise probability per pixel.")
flags.DEFINE_integer("num_members", 8, "PBT population: independent PathNet runs.")
flags.DEFINE_integer("ready_generations", 20, "Generations per member between PBT steps.")
flags.DEFINE_integer("max_generations", 500,
                     "Per member; the control runs get num_members times this.")
flags.DEFINE_list("learning_rate_prior", ["0.005", "0.5"],
                  "low,high of the log-uniform learning-rate prior.")
flags.DEFINE_list("learning_rate_bounds", ["0.0001", "2.0"], "Explore clips to these.")
flags.DEFINE_list("mutation_rate_prior", ["0.02", "0.5"],
                  "low,high of the log-uniform mutation-rate prior.")
flags.DEFINE_list("mutation_rate_bounds", ["0.001", "1.0"], "Explore clips to these.")
flags.DEFINE_float("truncation_fraction", 0.25,
                   "Bottom fraction that copies a member of the top fraction.")
flags.DEFINE_float("resample_probability", 0.0,
                   "Chance that explore redraws a hyperparameter from its prior.")
flags.DEFINE_integer("validation_size", 1000,
                     "Training images held out for the PBT score (from every run).")
flags.DEFINE_integer("baseline_seeds", 3, "Control runs with the default settings.")
flags.DEFINE_string("data_dir", None, "MNIST directory; default: the bundled data/mnist.")
flags.DEFINE_integer("max_train", None, "Use only this many training images.")
flags.DEFINE_boolean("jit_compile", _EVO.jit_compile, "Compile each tournament with XLA.")
flags.DEFINE_integer("threads", 1, "TensorFlow threads (1 is fastest for PathNet's sizes).")
flags.DEFINE_integer("seed", 0, "Seed of every random choice.")
flags.DEFINE_string("workdir", "runs/pathnet_pbt", "Where the run writes its files.")


def _pair(name):
    values = getattr(FLAGS, name)
    try:
        low, high = (float(v) for v in values)
    except ValueError:
        raise ValueError(f"--{name} ({','.join(values)}) must be two numbers low,high") from None
    return low, high


def config_from_flags():
    from pathnet_tf.pbt.pathnet import PathNetPBTConfig

    low, high = _pair("learning_rate_prior")
    learning_rate = Hyperparameter("learning_rate", low, high, prior="log_uniform",
                                   bounds=_pair("learning_rate_bounds"))
    low, high = _pair("mutation_rate_prior")
    mutation_rate = Hyperparameter("mutation_rate", low, high, prior="log_uniform",
                                   bounds=_pair("mutation_rate_bounds"))
    return PathNetPBTConfig(
        pathnet=PathNetConfig(num_layers=FLAGS.num_layers, num_modules=FLAGS.num_modules,
                              num_active=FLAGS.num_active, units=FLAGS.units),
        evolution=EvolutionConfig(
            population_size=FLAGS.population_size,
            steps_per_candidate=FLAGS.steps_per_candidate, batch_size=FLAGS.batch_size,
            threshold=FLAGS.threshold, optimizer=FLAGS.optimizer,
            jit_compile=FLAGS.jit_compile),
        task=",".join(FLAGS.task), noise=FLAGS.noise, num_members=FLAGS.num_members,
        ready_generations=FLAGS.ready_generations, max_generations=FLAGS.max_generations,
        learning_rate=learning_rate, mutation_rate=mutation_rate,
        pbt=PBTConfig(truncation_fraction=FLAGS.truncation_fraction,
                      resample_probability=FLAGS.resample_probability),
        validation_size=FLAGS.validation_size, baseline_seeds=FLAGS.baseline_seeds,
        max_train=FLAGS.max_train, data_dir=FLAGS.data_dir, seed=FLAGS.seed)


def main(argv):
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments {argv[1:]}")
    try:
        # Everything that can be wrong is checked before any training starts.
        config = config_from_flags()
        mnist = load_mnist(config.data_dir)
        workdir = prepare_workdir(FLAGS.workdir)
        from pathnet_tf.evolution.training import set_threads
        from pathnet_tf.pbt import pathnet as pathnet_pbt

        set_threads(FLAGS.threads)
        pathnet_pbt.run(config, workdir, mnist=mnist)
    except (ValueError, DataError, WorkdirError) as error:
        sys.exit(f"error: {error}")


def entry() -> None:
    """`python -m pathnet_tf.scripts.pathnet_pbt`, `pathnet_pbt.py`."""
    app.run(main, flags_parser=cli.parse_flags)


if __name__ == "__main__":
    entry()
