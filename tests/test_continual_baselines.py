"""Issue 28's two bounds: joint training (every task at once, `runs/joint.py`) and a
separate fresh network per task (mode "separate", `runs/separate.py`)."""

import json
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.core.model import PathNet
from pathnet_tf.core.optimizers import make_optimizer
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.experiments import continual_mnist
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.continual_mnist import ContinualMnistConfig
from pathnet_tf.reports import continual_summary
from pathnet_tf.runs import modes
from pathnet_tf.runs.joint import JointTrainer
from pathnet_tf.runs.run import run_sequence

TINY = dict(pathnet=PathNetConfig(num_layers=2, num_modules=4, num_active=2, units=6),
            evolution=EvolutionConfig(population_size=4, steps_per_candidate=3,
                                      batch_size=8, max_generations=4, threshold=0.9,
                                      jit_compile=False),
            max_train=200, budget="fixed")
STEPS_PER_TASK = 4 * 2 * 3  # max_generations · B · T


def run(config, workdir, **options):
    return continual_mnist.run(config, workdir, log=lambda _: None, tensorboard="none",
                               figures=False, **options)


def test_separate_networks_forget_nothing_and_transfer_nothing(tmp_path):
    mnist = data_lib.load_mnist()
    task_b = data_lib.binary_task(mnist, "4,5", 0.0, np.random.default_rng(5), max_train=200,
                                  max_test=500)
    config = ContinualMnistConfig(**TINY, mode="separate")
    started, ended, runs = {}, {}, {}
    for first in ("0,1", "2,3"):  # the same task B after two different tasks A
        task_a = data_lib.binary_task(mnist, first, 0.0, np.random.default_rng(1),
                                      max_train=200, max_test=500)
        keras.utils.set_random_seed(config.seed)
        runs[first] = run_sequence(
            config, PathNet(data_lib.IMAGE_SIZE, 2, 4, 2, 6), [task_a, task_b],
            tmp_path / first, log=lambda _: None, tensorboard="none", figures=False,
            on_task_start=lambda label, m, f=first: started.setdefault(
                (f, label), m.module_layers[0].kernel.numpy()),
            on_task_end=lambda label, m, r, f=first: ended.setdefault(
                (f, label), m.module_layers[0].kernel.numpy()))
    for first, results in runs.items():
        matrix, base = results["accuracy_matrix"], results["accuracy_baseline"]
        metrics = results["continual"]
        assert metrics["bwt"] == 0.0 and metrics["fwt"] == 0.0
        assert metrics["forgetting"] == [0.0]
        assert matrix[1][0] == matrix[0][0] == results["tasks"][0]["test_accuracy"]
        assert matrix[0][1] == base[1]  # network B as initialised, before task A ended
        assert results["final_test_accuracy"] == [matrix[0][0], matrix[1][1]]
        assert metrics["steps"] == [STEPS_PER_TASK] * 2
        # Task B's network is fresh: every module re-initialised after task A.
        for module in range(4):
            assert not np.array_equal(started[(first, "B")][module], ended[(first, "A")][module])
    # Nothing transfers: task B is learned alike whatever task A was.
    a, b = runs["0,1"], runs["2,3"]
    assert a["tasks"][0]["test_accuracy"] != b["tasks"][0]["test_accuracy"]
    for key in ("fitness_history", "test_accuracy"):
        assert a["tasks"][1][key] == b["tasks"][1][key], key
    assert a["accuracy_matrix"][0][1] == b["accuracy_matrix"][0][1]
    assert np.array_equal(started[("0,1", "B")], started[("2,3", "B")])


