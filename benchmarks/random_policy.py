"""The return of a uniformly random policy (over each game's minimal action set) on
every MinAtar game: the floor a learned policy is compared with. Prints ONE JSON line:
per game, the mean return of the first `--episodes` finished episodes (64 environments,
sticky actions 0.1, seed 0) and its standard error.

    python benchmarks/random_policy.py --episodes=1000
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from pathnet_tf.rl.envs import GAMES, VectorEnv  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_integer("episodes", 1000, "Finished episodes per game.")


def main(argv):
    del argv
    report = {"benchmark": "random_policy", "episodes": FLAGS.episodes, "games": {}}
    rng = np.random.default_rng(0)
    for game in GAMES:
        envs = VectorEnv(game, 64, seed=0)
        while len(envs.finished) < FLAGS.episodes:
            envs.step(rng.integers(0, envs.num_actions, 64))
        returns = np.array([r for _, r, _ in envs.finished[:FLAGS.episodes]])
        lengths = np.array([n for _, _, n in envs.finished[:FLAGS.episodes]])
        report["games"][game] = {"mean_return": round(float(returns.mean()), 3),
                                 "stderr": round(float(returns.std() / np.sqrt(len(returns))), 3),
                                 "mean_length": round(float(lengths.mean()), 1)}
    print(json.dumps(report))


if __name__ == "__main__":
    app.run(main)
