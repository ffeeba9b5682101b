"""Tests for PBT of PathNet's hyperparameters (pathnet_tf.pbt.pathnet, pathnet_pbt.py).

Tiny shapes (L, M, N = 2, 4, 2; GA population 4; T = 3 steps of 8 examples), no XLA.
"""

import dataclasses
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.files import atomic_io
from pathnet_tf.pbt.decisions import Decision
from pathnet_tf.pbt.pathnet import PathNetMember, PathNetPBTConfig, exploit

ROOT = pathlib.Path(__file__).resolve().parent.parent
TINY = PathNetPBTConfig(
    pathnet=PathNetConfig(num_layers=2, num_modules=4, num_active=2, units=8),
    evolution=EvolutionConfig(population_size=4, steps_per_candidate=3, batch_size=8,
                              jit_compile=False),
    num_members=3, ready_generations=2, max_generations=4, validation_size=50,
    max_train=250, baseline_seeds=1)


def tiny_data(num=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((num, 784), dtype=np.float32)
    y = (x[:, :392].mean(axis=1) > x[:, 392:].mean(axis=1)).astype(np.int32)
    return x, y


def member(learning_rate=0.05, mutation_rate=0.25, seed=0, data=None):
    x, y = tiny_data() if data is None else data
    return PathNetMember(TINY, x, y, {"learning_rate": learning_rate,
                                      "mutation_rate": mutation_rate},
                         np.random.default_rng(seed))


def weights(m):
    return [v.numpy() for v in m.trainer.params]


def slots(m):
    return [s.numpy() for slot in m.trainer.slots for s in slot]


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def decision(index, parent, learning_rate, mutation_rate):
    return Decision(index, parent, {"learning_rate": learning_rate,
                                    "mutation_rate": mutation_rate}, "test", True)


ADAM = dataclasses.replace(TINY, evolution=dataclasses.replace(TINY.evolution,
                                                               optimizer="adam"))


@pytest.fixture
def members():
    """Three fresh Adam members (Adam: there are slots to copy), built for each test:
    the tests train and exploit them, so none may see another's changes."""
    x, y = tiny_data()
    return [PathNetMember(ADAM, x, y, {"learning_rate": lr, "mutation_rate": mr},
                          np.random.default_rng(seed))
            for seed, (lr, mr) in enumerate([(1e-3, 0.1), (2e-3, 0.3), (3e-3, 0.5)])]


def test_exploit_copies_weights_slots_step_population_and_hyperparameters(members):
    for index, m in enumerate(members):
        m.evolve(index + 1, ADAM)
    parent = members[2]
    parent_weights, parent_slots = weights(parent), slots(parent)
    parent_population = parent.tournament.population.copy()
    parent_step = float(parent.trainer.step.numpy())
    bystander = weights(members[1]), members[1].tournament.population.copy()
    assert not same(weights(members[0]), parent_weights)
    assert any(np.any(s != 0) for s in parent_slots)  # Adam moments are there to copy.

    exploit(members, [decision(0, 2, 3.6e-3, 0.4), decision(1, None, 2e-3, 0.3),
                      decision(2, None, 3e-3, 0.5)])
    child = members[0]
    assert same(weights(child), parent_weights)  # modules and readout
    assert same(slots(child), parent_slots)  # Adam m and v
    assert float(child.trainer.step.numpy()) == parent_step == 3 * 3  # 3 generations of T=3
    np.testing.assert_array_equal(child.tournament.population, parent_population)
    assert child.tournament.population is not parent.tournament.population
    assert child.generations == parent.generations == 3
    assert child.hyperparameters == pytest.approx({"learning_rate": 3.6e-3,
                                                   "mutation_rate": 0.4})
    assert parent.hyperparameters == pytest.approx({"learning_rate": 3e-3,
                                                    "mutation_rate": 0.5})
    assert same(weights(members[1]), bystander[0])
    np.testing.assert_array_equal(members[1].tournament.population, bystander[1])

    # A copy, not an alias: training the child leaves the parent as it was.
    child.evolve(1, ADAM)
    assert same(weights(parent), parent_weights)
    np.testing.assert_array_equal(parent.tournament.population, parent_population)
    assert not same(weights(child), parent_weights)


def test_exploit_reads_every_parent_before_overwriting(members):
    before = [weights(m) for m in members]
    assert not same(before[1], before[2])
    exploit(members, [decision(0, 1, 1e-3, 0.2), decision(1, 2, 1e-3, 0.2),
                      decision(2, None, 1e-3, 0.2)])
    assert same(weights(members[0]), before[1])
    assert same(weights(members[1]), before[2])


def test_learning_rate_change_acts_without_retracing(members):
    a, b = members[0], members[1]
    # Two identical members (b copies a), then very different learning rates.
    exploit([a, b], [decision(0, None, 1e-12, 0.2), decision(1, 0, 0.5, 0.2)])
    start = weights(a)
    assert same(start, weights(b))
    paths = a.tournament.ask()
    batch = np.random.default_rng(0).integers(0, 64, (3, 8)).astype(np.int32)
    a.trainer.run_tournament(paths, batch)
    b.trainer.run_tournament(paths, batch)
    tiny = max(float(np.max(np.abs(x - y))) for x, y in zip(weights(a), start))
    large = max(float(np.max(np.abs(x - y))) for x, y in zip(weights(b), start))
    assert tiny < 1e-9 < 1e-2 < large  # Adam moves a weight by about lr per step.
    # And the other way round on the same member, same compiled function.
    a.set_hyperparameters({"learning_rate": 0.5, "mutation_rate": 0.2})
    before = weights(a)
    a.trainer.run_tournament(paths, batch)
    assert max(float(np.max(np.abs(x - y))) for x, y in zip(weights(a), before)) > 1e-2
    assert a.trainer.tracing_counts()["tournament"] == 1
    assert b.trainer.tracing_counts()["tournament"] == 1


def test_mutation_rate_change_acts_on_the_next_tell():
    m = member(mutation_rate=0.0)
    for _ in range(3):
        candidates = m.tournament.ask()
        m.tournament.tell(np.array([1.0, 0.0]))  # candidate 0 wins, never mutated
        loser = [i for i, g in enumerate(m.tournament.population)
                 if np.array_equal(g, candidates[0])]
        assert len(loser) >= 2  # the loser became an exact copy
    m.set_hyperparameters({"learning_rate": 0.05, "mutation_rate": 1.0})
    changed = 0
    for _ in range(5):
        candidates = m.tournament.ask()
        m.tournament.tell(np.array([1.0, 0.0]))
        changed += sum(not np.array_equal(g, candidates[0]) for g in m.tournament.population)
    assert changed > 0


def test_config_validates_with_named_messages():
    with pytest.raises(ValueError, match=r"num_members \(1\) must be >= 2"):
        PathNetPBTConfig(num_members=1)
    with pytest.raises(ValueError, match=r"max_train \(40\) must be an integer > "):
        PathNetPBTConfig(max_train=40, validation_size=50)


def test_script_writes_history_and_results(tmp_path):
    workdir = tmp_path / "run"
    flags = ["--num_layers=2", "--num_modules=4", "--num_active=2", "--units=8",
             "--population_size=4", "--steps_per_candidate=3", "--batch_size=8",
             "--num_members=3", "--ready_generations=2", "--max_generations=4",
             "--validation_size=50", "--max_train=250", "--baseline_seeds=1",
             "--threshold=0.999", "--nojit_compile", f"--workdir={workdir}"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, str(ROOT / "pathnet_pbt.py"), *flags],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    results = json.loads((workdir / "results.json").read_text())
    config = json.loads((workdir / "config.json").read_text())
    assert config["num_members"] == 3 and config["pathnet"]["num_modules"] == 4
    assert results["budget_generations"] == 12
    pbt = results["pbt"]
    history = atomic_io.read_csv(workdir / "history.csv")
    if pbt["solved"]:
        assert pbt["generations_summed_over_members"] <= 12
        assert pbt["solver"]["generations"] <= 4
    else:
        assert pbt["generations_summed_over_members"] == 12
        assert len(history) == 3 * 2  # 2 rounds of 2 generations, 3 members
        assert [int(r["generations"]) for r in history] == [2, 2, 2, 4, 4, 4]
        assert sum(1 for r in history if r["copied_from"]) == 1  # 1 copy, after round 1
    assert all(t["tournament"] == 1 for t in pbt["tracing_counts"])
    control = results["default_population"]
    assert (workdir / "history_default_population.csv").is_file()
    assert control["generations_summed_over_members"] <= 12
    assert control["solved"] == (control["solver"] is not None)
    default = results["default"]
    assert default["hyperparameters"] == {"learning_rate": 0.05, "mutation_rate": 0.25}
    assert len(default["runs"]) == 1 and 1 <= default["runs"][0]["generations"] <= 12
    assert 0.0 <= default["runs"][0]["test_accuracy"] <= 1.0
    assert "round 1" in done.stdout


@pytest.mark.parametrize("switch", [dict(pathnet=PathNetConfig(aggregation="mean")),
                                    dict(evolution=EvolutionConfig(tournament="shared"))])
def test_config_refuses_the_tf1_protocol_switches(switch):
    with pytest.raises(ValueError, match="paper's protocol"):
        PathNetPBTConfig(**switch)
    PathNetPBTConfig(evolution=EvolutionConfig(threshold=0.99, population_size=20))
