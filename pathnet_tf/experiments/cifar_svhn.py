"""The CIFAR-10 / SVHN transfer experiment: the data sets via tensorflow-datasets, and `run`.

Both data sets come from tfds (`cifar10`, `svhn_cropped`: 32x32 RGB images, 10
classes) in the same layout: HWC, float32 scaled to [0, 1] (the TF1 code fed them in
different layouts to the same first layer; here a module sees the same pixel in the
same place whichever data set it learns). Dense modules get them flattened to
`[n, 3072]`, conv modules as `[n, 32, 32, 3]`.

Nothing is downloaded unless asked: `prepared_builders(config)` checks that tfds has
both data sets prepared in `config.data_dir` and otherwise raises `DataError` with
one sentence saying how to prepare them (`tfds build ...` on a machine with network,
then `--data_dir`), or, with `config.download`, lets tfds download them.

`run(config, workdir)` is what `cifar_svhn_pathnet.py` calls: it builds the two tasks
(`config.first` is task A) and a `PathNet`, and hands them to
`run.run_sequence`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable

import numpy as np

from pathnet_tf.experiments.config import CIFAR_SVHN_IMAGE_SHAPE, CifarSvhnConfig
from pathnet_tf.experiments.data import DataError
from pathnet_tf.files.workdir import prepare_workdir

TFDS_NAMES = {"cifar": "cifar10", "svhn": "svhn_cropped"}  # CifarSvhnConfig.first -> tfds
NUM_CLASSES = 10
_LOAD_BATCH = 8192  # examples per tf.data batch while reading a split into NumPy


@dataclasses.dataclass(frozen=True, eq=False)
class ImageTask:
    """One 10-way image classification task, as `run.run_sequence` takes it.

    Attributes:
      name: "cifar" or "svhn".
      train_x, test_x: `[n, 3072]` or `[n, 32, 32, 3]` float32 in [0, 1] (HWC order).
      train_y, test_y: `[n]` int32 in 0-9.
      info: copied into the task's results (the tfds name, the split sizes).
    """

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    num_classes: int = NUM_CLASSES
    info: dict = dataclasses.field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"ImageTask({self.name!r}, train_x={list(self.train_x.shape)}, "
                f"test_x={list(self.test_x.shape)})")


@contextlib.contextmanager
def _quiet_absl():
    """Hides tfds's absl warnings (e.g. "Variant folder ... has no dataset_info.json")
    while we check for prepared data: our own message says it better."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def prepared_builder(tfds_name: str, data_dir: str | None = None, download: bool = False):
    """The tfds builder of `tfds_name` with its data prepared in `data_dir` (None: tfds's
    default directory). Not prepared: with `download`, tfds downloads and prepares it
    now; without, `DataError` says how to prepare it. Nothing is downloaded otherwise."""
    import tensorflow_datasets as tfds

    with _quiet_absl():
        builder = tfds.builder(tfds_name, data_dir=data_dir)
        prepared = builder.is_prepared()
    if prepared:
        return builder
    where = data_dir or f"tfds's default data directory {tfds.core.constants.DATA_DIR}"
    if not download:
        raise DataError(
            f"{tfds_name} is not prepared in {where} and this run does not download: run "
            f"`tfds build {tfds_name} --data_dir=DIR` on a machine with network access, then "
            "pass --data_dir=DIR (or pass --download to let tfds download it now)")
    try:
        builder.download_and_prepare()
    except OSError as error:  # network or disk trouble while downloading
        raise DataError(f"{tfds_name} could not be downloaded and prepared in {where}: "
                        f"{error}") from error
    return builder


def prepared_builders(config: CifarSvhnConfig) -> dict:
    """`{"cifar": builder, "svhn": builder}`, both checked (see `prepared_builder`)
    before either is read, so a missing second data set is reported at once."""
    return {key: prepared_builder(TFDS_NAMES[key], config.data_dir, config.download)
            for key in config.task_order}


