"""The binary MNIST experiments: digit-pair tasks learned in sequence by a PathNet.

`run(config, workdir)` is what `binary_mnist_pathnet.py` calls (two tasks, the paper's
transfer experiment); `run_pairs` learns any list of digit pairs (Split MNIST,
`split_mnist.py`). Both check the workdir and data before they train or write
anything, build the tasks and a `PathNet`, and hand them to `run.run_sequence`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import keras
import numpy as np

from pathnet_tf.core.model import PathNet
from pathnet_tf.core.module_kinds import protocol_options
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.config import BinaryMnistConfig
from pathnet_tf.files.workdir import prepare_workdir
from pathnet_tf.runs.run import run_sequence


def run_pairs(config, pairs, workdir, log: Callable[[str], None] = print,
              mnist: data_lib.Mnist | None = None, **options) -> dict:
    """Learns the binary tasks `pairs` (digit pairs) in order into `workdir`; returns
    what it writes to results.json. `config`: a `BinaryMnistConfig` or
    `SplitMnistConfig`. `mnist`: the data set if already loaded, else it is read from
    `config.data_dir`. `options` (resume, checkpoint_every, figures, tensorboard, the
    observers) go to `run.run_sequence`.
    Raises (before writing anything) `data.DataError` for bad data,
    `workdir.WorkdirError` for an unusable workdir.
    """
    start = time.perf_counter()
    workdir = prepare_workdir(workdir)
    if mnist is None:
        mnist = data_lib.load_mnist(config.data_dir)
    data_rng = np.random.default_rng([config.seed, 0])
    keras.utils.set_random_seed(config.seed)
    tasks = [data_lib.binary_task(mnist, digits, config.noise, data_rng,
                                  max_train=config.max_train, noise_kind=config.noise_kind,
                                  train_split=config.train_split,
                                  noise_train=getattr(config, "noise_draw", "once") == "once")
             for digits in pairs]
    net = config.pathnet

    def build():
        return PathNet(data_lib.IMAGE_SIZE, net.num_layers, net.num_modules, net.num_active,
                       net.units, compute=net.compute, **protocol_options(net))

    pool = options.get("pool")  # many runs in one process: the model kept across runs
    model = build() if pool is None else pool.model(repr(net), build)
    names = ", ".join(f"{task.name} ({len(task.train_x)} train images)" for task in tasks)
    log(f"PathNet L={net.num_layers} M={net.num_modules} N={net.num_active} "
        f"units={net.units}, mode {config.mode}; tasks {names}; workdir {workdir}")
    return run_sequence(config, model, tasks, workdir, log, start=start, **options)


def run(config: BinaryMnistConfig, workdir, log: Callable[[str], None] = print,
        mnist: data_lib.Mnist | None = None, **options) -> dict:
    """Task A, then task B on top of it (see `run_pairs`)."""
    return run_pairs(config, config.tasks, workdir, log, mnist=mnist, **options)
