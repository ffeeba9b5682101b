"""Many runs in one process (`--seeds`, `campaign.run_seeds`): each run equals the run
of its seed alone, finished seeds are skipped, a failing seed does not end the batch,
and a batch killed mid-run resumes to the same results."""

import json
import os
import signal
import subprocess
import sys

import pytest

from pathnet_tf.runs.campaign import parse_seeds, seed_workdir
from tests.test_script import ROOT, SCRIPT, TINY, results_without_timings, run_script

KILLER = ROOT / "tests" / "helpers" / "kill_after_checkpoint.py"
FLAGS = [*TINY, "--nofigures", "--tensorboard=scalars"]


@pytest.mark.parametrize("text, seeds", [
    ("0-3", [0, 1, 2, 3]), ("7", [7]), ("0,5,7-9", [0, 5, 7, 8, 9]), (" 2 - 3 ", [2, 3]),
])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text, message", [
    ("a-3", "must be seeds and ranges"), ("-1", "must be seeds and ranges"),
    ("5-2", "is empty"), ("1,2,1", "names a seed twice"), ("", "must be seeds"),
    ("0-2000000", "more than"),
])
def test_parse_seeds_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        parse_seeds(text)


@pytest.mark.parametrize("mode, extra", [
    ("pathnet", []), ("independent", []), ("finetune", ["--optimizer=adam"]),
    ("pathnet", ["--protocol=tf1", "--num_modules=6"]),  # always-on frozen modules gathered
])
def test_each_run_of_a_batch_equals_its_seed_alone(tmp_path, mode, extra):
    """The runs of a batch share one model and its compiled trainers (a TrainerPool,
    restarted per run): each run's results are still exactly its seed's alone."""
    flags = [*FLAGS, f"--mode={mode}", *extra]
    batch = run_script(*flags, "--seeds=0-2", f"--workdir={tmp_path / 'b'}")
    assert batch.returncode == 0, batch.stderr
    lines = [line for line in batch.stdout.splitlines() if "finished in" in line]
    assert [line.split(":")[0] for line in lines] == [
        f"{mode} 1v3->1v2 seed {seed}" for seed in range(3)]
    for seed in (2,):  # the third run of the process (two restarts), against a fresh one
        alone = run_script(*flags, f"--seed={seed}", f"--workdir={tmp_path / f'alone_{seed}'}")
        assert alone.returncode == 0, alone.stderr
        assert (results_without_timings(seed_workdir(tmp_path / "b", seed))
                == results_without_timings(tmp_path / f"alone_{seed}"))
    runs = [results_without_timings(seed_workdir(tmp_path / "b", seed)) for seed in range(3)]
    assert [run["seed"] for run in runs] == [0, 1, 2]
    assert runs[0] != runs[1]  # the seeds did reach the runs
    for run in runs:  # every compiled function traced once
        assert all(task["tracing_counts"] == {"tournament": 1, "evaluate": 1}
                   for task in run["tasks"] if task is not None)
    log = (seed_workdir(tmp_path / "b", 1) / "log.txt").read_text()
    assert "--seeds=0-2" in log and "this run: --seed=1" in log and "generations" in log


def test_finished_seeds_are_skipped_without_tensorflow(tmp_path):
    first = run_script(*FLAGS, "--seeds=3,4", f"--workdir={tmp_path}")
    assert first.returncode == 0, first.stderr
    files = [seed_workdir(tmp_path, seed) / "results.json" for seed in (3, 4)]
    times = [path.stat().st_mtime_ns for path in files]
    again = run_script(*FLAGS, "--seeds=3,4", f"--workdir={tmp_path}")
    assert again.returncode == 0, again.stderr
    assert "all 2 seed(s) finished already" in again.stdout
    assert [path.stat().st_mtime_ns for path in files] == times
    more = run_script(*FLAGS, "--seeds=3-5", f"--workdir={tmp_path}")
    assert more.returncode == 0, more.stderr
    assert "skipped 2 finished seed(s); 1 to run" in more.stdout
    assert [path.stat().st_mtime_ns for path in files] == times
    assert json.loads((seed_workdir(tmp_path, 5) / "results.json").read_text())["seed"] == 5


def test_a_failing_seed_does_not_end_the_batch(tmp_path):
    tmp_path.joinpath("seed_1").write_text("a file where a workdir should be")
    done = run_script(*FLAGS, "--seeds=0-2", f"--workdir={tmp_path}")
    assert done.returncode == 1
    assert "seed 1: FAILED" in done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith("error: 1 of 3 run(s) failed (seeds 1)")
    for seed in (0, 2):
        assert (seed_workdir(tmp_path, seed) / "results.json").exists()


