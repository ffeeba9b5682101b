"""Milliseconds per generation of the binary MNIST config, variant by variant.

Prints ONE JSON line. Every variant runs in this process on the bundled data (task
1v3, the paper's sizes unless flags say otherwise) for `--warmup` generations, then
`--generations` timed ones in `--chunks` chunks, through the real `evolve()` loop with
TensorBoard summaries at their default cadence: everything a generation does is
counted (ask, batch sampling, the compiled tournament, tell, summaries).

Variants: `per_step` (a compiled step per minibatch called from Python, weights
snapshot and restored with assign: how ports do it), `loop_nojit` (the T steps of a
candidate in one compiled call, no XLA), `loop_xla` (the default: with XLA),
`loop_xla_mask` (all M modules computed, masked), `parallel_K` for K in `--parallel`.

The JSON also gives the compute floor measured in the same sitting: the float32
GEMM rate of this process (`--threads`, one by default) on a 1024² product and on
the generation's first-layer shapes, the generation's FLOPs (its matrix products),
the milliseconds those FLOPs take at the 1024² rate, and per variant the ratio of
its median to that floor and its speedup over the PyTorch port (0.34 s per
generation, measured on this machine earlier: a constant here, not re-measured).

    python benchmarks/bench_generation.py
    python benchmarks/bench_generation.py --variants=loop_xla,parallel --parallel=1,8
"""

import json
import os
import sys
import tempfile
import time

import numpy as np
from absl import app, flags
from common import default_setup, default_task, gemm_gflops, generation_flops, rss_mb

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_layers", 3, "L")
flags.DEFINE_integer("num_modules", 10, "M")
flags.DEFINE_integer("num_active", 3, "N")
flags.DEFINE_integer("units", 20, "Units per module.")
flags.DEFINE_integer("batch_size", 16, "Minibatch size.")
flags.DEFINE_integer("steps_per_candidate", 50, "T")
flags.DEFINE_integer("population_size", 64, "P")
flags.DEFINE_integer("warmup", 20, "Untimed generations per variant (compilation included).")
flags.DEFINE_integer("generations", 200, "Timed generations per variant.")
flags.DEFINE_integer("chunks", 10, "Timed generations are split into this many chunks.")
flags.DEFINE_list("variants", ["per_step", "loop_nojit", "loop_xla", "loop_xla_mask",
                               "parallel"], "Variants to run.")
flags.DEFINE_list("parallel", ["1", "2", "4", "8", "16"], "K values of the parallel variant.")
flags.DEFINE_integer("threads", 1, "TensorFlow threads.")

PYTORCH_PORT_MS = 340.0  # the PyTorch port's generation, measured on this machine earlier


class PerStepTrainer:
    """The baseline: one compiled SGD step per minibatch, called from Python; each
    candidate restores the snapshot with assign, its result is kept with assign, the
    winner is assigned back. Fair like the default, but T+ dispatches per candidate."""

    def __init__(self, model, task, train_x, train_y, learning_rate, tournament_size):
        import tensorflow as tf

        from pathnet_tf.evolution.genetic import select_winner

        self.tf, self.select_winner = tf, select_winner
        self.model, self.task = model, task
        self.train_x = tf.constant(train_x)
        self.train_y = tf.constant(train_y)
        self.params = [v.value for v in model.task_variables(task)]
        self.snapshot = [tf.Variable(v) for v in self.params]
        self.kept = [[tf.Variable(v) for v in self.params] for _ in range(tournament_size)]
        self.learning_rate = learning_rate
        path_spec = tf.TensorSpec([model.num_layers, model.num_active], tf.int32)
        self._step = tf.function(self._step_fn, input_signature=[
            path_spec, tf.TensorSpec([None], tf.int32)])
        self._copy = tf.function(lambda: [d.assign(s) for d, s in zip(self.snapshot,
                                                                       self.params)])

    def _step_fn(self, path, index):
        tf = self.tf
        x, y = tf.gather(self.train_x, index), tf.gather(self.train_y, index)
        frozen = tf.convert_to_tensor(self.model.frozen) > 0.5
        with tf.GradientTape() as tape:
            logits = self.model.apply([tf.convert_to_tensor(v) for v in self.params], x,
                                      path, self.task)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        grads = tape.gradient(loss, self.params)
        for index_, (variable, grad) in enumerate(zip(self.params, grads)):
            grad = tf.convert_to_tensor(grad)
            if index_ < 2 * self.model.num_layers:  # module rows: not the frozen ones
                keep = frozen[index_ // 2]
                grad = tf.where(tf.reshape(keep, [-1] + [1] * (grad.shape.rank - 1)),
                                tf.zeros_like(grad), grad)
            variable.assign_sub(self.learning_rate * grad)
        hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y)
        return tf.reduce_sum(tf.cast(hits, tf.float32)), loss

    def run_tournament(self, paths, batch_indices):
        self._copy()
        fitness, losses = [], []
        for b, path in enumerate(paths):
            for variable, saved in zip(self.params, self.snapshot):
                variable.assign(saved)
            correct, loss_sum = 0.0, 0.0
            for index in batch_indices:
                hits, loss = self._step(path, index)
                correct += float(hits)
                loss_sum += float(loss)
            for kept, variable in zip(self.kept[b], self.params):
                kept.assign(variable)
            fitness.append(correct / batch_indices.size)
            losses.append(loss_sum / len(batch_indices))
        winner = self.select_winner(fitness, losses)
        for variable, kept in zip(self.params, self.kept[winner]):
            variable.assign(kept)
        return np.array(fitness, np.float32), np.array(losses, np.float32), winner

    def tracing_counts(self):
        return {"step": self._step.experimental_get_tracing_count()}


