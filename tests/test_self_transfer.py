"""The transfer switches and the reuse diagnostics (issue 25, docs/transfer.md):
`reuse.py`'s counts on paths whose answer is known, the population seeded with the
previous task's best path, noise drawn afresh per minibatch in the graph, the
diagnostics in results.json and a resumed run, and default runs unchanged (results.json
of each mode, seeds 0-2, against the fingerprint written by the code before the
switches, commit 7c929dc)."""

import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.evolution.genetic import active_mask
from pathnet_tf.evolution.reuse import ReuseLog, frozen_per_layer, holds, seed_population
from pathnet_tf.evolution.training import noise_in_graph
from pathnet_tf.experiments import binary_mnist
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.config import BinaryMnistConfig

GOLDEN = pathlib.Path(__file__).parent / "data" / "default_results_7c929dc.json"


@pytest.fixture(scope="module")
def mnist():
    return data_lib.load_mnist()


# -- reuse.py on known answers --------------------------------------------------------


def test_active_mask_frozen_counts_and_holding_on_known_paths():
    frozen = np.array([[1, 1, 0, 0], [0, 0, 1, 0]], bool)
    paths = np.array([[[0, 1], [2, 3]],   # both frozen in layer 1, one in layer 2
                      [[1, 1], [0, 1]],   # a repeated module counts once
                      [[2, 3], [3, 3]]])  # none
    one = [[False, True, False, False], [True, True, False, False]]
    assert active_mask(paths[1], 4).tolist() == one
    assert active_mask(paths, 4)[1].tolist() == one  # a population at once
    assert frozen_per_layer(paths, frozen, 4).tolist() == [[2, 1], [1, 0], [0, 0]]
    reference = np.array([[1, 0], [2, 2]])
    assert holds(paths, reference, 4).tolist() == [True, False, False]
    assert holds(np.array([[0, 1], [2, 0]]), reference, 4)  # a superset holds it


def test_seed_population_sets_the_share_asked_for():
    population = np.zeros((8, 2, 2), np.int32)
    reference = np.array([[3, 1], [2, 0]])
    assert seed_population(population, reference, 0.25) == 2
    assert (population[:2] == reference).all() and (population[2:] == 0).all()
    assert seed_population(population, reference, 1.0) == 8
    assert (population == reference).all()
    assert seed_population(np.zeros((8, 2, 2), np.int32), reference, 0.0) == 0


def test_seed_population_fills_wider_pathways_with_modules_outside_the_reference():
    rng = np.random.default_rng(0)
    population = np.full((6, 2, 4), -1, np.int32)
    reference = np.array([[3, 1], [2, 2]])  # a repeated module: it still counts once
    assert seed_population(population, reference, 0.5, rng, num_modules=5) == 3
    assert (population[:3, :, :2] == reference).all() and (population[3:] == -1).all()
    for member in population[:3]:
        for layer, row in enumerate(member):
            extra = row[2:]
            assert len(set(extra.tolist())) == 2 and 0 <= extra.min() and extra.max() < 5
            assert not set(extra.tolist()) & set(reference[layer].tolist())
    with pytest.raises(ValueError, match="needs an rng"):
        seed_population(np.zeros((2, 2, 3), np.int32), reference, 1.0)
    with pytest.raises(ValueError, match="cannot seed pathways of 1"):
        seed_population(np.zeros((2, 2, 1), np.int32), reference, 1.0)


def test_reuse_log_records_each_generation_and_the_first_winning_holder():
    frozen = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], bool)
    reference = np.array([[0, 1], [2, 3]])
    log = ReuseLog(frozen, reference, 4)
    population = np.array([[[0, 2], [2, 1]], [[3, 2], [0, 1]]])
    first = log.record(1, population[1], population)
    assert first == {"winner_frozen": 0, "population_frozen": 1.0, "holding": 0}
    population[0] = reference
    second = log.record(2, reference, population)
    assert second == {"winner_frozen": 4, "population_frozen": 2.0, "holding": 1}
    log.record(3, reference, population)
    results = log.results()
    assert results["winner_frozen"] == [[0, 0], [2, 2], [2, 2]]
    assert results["population_frozen"] == [[0.5, 0.5], [1.0, 1.0], [1.0, 1.0]]
    assert results["holding"] == [0, 1, 1]
    assert results["first_win_holding"] == 2
    assert results["frozen_modules"] == 4
    again = ReuseLog.from_state(json.loads(json.dumps(log.state())), 4)
    assert again.results() == results and (again.frozen == frozen).all()


