"""The compiled tournament: one trace, frozen = bit-identical, fairness, correctness."""

import numpy as np
import pytest
import tensorflow as tf

from pathnet_tf.core.model import PathNet
from pathnet_tf.core.optimizers import make_optimizer
from pathnet_tf.evolution.genetic import Tournament, select_winner
from pathnet_tf.evolution.training import BatchSampler, TaskTrainer, evolve

L, M, N, UNITS, IN, CLASSES = 2, 4, 2, 5, 6, 2
T, BATCH = 3, 4


def make_data(seed=0, n=40):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, IN)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    return x, y


def make_trainer(optimizer="sgd", learning_rate=0.1, seed=0, jit_compile=False,
                 compute="gather", tournament_size=2):
    tf.keras.utils.set_random_seed(seed)
    model = PathNet(IN, L, M, N, UNITS, compute=compute)
    task = model.add_task(CLASSES)
    x, y = make_data()
    trainer = TaskTrainer(model, task, x, y, make_optimizer(optimizer, learning_rate),
                          tournament_size=tournament_size, jit_compile=jit_compile)
    return model, trainer


def weights(model, task=0):
    return [v.numpy().copy() for v in model.task_variables(task)]


def random_paths(rng, count=2):
    return rng.integers(0, M, size=(count, L, N)).astype(np.int32)


def test_one_trace_across_hundreds_of_paths_and_batch_sizes():
    model, trainer = make_trainer()
    rng = np.random.default_rng(0)
    x, y = make_data()
    for i in range(120):
        batch = (1, 3, 7)[i % 3]
        steps = (1, 2)[i % 2]
        paths = random_paths(rng)
        trainer.run_tournament(paths, rng.integers(0, 40, size=(steps, batch)).astype(np.int32))
        trainer.evaluate(paths[0], x[: 5 + i % 4], y[: 5 + i % 4])
    assert trainer.tracing_counts() == {"tournament": 1, "evaluate": 1}


def test_one_trace_with_xla_too():
    model, trainer = make_trainer(jit_compile=True)
    rng = np.random.default_rng(1)
    for i in range(30):
        batch = (2, 5)[i % 2]
        trainer.run_tournament(random_paths(rng),
                               rng.integers(0, 40, size=(T, batch)).astype(np.int32))
    assert trainer.tracing_counts()["tournament"] == 1


def manual_sgd(model, path, x, y, indices, learning_rate, task=0, params=None):
    """Reference: T plain SGD steps on the full variables (or from `params`, arrays
    aligned with them) with an eager tape; only the modules on the path get a
    gradient (a repeated module counts once)."""
    start = [v.numpy() for v in model.task_variables(task)] if params is None else params
    params = [tf.Variable(p) for p in start]
    correct = 0
    for index in indices:
        with tf.GradientTape() as tape:
            logits = model.apply([p.value() for p in params], tf.gather(x, index), path, task)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.gather(y, index), logits=logits))
        for p, g in zip(params, tape.gradient(loss, params)):
            p.assign_sub(learning_rate * tf.convert_to_tensor(g))
        correct += int(np.sum(np.argmax(logits, 1) == y[index]))
    return [p.numpy() for p in params], correct / indices.size


