"""A short probe of PathNet A2C on one Atari game: game A only (no transfer), the
Atari defaults (`AtariConfig`: 16 evolving pathways, the paper's network), for
`--frames` emulator frames; writes OUT/probe.json (the game's results as the runner
keeps them: curve, every episode's end frame and raw score, wall seconds, the load
average) and OUT/curve.png (the moving average of the last 100 episodes' scores and
every episode's score against emulator frames).

    nice -n 10 python benchmarks/atari_probe.py --frames=400000 --out=results/atari/pong_probe
    python benchmarks/atari_probe.py --random_episodes=100   # the uniform random policy

`--random_episodes=K`: instead, the first K episodes of the uniform random policy over
the minimal action set in 32 games (seeded), printed as one JSON line.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("game", "atari:pong", "Atari game.")
flags.DEFINE_integer("frames", 400_000, "Emulator frames (4 per agent step).")
flags.DEFINE_integer("seed", 0, "Seed.")
flags.DEFINE_integer("threads", 1, "TensorFlow threads.")
flags.DEFINE_string("out", "results/atari/pong_probe", "Output directory.")
flags.DEFINE_string("changes", "", "Config changes, field=value,... (e.g. "
                    "layer_scale=0.5,n_steps=20); default: the Atari defaults.")
flags.DEFINE_integer("random_episodes", 0, "> 0: score this many episodes of the uniform "
                     "random policy instead (one JSON line).")


def random_policy() -> None:
    import json

    import numpy as np

    from pathnet_tf.rl.atari import AtariVectorEnv

    envs = AtariVectorEnv(FLAGS.game, 32, seed=(FLAGS.seed, 7))
    rng = np.random.default_rng(FLAGS.seed)
    while len(envs.finished) < FLAGS.random_episodes:
        envs.step(rng.integers(0, envs.num_actions, 32))
    scores = [score for _, score, _ in envs.finished[:FLAGS.random_episodes]]
    lengths = [length for _, _, length in envs.finished[:FLAGS.random_episodes]]
    print(json.dumps({"game": FLAGS.game, "policy": "uniform random", "episodes": len(scores),
                      "mean_score": float(np.mean(scores)),
                      "standard_error": float(np.std(scores, ddof=1) / np.sqrt(len(scores))),
                      "min": min(scores), "max": max(scores),
                      "mean_length_agent_steps": float(np.mean(lengths))}))


def main(argv):
    del argv
    if FLAGS.random_episodes > 0:
        random_policy()
        return
    from pathnet_tf.evolution.training import set_threads

    set_threads(FLAGS.threads)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pathnet_tf.files.atomic_io import write_json
    from pathnet_tf.rl.config import AtariConfig, parse_changes
    from pathnet_tf.rl.runner import Transfer

    try:
        config = AtariConfig(**{**parse_changes(FLAGS.changes), "game_a": FLAGS.game,
                                "game_b": FLAGS.game, "frames": FLAGS.frames,
                                "seed": FLAGS.seed})
    except ValueError as error:
        sys.exit(f"error: {error}")
    os.makedirs(FLAGS.out, exist_ok=True)
    start = time.perf_counter()
    transfer = Transfer(config, jit_compile=True)
    run = transfer.start_game()
    run.train(None, lambda line: print(line, flush=True))
    results = run.results()
    results.update(config=config.to_dict(), wall_seconds_with_startup=time.perf_counter()
                   - start, load_average_1min_at_end=os.getloadavg()[0])
    write_json(os.path.join(FLAGS.out, "probe.json"), results)
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.scatter(results["episode_frames"], results["episode_returns"], s=6, alpha=0.4,
                 label="episodes (raw score)")
    curve = [(f, v) for f, v, _ in results["curve"] if v is not None]
    if curve:
        axis.plot(*zip(*curve), color="C1", label="mean of the last 100 episodes")
    axis.set_xlabel("emulator frames")
    axis.set_ylabel("score")
    axis.set_title(f"PathNet A2C on {FLAGS.game}, seed {FLAGS.seed}")
    axis.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(os.path.join(FLAGS.out, "curve.png"), dpi=100)
    print(f"done: {results['episodes']} episodes, mean of the last 100 "
          f"{results['mean_return_last_100']}, {results['wall_seconds']:.0f} s")


if __name__ == "__main__":
    app.run(main)