# -- noise drawn in the graph ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["salt_and_pepper", "additive_salt"])
def test_noise_in_graph_follows_the_data_rule_and_its_seed(kind):
    clean = tf.fill([64, 784], 0.25)
    noisy = noise_in_graph(clean, kind, 0.5, tf.constant([3, 7], tf.int64)).numpy()
    changed = noisy != 0.25
    assert 0.45 < changed.mean() < 0.55  # probability 0.5 per pixel
    if kind == "salt_and_pepper":
        assert set(np.unique(noisy[changed])) == {0.0, 1.0}
        assert 0.45 < (noisy[changed] == 1.0).mean() < 0.55
    else:  # + u with u in [0.5, 1), clipped to 1
        assert noisy[changed].min() >= 0.75 and noisy.max() <= 1.0
    again = noise_in_graph(clean, kind, 0.5, tf.constant([3, 7], tf.int64)).numpy()
    other = noise_in_graph(clean, kind, 0.5, tf.constant([3, 8], tf.int64)).numpy()
    assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)
    assert np.array_equal(noise_in_graph(clean, kind, 0.0, tf.constant([3, 7], tf.int64)),
                          clean)


def test_binary_task_noise_train_false_keeps_training_images_clean_and_test_the_same(mnist):
    noisy = data_lib.binary_task(mnist, (1, 3), 0.5, np.random.default_rng(0), max_train=50)
    clean = data_lib.binary_task(mnist, (1, 3), 0.5, np.random.default_rng(0), max_train=50,
                                 noise_train=False)
    reference = data_lib.binary_task(mnist, (1, 3), 0.0, np.random.default_rng(0),
                                     max_train=50)
    assert np.array_equal(clean.train_x, reference.train_x)
    assert np.array_equal(clean.test_x, noisy.test_x)
    assert not np.array_equal(clean.train_x, noisy.train_x)


# -- tiny runs ------------------------------------------------------------------------


def tiny(seed=0, **changes):
    evolution = dict(population_size=6, steps_per_candidate=4, batch_size=8,
                     max_generations=5, threshold=1.0)
    evolution.update({k: changes.pop(k) for k in list(changes) if k in ("seed_fraction",)})
    return BinaryMnistConfig(
        pathnet=PathNetConfig(num_layers=2, num_modules=4, num_active=2, units=6),
        evolution=EvolutionConfig(**evolution), max_train=200, seed=seed,
        task_a=(1, 3), task_b=(1, 3), **changes)


def run(config, workdir, mnist):
    return binary_mnist.run(config, workdir, log=lambda _: None, mnist=mnist, figures=False,
                            tensorboard="scalars")


def test_a_seeded_population_starts_on_task_a_path_and_reuse_is_logged(mnist, tmp_path):
    results = run(tiny(seed_fraction=1.0), tmp_path / "seeded", mnist)
    reuse = results["task_b"]["reuse"]
    best_a = results["task_a"]["best_path"]
    assert results["task_a"]["reuse"] is None  # nothing frozen before task A
    assert reuse["reference_path"] == best_a and reuse["seeded"] == 6
    # Every member held task A's path; one tournament's losers (at most B = 2) mutated.
    assert reuse["holding"][0] >= 4 and reuse["first_win_holding"] == 1
    assert len(reuse["winner_frozen"]) == results["task_b"]["generations"] == 5
    assert sum(reuse["winner_frozen"][0]) == reuse["frozen_modules"]
    from pathnet_tf.runs import run_figures

    drawn = run_figures.draw_all(results, tmp_path / "figures")
    assert tmp_path / "figures" / "reuse.png" in drawn
    assert (tmp_path / "figures" / "reuse.png").stat().st_size > 1000
    unseeded = run(tiny(), tmp_path / "random", mnist)["task_b"]["reuse"]
    assert unseeded["seeded"] == 0 and unseeded["holding"][0] <= 1


