"""A campaign the old way (one process per run) and the new way (batches of seeds, many
runs per process), in the same sitting, against the compute floor measured then.

    python benchmarks/bench_campaign.py                  # 3 modes x 2 orderings x 4 seeds
    python benchmarks/bench_campaign.py --seeds=10 --orderings=1,3:1,2,1,2:1,3,4,5:6,7,6,7:4,5

Both ways run `auto_binary_mnist_pathnet.sh` on the same campaign (default settings of
binary_mnist_pathnet.py plus `--extra_flags`), JOBS processes at a time: the old way
with BATCH=1 (each run its own process, as before `--seeds` existed), the new way with
BATCH=seeds (one process per mode and ordering). It checks that both ways wrote the
same results (timings aside) and prints ONE JSON line: wall seconds and runs per hour
of each way, their ratio, the campaign's floor time (its total generations × the FLOPs
of a generation ÷ the GEMM rate measured now ÷ JOBS) and each way's ratio to it, the
largest resident memory of any run process, and (with --single) `import tensorflow`
and one default run (`make run`) timed in fresh processes, and their ratio.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import gemm_gflops, generation_flops  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_list("modes", ["pathnet", "independent", "finetune"], "Modes of the campaign.")
flags.DEFINE_string("orderings", "1,3:1,2 4,5:6,7", "Task orderings A:B, space-separated.")
flags.DEFINE_integer("seeds", 4, "Seeds per mode and ordering.")
flags.DEFINE_integer("jobs", 2, "Processes at a time (JOBS), both ways.")
flags.DEFINE_string("extra_flags", "", "More flags for every run (EXTRA_FLAGS).")
flags.DEFINE_list("ways", ["old", "new"], "Which ways to run.")
flags.DEFINE_boolean("single", True, "Also time `import tensorflow` and one default run.")


def campaign(results_dir: str, batch: int) -> tuple[float, float]:
    """Runs the campaign script; returns (wall seconds, largest child RSS MB so far)."""
    env = dict(os.environ, RESULTS_DIR=results_dir, RUNS=str(FLAGS.seeds),
               MODES=" ".join(FLAGS.modes), ORDERINGS=FLAGS.orderings, JOBS=str(FLAGS.jobs),
               BATCH=str(batch), EXTRA_FLAGS=FLAGS.extra_flags, PYTHON=sys.executable,
               REPORT_FLAGS="--no-figures --resamples=200", PROGRESS="600",
               TF_CPP_MIN_LOG_LEVEL="2")
    start = time.perf_counter()
    subprocess.run(["bash", os.path.join(ROOT, "auto_binary_mnist_pathnet.sh")], check=True,
                   env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def results_of(folder: str) -> dict:
    """relative path -> results.json without timings."""
    found = {}
    for base, _, files in os.walk(folder):
        if "results.json" in files:
            with open(os.path.join(base, "results.json")) as file:
                results = json.load(file)
            results.pop("wall_seconds", None)
            for task in results.get("tasks", []) + [results.get("task_a"), results.get("task_b")]:
                if isinstance(task, dict):
                    task.pop("wall_seconds", None)
            found[os.path.relpath(base, folder)] = results
    return found


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True,
                   env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    return time.perf_counter() - start


def main(argv):
    del argv
    from pathnet_tf.evolution.training import set_threads

    set_threads(1)
    runs = len(FLAGS.modes) * len(FLAGS.orderings.split()) * FLAGS.seeds
    ways, found = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for way in FLAGS.ways:
            folder = os.path.join(scratch, way)
            wall, rss = campaign(folder, 1 if way == "old" else FLAGS.seeds)
            found[way] = results_of(folder)
            ways[way] = {"wall_seconds": round(wall, 1),
                         "runs_per_hour": round(len(found[way]) * 3600 / wall, 1),
                         "max_rss_mb_of_any_process_so_far": round(rss, 1)}
            print(f"{way}: {wall:.0f} s", file=sys.stderr, flush=True)
        single = {}
        if FLAGS.single:
            single["import_tensorflow_seconds"] = round(timed(
                [sys.executable, "-c", "import tensorflow"]), 2)
            single["default_run_seconds"] = round(timed(
                [sys.executable, "binary_mnist_pathnet.py", "--nofigures",
                 f"--workdir={os.path.join(scratch, 'single')}"]), 2)
            single["ratio"] = round(single["default_run_seconds"]
                                    / single["import_tensorflow_seconds"], 2)
    any_results = next(iter(found.values()))
    generations = sum(task["generations"] for results in any_results.values()
                      for task in results["tasks"] if task is not None)
    rate = gemm_gflops(1024, 1024, 1024, reps=5)
    flops = generation_flops(784, 3, 3, 20, 2, 16, 50, 2)  # the default generation
    floor = generations * flops / (rate * 1e9) / FLAGS.jobs
    for value in ways.values():
        value["ratio_to_floor"] = round(value["wall_seconds"] / floor, 2)
    out = {"benchmark": "bench_campaign", "runs": runs, "modes": FLAGS.modes,
           "orderings": FLAGS.orderings.split(), "seeds": FLAGS.seeds, "jobs": FLAGS.jobs,
           "extra_flags": FLAGS.extra_flags, "total_generations": generations,
           "floor": {"gemm_gflops_1024": round(rate, 1),
                     "generation_mflop": round(flops / 1e6, 1),
                     "campaign_floor_seconds": round(floor, 1)},
           "ways": ways, **single,
           "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)}
    if "old" in ways and "new" in ways:
        out["speedup_runs_per_hour"] = round(ways["new"]["runs_per_hour"]
                                             / ways["old"]["runs_per_hour"], 2)
        out["same_results"] = found["old"] == found["new"]
    print(json.dumps(out))


if __name__ == "__main__":
    app.run(main)
