"""Checkpoint and resume: a killed run continues to the same results; bad checkpoints
stop with a clear error and are left alone."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from pathnet_tf.files import checkpoint
from tests.test_script import ROOT, SCRIPT, results_without_timings, run_script

# Noise 1.0 leaves no signal in the images, so a task is never solved (fitness 1.0 on
# 48 examples) and each runs its 40 generations: checkpoints at 4, 8, ..., 36.
TINY = ["--num_layers=2", "--num_modules=4", "--num_active=2", "--units=8",
        "--population_size=6", "--steps_per_candidate=3", "--batch_size=16",
        "--max_generations=40", "--max_train=300", "--threshold=1.0", "--noise=1.0",
        "--checkpoint_every=4", "--seed=5"]


KILLER = ROOT / "tests" / "helpers" / "kill_after_checkpoint.py"


def kill_after(workdir, phase, generation, log, flags=TINY):
    """Runs the tiny run until a checkpoint of `phase` at `generation` (or later) is
    on disk, then SIGKILLs it at its next checkpoint, before that one is written
    (tests/helpers/kill_after_checkpoint.py): a fixed point, not a timing. Returns the
    finished process and the checkpoints it tried to save, `[(phase, generation)]`."""
    log.unlink(missing_ok=True)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    done = subprocess.run([sys.executable, str(KILLER), str(SCRIPT), phase, str(generation),
                           str(log), *flags, f"--workdir={workdir}"],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not (workdir / "results.json").exists()
    return done, [tuple(json.loads(line)) for line in log.read_text().splitlines()]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_killed_twice_and_resumed_equals_uninterrupted(tmp_path, optimizer):
    flags = [*TINY, f"--optimizer={optimizer}"]
    whole = run_script(*flags, f"--workdir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr
    expected = results_without_timings(tmp_path / "whole")
    assert expected["task_a"]["generations"] == expected["task_b"]["generations"] == 40

    workdir, log = tmp_path / "killed", tmp_path / "saves.jsonl"
    _, saves = kill_after(workdir, "A", 8, log, flags)  # A@8 on disk; dies at A@12
    assert saves == [("A", 4), ("A", 8), ("A", 12)]
    done, saves = kill_after(workdir, "B", 8, log, flags)  # resumes A@8, dies at B@12
    assert "resuming from" in done.stdout and "task A, generation 8" in done.stdout
    # It continued task A from generation 8: its first checkpoint is A@12, not A@4.
    assert saves[0] == ("A", 12) and saves[-2:] == [("B", 8), ("B", 12)]
    resumed = run_script(*flags, f"--workdir={workdir}")
    assert resumed.returncode == 0, resumed.stderr
    assert "task B, generation 8" in resumed.stdout
    assert "task A (" not in resumed.stdout  # task A is not run again
    assert results_without_timings(workdir) == expected

    again = run_script(*flags, f"--workdir={workdir}")  # a finished run is not redone
    assert again.returncode == 0 and "already complete" in again.stdout


def test_truncated_checkpoint_is_a_clear_error_and_left_alone(tmp_path):
    path = tmp_path / "ckpt" / "checkpoint.npz"
    checkpoint.save(path, {"a": np.arange(1000)}, {"phase": "A"})
    arrays, header = checkpoint.load(path)
    assert header["phase"] == "A" and arrays["a"].sum() == 499500
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(checkpoint.CheckpointError, match="corrupt or truncated"):
        checkpoint.load(path)
    (tmp_path / "config.json").write_text("{}")
    before = path.read_bytes()
    done = run_script(*TINY, f"--workdir={tmp_path}")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: checkpoint") and "corrupt or truncated" in last
    assert path.read_bytes() == before and (tmp_path / "config.json").read_text() == "{}"


def test_checkpoint_of_other_settings_is_refused(tmp_path):
    workdir = tmp_path / "run"
    kill_after(workdir, "A", 4, tmp_path / "saves.jsonl")
    done = run_script(*TINY[:-1], "--seed=6", f"--workdir={workdir}")
    assert done.returncode != 0
    assert "other settings (differing: seed)" in done.stderr.strip().splitlines()[-1]
    fresh = run_script(*TINY[:-1], "--seed=6", "--noresume", "--max_generations=3",
                       f"--workdir={workdir}")
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads((workdir / "results.json").read_text())["seed"] == 6


def test_config_differences_fill_in_only_defaults_and_refuse_a_missing_config():
    from pathnet_tf.rl.config import MinAtarConfig

    config = MinAtarConfig(seed=3)
    saved = json.loads(json.dumps(config.to_dict()))
    assert checkpoint.config_differences(saved, config) == []
    assert checkpoint.config_differences({**saved, "seed": 4}, config) == ["seed"]
    assert checkpoint.config_differences({**saved, "seed": 4}, config, ("seed",)) == []
    older = {key: value for key, value in saved.items() if key not in ("optimizer", "seed")}
    assert checkpoint.config_differences(older, config) == ["seed"]  # not at its default
    missing = checkpoint.config_differences(None, MinAtarConfig())
    assert missing == sorted(key for key, value in saved.items() if value is not None)
    assert "optimizer" in missing and "seed" in missing  # defaults are not filled in
