"""The sweep behind `minatar_pathnet.py`'s defaults (docs/minatar.md): PathNet learns
one game (game A only, no transfer) at each setting and seed, in one process; prints
one JSON line per run (the mean return of the last 100 episodes at the end, and at
each quarter of the frames) and, at the end, one line per setting with the mean over
seeds and its spread.

    python benchmarks/sweep_minatar.py --frames=400000 --seeds=3 \\
        --points="default;learning_rate=0.003;num_workers=8,envs_per_worker=8"

A point is `name=value` pairs of `MinAtarConfig` fields joined by commas (`default`:
no change); points are separated by semicolons. `--out` appends the JSON lines to a
file as they come, and a point and seed already in it are skipped (resumable).
"""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from pathnet_tf.rl.config import MinAtarConfig, parse_changes  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("game", "breakout", "The game learned.")
flags.DEFINE_integer("frames", 400_000, "Frames per run.")
flags.DEFINE_integer("seeds", 3, "Runs per point (seeds 0..seeds-1).")
flags.DEFINE_string("points", "default", "Settings, `;`-separated; each `field=value,...`.")
flags.DEFINE_string("out", "", "A JSON-lines file to append to and resume from.")
flags.DEFINE_boolean("jit_compile", True, "XLA, as minatar_pathnet.py's default.")


def run_point(changes: dict, seed: int, game: str, frames: int, jit_compile: bool) -> dict:
    """Learns `game` for `frames` with PathNet at `changes`; returns the numbers."""
    from pathnet_tf.rl.runner import Transfer

    config = MinAtarConfig(game_a=game, game_b=game, mode="pathnet", frames=frames,
                           seed=seed, **changes)
    transfer = Transfer(config, jit_compile=jit_compile)
    run = transfer.start_game()
    started = time.perf_counter()
    run.train(writer=None, log=lambda line: None, images=False)
    seconds = time.perf_counter() - started
    quarters = {}
    for fraction in (0.25, 0.5, 0.75):
        points = [c for c in run.curve if c[0] <= fraction * run.frames and c[1] is not None]
        quarters[str(fraction)] = points[-1][1] if points else None
    return {"return": run.moving_average(), "return_at": quarters,
            "episodes": len(run.episodes), "frames": run.frames,
            "frames_per_second": run.frames / seconds}


def main(argv):
    del argv
    points = [p.strip() for p in FLAGS.points.split(";") if p.strip()]
    try:  # every point checked, as a whole config, before anything runs
        parsed = {point: parse_changes(point) for point in points}
        for changes in parsed.values():
            MinAtarConfig(game_a=FLAGS.game, game_b=FLAGS.game, frames=FLAGS.frames, **changes)
    except ValueError as error:
        sys.exit(f"error: {error}")
    done = {}
    if FLAGS.out and os.path.exists(FLAGS.out):
        with open(FLAGS.out) as lines:
            for line in lines:
                row = json.loads(line)
                done[(row["point"], row["seed"])] = row
    for point in points:
        for seed in range(FLAGS.seeds):
            if (point, seed) in done:
                continue
            row = {"point": point, "seed": seed, "game": FLAGS.game, "frames": FLAGS.frames,
                   **run_point(parsed[point], seed, FLAGS.game, FLAGS.frames,
                               FLAGS.jit_compile)}
            done[(point, seed)] = row
            print(json.dumps(row), flush=True)
            if FLAGS.out:
                with open(FLAGS.out, "a") as out:
                    out.write(json.dumps(row) + "\n")
    for point in points:
        returns = [done[(point, s)]["return"] for s in range(FLAGS.seeds)
                   if (point, s) in done]
        print(json.dumps({"point": point, "seeds": len(returns),
                          "mean_return": float(np.mean(returns)),
                          "std_return": float(np.std(returns, ddof=1)) if len(returns) > 1
                          else None}), flush=True)


if __name__ == "__main__":
    app.run(main)