def test_noise_per_batch_changes_the_run_and_is_reproducible(mnist, tmp_path):
    once = run(tiny(), tmp_path / "once", mnist)
    first = run(tiny(noise_draw="per_batch"), tmp_path / "per_batch", mnist)
    second = run(tiny(noise_draw="per_batch"), tmp_path / "per_batch_again", mnist)
    assert first["task_a"]["fitness_history"] == second["task_a"]["fitness_history"]
    assert first["task_b"]["best_path"] == second["task_b"]["best_path"]
    assert first["task_a"]["fitness_history"] != once["task_a"]["fitness_history"]
    # the test images are noised once either way, and drawn alike
    assert 0.3 < first["task_a"]["test_accuracy"] <= 1.0


def test_a_resumed_seeded_run_equals_an_uninterrupted_one(mnist, tmp_path):
    config = tiny(seed_fraction=0.5, noise_draw="per_batch")
    whole = run(config, tmp_path / "whole", mnist)
    _run_until(config, tmp_path / "resumed", mnist, stop_after_b=2)
    resumed = run(config, tmp_path / "resumed", mnist)
    for key in ("task_a", "task_b"):
        assert resumed[key]["fitness_history"] == whole[key]["fitness_history"]
        assert resumed[key]["reuse"] == whole[key]["reuse"]
    assert resumed["task_b"]["reuse"]["seeded"] == 3


def _run_until(config, workdir, mnist, stop_after_b):
    """Runs until task B has done `stop_after_b` generations, then stops as a SIGTERM
    would (a checkpoint, RunTerminated)."""
    from pathnet_tf.files.workdir import RunTerminated
    from pathnet_tf.runs import task_run

    original = task_run.TaskRun.evolve

    def evolve(self, summaries, log, checkpoint_every=0, on_checkpoint=None, stop=None):
        if self.label != "B":
            return original(self, summaries, log, checkpoint_every, on_checkpoint, stop)
        return original(self, summaries, log, 1, on_checkpoint,
                        stop=lambda: self.result.generations >= stop_after_b)

    task_run.TaskRun.evolve = evolve
    try:
        with pytest.raises(RunTerminated):
            run(config, workdir, mnist)
    finally:
        task_run.TaskRun.evolve = original


def test_default_runs_give_the_results_of_the_code_before_the_switches(mnist, tmp_path):
    """Each mode, seeds 0-2, a tiny config: results.json equal to the one the code of
    commit 7c929dc wrote (timings aside; keys added since, such as `reuse`, left out)."""
    golden = json.loads(GOLDEN.read_text())
    for key, expected in golden.items():
        mode, seed = key.split("/seed_")
        config = BinaryMnistConfig(
            pathnet=PathNetConfig(num_layers=2, num_modules=4, num_active=2, units=6),
            evolution=EvolutionConfig(population_size=6, steps_per_candidate=4, batch_size=8,
                                      max_generations=12, threshold=0.9),
            mode=mode, max_train=300, seed=int(seed))
        results = binary_mnist.run(config, tmp_path / key, log=lambda _: None, mnist=mnist,
                                   figures=False, tensorboard="none")
        assert same_keys_as(json.loads(json.dumps(results)), expected) == expected, key


def same_keys_as(value, expected):
    """`value` cut down to the keys `expected` has, at every depth (keys added since
    the fingerprint, e.g. `reuse`, left out; so are timings, which it lacks)."""
    if isinstance(expected, dict) and isinstance(value, dict):
        return {key: same_keys_as(value[key], expected[key]) for key in expected
                if key in value}
    if isinstance(expected, list) and isinstance(value, list) and len(value) == len(expected):
        return [same_keys_as(v, e) for v, e in zip(value, expected)]
    return value


