"""PathNet transfer on MinAtar with synchronous advantage actor-critic (docs/minatar.md).

    python minatar_pathnet.py                                   # breakout -> space_invaders
    python minatar_pathnet.py --mode=independent --seed=3 --workdir=runs/ind3
    python minatar_pathnet.py --game_b=breakout                 # self-transfer

Writes WORKDIR/config.json, WORKDIR/results.json, TensorBoard events in WORKDIR/tb and
a checkpoint in WORKDIR/ckpt (a rerun resumes from it).

The same from an installed package: `python -m pathnet_tf.scripts.minatar_pathnet`
(`minatar_pathnet.py` in the checkout is a thin wrapper around this module).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf import cli
from pathnet_tf.modes import MODES
from pathnet_tf.rl.config import MinAtarConfig
from pathnet_tf.rl.envs import GAMES

FLAGS = flags.FLAGS
_D = MinAtarConfig()
flags.DEFINE_string("game_a", _D.game_a, f"First game, one of {', '.join(GAMES)}.")
flags.DEFINE_string("game_b", _D.game_b, "Second game (the same as game_a: self-transfer).")
flags.DEFINE_enum("mode", _D.mode, list(MODES), "; ".join(
    f"{mode.name}: {mode.help}" for mode in MODES.values()) + ".")
flags.DEFINE_integer("frames", _D.frames, "Environment steps per game, all workers together.")
flags.DEFINE_list("conv_layers", [f"{f}:{k}:{s}" for f, k, s in _D.conv_layers],
                  "filters:kernel:stride of each conv layer of modules.")
flags.DEFINE_integer("units", _D.units, "ReLU units per module of the dense layer.")
flags.DEFINE_integer("num_modules", _D.num_modules, "M: modules per layer.")
flags.DEFINE_integer("num_active", _D.num_active, "N: modules a pathway uses per layer.")
flags.DEFINE_enum("compute", _D.compute, ["mask", "gather"],
                  "Run all M modules on the whole batch (mask) or each worker's N (gather).")
flags.DEFINE_integer("num_workers", _D.num_workers, "W: workers, each with its own pathway.")
flags.DEFINE_integer("envs_per_worker", _D.envs_per_worker, "Environments per worker.")
flags.DEFINE_integer("n_steps", _D.n_steps, "Steps of each rollout (n-step returns).")
flags.DEFINE_float("discount", _D.discount, "Discount of the returns.")
flags.DEFINE_float("learning_rate", _D.learning_rate, "Adam's learning rate.")
flags.DEFINE_float("entropy_cost", _D.entropy_cost, "Weight of the entropy bonus.")
flags.DEFINE_float("value_cost", _D.value_cost, "Weight of the value loss.")
flags.DEFINE_float("max_grad_norm", _D.max_grad_norm, "Clip gradients to this global norm "
                   "(0: no clipping).")
flags.DEFINE_integer("tournament_size", _D.tournament_size, "B: workers per tournament.")
flags.DEFINE_integer("evolve_every", _D.evolve_every, "Updates between tournament rounds.")
flags.DEFINE_float("mutation_rate", None, "Per-element mutation probability; default 1/(L*N).")
flags.DEFINE_integer("fitness_episodes", _D.fitness_episodes,
                     "A worker's fitness: mean return of its last this many episodes.")
flags.DEFINE_float("sticky_action_prob", _D.sticky_action_prob, "MinAtar's sticky actions.")
flags.DEFINE_integer("log_every", _D.log_every, "Updates between progress lines.")
flags.DEFINE_float("seed_fraction", _D.seed_fraction, "Share of game B's workers whose "
                   "pathway starts on game A's best path (0: none, the paper; 1: all).")
flags.DEFINE_float("head_learning_rate", None, "Adam's rate for game B's policy and value "
                   "heads; default: --learning_rate.")
flags.DEFINE_float("frozen_output_scale", _D.frozen_output_scale, "Factor on the last "
                   "layer's frozen modules' outputs, the features the heads read (1: none).")
flags.DEFINE_boolean("jit_compile", True, "Compile the act and update calls with XLA "
                     "(1.5x the frames/s without: docs/minatar.md).")
cli.define_run_flags("runs/minatar")
FLAGS.set_default("checkpoint_every", 500)
FLAGS["checkpoint_every"].help = ("Save everything needed to continue every this many "
                                  "updates (500: 160,000 frames at the defaults).")


def config_from_flags() -> MinAtarConfig:
    return cli.rl_config_from_flags(MinAtarConfig)


def run() -> None:
    # Everything that can be wrong is checked before TensorFlow is imported.
    config = config_from_flags()
    from pathnet_tf.workdir import prepare_workdir

    workdir = prepare_workdir(FLAGS.workdir)
    cli.use_xla_cache()
    from pathnet_tf.rl.runner import run_transfer
    from pathnet_tf.training import set_threads

    set_threads(FLAGS.threads)
    run_transfer(config, workdir, resume=FLAGS.resume,
                 checkpoint_every=FLAGS.checkpoint_every, tensorboard=FLAGS.tensorboard,
                 jit_compile=FLAGS.jit_compile)


def main(argv):
    cli.run_main(argv, run)


def entry() -> None:
    """`python -m pathnet_tf.scripts.minatar_pathnet`, `minatar_pathnet.py`."""
    app.run(main, flags_parser=cli.parse_flags)


if __name__ == "__main__":
    entry()