def test_joint_training_is_one_row_and_the_sequence_total_of_steps(tmp_path):
    tasks = "0,1:2,3:4,5"
    joint = run(ContinualMnistConfig(**TINY, mode="joint", tasks=tasks), tmp_path / "joint")
    finetune = run(ContinualMnistConfig(**TINY, mode="finetune", tasks=tasks),
                   tmp_path / "finetune")
    matrix, final = joint["accuracy_matrix"], joint["final_test_accuracy"]
    assert len(matrix) == 3 and all(row == final for row in matrix)  # one row, repeated
    assert final == [t["test_accuracy"] for t in joint["tasks"]]
    assert joint["continual"]["bwt"] == 0.0 and joint["continual"]["fwt"] is None
    assert joint["continual"]["acc"] == pytest.approx(sum(final) / 3)
    # The same total of steps and examples as the sequence of fine-tuning.
    total = sum(finetune["continual"]["steps"])
    assert total == 3 * STEPS_PER_TASK
    assert joint["joint"]["steps"] == total == sum(joint["continual"]["steps"])
    assert joint["joint"]["examples"] == sum(finetune["continual"]["examples"])
    # ... and the compiled loop drew them: every example of every step, each task's share.
    drawn = joint["joint"]["examples_per_task"]
    assert sum(drawn) == total * 8 and all(d > 0 for d in drawn)
    assert joint["joint"]["generations"] == 12
    assert all(len(t["fitness_history"]) == 12 for t in joint["tasks"])
    assert joint["accuracy_baseline"] == finetune["accuracy_baseline"]  # the same probes
    assert joint["tasks"][0]["best_path"] == finetune["tasks"][0]["best_path"]  # and path
    assert min(final) > 0.6  # every head learned (chance 0.5)
    # The summary reads it (FWT not defined: "–").
    assert continual_summary.main([str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["0v1/2v3/4v5"]
    assert summary["joint, fixed 4 gen."]["fwt"] is None
    assert summary["joint, fixed 4 gen."]["bwt"]["mean"] == 0.0


def test_one_joint_step_is_each_example_on_its_own_head():
    keras.utils.set_random_seed(0)
    model = PathNet(6, 2, 3, 2, 4)
    rng = np.random.default_rng(0)
    tasks = [SimpleNamespace(train_x=rng.normal(size=(5, 6)).astype(np.float32),
                             train_y=rng.integers(0, classes, 5).astype(np.int32))
             for classes in (2, 3)]
    heads = [model.add_task(2), model.add_task(3)]
    path = np.array([[0, 2], [1, 2]], np.int32)
    trainer = JointTrainer(model, heads, tasks, path, make_optimizer("sgd", 0.1),
                           jit_compile=False)
    batch = np.array([[0, 6, 2, 7, 9]], np.int32)  # union indices: 0-4 task 0, 5-9 task 1
    x = np.concatenate([t.train_x for t in tasks])[batch[0]]
    y = np.concatenate([t.train_y for t in tasks])[batch[0]]
    owner = (batch[0] >= 5).astype(int)
    variables = [v for layer in model.module_layers for v in (layer.kernel, layer.bias)]
    variables += [v for h in heads for v in (model.readouts[h].kernel, model.readouts[h].bias)]
    with tf.GradientTape() as tape:  # eagerly: each example through model(x, path, task)
        losses = [tf.nn.sparse_softmax_cross_entropy_with_logits(
            y[n:n + 1], model(x[n:n + 1], path=path, task=int(owner[n])))[0]
            for n in range(len(y))]
        loss = tf.add_n(losses) / len(y)
    grads = [tf.convert_to_tensor(g) if g is not None else tf.zeros_like(v)
             for g, v in zip(tape.gradient(loss, variables), variables)]
    want = [v.numpy() - 0.1 * g.numpy() for v, g in zip(variables, grads)]
    before = [v.numpy().copy() for v in variables]
    correct, seen, got_loss = trainer.train(batch)
    assert got_loss == pytest.approx(float(loss), rel=1e-5)
    assert seen.tolist() == [2, 3]
    for variable, expected in zip(variables, want):
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-5, atol=1e-6)
    # Off the path: untouched, exactly (module 1 of layer 0, module 0 of layer 1).
    assert np.array_equal(variables[0].numpy()[1], before[0][1])
    assert np.array_equal(variables[2].numpy()[0], before[2][0])
    assert not np.allclose(variables[0].numpy()[0], before[0][0])  # on the path: moved


def test_joint_is_not_a_sequence_and_needs_the_fixed_budget(tmp_path):
    with pytest.raises(ValueError, match=r"budget \('threshold'\) must be 'fixed' for mode"):
        ContinualMnistConfig(mode="joint")
    config = ContinualMnistConfig(**TINY, mode="joint")
    keras.utils.set_random_seed(0)
    task = SimpleNamespace(name="t", train_x=np.zeros((4, 784), np.float32),
                           train_y=np.zeros(4, np.int32), test_x=np.zeros((2, 784), np.float32),
                           test_y=np.zeros(2, np.int32), num_classes=2)
    with pytest.raises(ValueError, match="trains every task at once, not in sequence"):
        run_sequence(config, PathNet(784, 2, 4, 2, 6), [task, task], tmp_path / "run",
                     log=lambda _: None, tensorboard="none")
    assert not (tmp_path / "run" / "results.json").exists()
    assert {"separate", "joint"} <= set(modes.MODES)


def test_the_summary_names_an_optimizer_other_than_the_default():
    def condition(optimizer, rate):
        return continual_summary._condition({"mode": "finetune", "config": {
            "budget": "fixed", "evolution": {"optimizer": optimizer, "learning_rate": rate,
                                             "max_generations": 100}}})

    assert condition("sgd", None) == "finetune, fixed 100 gen."  # as before: unchanged
    assert condition("adam", None) == "finetune, adam, fixed 100 gen."
    assert condition("sgd", 0.01) == "finetune, sgd lr=0.01, fixed 100 gen."
