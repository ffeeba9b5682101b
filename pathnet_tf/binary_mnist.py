"""The binary MNIST transfer experiment (the paper's main supervised experiment).

`run(config, workdir)` is what `binary_mnist_pathnet.py` calls: it checks the workdir
and data before it trains or writes anything, builds the two digit-pair tasks and a
`PathNet`, and hands them to `experiment.run_transfer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import keras
import numpy as np

from pathnet_tf import data as data_lib
from pathnet_tf.config import BinaryMnistConfig
from pathnet_tf.experiment import run_transfer
from pathnet_tf.model import PathNet
from pathnet_tf.workdir import prepare_workdir


def run(config: BinaryMnistConfig, workdir, log: Callable[[str], None] = print,
        mnist: data_lib.Mnist | None = None, resume: bool = True,
        checkpoint_every: int = 25) -> dict:
    """Runs the experiment into `workdir`; returns what it writes to results.json.

    `mnist`: the data set if already loaded, else it is read from `config.data_dir`.
    `resume`, `checkpoint_every`: see `experiment.run_transfer`.
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
                                  max_train=config.max_train)
             for digits in (config.task_a, config.task_b)]
    net = config.pathnet
    model = PathNet(data_lib.IMAGE_SIZE, net.num_layers, net.num_modules, net.num_active,
                    net.units, compute=net.compute)
    log(f"PathNet L={net.num_layers} M={net.num_modules} N={net.num_active} "
        f"units={net.units}; task A {tasks[0].name} ({len(tasks[0].train_x)} train images), "
        f"task B {tasks[1].name}; workdir {workdir}")
    return run_transfer(config, model, tasks, workdir, log, start=start, resume=resume,
                        checkpoint_every=checkpoint_every)
