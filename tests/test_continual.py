"""Issue 28: the accuracy matrix and its metrics, EWC and SI inside the compiled step,
Permuted MNIST, the fixed budget, and a resumed EWC/SI run equal to an uninterrupted one."""

import json

import numpy as np
import pytest
import tensorflow as tf

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.core.model import PathNet
from pathnet_tf.core.optimizers import make_optimizer
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.continual_mnist import ContinualMnistConfig, make_tasks, permutations
from pathnet_tf.reports import continual_summary
from pathnet_tf.runs import continual, modes
from pathnet_tf.runs.regularized import PenaltyTrainer, Regularizer, fisher_diagonal, si_importance

# -------------------------------------------------------------- metrics (no TF needed)

R = [[0.9, 0.5, 0.4],
     [0.7, 0.8, 0.6],
     [0.6, 0.9, 0.95]]
B = [0.5, 0.45, 0.5]


def test_metrics_of_a_hand_made_matrix():
    got = continual.metrics(R, B)
    assert got["acc"] == pytest.approx((0.6 + 0.9 + 0.95) / 3)
    assert got["bwt"] == pytest.approx(((0.6 - 0.9) + (0.9 - 0.8)) / 2)
    assert got["fwt"] == pytest.approx(((0.5 - 0.45) + (0.6 - 0.5)) / 2)
    # Task 1 peaked at 0.9 before the last task and ends at 0.6; task 2 ends above its peak.
    assert got["forgetting"] == pytest.approx([0.3, -0.1])
    assert got["mean_forgetting"] == pytest.approx(0.1)


def test_missing_entries_and_bad_matrices():
    untrained = [[None, None, None], [None, None, None], [None, None, 0.9]]  # independent
    got = continual.metrics(untrained, B)
    assert got["acc"] is None and got["bwt"] is None and got["fwt"] is None
    assert continual.metrics([[0.7]])["bwt"] is None  # one task: no transfer
    with pytest.raises(ValueError, match="row 1 of the accuracy matrix has 1 entries"):
        continual.metrics([[0.5, 0.5], [0.5]])
    with pytest.raises(ValueError, match=r"accuracy 1\.5 \(row 0\) must be in \[0, 1\]"):
        continual.metrics([[1.5]])


def test_steps_and_generations_to_threshold():
    config = {"evolution": {"tournament_size": 2, "steps_per_candidate": 50,
                            "batch_size": 16, "tournament": "fair", "threshold": 0.99}}
    assert continual.steps_per_generation(config, population=True) == {
        "steps": 100, "examples": 800}  # the fair tournament's B candidates share T batches
    assert continual.steps_per_generation(config, population=False) == {
        "steps": 100, "examples": 1600}
    task = {"fitness_history": [0.5, 0.99, 0.98, 1.0]}
    assert continual.generations_to_threshold(task, 0.99) == 2
    assert continual.generations_to_threshold(task, 1.01) is None


# ------------------------------------------------------- EWC / SI in the compiled step

IN, L, M, N, UNITS = 6, 2, 3, 2, 4
PATH = np.array([[0, 2], [1, 2]], np.int32)


def make_penalty_trainer(learning_rate=0.1, seed=0):
    tf.keras.utils.set_random_seed(seed)
    model = PathNet(IN, L, M, N, UNITS)
    head = model.add_task(2)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, IN)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    trainer = PenaltyTrainer(model, head, x, y, make_optimizer("sgd", learning_rate),
                             tournament_size=1, jit_compile=False)
    return model, trainer, x, y