@pytest.mark.parametrize("compute", ["gather", "mask"])
@pytest.mark.parametrize("jit_compile", [False, True])
def test_winner_written_back_equals_plain_sgd_reference(compute, jit_compile):
    x, y = make_data()
    indices = np.random.default_rng(2).integers(0, 40, size=(T, BATCH)).astype(np.int32)
    # Candidate 1 repeats a module: it must be trained once, like the reference.
    paths = np.array([[[0, 1], [2, 3]], [[3, 3], [1, 0]]], np.int32)
    for candidate in (0, 1):
        model, trainer = make_trainer(compute=compute, jit_compile=jit_compile)
        reference, accuracy = manual_sgd(model, paths[candidate], x, y, indices, 0.1)
        # The same candidate twice: it wins whatever its fitness.
        fitness, _, winner = trainer.run_tournament(paths[[candidate, candidate]], indices)
        assert fitness[0] == pytest.approx(accuracy) and winner == 0
        for got, want in zip(weights(model), reference):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_only_the_winner_is_written_back():
    x, y = make_data()
    indices = np.random.default_rng(3).integers(0, 40, size=(T, BATCH)).astype(np.int32)
    paths = np.array([[[0, 1], [2, 3]], [[3, 2], [1, 0]]], np.int32)
    model, trainer = make_trainer()
    references = [manual_sgd(model, path, x, y, indices, 0.1) for path in paths]
    fitness, loss, winner = trainer.run_tournament(paths, indices)
    assert winner == select_winner(fitness, loss)
    np.testing.assert_allclose(fitness, [references[0][1], references[1][1]])
    for got, want in zip(weights(model), references[winner][0]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compute", ["gather", "mask"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_modules_off_the_path_do_not_move(optimizer, compute):
    # In "mask" mode every module is computed (its output weighted 0 when off the
    # path), so only the update masks keep the momentum of modules 0 and 1 from
    # moving them while the path is [2, 3].
    model, trainer = make_trainer(optimizer, learning_rate=0.05, compute=compute)
    rng = np.random.default_rng(3)
    for _ in range(3):  # build up Adam momentum on modules 0 and 1 of every layer
        trainer.run_tournament(np.array([[[0, 1], [0, 1]]] * 2, np.int32),
                               rng.integers(0, 40, size=(T, BATCH)).astype(np.int32))
    before = weights(model)
    slots_before = [[s.numpy().copy() for s in slot] for slot in trainer.slots]
    if optimizer == "adam":  # the momentum is there to leak
        assert np.abs(slots_before[0][0][[0, 1]]).max() > 0
    trainer.run_tournament(np.array([[[2, 3], [2, 3]]] * 2, np.int32),
                           rng.integers(0, 40, size=(T, BATCH)).astype(np.int32))
    after = weights(model)
    for index in range(2 * L):  # kernels and biases
        np.testing.assert_array_equal(after[index][[0, 1]], before[index][[0, 1]])
        for slot_before, slot in zip(slots_before[index], trainer.slots[index]):
            np.testing.assert_array_equal(slot.numpy()[[0, 1]], slot_before[[0, 1]])
    for index in range(0, 2 * L, 2):
        assert not np.array_equal(after[index][[2, 3]], before[index][[2, 3]])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_frozen_modules_stay_bit_identical_through_task_b(optimizer):
    model, trainer_a = make_trainer(optimizer, learning_rate=0.05)
    rng = np.random.default_rng(4)
    for _ in range(4):
        trainer_a.run_tournament(random_paths(rng),
                                 rng.integers(0, 40, size=(T, BATCH)).astype(np.int32))
    best = np.array([[0, 1], [2, 2]], np.int32)
    model.freeze(best)
    model.reinitialize_unfrozen()
    frozen = [(0, 0), (0, 1), (1, 2)]
    snapshot = {(i, m): (model.module_layers[i].kernel.numpy()[m].copy(),
                         model.module_layers[i].bias.numpy()[m].copy()) for i, m in frozen}
    trainable_before = model.module_layers[0].kernel.numpy()[3].copy()
    task_b = model.add_task(CLASSES)
    x, y = make_data(seed=1)
    trainer_b = TaskTrainer(model, task_b, x, 1 - y, make_optimizer(optimizer, 0.05))
    for i in range(6):
        # Every candidate runs through frozen modules, next to trainable ones.
        paths = np.array([[[0, 3], [2, 1]], [[1, 2], [2, 0]]], np.int32)
        trainer_b.run_tournament(paths[[i % 2, i % 2]],
                                 rng.integers(0, 40, size=(T, BATCH)).astype(np.int32))
    for (i, m), (kernel, bias) in snapshot.items():
        np.testing.assert_array_equal(model.module_layers[i].kernel.numpy()[m], kernel)
        np.testing.assert_array_equal(model.module_layers[i].bias.numpy()[m], bias)
    # ... while the unfrozen modules on those paths did learn.
    assert not np.array_equal(model.module_layers[0].kernel.numpy()[3], trainable_before)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_tournament_is_fair_swapping_candidates_changes_nothing(optimizer):
    rng = np.random.default_rng(5)
    paths = random_paths(rng)
    indices = rng.integers(0, 40, size=(T, BATCH)).astype(np.int32)
    outcomes = []
    for order in ([0, 1], [1, 0]):
        model, trainer = make_trainer(optimizer, seed=7)
        for _ in range(2):  # some history first, so optimizer state is non-trivial
            trainer.run_tournament(paths, indices)
        fitness, loss, winner = trainer.run_tournament(paths[order], indices)
        assert winner == select_winner(fitness, loss)
        outcomes.append((fitness[np.argsort(order)], paths[order][winner], weights(model)))
    (fitness_1, winner_1, weights_1), (fitness_2, winner_2, weights_2) = outcomes
    np.testing.assert_array_equal(fitness_1, fitness_2)
    np.testing.assert_array_equal(winner_1, winner_2)
    for w1, w2 in zip(weights_1, weights_2):
        np.testing.assert_array_equal(w1, w2)


def test_identical_candidates_get_identical_fitness_and_loss():
    model, trainer = make_trainer("adam")
    rng = np.random.default_rng(6)
    path = random_paths(rng, 1)
    fitness, loss, winner = trainer.run_tournament(
        np.concatenate([path, path]), rng.integers(0, 40, size=(T, BATCH)).astype(np.int32))
    assert fitness[0] == fitness[1] and loss[0] == loss[1] and winner == 0


@pytest.mark.parametrize("fitness, loss", [([0.5, 0.7, 0.7], [0.1, 0.4, 0.3]),
                                           ([0.9, 0.9, 0.1], [0.2, 0.2, 0.0]),
                                           ([0.1, 0.2, 0.3], [0.0, 0.0, 0.0])])
def test_compiled_winner_rule_matches_the_genetic_algorithm(fitness, loss):
    from pathnet_tf.evolution import training

    compiled = training.select_winner(tf.constant(fitness, tf.float32),
                                      tf.constant(loss, tf.float32))
    assert int(compiled) == select_winner(np.float32(fitness), np.float32(loss))


def test_evolve_ends_cleanly_when_the_threshold_is_never_reached():
    model, trainer = make_trainer()
    rng = np.random.default_rng(7)
    tournament = Tournament(4, L, M, N, rng)
    seen = []
    result = evolve(trainer, tournament, BatchSampler(40, rng), steps_per_candidate=T,
                    batch_size=BATCH, threshold=1.0 + 1e-9, max_generations=5,
                    on_generation=lambda g, *rest: seen.append(g))
    assert not result.solved and result.generations == 5 and seen == [1, 2, 3, 4, 5]
    assert result.best_path.shape == (L, N) and len(result.fitness_history) == 5


def test_evolve_stops_at_the_threshold():
    model, trainer = make_trainer()
    rng = np.random.default_rng(8)
    result = evolve(trainer, Tournament(4, L, M, N, rng), BatchSampler(40, rng),
                    steps_per_candidate=T, batch_size=BATCH, threshold=0.01,
                    max_generations=50)
    assert result.solved and result.generations == 1


def test_batch_sampler_covers_each_epoch_once():
    sampler = BatchSampler(10, np.random.default_rng(9))
    first = sampler.next(2, 5)
    assert first.shape == (2, 5) and sorted(first.ravel().tolist()) == list(range(10))
    second = np.concatenate([sampler.next(1, 4).ravel(), sampler.next(2, 3).ravel()])
    assert sorted(second.tolist()) == list(range(10))
    assert not np.array_equal(first.ravel(), np.arange(10))  # shuffled


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_parallel_with_one_tournament_equals_serial(optimizer):
    from pathnet_tf.evolution.parallel import ParallelTaskTrainer

    rng = np.random.default_rng(10)
    model_s, serial = make_trainer(optimizer, jit_compile=True)
    tf.keras.utils.set_random_seed(0)
    model_p = PathNet(IN, L, M, N, UNITS)
    x, y = make_data()
    parallel = ParallelTaskTrainer(model_p, model_p.add_task(CLASSES), x, y,
                                   make_optimizer(optimizer, 0.1), tournaments=1)
    for got, want in zip(weights(model_p), weights(model_s)):
        np.testing.assert_array_equal(got, want)
    for _ in range(3):
        paths = random_paths(rng)
        paths[1, 0] = [2, 2]  # a repeated module too
        indices = rng.integers(0, 40, size=(T, BATCH)).astype(np.int32)
        f_s, l_s, w_s = serial.run_tournament(paths, indices)
        f_p, l_p, w_p = parallel.run_tournaments(paths[None], indices[None])
        np.testing.assert_allclose(f_p[0], f_s)
        np.testing.assert_allclose(l_p[0], l_s, rtol=1e-5)
        assert w_p[0] == w_s
    for got, want in zip(weights(model_p), weights(model_s)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert parallel.tracing_counts()["tournament"] == 1


def test_parallel_averages_winners_per_module_and_keeps_frozen():
    from pathnet_tf.evolution.parallel import ParallelTaskTrainer

    x, y = make_data()
    rng = np.random.default_rng(11)
    indices = rng.integers(0, 40, size=(2, T, BATCH)).astype(np.int32)
    # Tournament 0 trains modules {0, 1}, tournament 1 modules {1, 2} in every layer
    # (both candidates of a tournament share the path, so the winner's path is known).
    path_0 = np.array([[0, 1], [0, 1]], np.int32)
    path_1 = np.array([[1, 2], [1, 2]], np.int32)
    paths = np.stack([np.stack([path_0, path_0]), np.stack([path_1, path_1])])
    tf.keras.utils.set_random_seed(0)
    model = PathNet(IN, L, M, N, UNITS)
    model.freeze(np.array([[3, 3], [3, 3]], np.int32))  # module 3 of both layers
    task = model.add_task(CLASSES)
    trainer = ParallelTaskTrainer(model, task, x, y, make_optimizer("sgd", 0.1),
                                  tournaments=2, jit_compile=False)
    before = weights(model)
    references = [manual_sgd(model, path, x, y, indices[k], 0.1)[0]
                  for k, path in enumerate((path_0, path_1))]
    fitness, _, winners = trainer.run_tournaments(paths, indices)
    assert fitness.shape == (2, 2) and winners.shape == (2,)
    after = weights(model)
    kernel = 0  # layer 0's kernel
    np.testing.assert_allclose(after[kernel][0], references[0][kernel][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(after[kernel][1],
                               (references[0][kernel][1] + references[1][kernel][1]) / 2,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(after[kernel][2], references[1][kernel][2], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(after[kernel][3], before[kernel][3])  # frozen, unused
    np.testing.assert_allclose(after[-2], (references[0][-2] + references[1][-2]) / 2,
                               rtol=1e-5, atol=1e-6)  # the readout: mean of both winners
    # Frozen modules on the winners' paths stay bit-identical too.
    on_frozen = np.array([[[3, 0], [3, 1]]] * 2, np.int32)
    trainer.run_tournaments(np.stack([on_frozen, on_frozen]), indices)
    final = weights(model)
    for layer in range(L):
        np.testing.assert_array_equal(final[2 * layer][3], before[2 * layer][3])
        np.testing.assert_array_equal(final[2 * layer + 1][3], before[2 * layer + 1][3])
    assert not np.array_equal(final[0][0], after[0][0])


@pytest.mark.parametrize("parallel", [False, True])
def test_diverging_candidates_are_survived_and_counted(parallel):
    from pathnet_tf.evolution.parallel import ParallelTaskTrainer

    tf.keras.utils.set_random_seed(0)
    model = PathNet(IN, L, M, N, UNITS)
    task = model.add_task(CLASSES)
    x, y = make_data()
    x[:, 0] *= 1e30  # an optimizer at lr 1e30 on these inputs overflows at once
    optimizer = make_optimizer("sgd", 1e30)
    if parallel:
        trainer = ParallelTaskTrainer(model, task, x, y, optimizer, tournaments=2,
                                      jit_compile=False)
    else:
        trainer = TaskTrainer(model, task, x, y, optimizer, jit_compile=False)
    before = weights(model)
    rng = np.random.default_rng(13)
    result = evolve(trainer, Tournament(8, L, M, N, rng), BatchSampler(40, rng),
                    steps_per_candidate=T, batch_size=BATCH, threshold=0.999,
                    max_generations=4)
    assert result.generations == 4 and not result.solved
    assert int(trainer.nonfinite.numpy()) > 0
    assert all(f == 0.0 for f in result.fitness_history)
    for got, want in zip(weights(model), before):  # every candidate diverged: nothing written
        np.testing.assert_array_equal(got, want)


def test_control_trainer_trains_B_times_T_steps_a_generation_on_its_one_path():
    from pathnet_tf.evolution.genetic import FixedPath
    from pathnet_tf.evolution.training import RepeatedTrainer

    tf.keras.utils.set_random_seed(0)
    model = PathNet(IN, L, M, N, UNITS)
    x, y = make_data()
    inner = TaskTrainer(model, model.add_task(CLASSES), x, y, make_optimizer("sgd", 0.1),
                        tournament_size=1, jit_compile=False)
    trainer = RepeatedTrainer(inner, repeats=2)
    path = np.array([[0, 1], [2, 3]], np.int32)
    rng = np.random.default_rng(14)
    seen = []
    result = evolve(trainer, FixedPath(path, M), BatchSampler(40, rng),
                    steps_per_candidate=2 * T, batch_size=BATCH, threshold=2.0,
                    max_generations=3, on_generation=lambda g, paths, *rest: seen.append(paths))
    assert result.generations == 3 and float(inner.step.numpy()) == 3 * 2 * T
    assert all(np.array_equal(paths, path[None]) for paths in seen)
    np.testing.assert_array_equal(result.best_path, path)
