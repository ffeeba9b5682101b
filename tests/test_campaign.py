"""Many runs in one process (`--seeds`, `campaign.run_seeds`): each run equals the run
of its seed alone, finished seeds are skipped, a failing seed does not end the batch,
and a batch killed mid-run resumes to the same results."""

import json
import os
import signal
import subprocess
import sys

import pytest

from pathnet_tf.campaign import parse_seeds, seed_workdir
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


@pytest.mark.parametrize("mode", ["pathnet", "independent"])
def test_each_run_of_a_batch_equals_its_seed_alone(tmp_path, mode):
    batch = run_script(*FLAGS, f"--mode={mode}", "--seeds=0-2", f"--workdir={tmp_path / 'b'}")
    assert batch.returncode == 0, batch.stderr
    lines = [line for line in batch.stdout.splitlines() if "finished in" in line]
    assert [line.split(":")[0] for line in lines] == [
        f"{mode} 1v3->1v2 seed {seed}" for seed in range(3)]
    for seed in (1, 2):  # the second and third run of the process, against a fresh one
        alone = run_script(*FLAGS, f"--mode={mode}", f"--seed={seed}",
                           f"--workdir={tmp_path / f'alone_{seed}'}")
        assert alone.returncode == 0, alone.stderr
        assert (results_without_timings(seed_workdir(tmp_path / "b", seed))
                == results_without_timings(tmp_path / f"alone_{seed}"))
    runs = [results_without_timings(seed_workdir(tmp_path / "b", seed)) for seed in range(3)]
    assert [run["seed"] for run in runs] == [0, 1, 2]
    assert runs[0] != runs[1]  # the seeds did reach the runs
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


@pytest.mark.parametrize("victim", [0, 1])
def test_a_batch_killed_mid_run_resumes_to_the_same_results(tmp_path, victim):
    """Seed `victim` of a batch of 0-2 dies in task B; the rerun resumes it, whatever
    its place in either process (Keras numbers the second run's variables otherwise)."""
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


def test_a_batch_leaves_the_xla_cache_alone(tmp_path):
    """A batch's runs each compile programs of their own (unique function names), which
    would pile up in XLA's persistent cache unused: a batch does not use it."""
    cache = tmp_path / "xla"
    batch = run_script(*FLAGS, "--seeds=0-1", f"--workdir={tmp_path / 'b'}",
                       f"--xla_cache_dir={cache}")
    assert batch.returncode == 0, batch.stderr
    assert not cache.exists() or not any(cache.iterdir())
    single = run_script(*FLAGS, "--seed=0", f"--workdir={tmp_path / 's'}",
                        f"--xla_cache_dir={cache}")
    assert single.returncode == 0, single.stderr
    assert any(cache.glob("*XLA*"))  # the single run does use it