# -- the ablation's self-transfer conditions ------------------------------------------


def test_self_transfer_conditions_name_their_flags_and_orderings():
    from pathnet_tf.reports import ablation

    flags = ablation.condition_flags("paper~fresh_noise~seeded@self")
    assert "--noise_draw=per_batch" in flags and "--seed_fraction=1" in flags
    assert [f for f in flags if f.startswith("--threshold")] == ["--threshold=0.97"]
    assert ablation.condition_flags("self") == ablation.condition_flags("paper")
    assert ablation.condition_orderings("self") == ablation.SELF_ORDERINGS == "1,3:1,3 6,7:6,7"
    assert ablation.condition_orderings("tf1~seeded") == ablation.ORDERINGS
    assert ablation.condition_switches("tf1@self") == ablation.condition_switches("tf1")
    for bad in ("paper~seeded~seeded", "paper~warp", "paper@other", "self~seeded"):
        with pytest.raises(ValueError):
            ablation.condition_flags(bad)
    for name in ablation.SELF:
        ablation.condition_flags(name)  # every listed one parses


# -- the self-transfer report ---------------------------------------------------------


def fake_run(folder, seed, generations_a, generations_b, reuse):
    task = {"name": "1v3", "digits": [1, 3], "solved": True, "best_path": [[0, 1], [2, 3]]}
    results = {"schema_version": 2, "mode": "pathnet", "seed": seed, "overlap": 4,
               "task_a": {**task, "generations": generations_a, "best_fitness": 0.99,
                          "test_accuracy": 0.95, "reuse": None},
               "task_b": {**task, "generations": generations_b, "best_fitness": 0.98,
                          "test_accuracy": 0.96, "reuse": reuse}}
    path = folder / "pathnet" / "1v3_to_1v3" / f"seed_{seed}"
    path.mkdir(parents=True)
    (path / "results.json").write_text(json.dumps(results))


def test_self_transfer_report_gap_reuse_and_ratio(tmp_path):
    from pathnet_tf.reports import self_transfer

    root = tmp_path / "root"
    won = {"frozen_modules": 4, "reference_path": [[0, 1], [2, 3]], "seeded": 2,
           "winner_frozen": [[1, 1], [2, 2]], "population_frozen": [[0.5, 0.5], [1.0, 1.5]],
           "holding": [2, 3], "first_win_holding": 2}
    lost = {**won, "winner_frozen": [[0, 0], [0, 1]], "holding": [0, 0],
            "first_win_holding": None}
    for seed in range(4):
        fake_run(root / "self", seed, 100, 50, won if seed % 2 else lost)
    summary = self_transfer.write(root, tmp_path / "out", resamples=200)
    entry = summary["conditions"]["self"]
    assert entry["first_over_second"]["1v3"]["ratio"] == pytest.approx(2.0)  # one pair
    assert entry["gap"]["task_a"]["gap"] == pytest.approx(0.04)
    assert entry["gap"]["task_b"]["gap"] == pytest.approx(0.02)
    reuse = entry["reuse"]
    assert reuse["holder_won_fraction"] == 0.5 and reuse["first_win_holding_median"] == 2
    assert reuse["winner_frozen_at_end"] == pytest.approx(2.5)  # 4 where it won, 1 elsewhere
    assert reuse["population_frozen_at_start"] == pytest.approx(1.0)
    generations, mean, counts = self_transfer.population_curve(
        self_transfer.pathnet_results(root / "self"))
    assert generations.tolist() == [1, 2] and mean.tolist() == [1.0, 2.5]
    assert counts.tolist() == [4, 4]
    markdown = (tmp_path / "out" / "summary.md").read_text()
    assert "Self-transfer" in markdown and "| self |" in markdown
    assert (tmp_path / "out" / "reuse.png").exists() and (tmp_path / "out" / "forest.png").exists()