def test_the_penalty_gradient_in_the_compiled_step_equals_numpy():
    model, trainer, _, _ = make_penalty_trainer()
    start = [v.numpy().copy() for v in model.task_variables(0)]
    rng = np.random.default_rng(1)
    importance = [rng.uniform(0, 2, v.shape).astype(np.float32) for v in start]
    anchor = [(v + rng.normal(0, 0.5, v.shape)).astype(np.float32) for v in start]
    batch = np.arange(8, dtype=np.int32)[None]  # one step on examples 0-7

    def one_step(strength):
        for variable, value in zip(model.task_variables(0), start):
            variable.assign(value)
        trainer.set_penalty(strength, importance, anchor)
        trainer.run_tournament(PATH[None], batch)
        return [v.numpy() for v in model.task_variables(0)]

    plain, penalised = one_step(0.0), one_step(0.7)
    # SGD: the penalised step moves further by lr · 2 · strength · Ω (θ - θ*), on the path.
    for index, (got, base, theta, omega, star) in enumerate(
            zip(penalised, plain, start, importance, anchor)):
        want = base - 0.1 * 2 * 0.7 * omega * (theta - star)
        if index < 2 * L:  # module rows: only the path's move
            on_path = np.zeros(len(theta), bool)
            on_path[PATH[index // 2]] = True
            want[~on_path] = theta[~on_path]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(penalised[0], plain[0])  # the penalty did something


def test_si_path_integral_of_one_sgd_step_is_lr_times_the_squared_gradient():
    model, trainer, x, y = make_penalty_trainer(learning_rate=0.05)
    variables = model.task_variables(0)
    start = [v.numpy().copy() for v in variables]
    with tf.GradientTape() as tape:  # the task's gradient, eagerly
        logits = model(x[:8], path=PATH, task=0)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y[:8], logits))
    grads = [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, variables)]
    zeros = [np.zeros_like(v) for v in start]
    trainer.set_penalty(0.0, zeros, zeros)
    trainer.run_tournament(PATH[None], np.arange(8, dtype=np.int32)[None])
    omega = trainer.path_integral()
    for got, g in zip(omega, grads):  # ω = -g Δθ = -g (-lr g) = lr g²
        np.testing.assert_allclose(got, 0.05 * g * g, rtol=1e-4, atol=1e-9)
    delta = [v.numpy() - s for v, s in zip(variables, start)]
    importance = si_importance(omega, delta, xi=0.1)
    for got, g in zip(importance, grads):  # Ω = lr g² / ((lr g)² + ξ)
        np.testing.assert_allclose(got, 0.05 * g * g / ((0.05 * g) ** 2 + 0.1), rtol=1e-4,
                                   atol=1e-9)
    assert sum(float(o.sum()) for o in omega) > 0


def test_fisher_diagonal_equals_per_example_gradients():
    model, _, x, _ = make_penalty_trainer()
    fisher = fisher_diagonal(model, 0, PATH, x[:10], batch_size=4)
    variables = [v for layer in model.module_layers for v in (layer.kernel, layer.bias)]
    want = [np.zeros(v.shape) for v in variables]
    for example in x[:10]:
        for c in range(2):
            with tf.GradientTape() as tape:
                log_p = tf.nn.log_softmax(model(example[None], path=PATH, task=0))[0, c]
            p = float(tf.exp(log_p))
            for total, g in zip(want, tape.gradient(log_p, variables)):
                g = tf.convert_to_tensor(g)
                total += p * np.square(g.numpy()) / 10
    for got, expected in zip(fisher, want):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-10)
    assert fisher[0][1].sum() == 0 and fisher[0][0].sum() > 0  # module 1 is off the path


# ---------------------------------------------------------------- runs and the table

TINY = dict(pathnet=PathNetConfig(num_layers=2, num_modules=4, num_active=2, units=6),
            evolution=EvolutionConfig(population_size=4, steps_per_candidate=3,
                                      batch_size=8, max_generations=4, threshold=0.9,
                                      jit_compile=False),
            tasks="0,1:2,3:4,5", max_train=200)


def run(config, workdir, **options):
    from pathnet_tf.experiments import continual_mnist

    return continual_mnist.run(config, workdir, log=lambda _: None, tensorboard="none",
                               **options)


def test_the_modes_table_holds_the_regularisation_baselines():
    assert {"ewc", "si"} <= set(modes.MODES)
    assert modes.get("ewc").trainer() is PenaltyTrainer
    assert modes.get("si").hooks[0]() is Regularizer
    for name, value, message in [("ewc_lambda", 0.0, r"ewc_lambda \(0\.0\) must be a positive"),
                                 ("si_c", -1.0, r"si_c \(-1\.0\) must be a positive"),
                                 ("ewc_gamma", 1.5, r"ewc_gamma \(1\.5\) must be in \(0, 1\]"),
                                 ("budget", "epochs", r"budget \('epochs'\) must be one of"),
                                 ("benchmark", "rotated", "benchmark")]:
        with pytest.raises(ValueError, match=message):
            ContinualMnistConfig(**{name: value})


def test_a_resumed_regularised_run_equals_an_uninterrupted_one(tmp_path, mode="si"):
    # SI: its hook's state is the most (Ω, θ* and the weights the cut task started from).
    config = ContinualMnistConfig(**TINY, mode=mode, budget="fixed", ewc_lambda=50.0,
                                  si_c=1.0)
    whole = run(config, tmp_path / "whole", figures=False)
    assert whole["regularizer"]["method"] == mode
    totals = whole["regularizer"]["importance_sum"]
    assert len(totals) == 3 and 0 < totals[0] < totals[1] < totals[2]  # Ω grows
    assert all(t["generations"] == 4 and not t["solved"] for t in whole["tasks"])  # fixed
    matrix = whole["accuracy_matrix"]
    assert [matrix[i][i] for i in range(3)] == [t["test_accuracy"] for t in whole["tasks"]]
    assert matrix[-1] == whole["final_test_accuracy"]

    class Stop(Exception):
        pass

    def stop_in_c(label, model):  # task C starts after B's checkpoints: stop there
        if label == "C":
            raise Stop

    with pytest.raises(Stop):
        run(config, tmp_path / "cut", figures=False, checkpoint_every=2,
            on_task_start=stop_in_c)
    resumed = run(config, tmp_path / "cut", figures=True, checkpoint_every=2)
    for key in ("accuracy_matrix", "accuracy_baseline", "continual", "regularizer",
                "final_test_accuracy"):
        assert resumed[key] == whole[key], key
    assert (tmp_path / "cut" / "figures" / "accuracy_matrix.png").stat().st_size > 5000


