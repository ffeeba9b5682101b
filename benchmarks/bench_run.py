"""Wall time of whole binary MNIST runs (both tasks, start-up included).

Runs `binary_mnist_pathnet.py` `--runs` times as separate processes (seeds 0, 1, ...)
at its defaults plus any `--flags`, and prints ONE JSON line: wall seconds (median,
min, max), generations per task, and the process CPU seconds of each run.

    python benchmarks/bench_run.py --runs=5
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_integer("runs", 5, "Number of runs (seeds 0..runs-1).")
flags.DEFINE_list("flags", [], "Extra flags for binary_mnist_pathnet.py, e.g. --parallel=8.")


def main(argv):
    del argv
    walls, cpus, generations = [], [], []
    for seed in range(FLAGS.runs):
        with tempfile.TemporaryDirectory() as workdir:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, os.path.join(ROOT, "binary_mnist_pathnet.py"),
                            f"--seed={seed}", f"--workdir={workdir}", *FLAGS.flags],
                           check=True, capture_output=True, cwd=ROOT)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            with open(os.path.join(workdir, "results.json")) as file:
                results = json.load(file)
            generations.append([results["task_a"]["generations"],
                                results["task_b"]["generations"]])
        print(f"run {seed}: {walls[-1]:.1f} s, generations {generations[-1]}",
              file=sys.stderr, flush=True)
    print(json.dumps({
        "benchmark": "bench_run", "runs": FLAGS.runs, "flags": FLAGS.flags,
        "wall_seconds": {"median": round(float(np.median(walls)), 2),
                         "min": round(min(walls), 2), "max": round(max(walls), 2)},
        "cpu_seconds_median": round(float(np.median(cpus)), 2),
        "generations": generations,
        "load_average_1min": round(os.getloadavg()[0], 2), "cpu_count": os.cpu_count()}))


if __name__ == "__main__":
    app.run(main)
