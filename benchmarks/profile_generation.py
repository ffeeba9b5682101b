"""Where a generation's time goes: CPU milliseconds per part, one JSON line.

Runs the default binary MNIST config (task 1v3) by hand, timing each part of a
generation separately with `time.process_time()` (CPU time of this process, so other
jobs on the machine do not inflate it): ask (pick candidates), sample (batch
indices), tournament (the compiled call: both candidates' T steps and the winner's
write-back), tell (the genetic algorithm's bookkeeping), summaries (TensorBoard at
the default cadence).

    python benchmarks/profile_generation.py --generations=300
"""

import json
import os
import tempfile
import time

import numpy as np
from absl import app, flags
from common import default_setup, default_task

FLAGS = flags.FLAGS
flags.DEFINE_integer("generations", 300, "Timed generations.")
flags.DEFINE_integer("warmup", 20, "Untimed generations first.")
flags.DEFINE_integer("threads", 1, "TensorFlow threads.")


def main(argv):
    del argv
    from pathnet_tf.evolution.training import set_threads

    set_threads(FLAGS.threads)
    from pathnet_tf.runs.summaries import Summaries

    rng = np.random.default_rng(0)
    model, trainer, tournament, sampler = default_setup(default_task(rng), rng)
    parts = dict.fromkeys(("ask", "sample", "tournament", "tell", "summaries"), 0.0)
    clock = time.process_time
    with tempfile.TemporaryDirectory() as logdir:
        summaries = Summaries(logdir)
        for generation in range(1, FLAGS.warmup + FLAGS.generations + 1):
            if generation == FLAGS.warmup + 1:
                parts = dict.fromkeys(parts, 0.0)
                total = clock()
            t = clock()
            paths = tournament.ask()
            parts["ask"] += clock() - t
            t = clock()
            indices = sampler.next(50, 16)
            parts["sample"] += clock() - t
            t = clock()
            fitness, loss, winner = trainer.run_tournament(paths, indices)
            parts["tournament"] += clock() - t
            t = clock()
            tournament.tell(fitness, loss)
            parts["tell"] += clock() - t
            t = clock()
            summaries.generation("A", generation, fitness, winner, float(fitness[winner]),
                                 tournament.module_usage, paths[winner], 10)
            summaries.histograms("A", generation, model)
            parts["summaries"] += clock() - t
        total = clock() - total
        summaries.close()
    count = FLAGS.generations
    print(json.dumps({
        "benchmark": "profile_generation", "generations": count, "threads": FLAGS.threads,
        "cpu_ms_per_generation": round(total / count * 1e3, 3),
        "cpu_ms_per_part": {k: round(v / count * 1e3, 3) for k, v in parts.items()},
        "load_average_1min": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    app.run(main)
