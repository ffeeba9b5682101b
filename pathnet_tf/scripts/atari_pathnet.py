"""PathNet transfer on real Atari with synchronous advantage actor-critic (docs/atari.md).

The MinAtar runner (pathnet_tf/rl/runner.py, the same code path: checkpoints, resume,
SIGTERM, TensorBoard, results.json, `python -m pathnet_tf.rl.report`) with
`AtariConfig`'s defaults: Pong -> Alien through ale-py (ROMs in its wheel, offline),
the paper's network on 84x84x4 frames, Gymnasium v5's protocol.

    python atari_pathnet.py                                     # atari:pong -> atari:alien
    python atari_pathnet.py --mode=independent --workdir=runs/alien_ind   # control on game B
    python atari_pathnet.py --game_a=atari:pong --game_b=atari:pong   # self-transfer
    RAY_ADDRESS=auto python atari_pathnet.py --backend=ray --ray_actors=8  # games on Ray

The same from an installed package: `python -m pathnet_tf.scripts.atari_pathnet`
(`atari_pathnet.py` in the checkout is a thin wrapper around this module).

`--frames` counts emulator frames (4 per agent step). Every game is "atari:<rom>",
a ROM ale-py carries (`python -c 'from ale_py import roms; print(roms.get_all_rom_ids())'`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf.experiments import cli
from pathnet_tf.rl.config import AtariConfig
from pathnet_tf.scripts import rl_script

FLAGS = flags.FLAGS
rl_script.define(
    AtariConfig(), game_a_help="First game, atari:<rom> (e.g. atari:pong).",
    frames_help="Emulator frames per game (4 per agent step), all workers together.",
    workdir="runs/atari",
    checkpoint_help=("Save everything needed to continue every this many updates (500: "
                     "320,000 emulator frames at the defaults)."),
    conv_layers="filters:kernel:stride of each conv layer of modules (the paper's).",
    units="ReLU units per module of the dense layer (TF1: 256).",
    n_steps="Agent steps of each rollout (n-step returns).",
    discount="Discount of the returns (per agent step).",
    fitness_episodes="A worker's fitness: mean score of its last this many episodes.",
    sticky_action_prob=("Probability that the emulator repeats the previous action on a "
                        "frame (Machado et al. 2018; Gymnasium v5: 0.25)."))
flags.adopt_module_key_flags(rl_script)  # --helpshort lists them as this script's


def config_from_flags() -> AtariConfig:
    return cli.rl_config_from_flags(AtariConfig)


def run() -> None:
    rl_script.run(AtariConfig)


def main(argv):
    cli.run_main(argv, run)


def entry() -> None:
    """`python -m pathnet_tf.scripts.atari_pathnet`, `atari_pathnet.py`."""
    app.run(main, flags_parser=cli.parse_flags)


if __name__ == "__main__":
    entry()
