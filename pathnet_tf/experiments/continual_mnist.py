"""Split MNIST and Permuted MNIST as continual-learning benchmarks, every method of the
modes table in one harness (docs/continual.md): `ContinualMnistConfig` (the
benchmark, the stopping rule, the strengths of EWC and SI) and `run(config, workdir)`,
what `continual_mnist_pathnet.py` calls. Nothing here but `run` and
`permuted_tasks`' callers import TensorFlow.

- Split MNIST: the binary digit-pair tasks of `split_mnist.py` (0v1, ..., 8v9), one
  head of 2 classes per task.
- Permuted MNIST: `num_tasks` tasks, each all ten digits with the pixels of every
  image shuffled by the task's own fixed permutation (drawn from `[seed, 4]`), one
  head of 10 classes per task.

`budget`: "threshold" (the paper's rule: a task ends when a winner's training
accuracy reaches `threshold`, or after `max_generations`) or "fixed" (every task runs
`max_generations` generations, every method the same number of training steps; the
generation a winner first reached the threshold is still reported).

Mode "joint" (every task's data at once, the upper bound) is not a sequence: `run`
trains it by `runs/joint.run_joint` (its own path, `budget` "fixed" only), every
other mode by the sequence runner. Mode "separate" (a fresh network per task) is a
sequence mode like the others (`runs/separate.py`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np

from pathnet_tf.core.checks import check_positive_int
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.config import SPLIT_MNIST_TASKS, _MnistExperiment, parse_digit_pairs

BENCHMARKS = ("split", "permuted")
# With `validation`, the last tenth of each task's (shuffled) training images is its
# test split and is not trained on: the sweep of λ and c never sees the test images.
VALIDATION = 0.1
BUDGETS = ("threshold", "fixed")
DEFAULT_EWC_LAMBDA = 100.0  # = regularized.DEFAULT_EWC_LAMBDA (this module is TF-free)
DEFAULT_SI_C = 0.1
DEFAULT_SI_XI = 0.1


def _check_positive_number(owner, name: str) -> None:
    value = getattr(owner, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"{name} ({value!r}) must be a positive number")


@dataclasses.dataclass(frozen=True)
class ContinualMnistConfig(_MnistExperiment):
    """A continual-learning benchmark on MNIST (module docstring).

    ewc_lambda: λ of EWC (mode ewc), > 0. ewc_gamma: None for EWC's one penalty per
    task; a decay γ in (0, 1] for online EWC. si_c: c of SI (mode si), > 0. si_xi:
    SI's damping ξ, > 0."""

    noise: float = 0.0  # the benchmarks are run on clean images
    benchmark: str = "split"
    tasks: tuple = SPLIT_MNIST_TASKS  # Split MNIST's digit pairs
    num_tasks: int = 10  # Permuted MNIST's tasks
    budget: str = "threshold"
    ewc_lambda: float = DEFAULT_EWC_LAMBDA
    ewc_gamma: float | None = None
    si_c: float = DEFAULT_SI_C
    si_xi: float = DEFAULT_SI_XI
    validation: bool = False  # the tasks' test splits: VALIDATION of their training images

    def __post_init__(self):
        super().__post_init__()
        if self.benchmark not in BENCHMARKS:
            raise ValueError(f"benchmark ({self.benchmark!r}) must be one of "
                             f"{', '.join(BENCHMARKS)}")
        if self.budget not in BUDGETS:
            raise ValueError(f"budget ({self.budget!r}) must be one of {', '.join(BUDGETS)}")
        if self.mode == "joint" and self.budget != "fixed":
            raise ValueError(f"budget ({self.budget!r}) must be 'fixed' for mode joint (it "
                             "trains the sequence's total steps at once)")
        object.__setattr__(self, "tasks", parse_digit_pairs(self.tasks))
        check_positive_int("num_tasks", self.num_tasks)
        if self.benchmark == "permuted" and self.noise:
            raise ValueError(f"noise ({self.noise!r}) must be 0 for benchmark permuted")
        if not isinstance(self.validation, bool):
            raise ValueError(f"validation ({self.validation!r}) must be True or False")
        for name in ("ewc_lambda", "si_c", "si_xi"):
            _check_positive_number(self, name)
        if self.ewc_gamma is not None and (
                isinstance(self.ewc_gamma, bool) or not isinstance(self.ewc_gamma, (int, float))
                or not 0 < self.ewc_gamma <= 1):
            raise ValueError(f"ewc_gamma ({self.ewc_gamma!r}) must be in (0, 1] (online "
                             "EWC), or None for one penalty per task")


@dataclasses.dataclass(frozen=True, eq=False)
class PermutedTask:
    """One Permuted MNIST task: all ten digits, pixels in the task's order."""

    name: str
    index: int
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    num_classes = 10

    @property
    def info(self) -> dict:
        return {"permutation": self.index}


