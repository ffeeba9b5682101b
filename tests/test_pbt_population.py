"""Tests for pathnet_tf.pbt's models, data, population, batched and runner modules
and pbt_mnist.py: tiny shapes, fast.

The first four tests are the four bugs of the PyTorch reference (docs/protocol.md section 7),
turned around: exploit copies the parent's weights; members that are not exploited
keep their own hyperparameters; Adam's slots and iteration count are copied; a new
learning rate or keep_prob acts inside the compiled step without retracing.
"""

import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import pbt_mnist
from pathnet_tf.experiments.data import Mnist
from pathnet_tf.files import atomic_io
from pathnet_tf.pbt.config import ConfigError
from pathnet_tf.pbt.data import epoch_batches, split_mnist
from pathnet_tf.pbt.decisions import PBT, Decision, Hyperparameter, PBTConfig
from pathnet_tf.pbt.models import VariableDropout, build_model
from pathnet_tf.pbt.population import Population

REPO = pathlib.Path(__file__).resolve().parent.parent
HP = {"learning_rate": 1e-3, "keep_prob": 0.8}


def tiny_data(num=48, seed=0):
    rng = np.random.default_rng(seed)
    images = tf.constant(rng.normal(size=(num, 28, 28, 1)).astype(np.float32))
    labels = tf.constant(rng.integers(0, 10, size=num).astype(np.int32))
    return images, labels


def batches(steps, batch=8, num=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, num, size=(steps, batch)).astype(np.int32)


