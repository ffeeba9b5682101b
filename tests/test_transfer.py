"""The transfer step end to end: a two-task run in process, its model read when task A
ends and when the run ends. PathNet freezes task A's best path (bit-identical at the
end), re-initialises everything else and gives task B a new head; fine-tune changes
nothing between tasks but the head; independent never trains task A."""

import keras
import numpy as np
import pytest

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.core.model import PathNet
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.evolution.genetic import active_mask, random_genotype
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.config import BinaryMnistConfig
from pathnet_tf.runs.run import run_sequence
from tests.test_script import without_timings

L, M, N = 2, 4, 2


@pytest.fixture(scope="module")
def mnist():
    return data_lib.load_mnist()  # read-only arrays: no test can change them


def make_tasks(mnist, pairs=("1,3", "1,2"), seed=0):
    rng = np.random.default_rng(seed)
    return [data_lib.binary_task(mnist, pair, 0.5, rng, max_train=200, max_test=100)
            for pair in pairs]


def make_config(mode="pathnet", optimizer="sgd", seed=0):
    # threshold 1.0 is never reached: each task runs exactly max_generations.
    return BinaryMnistConfig(
        pathnet=PathNetConfig(num_layers=L, num_modules=M, num_active=N, units=6),
        evolution=EvolutionConfig(population_size=4, steps_per_candidate=3, batch_size=8,
                                  max_generations=6, threshold=1.0, optimizer=optimizer),
        mode=mode, max_train=200, seed=seed)


def module_values(model):
    """Per layer: (kernel [M, ...], bias [M, ...]) copies; and the heads."""
    layers = [(layer.kernel.numpy().copy(), layer.bias.numpy().copy())
              for layer in model.module_layers]
    heads = [(head.kernel.numpy().copy(), head.bias.numpy().copy()) for head in model.readouts]
    return layers, heads


def run(tmp_path, config, tasks):
    """Runs the tasks; returns (results, model, {label: values when it started},
    {label: values when it ended}, initial values)."""
    keras.utils.set_random_seed(config.seed)
    model = PathNet(data_lib.IMAGE_SIZE, L, M, N, config.pathnet.units)
    initial = module_values(model)
    started, ended = {}, {}

    def on_task_start(label, model):
        started[label] = module_values(model)

    def on_task_end(label, model, result):
        ended[label] = module_values(model)

    results = run_sequence(config, model, tasks, tmp_path, log=lambda _: None,
                           on_task_start=on_task_start, on_task_end=on_task_end)
    return results, model, started, ended, initial


def fixed_path(config):
    return random_genotype(np.random.default_rng([config.seed, 2]), L, M, N)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_pathnet_freezes_task_a_path_reinitialises_the_rest_new_head(mnist, tmp_path, optimizer):
    config = make_config(optimizer=optimizer)
    results, model, started, ended, _ = run(tmp_path, config, make_tasks(mnist))
    assert list(started) == list(ended) == ["A", "B"]
    best_a = np.asarray(results["task_a"]["best_path"])
    (after_a, heads_a), (final, heads_final) = ended["A"], module_values(model)
    start_b, _ = started["B"]
    on_a = active_mask(best_a, M)
    np.testing.assert_array_equal(model.frozen.numpy() > 0.5, on_a)
    for layer in range(L):
        for module in range(M):
            kernel_a, kernel_end = after_a[layer][0][module], final[layer][0][module]
            if on_a[layer, module]:  # frozen: bit for bit what task A left
                for values in (start_b, final):
                    np.testing.assert_array_equal(values[layer][0][module], kernel_a)
                    np.testing.assert_array_equal(values[layer][1][module],
                                                  after_a[layer][1][module])
            else:  # re-initialised before B starts (fresh kernel, zero bias)
                assert not np.array_equal(start_b[layer][0][module], kernel_a), (layer, module)
                np.testing.assert_array_equal(start_b[layer][1][module], 0.0)
                assert not np.array_equal(kernel_end, kernel_a), (layer, module)
    # Task B has a head of its own; task A's head is never touched by B.
    assert len(heads_a) == 1 and len(heads_final) == 2
    for got, want in zip(heads_final[0], heads_a[0]):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(heads_final[1][0], heads_a[0][0])
    best_b = active_mask(np.asarray(results["task_b"]["best_path"]), M)
    assert results["overlap"] == int((best_b & on_a).sum())


def test_finetune_changes_nothing_between_tasks_but_the_head(mnist, tmp_path):
    config = make_config(mode="finetune", optimizer="adam")
    results, model, started, ended, _ = run(tmp_path, config, make_tasks(mnist))
    path = fixed_path(config)
    for layer in range(L):  # task B starts from exactly what task A left
        for got, want in zip(started["B"][0][layer], ended["A"][0][layer]):
            np.testing.assert_array_equal(got, want)
    assert results["task_a"]["best_path"] == results["task_b"]["best_path"] == path.tolist()
    assert not model.frozen.numpy().any()
    (after_a, heads_a), (final, heads_final) = ended["A"], module_values(model)
    on_path = active_mask(path, M)
    for layer in range(L):
        for module in range(M):
            kernel_a, kernel_end = after_a[layer][0][module], final[layer][0][module]
            if on_path[layer, module]:  # trained on, not frozen
                assert not np.array_equal(kernel_end, kernel_a), (layer, module)
            else:  # nothing re-initialised
                np.testing.assert_array_equal(kernel_end, kernel_a)
                np.testing.assert_array_equal(final[layer][1][module], after_a[layer][1][module])
    assert len(heads_final) == 2
    for got, want in zip(heads_final[0], heads_a[0]):
        np.testing.assert_array_equal(got, want)


def test_independent_never_trains_task_a(mnist, tmp_path):
    config = make_config(mode="independent", optimizer="adam")
    first, model, started, ended, initial = run(tmp_path / "a", config, make_tasks(mnist))
    assert list(started) == list(ended) == ["B"] and first["task_a"] is None
    assert len(model.readouts) == 1  # only task B's head exists
    path = fixed_path(config)
    final, _ = module_values(model)
    for layer in range(L):
        for module in range(M):
            if module not in path[layer]:
                np.testing.assert_array_equal(final[layer][0][module], initial[0][layer][0][module])
    # Task B's run does not depend on task A at all: another task A, the same results.
    tasks = make_tasks(mnist)
    other_a = make_tasks(mnist, pairs=("4,5",), seed=9)[0]
    second, *_ = run(tmp_path / "b", config, [other_a, tasks[1]])
    # The accuracy matrix (and what is computed from it) also measures task A, which
    # differs here; task B's entries do not.
    for key in ("accuracy_matrix", "accuracy_baseline"):
        assert [row[-1] for row in np.atleast_2d(first[key])] == [
            row[-1] for row in np.atleast_2d(second[key])]
    keys = ("accuracy_matrix", "accuracy_baseline", "continual")
    assert ({k: v for k, v in without_timings(first).items() if k not in keys}
            == {k: v for k, v in without_timings(second).items() if k not in keys})
