"""Would stacking R runs on a leading axis make a generation cheaper per run?

    python benchmarks/bench_stacked_runs.py --runs=1,4,16,64

The arithmetic of one default generation (L=3, N=3, 20 units, B=2 candidates side by
side, T=50 SGD steps on batches of 16 from 784 inputs, a 2-way readout), written for R
independent runs at once: every weight `[R, ...]`, every product a batched product
(`einsum` over the run axis), the T steps one XLA-compiled `while_loop`, as a stacked
campaign engine would run them. No genetic algorithm, no write-back, no summaries:
only the products a stacked engine cannot avoid, so it bounds what stacking can give.
Prints ONE JSON line: ms per generation per run at each R, its ratio to the compute
floor (the default generation's FLOPs at the 1024² GEMM rate measured now) and the
speedup over R = 1.
"""

import json
import os
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import gemm_gflops, generation_flops  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("runs", ["1", "4", "16", "64"], "Stack sizes R to measure.")
flags.DEFINE_integer("calls", 10, "Timed generations per R (after one warm-up).")

INPUT, LAYERS, ACTIVE, UNITS, CLASSES, BATCH, STEPS, CANDIDATES = 784, 3, 3, 20, 2, 16, 50, 2


def stacked_generation(runs: int):
    """A compiled generation of `runs` stacked runs, and arguments for it."""
    import tensorflow as tf

    width = ACTIVE * UNITS

    def layer(hidden, kernel, bias, pattern):
        out = tf.nn.relu(tf.einsum(pattern, hidden, kernel) + bias)
        return tf.reduce_sum(tf.reshape(out, [*out.shape[:-1], ACTIVE, UNITS]), -2)

    @tf.function(jit_compile=True)
    def generation(x, y, *params):
        def body(t, *params):
            with tf.GradientTape() as tape:
                tape.watch(params)
                w1, b1, w2, b2, w3, b3, head, head_bias = params
                # Layer 1: the candidates share the minibatch, one product for both.
                first = tf.nn.relu(tf.einsum("rni,rio->rno", x[:, t], w1) + b1[:, None])
                first = tf.reshape(first, [runs, BATCH, CANDIDATES, ACTIVE, UNITS])
                hidden = tf.transpose(tf.reduce_sum(first, 3), [0, 2, 1, 3])  # [R, B, n, U]
                hidden = layer(hidden, w2, b2[:, :, None], "rbni,rbio->rbno")
                hidden = layer(hidden, w3, b3[:, :, None], "rbni,rbio->rbno")
                logits = tf.einsum("rbni,rbic->rbnc", hidden, head) + head_bias[:, :, None]
                labels = tf.broadcast_to(y[:, None, t], [runs, CANDIDATES, BATCH])
                loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=labels, logits=logits))
            grads = tape.gradient(loss, params)
            return (t + 1, *[p - 0.05 * g for p, g in zip(params, grads)])

        return tf.while_loop(lambda t, *_: t < STEPS, body, (tf.constant(0), *params))[1]

    normal = tf.random.normal
    args = [tf.random.uniform([runs, STEPS, BATCH, INPUT]),
            tf.random.uniform([runs, STEPS, BATCH], 0, CLASSES, tf.int32),
            normal([runs, INPUT, CANDIDATES * width]) * 0.05,
            tf.zeros([runs, CANDIDATES * width]),
            normal([runs, CANDIDATES, UNITS, width]) * 0.1, tf.zeros([runs, CANDIDATES, width]),
            normal([runs, CANDIDATES, UNITS, width]) * 0.1, tf.zeros([runs, CANDIDATES, width]),
            normal([runs, CANDIDATES, UNITS, CLASSES]), tf.zeros([runs, CANDIDATES, CLASSES])]
    return generation, args


def main(argv):
    del argv
    from pathnet_tf.evolution.training import set_threads

    set_threads(1)
    rate = gemm_gflops(1024, 1024, 1024, reps=5)
    flops = generation_flops(INPUT, LAYERS, ACTIVE, UNITS, CLASSES, BATCH, STEPS, CANDIDATES)
    floor_ms = flops / (rate * 1e9) * 1e3
    per_run = {}
    for runs in map(int, FLAGS.runs):
        generation, args = stacked_generation(runs)
        generation(*args).numpy()
        start = time.perf_counter()
        for _ in range(FLAGS.calls):
            generation(*args).numpy()
        per_run[runs] = (time.perf_counter() - start) / FLAGS.calls / runs * 1e3
        print(f"R={runs}: {per_run[runs]:.2f} ms per generation per run", file=sys.stderr,
              flush=True)
    first = per_run[min(per_run)]
    print(json.dumps({
        "benchmark": "bench_stacked_runs",
        "floor": {"gemm_gflops_1024": round(rate, 1), "generation_mflop": round(flops / 1e6, 1),
                  "floor_ms_per_generation": round(floor_ms, 3)},
        "ms_per_generation_per_run": {str(r): round(v, 3) for r, v in per_run.items()},
        "ratio_to_floor": {str(r): round(v / floor_ms, 2) for r, v in per_run.items()},
        "speedup_vs_smallest": {str(r): round(first / v, 2) for r, v in per_run.items()},
        "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    app.run(main)