def permutations(seed: int, count: int, size: int = data_lib.IMAGE_SIZE) -> np.ndarray:
    """`[count, size]` pixel permutations, one per task, from `[seed, 4]`."""
    rng = np.random.default_rng([seed, 4])
    return np.stack([rng.permutation(size) for _ in range(count)])


def permuted_tasks(mnist, count: int, seed: int, rng: np.random.Generator,
                   max_train: int | None = None, max_test: int | None = None) -> list:
    """`count` Permuted MNIST tasks: images scaled to [0, 1] and flattened, each split
    shuffled by `rng` (one order for every task) and cut to `max_train` / `max_test`,
    then permuted by each task's permutation (`permutations(seed, count)`)."""
    splits = {}
    for split, images, labels, limit in (("train", mnist.train_images, mnist.train_labels,
                                          max_train),
                                         ("test", mnist.test_images, mnist.test_labels,
                                          max_test)):
        order = rng.permutation(len(labels))[:limit]
        x = images[order].reshape(len(order), -1).astype(np.float32) / np.float32(255.0)
        splits[split] = (x, labels[order].astype(np.int32))
    out = []
    for index, permutation in enumerate(permutations(seed, count)):
        out.append(PermutedTask(f"P{index + 1}", index,
                                np.ascontiguousarray(splits["train"][0][:, permutation]),
                                splits["train"][1],
                                np.ascontiguousarray(splits["test"][0][:, permutation]),
                                splits["test"][1]))
    return out


def held_out(task):
    """`task` with the last `VALIDATION` of its training images as its test split."""
    count = max(1, int(round(len(task.train_x) * VALIDATION)))
    return dataclasses.replace(task, train_x=task.train_x[:-count],
                               train_y=task.train_y[:-count], test_x=task.train_x[-count:],
                               test_y=task.train_y[-count:])


def make_tasks(config: ContinualMnistConfig, mnist) -> list:
    """The benchmark's tasks. Split MNIST's are `binary_mnist.run_pairs`'s (the same
    draws from `[seed, 0]`), so a run here equals `split_mnist.run`'s."""
    data_rng = np.random.default_rng([config.seed, 0])
    if config.benchmark == "split":
        tasks = [data_lib.binary_task(mnist, digits, config.noise, data_rng,
                                      max_train=config.max_train,
                                      noise_kind=config.noise_kind,
                                      train_split=config.train_split)
                 for digits in config.tasks]
    else:
        tasks = permuted_tasks(mnist, config.num_tasks, config.seed, data_rng,
                               max_train=config.max_train)
    return [held_out(task) for task in tasks] if config.validation else tasks


def run(config: ContinualMnistConfig, workdir, log: Callable[[str], None] = print,
        mnist: data_lib.Mnist | None = None, **options) -> dict:
    """Runs the benchmark into `workdir` (checks as `binary_mnist.run_pairs`; `options`
    go on to `run.run_sequence`); logs ACC, BWT and FWT; returns the results."""
    import keras

    from pathnet_tf.core.model import PathNet
    from pathnet_tf.core.module_kinds import protocol_options
    from pathnet_tf.files.workdir import prepare_workdir
    from pathnet_tf.runs.run import run_sequence

    start = time.perf_counter()
    workdir = prepare_workdir(workdir)
    if mnist is None:
        mnist = data_lib.load_mnist(config.data_dir)
    tasks = make_tasks(config, mnist)
    keras.utils.set_random_seed(config.seed)
    net = config.pathnet

    def build():
        return PathNet(data_lib.IMAGE_SIZE, net.num_layers, net.num_modules, net.num_active,
                       net.units, compute=net.compute, **protocol_options(net))

    pool = options.get("pool")
    model = build() if pool is None else pool.model(repr(net), build)
    names = ", ".join(f"{task.name} ({len(task.train_x)} train images)" for task in tasks)
    log(f"PathNet L={net.num_layers} M={net.num_modules} N={net.num_active} "
        f"units={net.units}, mode {config.mode}; {config.benchmark} MNIST: {names}; "
        f"workdir {workdir}")
    if config.mode == "joint":  # not a sequence: its own path (runs/joint.py)
        from pathnet_tf.runs.joint import run_joint

        results = run_joint(config, model, tasks, workdir, log, start=start, **options)
    else:
        results = run_sequence(config, model, tasks, workdir, log, start=start, **options)
    shown = {name: "–" if results["continual"][name] is None
             else f"{results['continual'][name]:.4f}" for name in ("acc", "bwt", "fwt")}
    log(f"{config.mode} {config.benchmark}: ACC {shown['acc']}, BWT {shown['bwt']}, "
        f"FWT {shown['fwt']}")
    return results