def test_seeds_and_seed_together_is_an_error(tmp_path):
    done = run_script(*FLAGS, "--seeds=0-2", "--seed=4", f"--workdir={tmp_path}")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "error: seeds ('0-2') and seed (4) are both given: use one")
    assert not list(tmp_path.iterdir())


def test_a_batch_killed_mid_run_resumes_to_the_same_results(tmp_path, victim=1):
    """Seed 1 of a batch of 0-2 dies in task B; the rerun resumes it as its first run
    (Keras numbered the killed process's second run's variables otherwise), then runs
    seed 2. (A batch's first run killed: tests/test_checkpoint.py's single runs.)"""
    flags = [*TINY, "--max_generations=12", "--threshold=1.0", "--noise=1.0",
             "--checkpoint_every=4", "--nofigures", "--tensorboard=scalars"]
    whole = run_script(*flags, "--seeds=0-2", f"--workdir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr
    log = tmp_path / "saves.jsonl"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1",
               KILL_ONLY_IN=f"seed_{victim}")
    killed = subprocess.run([sys.executable, str(KILLER), str(SCRIPT), "B", "4", str(log),
                             *flags, "--seeds=0-2", f"--workdir={tmp_path / 'killed'}"],
                            capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # The victim died in task B after its B@4 checkpoint; the seeds after it never started.
    assert not (seed_workdir(tmp_path / "killed", victim) / "results.json").exists()
    assert (seed_workdir(tmp_path / "killed", victim) / "ckpt" / "checkpoint.npz").exists()
    assert not seed_workdir(tmp_path / "killed", 2).exists()
    resumed = run_script(*flags, "--seeds=0-2", f"--workdir={tmp_path / 'killed'}")
    assert resumed.returncode == 0, resumed.stderr
    assert f"seed {victim}: finished in" in resumed.stdout and "(resumed)" in resumed.stdout
    assert "resuming from" in (seed_workdir(tmp_path / "killed", victim) / "log.txt").read_text()
    for seed in range(3):
        assert (results_without_timings(seed_workdir(tmp_path / "killed", seed))
                == results_without_timings(seed_workdir(tmp_path / "whole", seed)))


def test_a_batch_compiles_no_more_than_one_run(tmp_path):
    """A batch's runs reuse the first run's compiled tournaments: XLA's persistent cache
    gets the entries of one run, not of every run (new functions each run would add
    MBs of entries no process ever reads)."""
    counts = {}
    for name, seeds in (("single", "--seed=0"), ("batch", "--seeds=0-2")):
        cache = tmp_path / f"xla_{name}"
        done = run_script(*FLAGS, seeds, f"--workdir={tmp_path / name}",
                          f"--xla_cache_dir={cache}")
        assert done.returncode == 0, done.stderr
        counts[name] = len(list(cache.glob("*XLA*")))
    assert counts["single"] > 0 and counts["batch"] == counts["single"]


def test_one_trace_for_every_run_of_a_batch(tmp_path):
    """In one process, the batch's runs reuse one model and one trainer per task: each
    compiled function is traced once for all of them, and nothing new is kept per run."""
    import dataclasses

    from pathnet_tf.core.config import PathNetConfig
    from pathnet_tf.evolution.config import EvolutionConfig
    from pathnet_tf.experiments import binary_mnist
    from pathnet_tf.experiments.config import BinaryMnistConfig
    from pathnet_tf.runs import campaign
    from pathnet_tf.runs.task_run import TrainerPool

    config = BinaryMnistConfig(
        pathnet=PathNetConfig(num_layers=2, num_modules=4, num_active=2, units=8),
        evolution=EvolutionConfig(population_size=4, steps_per_candidate=3, batch_size=8,
                                  max_generations=4, threshold=0.9), max_train=200)
    pool = TrainerPool()
    outcome = campaign.run_seeds(binary_mnist.run, config, [0, 1, 2, 3], tmp_path,
                                 out=lambda line: None, pool=pool, figures=False,
                                 tensorboard="none")
    assert outcome.finished == [0, 1, 2, 3] and not outcome.failed
    assert len(pool._models) == 1 and len(pool._trainers) == 2  # task A's and task B's
    for trainer in pool._trainers.values():
        assert trainer.tracing_counts() == {"tournament": 1, "evaluate": 1}
    first = dataclasses.replace(config, seed=3)
    alone = binary_mnist.run(first, tmp_path / "alone", log=lambda line: None,
                             figures=False, tensorboard="none")
    batch = json.loads((seed_workdir(tmp_path, 3) / "results.json").read_text())
    for results in (alone, batch):
        results.pop("wall_seconds")
        for task in [*results["tasks"], results["task_a"], results["task_b"]]:
            task.pop("wall_seconds", None)
            task.pop("tracing_counts", None)
    assert json.loads(json.dumps(alone)) == batch
