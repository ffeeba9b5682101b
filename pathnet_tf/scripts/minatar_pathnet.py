"""PathNet transfer on MinAtar with synchronous advantage actor-critic (docs/minatar.md).

    python minatar_pathnet.py                                   # breakout -> space_invaders
    python minatar_pathnet.py --mode=independent --seed=3 --workdir=runs/ind3
    python minatar_pathnet.py --game_b=breakout                 # self-transfer
    RAY_ADDRESS=auto python minatar_pathnet.py --backend=ray --ray_actors=8  # games on Ray

Writes WORKDIR/config.json, WORKDIR/results.json, TensorBoard events in WORKDIR/tb and
a checkpoint in WORKDIR/ckpt (a rerun resumes from it).

The same from an installed package: `python -m pathnet_tf.scripts.minatar_pathnet`
(`minatar_pathnet.py` in the checkout is a thin wrapper around this module).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out

from absl import app, flags

from pathnet_tf.experiments import cli
from pathnet_tf.rl.config import MinAtarConfig
from pathnet_tf.rl.envs import GAMES
from pathnet_tf.scripts import rl_script

FLAGS = flags.FLAGS
rl_script.define(
    MinAtarConfig(), game_a_help=f"First game, one of {', '.join(GAMES)}.",
    frames_help="Environment steps per game, all workers together.",
    workdir="runs/minatar",
    checkpoint_help=("Save everything needed to continue every this many updates (500: "
                     "160,000 frames at the defaults)."),
    sticky_action_prob="MinAtar's sticky actions.",
    jit_compile="Compile the act and update calls with XLA (1.5x the frames/s without: "
                "docs/minatar.md).")
flags.adopt_module_key_flags(rl_script)  # --helpshort lists them as this script's


def config_from_flags() -> MinAtarConfig:
    return cli.rl_config_from_flags(MinAtarConfig)


def run() -> None:
    rl_script.run(MinAtarConfig)


def main(argv):
    cli.run_main(argv, run)


def entry() -> None:
    """`python -m pathnet_tf.scripts.minatar_pathnet`, `minatar_pathnet.py`."""
    app.run(main, flags_parser=cli.parse_flags)


if __name__ == "__main__":
    entry()