def test_pathnet_forgets_nothing_and_the_summary_reads_the_runs(tmp_path):
    for mode in ("pathnet", "finetune"):
        config = ContinualMnistConfig(**TINY, mode=mode)
        results = run(config, tmp_path / "runs" / mode, figures=False)
        metrics = results["continual"]
        if mode == "pathnet":
            assert metrics["bwt"] == 0.0 and metrics["forgetting"] == [0.0, 0.0]
            assert metrics["free_modules"][0] == 8 - sum(
                len(set(layer)) for layer in results["tasks"][0]["best_path"])
        assert metrics["steps"] == [t["generations"] * 6 for t in results["tasks"]]
        assert len(results["accuracy_baseline"]) == 3
        assert all(0 <= a <= 1 for row in results["accuracy_matrix"] for a in row)
    assert continual_summary.main([str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["0v1/2v3/4v5"]
    assert set(summary) == {"pathnet, threshold stop", "finetune, threshold stop"}
    assert summary["pathnet, threshold stop"]["bwt"]["mean"] == 0.0
    assert "| pathnet, threshold stop | 1 |" in (tmp_path / "out" / "summary.md").read_text()
    assert (tmp_path / "out" / "accuracy_matrices_0v1_2v3_4v5.png").stat().st_size > 5000


def test_permuted_mnist_tasks():
    mnist = data_lib.load_mnist()
    config = ContinualMnistConfig(benchmark="permuted", num_tasks=3, max_train=50, seed=7)
    tasks = make_tasks(config, mnist)
    assert [t.name for t in tasks] == ["P1", "P2", "P3"] and tasks[0].num_classes == 10
    orders = permutations(7, 3)
    assert len({tuple(o) for o in orders}) == 3 and np.array_equal(permutations(7, 3), orders)
    for task, order in zip(tasks, orders):  # the same images, each task's own pixel order
        np.testing.assert_array_equal(task.train_x, tasks[0].train_x[:, np.argsort(orders[0])]
                                      [:, order])
        assert task.train_x.shape == (50, 784) and task.test_x.shape == (10000, 784)
        np.testing.assert_array_equal(task.train_y, tasks[0].train_y)
    held = make_tasks(ContinualMnistConfig(max_train=100, validation=True), mnist)
    assert len(held[0].train_x) == 90 and len(held[0].test_x) == 10
    full = make_tasks(ContinualMnistConfig(max_train=100), mnist)
    np.testing.assert_array_equal(held[0].test_x, full[0].train_x[90:])


@pytest.mark.parametrize("gamma, importance, anchor", [
    (None, [2.0, 1.0, 2.0], [2.0, 1.0, 3.0]),  # Σ F_t (θ - θ*_t)²: one quadratic
    (0.5, [1.5, 0.5, 2.0], [3.0, 3.0, 3.0]),  # online: γ Ω + F, anchored at θ
])
def test_ewc_importance_and_anchor_after_a_task(monkeypatch, gamma, importance, anchor):
    from types import SimpleNamespace

    from pathnet_tf.runs import regularized

    fisher, theta = [np.array([1.0, 0.0, 2.0])], [np.array([3.0, 3.0, 3.0])]
    monkeypatch.setattr(regularized, "fisher_diagonal", lambda *args: fisher)
    monkeypatch.setattr(regularized, "module_values", lambda model: theta)
    sequence = SimpleNamespace(config=ContinualMnistConfig(ewc_gamma=gamma),
                               mode=modes.get("ewc"), model=None, index=0,
                               tasks=[SimpleNamespace(train_x=np.zeros((4, 1)))])
    hook = Regularizer(sequence)
    hook.importance, hook.anchor = [np.array([1.0, 1.0, 0.0])], [np.array([1.0, 1.0, 1.0])]
    hook.task_end(sequence, SimpleNamespace(head=0, result=SimpleNamespace(best_path=None)))
    np.testing.assert_allclose(hook.importance[0], importance)
    np.testing.assert_allclose(hook.anchor[0], anchor)
    assert hook.totals == [pytest.approx(sum(importance))] and hook.start is None


def test_regularizer_refuses_other_modes():
    class Fake:
        config = ContinualMnistConfig()
        mode = modes.get("finetune")

    with pytest.raises(ValueError, match="serves modes ewc and si"):
        Regularizer(Fake())
