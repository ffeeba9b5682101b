"""PBT population on one machine: members trained in turn against one batched computation.

For each model kind, P members with the reference protocol's batch (200 MNIST
training images a step) run the same steps two ways, from the same state:

- in_turn: `Population.train(m, ...)` for m = 0..P-1 (the default: one member's
  weights assigned into the shared model, one compiled epoch, stored back);
- batched: `Population.train_all(...)`, every member at once over the stacked
  [P, ...] state (`tf.vectorized_map` over one step, one compiled call).

Both are timed after a warm-up call (tracing excluded), `--repeats` times each,
alternating; the JSON line gives the median wall and CPU seconds per member-step and
the ratio in_turn / batched (> 1: batched is faster).

    python benchmarks/bench_pbt_population.py                       # fc and conv, P=10
    python benchmarks/bench_pbt_population.py --kinds=fc --threads=2
"""

import json
import logging
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402, F401  (repository on sys.path, quiet TensorFlow)
from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("kinds", ["fc", "conv"], "Models to measure.")
flags.DEFINE_integer("population_size", 10, "Members P.")
flags.DEFINE_integer("batch_size", 200, "Images a step (the reference protocol's 200).")
flags.DEFINE_integer("fc_steps", 50, "Steps per member per timed call, fc.")
flags.DEFINE_integer("conv_steps", 5, "Steps per member per timed call, conv.")
flags.DEFINE_integer("repeats", 3, "Timed calls of each way.")
flags.DEFINE_integer("threads", 1, "TensorFlow threads (intra-op and inter-op pools).")


def measure(kind: str, steps: int) -> dict:
    import numpy as np

    from pathnet_tf.experiments.data import load_mnist
    from pathnet_tf.pbt.data import epoch_batches, split_mnist
    from pathnet_tf.pbt.population import Population

    splits = split_mnist(load_mnist(), validation_size=5000)
    images, labels = splits.train_images, splits.train_labels
    size = FLAGS.population_size
    rng = np.random.default_rng(0)
    hyperparameters = [
        {"learning_rate": float(lr), "keep_prob": float(keep)}
        for lr, keep in zip(rng.uniform(1e-4, 0.1, size), rng.uniform(0.5, 0.99, size))
    ]
    population = Population(kind, hyperparameters, seed=0)
    indices = np.stack([
        epoch_batches(int(images.shape[0]), FLAGS.batch_size, rng)[:steps] for _ in range(size)
    ])

    def in_turn():
        for member in range(size):
            population.train(member, images, labels, indices[member])

    def batched():
        population.train_all(images, labels, indices)

    ways = {"in_turn": in_turn, "batched": batched}
    timings = {name: {"wall": [], "cpu": []} for name in ways}
    for way in ways.values():
        way()  # warm-up: tracing
    for _ in range(FLAGS.repeats):
        for name, way in ways.items():
            wall, cpu = time.perf_counter(), time.process_time()
            way()
            timings[name]["wall"].append(time.perf_counter() - wall)
            timings[name]["cpu"].append(time.process_time() - cpu)
    member_steps = size * steps
    result = {"kind": kind, "population_size": size, "steps": steps}
    for name, timing in timings.items():
        result[f"{name}_ms_per_member_step"] = round(
            1000 * statistics.median(timing["wall"]) / member_steps, 2)
        result[f"{name}_cpu_ms_per_member_step"] = round(
            1000 * statistics.median(timing["cpu"]) / member_steps, 2)
    result["speedup_batched"] = round(
        result["in_turn_ms_per_member_step"] / result["batched_ms_per_member_step"], 2)
    result["speedup_batched_cpu"] = round(
        result["in_turn_cpu_ms_per_member_step"] / result["batched_cpu_ms_per_member_step"], 2)
    result["tracing_counts"] = population.tracing_counts()
    return result


def main(argv):
    del argv
    from pathnet_tf.evolution.training import set_threads

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    set_threads(FLAGS.threads)
    steps = {"fc": FLAGS.fc_steps, "conv": FLAGS.conv_steps}
    results = [measure(kind, steps[kind]) for kind in FLAGS.kinds]
    print(json.dumps({
        "threads": FLAGS.threads, "batch_size": FLAGS.batch_size,
        "load_average": round(os.getloadavg()[0], 2), "results": results,
    }))


if __name__ == "__main__":
    app.run(main)