def read_split(builder, split: str, limit: int | None = None):
    """`(images [n, 32, 32, 3] float32 in [0, 1], labels [n] int32)` of one split,
    at most `limit` examples. Raises `DataError` if the images or labels are not the
    expected shape and range."""
    import tensorflow_datasets as tfds

    dataset = builder.as_dataset(split=split, as_supervised=True, shuffle_files=False)
    images, labels = [], []
    for image_batch, label_batch in tfds.as_numpy(dataset.batch(_LOAD_BATCH)):
        images.append(image_batch)
        labels.append(label_batch)
        if limit is not None and sum(len(batch) for batch in labels) >= limit:
            break
    name = f"{builder.name} {split}"
    if not images:
        raise DataError(f"{name} holds no examples")
    images = np.concatenate(images)[:limit]
    labels = np.concatenate(labels)[:limit]
    if images.shape[1:] != CIFAR_SVHN_IMAGE_SHAPE or len(labels) != len(images):
        raise DataError(f"{name} images are {list(images.shape)} with {len(labels)} "
                        f"labels, expected [n, 32, 32, 3] with n labels")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise DataError(f"{name} labels span {labels.min()}..{labels.max()}, "
                        f"expected 0..{NUM_CLASSES - 1}")
    pixels = images.astype(np.float32)
    pixels /= 255.0  # in place: the float copy of SVHN's training split is ~0.9 GB
    return pixels, labels.astype(np.int32)


def load_task(key: str, builder, max_train: int | None = None,
              flatten: bool = True) -> ImageTask:
    """The task of data set `key` ("cifar" or "svhn") from its prepared `builder`:
    the train split (its first `max_train` examples if given) and the test split,
    flattened to `[n, 3072]` if `flatten` (dense modules) else `[n, 32, 32, 3]`."""
    train_split = "train" if max_train is None else f"train[:{max_train}]"
    train_x, train_y = read_split(builder, train_split, max_train)
    test_x, test_y = read_split(builder, "test")
    if flatten:
        train_x = train_x.reshape(len(train_x), -1)
        test_x = test_x.reshape(len(test_x), -1)
    info = {"dataset": builder.name, "train_examples": len(train_x),
            "test_examples": len(test_x)}
    return ImageTask(key, train_x, train_y, test_x, test_y, info=info)


def load_tasks(config: CifarSvhnConfig, builders: dict | None = None) -> list:
    """`[task A, task B]` in `config.task_order`, laid out for `config.module_type`."""
    builders = prepared_builders(config) if builders is None else builders
    flatten = config.module_type == "dense"
    return [load_task(key, builders[key], config.max_train, flatten)
            for key in config.task_order]


def build_model(config: CifarSvhnConfig):
    """A fresh `PathNet` without task heads: dense modules on the flattened images, or
    `config.conv_layers` of conv modules on the HWC images followed by dense ones."""
    from pathnet_tf.core.model import PathNet
    from pathnet_tf.core.module_kinds import protocol_options

    net = config.pathnet
    common = dict(num_layers=net.num_layers, num_modules=net.num_modules,
                  num_active=net.num_active, units=net.units, compute=net.compute,
                  **protocol_options(net))
    if config.module_type == "dense":
        return PathNet(int(np.prod(CIFAR_SVHN_IMAGE_SHAPE)), **common)
    return PathNet(input_shape=CIFAR_SVHN_IMAGE_SHAPE, conv_layers=config.conv_layers,
                   padding=config.conv_padding, **common)


def describe(config: CifarSvhnConfig) -> str:
    """One line naming the network, e.g. for the log."""
    net = config.pathnet
    layers = f"{net.num_layers} dense layers"
    if config.module_type == "conv":
        convs = ", ".join(f"{f} kernels {k}x{k} stride {s}" for f, k, s in config.conv_layers)
        layers = (f"{len(config.conv_layers)} conv layers ({convs}) + "
                  f"{net.num_layers - len(config.conv_layers)} dense layers")
    return (f"PathNet L={net.num_layers} M={net.num_modules} N={net.num_active}: {layers}, "
            f"{net.units} units per dense module")


def run(config: CifarSvhnConfig, workdir, log: Callable[[str], None] = print,
        tasks: list | None = None, **options) -> dict:
    """Runs the experiment into `workdir`; returns what it writes to results.json.

    `tasks`: `[task A, task B]` if already loaded (`load_tasks`), else they are read
    from tfds. `options` (resume, checkpoint_every, figures, tensorboard): see
    `run.run_sequence`. Raises (before writing anything) `data.DataError` for missing or bad data,
    `workdir.WorkdirError` for an unusable workdir.
    """
    import keras

    from pathnet_tf.runs.run import run_sequence

    start = time.perf_counter()
    workdir = prepare_workdir(workdir)
    if tasks is None:
        tasks = load_tasks(config)
    keras.utils.set_random_seed(config.seed)
    model = build_model(config)
    log(f"{describe(config)}; task A {tasks[0].name} ({len(tasks[0].train_x)} train images), "
        f"task B {tasks[1].name} ({len(tasks[1].train_x)} train images); workdir {workdir}")
    return run_sequence(config, model, tasks, workdir, log, start=start, **options)
