"""Soak: thousands of generations in one process, watching traces and memory.

Runs the default binary MNIST config (task 1v3, the paper's sizes) through the real
`evolve()` loop with TensorBoard summaries for `--generations` generations or
`--max_minutes`, whichever comes first, never stopping at the threshold. Prints ONE
JSON line: the tracing count of every compiled function, RSS after warm-up and at the
end, and generations per second per block of `--block` generations.

    python benchmarks/soak.py                      # 5000 generations or 10 minutes
"""

import json
import os
import tempfile
import time

import numpy as np
from absl import app, flags
from common import default_setup, default_task, rss_mb

FLAGS = flags.FLAGS
flags.DEFINE_integer("generations", 5000, "Generations to run.")
flags.DEFINE_float("max_minutes", 10.0, "Stop after this long.")
flags.DEFINE_integer("block", 250, "Generations per timing block.")
flags.DEFINE_integer("warmup", 100,
                     "Generations before the first RSS reading (past the first histogram).")
flags.DEFINE_integer("parallel", 0, "0: serial; K: the parallel trainer.")
flags.DEFINE_integer("threads", 1, "TensorFlow threads.")
flags.DEFINE_boolean("summaries", True, "Write TensorBoard summaries, as a run does.")


def main(argv):
    del argv
    from pathnet_tf.evolution.training import set_threads

    set_threads(FLAGS.threads)
    from pathnet_tf.evolution.training import evolve
    from pathnet_tf.runs.summaries import Summaries

    rng = np.random.default_rng(0)
    model, trainer, tournament, sampler = default_setup(default_task(rng), rng,
                                                        parallel=FLAGS.parallel)
    with tempfile.TemporaryDirectory() as logdir:
        summaries = Summaries(logdir)
        done = [0]

        def on_generation(g, paths, fitness, winner, best_fitness, best_path):
            done[0] += 1
            if not FLAGS.summaries:
                return
            summaries.generation("A", done[0], fitness, winner, best_fitness,
                                 tournament.module_usage, best_path, 10)
            summaries.histograms("A", done[0], model)

        def run(generations):
            evolve(trainer, tournament, sampler, steps_per_candidate=50, batch_size=16,
                   threshold=2.0, max_generations=generations, on_generation=on_generation)

        run(FLAGS.warmup)
        rss_start = rss_mb()
        start = time.perf_counter()
        blocks = []
        while (done[0] - FLAGS.warmup < FLAGS.generations
               and time.perf_counter() - start < FLAGS.max_minutes * 60):
            block = time.perf_counter()
            run(min(FLAGS.block, FLAGS.generations - (done[0] - FLAGS.warmup)))
            blocks.append(round(FLAGS.block / (time.perf_counter() - block), 2))
        summaries.close()
    print(json.dumps({
        "benchmark": "soak", "generations": done[0] - FLAGS.warmup,
        "seconds": round(time.perf_counter() - start, 1), "parallel": FLAGS.parallel,
        "tracing_counts": {**trainer.tracing_counts(),
                           **{f"summaries_{k}": v
                              for k, v in summaries.tracing_counts().items()}},
        "rss_mb_start": round(rss_start, 1), "rss_mb_end": round(rss_mb(), 1),
        "rss_mb_growth": round(rss_mb() - rss_start, 1), "summaries": FLAGS.summaries,
        "generations_per_second_per_block": blocks,
        "load_average_1min": round(os.getloadavg()[0], 2), "threads": FLAGS.threads}))


if __name__ == "__main__":
    app.run(main)