def arrays_equal(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def decision(member, copied_from, hyperparameters):
    return Decision(member, copied_from, dict(hyperparameters), "test", True)


def test_exploit_copies_parent_weights_and_optimizer_state():
    images, labels = tiny_data()
    hps = [
        {"learning_rate": 1e-3, "keep_prob": 0.9},
        {"learning_rate": 2e-3, "keep_prob": 0.7},
        {"learning_rate": 3e-3, "keep_prob": 0.6},
    ]
    population = Population("fc", hps, seed=1)
    for member, steps in ((0, 2), (1, 3), (2, 5)):
        population.train(member, images, labels, batches(steps, seed=member))
    parent_weights = population.member_weights(2)
    parent_optimizer = population.member_optimizer_state(2)
    bystander_weights = population.member_weights(1)
    assert not arrays_equal(population.member_weights(0), parent_weights)

    new_hp = {"learning_rate": 3.6e-3, "keep_prob": 0.48}
    population.exploit(
        [decision(0, 2, new_hp), decision(1, None, hps[1]), decision(2, None, hps[2])]
    )
    # Bug 1 of the reference: the child really holds the parent's weights (all of
    # them, BatchNorm moving statistics included).
    assert arrays_equal(population.member_weights(0), parent_weights)
    # Bug 4: Adam's slots and iteration count come along.
    child_optimizer = population.member_optimizer_state(0)
    names = population.optimizer_variable_names
    assert arrays_equal(child_optimizer, parent_optimizer)
    iterations = names.index(next(n for n in names if n.endswith("iteration")))
    assert child_optimizer[iterations] == 5
    slots = [i for i, n in enumerate(names) if "momentum" in n or "velocit" in n]
    assert len(slots) == 2 * len(population.model.trainable_variables)
    assert all(np.any(child_optimizer[i] != 0) for i in slots)
    assert population.hyperparameters(0) == new_hp
    # Others untouched.
    assert arrays_equal(population.member_weights(1), bystander_weights)
    assert arrays_equal(population.member_weights(2), parent_weights)

    # The copy is a copy: training the child leaves the parent alone.
    population.train(0, images, labels, batches(1))
    assert arrays_equal(population.member_weights(2), parent_weights)
    assert not arrays_equal(population.member_weights(0), parent_weights)
    assert population.member_optimizer_state(0)[iterations] == 6


def test_exploit_takes_every_parent_as_it_was_before_the_step():
    images, labels = tiny_data()
    population = Population("fc", [HP] * 3, seed=2)
    for member in range(3):
        population.train(member, images, labels, batches(1, seed=member))
    before = [population.member_weights(m) for m in range(3)]
    # A chain, as binary tournament can produce: 0 <- 1 and 1 <- 2 in one step.
    population.exploit([decision(0, 1, HP), decision(1, 2, HP), decision(2, None, HP)])
    assert arrays_equal(population.member_weights(0), before[1])
    assert arrays_equal(population.member_weights(1), before[2])
    assert arrays_equal(population.member_weights(2), before[2])


def test_members_not_exploited_keep_their_own_hyperparameters():
    images, labels = tiny_data()
    space = [
        Hyperparameter("learning_rate", 1e-4, 1e-2, prior="log_uniform"),
        Hyperparameter("keep_prob", 0.5, 0.99),
    ]
    pbt = PBT(space, PBTConfig(truncation_fraction=0.25), np.random.default_rng(3))
    initial = pbt.initial_hyperparameters(4)
    population = Population("fc", initial, seed=3)
    for member in range(4):
        population.train(member, images, labels, batches(1))
    decisions = pbt.step([0.1, 0.9, 0.5, 0.3])
    population.exploit(decisions)
    copied = [d.member for d in decisions if d.copied_from is not None]
    assert copied == [0]
    for member in (1, 2, 3):
        assert population.hyperparameters(member) == initial[member]
        # And the model really runs with them once the member is loaded.
        population.load_member(member)
        lr = float(population.optimizer.learning_rate)
        assert lr == pytest.approx(initial[member]["learning_rate"], rel=1e-6)
        for layer in population.model.layers:
            if isinstance(layer, VariableDropout):
                keep = float(layer.keep_prob.numpy())
                assert keep == pytest.approx(initial[member]["keep_prob"], rel=1e-6)
    child = population.hyperparameters(0)
    parent = initial[1]
    for name in ("learning_rate", "keep_prob"):
        assert child[name] / parent[name] in (pytest.approx(0.8), pytest.approx(1.2))


def _max_change(before, after):
    pairs = zip(before, after, strict=True)
    return max(float(np.max(np.abs(a - b))) for a, b in pairs)


def test_learning_rate_change_acts_in_the_compiled_step_without_retracing():
    images, labels = tiny_data()
    population = Population("fc", [HP, HP], seed=4)
    population.train(0, images, labels, batches(2))
    tiny = {"learning_rate": 1e-12, "keep_prob": 1.0}
    large = {"learning_rate": 1e-2, "keep_prob": 1.0}
    # Two identical members (1 copies 0), then different learning rates.
    population.exploit([decision(0, None, tiny), decision(1, 0, large)])
    start = population.member_weights(0, trainable_only=True)
    assert len(start) == len(population.model.trainable_variables)
    assert arrays_equal(start, population.member_weights(1, trainable_only=True))
    one_batch = batches(1, seed=9)
    population.train(0, images, labels, one_batch)
    population.train(1, images, labels, one_batch)
    tiny_change = _max_change(start, population.member_weights(0, trainable_only=True))
    large_change = _max_change(start, population.member_weights(1, trainable_only=True))
    # Adam's first step moves each weight by about lr (the sign of its gradient).
    assert tiny_change < 1e-9
    assert 0.5e-2 < large_change < 2e-2
    # And back: the same member, now with the large rate.
    population.set_hyperparameters(0, large)
    before = population.member_weights(0, trainable_only=True)
    population.train(0, images, labels, one_batch)
    assert _max_change(before, population.member_weights(0, trainable_only=True)) > 1e-3
    assert population.tracing_counts()["train"] == 1


def test_keep_prob_change_acts_in_the_compiled_step_without_retracing():
    images, labels = tiny_data()
    no_dropout = {"learning_rate": 1e-12, "keep_prob": 1.0}
    population = Population("fc", [no_dropout], seed=5)
    one_batch = batches(1, seed=1)
    # keep_prob 1: training is deterministic (lr ~ 0 leaves the weights).
    first, _ = population.train(0, images, labels, one_batch)
    second, _ = population.train(0, images, labels, one_batch)
    assert first == pytest.approx(second, abs=1e-6)
    population.set_hyperparameters(0, {"learning_rate": 1e-12, "keep_prob": 0.3})
    dropped = [population.train(0, images, labels, one_batch)[0] for _ in range(3)]
    assert all(abs(loss - first) > 1e-3 for loss in dropped)
    assert len(set(dropped)) == 3  # A fresh dropout mask per call.
    assert population.tracing_counts()["train"] == 1


def test_variable_dropout_reads_its_variable_inside_a_tf_function():
    layer = VariableDropout(keep_prob=0.9, seed=0)
    inputs = tf.ones([200, 50])

    @tf.function
    def dropped(x):
        return layer(x, training=True)

    for keep in (0.9, 0.3, 1.0):
        layer.keep_prob.assign(keep)
        outputs = dropped(inputs).numpy()
        kept = outputs != 0
        assert abs(kept.mean() - keep) < 0.03
        assert np.allclose(outputs[kept], 1.0 / keep)
    assert dropped.experimental_get_tracing_count() == 1
    # Inference is the identity, whatever keep_prob is.
    layer.keep_prob.assign(0.3)
    assert np.array_equal(layer(inputs, training=False).numpy(), inputs.numpy())
    config = layer.get_config()
    assert (config["keep_prob"], config["seed"]) == (0.9, 0)
    with pytest.raises(ValueError, match=r"keep_prob \(0.0\) must be in \(0, 1\]"):
        VariableDropout(keep_prob=0.0)


def test_models_have_the_reference_shapes():
    fc = build_model("fc")
    conv = build_model("conv")
    assert fc(tf.zeros([3, 28, 28, 1])).shape == (3, 10)
    assert conv(tf.zeros([3, 28, 28, 1])).shape == (3, 10)
    fc_kernels = [w.shape for w in fc.trainable_weights if len(w.shape) == 2]
    assert fc_kernels == [(784, 256), (256, 256), (256, 10)]
    conv_kernels = [tuple(w.shape) for w in conv.trainable_weights if len(w.shape) > 1]
    assert conv_kernels == [(3, 3, 1, 16), (3, 3, 16, 32), (25088, 10)]
    for model in (fc, conv):
        kinds = [type(layer).__name__ for layer in model.layers]
        assert kinds.count("BatchNormalization") == 2
        assert kinds.count("VariableDropout") == 2
        assert "MaxPooling2D" not in kinds
    with pytest.raises(ValueError, match="model kind 'mlp'"):
        build_model("mlp")


def test_epoch_batches_cover_every_example():
    rng = np.random.default_rng(0)
    indices = epoch_batches(1050, 200, rng)
    assert indices.shape == (6, 200) and indices.dtype == np.int32
    assert set(indices.ravel().tolist()) == set(range(1050))
    # Exactly divisible: a permutation, nothing repeated, nothing dropped.
    indices = epoch_batches(1000, 200, rng)
    assert sorted(indices.ravel().tolist()) == list(range(1000))


def _fake_mnist(num_train=300, num_test=40):
    rng = np.random.default_rng(0)
    return Mnist(
        train_images=rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
        train_labels=np.arange(num_train, dtype=np.uint8) % 10,
        test_images=rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
        test_labels=(np.arange(num_test, dtype=np.uint8) + 3) % 10,
    )


def test_validation_is_held_out_from_the_end_of_the_training_split():
    mnist = _fake_mnist()
    splits = split_mnist(mnist, validation_size=100, train_subset=50)
    assert splits.train_images.shape == (50, 28, 28, 1)
    assert splits.validation_images.shape == (100, 28, 28, 1)
    assert splits.test_images.shape == (40, 28, 28, 1)
    np.testing.assert_array_equal(splits.validation_labels, mnist.train_labels[200:])
    np.testing.assert_array_equal(splits.train_labels, mnist.train_labels[:50])
    np.testing.assert_array_equal(splits.test_labels, mnist.test_labels)
    # Normalised with the MNIST mean and standard deviation.
    expected = (mnist.train_images[200, 0, 0] / 255.0 - 0.1307) / 0.3081
    assert float(splits.validation_images[0, 0, 0, 0]) == pytest.approx(expected)
    with pytest.raises(ConfigError, match="validation_size 300"):
        split_mnist(mnist, validation_size=300)
    with pytest.raises(ConfigError, match=r"train_subset 250 must be in \[1, 200\]"):
        split_mnist(mnist, validation_size=100, train_subset=250)


def _rounds(rows):
    return {(int(r["round"]), int(r["worker"])): r for r in rows}


def test_tiny_pbt_script_writes_every_output_and_tests_its_checkpoint(tmp_path):
    workdir = tmp_path / "tiny"
    config = str(REPO / "config" / "tiny_PBT.json")
    assert pbt_mnist.main([config, "--workdir", str(workdir)]) == 0

    for name in (
        "config.json",
        "history.csv",
        "results.csv",
        "results.json",
        "ckpt/best.keras",
        "ckpt/best.json",
        "figures/accuracy_per_worker.png",
        "figures/hyperparameter_scatter.png",
    ):
        assert (workdir / name).is_file(), name
    assert not [p for p in workdir.rglob(".*")]  # No temporary files left.

    history = atomic_io.read_csv(workdir / "history.csv")
    assert len(history) == 4 * 3
    assert set(history[0]) >= {
        "round",
        "worker",
        "score",
        "learning_rate",
        "keep_prob",
        "copied_from",
        "mutation",
    }
    table = _rounds(history)
    copies = 0
    for (round_index, worker), row in table.items():
        if round_index == 3:
            assert row["copied_from"] == ""  # No exploit after the last round.
            continue
        following = table[(round_index + 1, worker)]
        if row["copied_from"] == "":
            # Not exploited: the same hyperparameters next round.
            assert following["learning_rate"] == row["learning_rate"]
            assert following["keep_prob"] == row["keep_prob"]
            continue
        copies += 1
        parent = table[(round_index, int(row["copied_from"]))]
        assert float(parent["score"]) >= float(row["score"])
        for part, name in zip(
            row["mutation"].split(";"), ("learning_rate", "keep_prob"), strict=True
        ):
            factor = float(part.split("*")[1].removesuffix("(clipped)"))
            expected = float(parent[name]) * factor
            assert float(following[name]) == pytest.approx(expected)
    assert copies == 2  # One (bottom 25 % of 4) per round, after rounds 1 and 2.

    for worker in range(4):
        rows = atomic_io.read_csv(workdir / "workers" / f"worker_{worker:02d}.csv")
        assert [int(r["round"]) for r in rows] == [1, 2, 3]
        events = list((workdir / "tb" / f"worker_{worker:02d}").glob("events.*"))
        assert len(events) == 1
        tags = {
            value.tag
            for event in tf.compat.v1.train.summary_iterator(str(events[0]))
            for value in event.summary.value
        }
        assert {"val_accuracy", "learning_rate", "keep_prob"} <= tags

    results = json.loads((workdir / "results.json").read_text())
    best = results["best_worker"]
    assert results["best_val_accuracy"] == max(float(table[(3, w)]["score"]) for w in range(4))
    assert results["best_test_accuracy"] > 0.5  # 2,000 images: it learned.
    assert results["tracing_counts"] == {"train": 1, "evaluate": 1, "train_all": 0}
    assert (workdir / "figures" / f"lr_schedule_worker_{best:02d}.png").is_file()
    for png in (workdir / "figures").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((workdir / "config.json").read_text())["train_subset"] == 2000

    assert pbt_mnist.main([config, "--workdir", str(workdir), "-m", "test"]) == 0
    tested = json.loads((workdir / "test_results.json").read_text())
    assert tested["num_test_images"] == 10000
    assert tested["test_accuracy"] == results["best_test_accuracy"]


def test_script_stops_with_one_line_on_a_bad_config(tmp_path, capsys):
    raw = json.loads((REPO / "config" / "tiny_PBT.json").read_text())
    raw["pbt"]["truncation_fractoin"] = 0.2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    workdir = tmp_path / "out"
    assert pbt_mnist.main([str(bad), "--workdir", str(workdir)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error
    assert "unknown key pbt.'truncation_fractoin'" in error
    assert not workdir.exists()  # Stopped before writing anything.


def test_script_test_mode_without_checkpoint_fails_clearly(tmp_path, capsys):
    config = str(REPO / "config" / "tiny_PBT.json")
    assert pbt_mnist.main([config, "--workdir", str(tmp_path), "-m", "test"]) == 2
    error = capsys.readouterr().err.strip()
    assert "best.keras does not exist; run with -m train first" in error


def test_member_state_round_trips_into_another_member():
    images, labels = tiny_data()
    other = {"learning_rate": 5e-3, "keep_prob": 0.6}
    population = Population("fc", [HP, other], seed=6)
    population.train(0, images, labels, batches(3))
    state = population.member_state(0)
    assert len(state) == len(population.state_names)
    population.set_member_state(1, state)
    assert arrays_equal(population.member_weights(1), population.member_weights(0))
    assert arrays_equal(population.member_optimizer_state(1), population.member_optimizer_state(0))
    assert population.hyperparameters(1) == other  # State, not hyperparameters.
    population.load_member(1)
    assert float(population.optimizer.learning_rate) == pytest.approx(5e-3)
    with pytest.raises(ValueError, match="has shape"):
        population.set_member_state(1, [np.zeros(3)] * len(state))


def _functional_state(population, member):
    """`member`'s state (`member_state` order) without what float noise may move
    freely: the biases of the layers before a BatchNorm (their gradient is zero up to
    rounding, and Adam turns rounding into full-size steps; BatchNorm cancels them),
    their Adam slots, and BatchNorm's moving means (which follow those biases)."""
    model = population.model
    free = set()
    for layer, following in zip(model.layers, model.layers[1:]):
        if isinstance(following, keras.layers.BatchNormalization):
            free |= {id(layer.bias), id(following.moving_mean)}
    positions = {i for i, v in enumerate(model.weights) if id(v) in free}
    # Adam's variables: iteration, learning rate, then (momentum, velocity) per
    # trainable variable.
    first_slot = len(model.weights) + 2
    for k, variable in enumerate(model.trainable_variables):
        if id(variable) in free:
            positions |= {first_slot + 2 * k, first_slot + 2 * k + 1}
    state = population.member_state(member)
    return [value for i, value in enumerate(state) if i not in positions]


@pytest.mark.parametrize("kind", ["fc", "conv"])
def test_train_all_matches_training_members_in_turn(kind):
    """One batched computation = each member trained in turn (no dropout: keep_prob 1,
    so no randomness), with a different learning rate per member."""
    images, labels = tiny_data()
    hps = [{"learning_rate": 1e-3 * (m + 1), "keep_prob": 1.0} for m in range(3)]
    in_turn = Population(kind, hps, seed=7)
    batched = Population(kind, hps, seed=7)
    indices = np.stack([batches(3, seed=m) for m in range(3)])

    expected = [in_turn.train(m, images, labels, indices[m]) for m in range(3)]
    loss, accuracy = batched.train_all(images, labels, indices)

    np.testing.assert_allclose(loss, [e[0] for e in expected], rtol=1e-4)
    np.testing.assert_allclose(accuracy, [e[1] for e in expected], rtol=1e-6)
    for member in range(3):
        want = _functional_state(in_turn, member)
        got = _functional_state(batched, member)
        assert len(want) == len(got) > 20  # kernels, gamma/beta, variances, Adam slots
        for position, (value, other) in enumerate(zip(want, got, strict=True)):
            scale = float(np.max(np.abs(value))) + 1e-6
            assert np.max(np.abs(other - value)) <= 1e-2 * scale, position
        assert batched.member_optimizer_state(member)[0] == 3  # Adam's iteration count
        logits_in_turn = in_turn.load_member(member)(images, training=False).numpy()
        logits_batched = batched.load_member(member)(images, training=False).numpy()
        scale = float(np.max(np.abs(logits_in_turn)))
        assert np.max(np.abs(logits_batched - logits_in_turn)) <= 1e-2 * scale
    assert batched.tracing_counts()["train_all"] == 1


def test_train_all_uses_each_members_hyperparameters_without_retracing():
    images, labels = tiny_data()
    population = Population("fc", [HP, HP], seed=8)
    start = population.member_state(0)
    population.set_member_state(1, start)
    indices = np.stack([batches(2), batches(2)])  # identical members, identical data

    loss, _ = population.train_all(images, labels, indices)
    assert loss[0] != loss[1]  # dropout: one random stream per member

    # keep_prob 1 acts: no dropout, so identical members compute identical steps.
    no_dropout = {"learning_rate": 1e-3, "keep_prob": 1.0}
    for member in range(2):
        population.set_member_state(member, start)
        population.set_hyperparameters(member, no_dropout)
    loss, _ = population.train_all(images, labels, indices)
    assert loss[0] == loss[1]
    assert arrays_equal(population.member_weights(0), population.member_weights(1))

    # A learning rate ten times larger moves member 1 about ten times further.
    for member in range(2):
        population.set_member_state(member, start)
    population.set_hyperparameters(1, {"learning_rate": 1e-2, "keep_prob": 1.0})
    population.train_all(images, labels, indices)
    kernel = 0  # the first dense kernel
    moved = [
        np.linalg.norm(population.member_weights(m)[kernel] - start[kernel]) for m in range(2)
    ]
    assert moved[1] > 5 * moved[0] > 0
    assert population.tracing_counts()["train_all"] == 1


def test_train_all_checks_the_shape_of_its_batches():
    images, labels = tiny_data()
    population = Population("fc", [HP, HP], seed=9)
    with pytest.raises(ValueError, match=r"expected \[2, steps, batch\]"):
        population.train_all(images, labels, np.stack([batches(2)] * 3))


def test_tiny_pbt_run_batched_with_fewer_rounds(tmp_path, capsys):
    raw = json.loads((REPO / "config" / "tiny_PBT.json").read_text())
    raw["batched"] = True
    config = tmp_path / "tiny_batched.json"
    config.write_text(json.dumps(raw))
    workdir = tmp_path / "run"
    assert pbt_mnist.main([str(config), "--workdir", str(workdir), "--rounds=2"]) == 0
    results = json.loads((workdir / "results.json").read_text())
    assert results["tracing_counts"] == {"train": 0, "evaluate": 1, "train_all": 1}
    assert results["best_test_accuracy"] > 0.5  # 2,000 images: it learned.
    history = atomic_io.read_csv(workdir / "history.csv")
    assert len(history) == 4 * 2  # --rounds=2 instead of the config's 3
    assert sum(row["copied_from"] != "" for row in history) == 1
    written = json.loads((workdir / "config.json").read_text())
    assert written["batched"] is True
    assert written["rounds"] == 2

    capsys.readouterr()
    assert pbt_mnist.main([str(config), "--workdir", str(tmp_path / "r0"), "--rounds=0"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "--rounds=0" in error and "rounds" in error

    capsys.readouterr()
    assert pbt_mnist.main([str(config), "--workdir", str(tmp_path / "ray"), "--backend=ray"]) == 2
    assert "batched" in capsys.readouterr().err