def measure(name, task, per_step=False, **options):
    """Times one variant: `default_setup(task, **options)`, its trainer replaced by a
    `PerStepTrainer` when `per_step`."""
    from pathnet_tf.evolution.training import evolve
    from pathnet_tf.runs.summaries import Summaries

    rng = np.random.default_rng(0)
    model, trainer, tournament, sampler = default_setup(
        task, rng, num_layers=FLAGS.num_layers, num_modules=FLAGS.num_modules,
        num_active=FLAGS.num_active, units=FLAGS.units,
        population_size=FLAGS.population_size, **options)
    if per_step:
        trainer = PerStepTrainer(model, trainer.task, task.train_x, task.train_y, 0.05, 2)
    parallel = options.get("parallel")
    with tempfile.TemporaryDirectory() as logdir:
        summaries = Summaries(logdir)
        generation = [0]

        def on_generation(g, paths, fitness, winner, best_fitness, best_path):
            generation[0] += 1
            summaries.generation("A", generation[0], fitness, winner, best_fitness,
                                 tournament.module_usage, best_path, FLAGS.num_modules)
            summaries.histograms("A", generation[0], trainer.model)

        def run(generations):
            evolve(trainer, tournament, sampler,
                   steps_per_candidate=FLAGS.steps_per_candidate, batch_size=FLAGS.batch_size,
                   threshold=2.0, max_generations=generations, on_generation=on_generation)

        compile_start = time.perf_counter()
        run(FLAGS.warmup)
        warmup_seconds = time.perf_counter() - compile_start
        rss_start = rss_mb()
        per_chunk = max(1, FLAGS.generations // FLAGS.chunks)
        wall, cpu = [], []
        for _ in range(FLAGS.chunks):
            w, c = time.perf_counter(), time.process_time()
            run(per_chunk)
            wall.append((time.perf_counter() - w) / per_chunk * 1e3)
            cpu.append((time.process_time() - c) / per_chunk * 1e3)
        summaries.close()
    steps = 2 * FLAGS.steps_per_candidate
    return name, {
        "ms_per_generation": {"median": round(float(np.median(wall)), 3),
                              "min": round(float(np.min(wall)), 3),
                              "max": round(float(np.max(wall)), 3)},
        "cpu_ms_per_generation": round(float(np.median(cpu)), 3),
        "generations_per_second": round(1e3 / float(np.median(wall)), 2),
        "steps_per_second": round(steps * 1e3 / float(np.median(wall)), 1),
        "warmup_seconds": round(warmup_seconds, 2),
        "tracing_counts": trainer.tracing_counts(),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_mb(), 1),
        **({"tournaments_per_call": parallel} if parallel else {}),
    }


def measure_floor(task):
    """The compute floor of a generation, measured now (see the module docstring)."""
    input_dim = task.train_x.shape[1]
    width = FLAGS.num_active * FLAGS.units
    rate = gemm_gflops(1024, 1024, 1024, reps=5)
    shapes = {"forward": gemm_gflops(FLAGS.batch_size, input_dim, width, reps=2000),
              "weight_gradient": gemm_gflops(input_dim, FLAGS.batch_size, width, reps=2000)}
    flops = generation_flops(input_dim, FLAGS.num_layers, FLAGS.num_active, FLAGS.units,
                             2, FLAGS.batch_size, FLAGS.steps_per_candidate, 2)
    return {"gemm_gflops_1024": round(rate, 1),
            "gemm_gflops_first_layer": {k: round(v, 1) for k, v in shapes.items()},
            "generation_mflop": round(flops / 1e6, 1),
            "floor_ms_per_generation": round(flops / rate / 1e6, 3)}


def main(argv):
    del argv
    from pathnet_tf.evolution.training import set_threads

    set_threads(FLAGS.threads)
    task = default_task(np.random.default_rng(0))
    variants = {"per_step": {"per_step": True}, "loop_nojit": {"jit_compile": False},
                "loop_xla": {}, "loop_xla_mask": {"compute": "mask"}}
    results = {}
    for name in FLAGS.variants:
        if name == "parallel":
            for k in map(int, FLAGS.parallel):
                key, value = measure(f"parallel_{k}", task, parallel=k)
                results[key] = value
        else:
            key, value = measure(name, task, **variants[name])
            results[key] = value
        print(f"{name}: done", file=sys.stderr, flush=True)
    floor = measure_floor(task)
    reference = results.get("loop_xla", {}).get("ms_per_generation", {}).get("median")
    for value in results.values():
        median = value["ms_per_generation"]["median"]
        value["ratio_to_floor"] = round(median / floor["floor_ms_per_generation"], 2)
        value["speedup_vs_pytorch_port"] = round(PYTORCH_PORT_MS / median, 1)
        if reference:
            value["speedup_vs_loop_xla"] = round(reference / median, 2)
    print(json.dumps({
        "benchmark": "bench_generation",
        "config": {"L": FLAGS.num_layers, "M": FLAGS.num_modules, "N": FLAGS.num_active,
                   "units": FLAGS.units, "batch": FLAGS.batch_size,
                   "T": FLAGS.steps_per_candidate, "generations": FLAGS.generations},
        "threads": FLAGS.threads, "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "floor": floor, "pytorch_port_ms_per_generation": PYTORCH_PORT_MS,
        "variants": results}))


if __name__ == "__main__":
    app.run(main)
