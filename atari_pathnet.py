"""PathNet transfer on real Atari with synchronous advantage actor-critic (docs/atari.md).

The MinAtar runner (pathnet_tf/rl/runner.py, the same code path: checkpoints, resume,
SIGTERM, TensorBoard, results.json, `python -m pathnet_tf.rl.report`) with
`AtariConfig`'s defaults: Pong -> Alien through ale-py (ROMs in its wheel, offline),
the paper's network on 84x84x4 frames, Gymnasium v5's protocol.

    python atari_pathnet.py                                     # atari:pong -> atari:alien
    python atari_pathnet.py --mode=independent --workdir=runs/alien_ind   # control on game B
    python atari_pathnet.py --game_a=atari:pong --game_b=atari:pong   # self-transfer
    RAY_ADDRESS=auto python atari_pathnet.py --backend=ray --ray_actors=8  # games on Ray

`--frames` counts emulator frames (4 per agent step). Every game is "atari:<rom>",
a ROM ale-py carries (`python -c 'from ale_py import roms; print(roms.get_all_rom_ids())'`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf import cli
from pathnet_tf.modes import MODES
from pathnet_tf.rl.config import AtariConfig

FLAGS = flags.FLAGS
_D = AtariConfig()
flags.DEFINE_string("game_a", _D.game_a, "First game, atari:<rom> (e.g. atari:pong).")
flags.DEFINE_string("game_b", _D.game_b, "Second game (the same as game_a: self-transfer).")
flags.DEFINE_enum("mode", _D.mode, list(MODES), "; ".join(
    f"{mode.name}: {mode.help}" for mode in MODES.values()) + ".")
flags.DEFINE_integer("frames", _D.frames, "Emulator frames per game (4 per agent step), "
                     "all workers together.")
flags.DEFINE_list("conv_layers", [f"{f}:{k}:{s}" for f, k, s in _D.conv_layers],
                  "filters:kernel:stride of each conv layer of modules (the paper's).")
flags.DEFINE_integer("units", _D.units, "ReLU units per module of the dense layer (TF1: 256).")
flags.DEFINE_integer("num_modules", _D.num_modules, "M: modules per layer.")
flags.DEFINE_integer("num_active", _D.num_active, "N: modules a pathway uses per layer.")
flags.DEFINE_enum("compute", _D.compute, ["mask", "gather"],
                  "Run all M modules on the whole batch (mask) or each worker's N (gather).")
flags.DEFINE_integer("num_workers", _D.num_workers, "W: workers, each with its own pathway.")
flags.DEFINE_integer("envs_per_worker", _D.envs_per_worker, "Environments per worker.")
flags.DEFINE_integer("n_steps", _D.n_steps, "Agent steps of each rollout (n-step returns).")
flags.DEFINE_float("discount", _D.discount, "Discount of the returns (per agent step).")
flags.DEFINE_float("learning_rate", _D.learning_rate, "Adam's learning rate.")
flags.DEFINE_float("entropy_cost", _D.entropy_cost, "Weight of the entropy bonus.")
flags.DEFINE_float("value_cost", _D.value_cost, "Weight of the value loss.")
flags.DEFINE_float("max_grad_norm", _D.max_grad_norm, "Clip gradients to this global norm "
                   "(0: no clipping).")
flags.DEFINE_integer("tournament_size", _D.tournament_size, "B: workers per tournament.")
flags.DEFINE_integer("evolve_every", _D.evolve_every, "Updates between tournament rounds.")
flags.DEFINE_float("mutation_rate", None, "Per-element mutation probability; default 1/(L*N).")
flags.DEFINE_integer("fitness_episodes", _D.fitness_episodes,
                     "A worker's fitness: mean score of its last this many episodes.")
flags.DEFINE_float("sticky_action_prob", _D.sticky_action_prob,
                   "Probability that the emulator repeats the previous action on a frame "
                   "(Machado et al. 2018; Gymnasium v5: 0.25).")
flags.DEFINE_integer("log_every", _D.log_every, "Updates between progress lines.")
flags.DEFINE_float("seed_fraction", _D.seed_fraction, "Share of game B's workers whose "
                   "pathway starts on game A's best path (0: none, the paper; 1: all).")
flags.DEFINE_float("head_learning_rate", None, "Adam's rate for game B's policy and value "
                   "heads; default: --learning_rate.")
flags.DEFINE_float("frozen_output_scale", _D.frozen_output_scale, "Factor on the last "
                   "layer's frozen modules' outputs, the features the heads read (1: none).")
flags.DEFINE_boolean("jit_compile", True, "Compile the act and update calls with XLA.")
flags.DEFINE_enum("backend", "local", ["local", "ray"],
                  "Where the games run: local (this process) or ray (--ray_actors Ray actors; "
                  "set RAY_ADDRESS for a cluster; the network stays here; same results).")
flags.DEFINE_integer("ray_actors", 2, "Ray actors holding the games (--backend=ray).")
cli.define_run_flags("runs/atari")
FLAGS.set_default("checkpoint_every", 500)
FLAGS["checkpoint_every"].help = ("Save everything needed to continue every this many "
                                  "updates (500: 320,000 emulator frames at the defaults).")


def config_from_flags() -> AtariConfig:
    return cli.rl_config_from_flags(AtariConfig)


def run() -> None:
    # Everything that can be wrong is checked before TensorFlow is imported.
    config = config_from_flags()
    from pathnet_tf.rl.ray_envs import environment_factory

    environment_factory(FLAGS.backend, FLAGS.ray_actors)  # checks them
    from pathnet_tf.workdir import prepare_workdir

    workdir = prepare_workdir(FLAGS.workdir)
    cli.use_xla_cache()
    from pathnet_tf.rl.runner import run_transfer
    from pathnet_tf.training import set_threads

    set_threads(FLAGS.threads)
    run_transfer(config, workdir, resume=FLAGS.resume,
                 checkpoint_every=FLAGS.checkpoint_every, tensorboard=FLAGS.tensorboard,
                 jit_compile=FLAGS.jit_compile, backend=FLAGS.backend,
                 ray_actors=FLAGS.ray_actors)


def main(argv):
    cli.run_main(argv, run)


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
