"""The public API and a task's run as one object: `TaskRun.state()` / `load_state()`."""

import json
import subprocess
import sys

import keras
import numpy as np

import pathnet_tf
from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.core.model import PathNet
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.experiments.config import BinaryMnistConfig
from pathnet_tf.runs.summaries import Summaries
from pathnet_tf.runs.task_run import TaskRun
from tests.test_training import make_data


def test_every_public_name_resolves_and_import_starts_no_tensorflow():
    for name in pathnet_tf.__all__:
        assert getattr(pathnet_tf, name) is not None, name
    from pathnet_tf import PathNet, PathNetConv2D, PathNetDense, Tournament, run_sequence
    assert callable(run_sequence) and issubclass(PathNetDense, keras.layers.Layer)
    assert PathNet.__module__ == "pathnet_tf.core.model" and PathNetConv2D and Tournament
    done = subprocess.run([sys.executable, "-c", "import sys, pathnet_tf; "
                           "print('tensorflow' in sys.modules)"], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


class Task:
    name = "toy"

    def __init__(self):
        x, y = make_data(n=40)
        self.train_x, self.train_y, self.test_x, self.test_y = x, y, x, y


def make_run(tmp_path, seed=0):
    config = BinaryMnistConfig(
        pathnet=PathNetConfig(num_layers=2, num_modules=4, num_active=2, units=5),
        evolution=EvolutionConfig(population_size=4, steps_per_candidate=3, batch_size=4,
                                  max_generations=3, threshold=1.0, optimizer="adam",
                                  jit_compile=False))
    keras.utils.set_random_seed(seed)
    model = PathNet(6, 2, 4, 2, 5)
    run = TaskRun(model, Task(), config, np.random.default_rng(seed), "A")
    return run, Summaries(tmp_path / "tb")


def test_task_run_state_round_trips_everything_it_needs_to_continue(tmp_path):
    run, summaries = make_run(tmp_path)
    run.evolve(summaries, log=lambda _: None)
    arrays, header = run.state()
    assert json.loads(json.dumps(header)) == header  # plain JSON
    assert all(isinstance(value, (np.ndarray, np.generic)) for value in arrays.values())
    assert header["evolve"]["generations"] == 3 and float(arrays["trainer/step"]) == 9.0
    assert any(np.abs(arrays[name]).sum() > 0 for name in arrays if name.startswith("slots/"))

    other, _ = make_run(tmp_path, seed=1)  # other population, other sampler, empty slots
    other.load_state(arrays, header)
    again_arrays, again_header = other.state()
    assert again_header == header and sorted(again_arrays) == sorted(arrays)
    for name, value in arrays.items():
        np.testing.assert_array_equal(again_arrays[name], value, err_msg=name)
    summaries.close()
