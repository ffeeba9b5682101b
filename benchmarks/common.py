"""What the benchmarks share: the repository on sys.path, quiet TensorFlow, memory
readings, and the default binary MNIST setting (task 1v3, the paper's sizes)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402


def rss_mb() -> float:
    """Resident memory of this process, MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def default_task(rng: np.random.Generator):
    """Binary MNIST 1v3 from the bundled data, noise 0.5."""
    from pathnet_tf.experiments import data

    return data.binary_task(data.load_mnist(), (1, 3), 0.5, rng)


def default_setup(task, rng: np.random.Generator, *, num_layers=3, num_modules=10,
                  num_active=3, units=20, population_size=64, compute="gather",
                  jit_compile=True, parallel=0):
    """A fresh PathNet with one head for `task`, its trainer (SGD 0.05; serial, or
    `parallel` tournaments), a population and a batch sampler."""
    import keras

    from pathnet_tf.core.model import PathNet
    from pathnet_tf.core.optimizers import make_optimizer
    from pathnet_tf.evolution.genetic import Tournament
    from pathnet_tf.evolution.parallel import ParallelTaskTrainer
    from pathnet_tf.evolution.training import BatchSampler, TaskTrainer

    keras.utils.set_random_seed(0)
    model = PathNet(task.train_x.shape[1], num_layers, num_modules, num_active, units,
                    compute=compute)
    index = model.add_task(2)
    optimizer = make_optimizer("sgd", 0.05)
    if parallel:
        trainer = ParallelTaskTrainer(model, index, task.train_x, task.train_y, optimizer,
                                      jit_compile=jit_compile, tournaments=parallel)
    else:
        trainer = TaskTrainer(model, index, task.train_x, task.train_y, optimizer,
                              jit_compile=jit_compile)
    tournament = Tournament(population_size, num_layers, num_modules, num_active, rng)
    return model, trainer, tournament, BatchSampler(len(task.train_x), rng)


def gemm_gflops(m: int, k: int, n: int, reps: int, trials: int = 5) -> float:
    """float32 GFLOP/s of an XLA-compiled `[m, k] @ [k, n]` matmul, `reps` products per
    call (one dispatch), best of `trials` calls, on this process's TensorFlow threads
    (`training.set_threads` first for a single-thread figure)."""
    import time

    import tensorflow as tf

    a, b = tf.random.normal([m, k]), tf.random.normal([k, n])

    @tf.function(jit_compile=True)
    def products(a, b):
        def body(i, total):  # each product depends on i: none can be hoisted
            return i + 1, total + tf.matmul(a + tf.cast(i, tf.float32), b)[0, 0]
        return tf.while_loop(lambda i, _: i < reps, body, (0, 0.0))[1]

    products(a, b).numpy()
    best = float("inf")
    for _ in range(trials):
        start = time.perf_counter()
        products(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2.0 * m * k * n * reps / best / 1e9


def generation_flops(input_dim, num_layers, num_active, units, classes, batch, steps,
                     candidates) -> int:
    """Multiply-add FLOPs (2 per multiply-add) of one generation's matrix products:
    B candidates × T steps, each a forward pass through the N active modules of
    every layer and the readout, the weight gradients of all of them, and the input
    gradients of every layer but the first (the inputs need none)."""
    width = num_active * units
    forward = 2 * batch * (input_dim * width + (num_layers - 1) * units * width
                           + units * classes)
    input_grads = 2 * batch * ((num_layers - 1) * units * width + units * classes)
    return candidates * steps * (2 * forward + input_grads)
