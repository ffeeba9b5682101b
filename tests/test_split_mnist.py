"""Split MNIST: tasks learned in sequence; zero forgetting under PathNet by
construction (each task's accuracy at the end equals, exactly, its accuracy when it
was learned), forgetting under fine-tuning, and what happens when modules run out."""

import json

import keras
import numpy as np
import pytest

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.core.model import PathNet
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.config import SplitMnistConfig
from pathnet_tf.runs.run import run_sequence
from tests import test_script
from tests.test_script import ROOT

SCRIPT = ROOT / "split_mnist_pathnet.py"
TINY = ["--num_layers=2", "--num_modules=4", "--num_active=2", "--units=8",
        "--population_size=4", "--steps_per_candidate=3", "--batch_size=8",
        "--max_generations=4", "--max_train=200", "--threshold=0.95", "--tasks=0,1:2,3:4,5"]


def run_script(*flags):
    return test_script.run_script(*flags, script=SCRIPT)


@pytest.mark.parametrize("mode", ["pathnet", "finetune"])
def test_split_mnist_script_learns_the_tasks_in_order(tmp_path, mode):
    workdir = tmp_path / mode
    done = run_script(*TINY, f"--mode={mode}", f"--workdir={workdir}")
    assert done.returncode == 0, done.stderr
    results = json.loads((workdir / "results.json").read_text())
    config = json.loads((workdir / "config.json").read_text())
    assert config["tasks"] == [[0, 1], [2, 3], [4, 5]] and config["noise"] == 0.0
    tasks = results["tasks"]
    assert [t["name"] for t in tasks] == ["0v1", "2v3", "4v5"]
    assert "task_a" not in results  # two-task keys only for two tasks
    for task in tasks:
        assert 1 <= task["generations"] <= 4 and 0 <= task["test_accuracy"] <= 1
    finals = results["final_test_accuracy"]
    assert finals[-1] == tasks[-1]["test_accuracy"]  # the last task: nothing since
    if mode == "pathnet":  # zero forgetting, exactly
        assert finals == [t["test_accuracy"] for t in tasks]
        frozen = results["frozen_modules"]
        assert frozen == sorted(frozen) and 2 <= frozen[0] <= 4 and frozen[-1] <= 8
        assert results["reused_frozen_modules"][0] == 0
    else:  # one path for every task, nothing frozen: the earlier tasks' heads go stale
        assert results["frozen_modules"] == [0, 0, 0]
        assert len({json.dumps(t["best_path"]) for t in tasks}) == 1
    # The accuracy matrix R (continual.py): its diagonal is each task when learned, its
    # last row the final accuracies; PathNet's backward transfer is exactly 0.
    matrix = results["accuracy_matrix"]
    assert [matrix[i][i] for i in range(3)] == [t["test_accuracy"] for t in tasks]
    assert matrix[-1] == finals and len(results["accuracy_baseline"]) == 3
    if mode == "pathnet":
        assert results["continual"]["bwt"] == 0.0 and results["continual"]["forgetting"] == [
            0.0, 0.0]
    assert (workdir / "figures" / "accuracy_matrix.png").stat().st_size > 5000
    assert "mean final test accuracy over 3 tasks" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == f"figures in {workdir / 'figures'}"
    assert (workdir / "figures" / "pathways.png").stat().st_size > 10_000
    # The campaign summary over this folder (one run).
    from pathnet_tf.reports import split_mnist_summary
    assert split_mnist_summary.main([str(tmp_path), "--out", str(tmp_path / "summary")]) == 0
    summary = json.loads((tmp_path / "summary" / "summary.json").read_text())[mode]
    assert summary["runs"] == 1 and [t["name"] for t in summary["tasks"]] == ["0v1", "2v3", "4v5"]
    forgetting = [t["forgetting"]["mean"] for t in summary["tasks"]]
    assert forgetting == pytest.approx([t["test_accuracy"] - f for t, f in zip(tasks, finals)])
    assert summary["mean_final_test_accuracy"]["mean"] == pytest.approx(sum(finals) / 3)
    assert summary["acc"]["mean"] == pytest.approx(sum(finals) / 3)
    assert summary["bwt"]["mean"] == results["continual"]["bwt"]
    assert f"## {mode}: 1 runs" in (tmp_path / "summary" / "summary.md").read_text()
    prefixes = {"A_0v1", "B_2v3", "C_4v5"}
    tags = set()
    import tensorflow as tf
    for event_file in (workdir / "tb").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags |= {value.tag.split("/")[0] for value in event.summary.value}
    assert prefixes <= tags


@pytest.mark.parametrize("flags, message", [
    (["--tasks=0,1:2"], "'2'"),
    (["--tasks=0,1:3,3"], "3,3"),
    (["--tasks=0,1:2,11"], "11"),
    (["--noise=1.5"], "noise (1.5)"),
])
def test_split_mnist_bad_input_stops_with_one_line(tmp_path, flags, message):
    done = run_script(*flags, f"--workdir={tmp_path / 'run'}")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last, done.stderr
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_when_every_module_is_frozen_later_tasks_train_only_their_heads(tmp_path):
    # One module per layer: task A's path uses them all, so task A freezes them all.
    config = SplitMnistConfig(
        pathnet=PathNetConfig(num_layers=2, num_modules=1, num_active=1, units=6),
        evolution=EvolutionConfig(population_size=4, steps_per_candidate=3, batch_size=8,
                                  max_generations=3, threshold=1.0),
        tasks="0,1:2,3:4,5", max_train=200)
    mnist = data_lib.load_mnist()
    rng = np.random.default_rng(0)
    tasks = [data_lib.binary_task(mnist, pair, 0.0, rng, max_train=200, max_test=100)
             for pair in config.tasks]
    keras.utils.set_random_seed(0)
    model = PathNet(data_lib.IMAGE_SIZE, 2, 1, 1, 6)
    modules_after = {}

    def on_task_end(label, model, result):
        modules_after[label] = [layer.kernel.numpy().copy() for layer in model.module_layers]

    results = run_sequence(config, model, tasks, tmp_path, log=lambda _: None,
                           on_task_end=on_task_end)
    assert results["frozen_modules"] == [2, 2, 2]
    assert results["reused_frozen_modules"] == [0, 2, 2]
    for label in ("B", "C"):  # nothing left to train but the head
        for got, want in zip(modules_after[label], modules_after["A"]):
            np.testing.assert_array_equal(got, want)
    assert results["final_test_accuracy"] == [t["test_accuracy"] for t in results["tasks"]]
    assert all(t["generations"] == 3 for t in results["tasks"])
