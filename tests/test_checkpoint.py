"""Checkpoint and resume: a killed run continues to the same results; bad checkpoints
stop with a clear error and are left alone."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from pathnet_tf import checkpoint
from tests.test_script import ROOT, SCRIPT, run_script

TINY = ["--num_layers=2", "--num_modules=4", "--num_active=2", "--units=8",
        "--population_size=6", "--steps_per_candidate=3", "--batch_size=16",
        "--max_generations=40", "--max_train=300", "--threshold=1.0", "--checkpoint_every=4",
        "--seed=5"]


def without_timings(results):
    for task in ("task_a", "task_b"):
        results[task].pop("wall_seconds")
    results.pop("wall_seconds")
    return results


def phase_of(workdir):
    try:
        return checkpoint.load(workdir / "ckpt" / "checkpoint.npz")[1]["phase"]
    except (FileNotFoundError, checkpoint.CheckpointError):
        return None


def kill_when(workdir, phase, timeout=240):
    """Starts the tiny run and SIGKILLs it once its checkpoint is of `phase`."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen([sys.executable, str(SCRIPT), *TINY, f"--workdir={workdir}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env, cwd=ROOT)
    deadline = time.monotonic() + timeout
    try:
        while phase_of(workdir) != phase:
            assert process.poll() is None, f"the run ended before a checkpoint of {phase}"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert not (workdir / "results.json").exists()


def test_killed_twice_and_resumed_equals_uninterrupted(tmp_path):
    whole = run_script(*TINY, f"--workdir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr
    expected = json.loads((tmp_path / "whole" / "results.json").read_text())
    assert expected["task_a"]["generations"] > 8 and expected["task_b"]["generations"] > 8

    workdir = tmp_path / "killed"
    kill_when(workdir, "A")
    kill_when(workdir, "B")  # resumes task A from its checkpoint, then dies in task B
    resumed = run_script(*TINY, f"--workdir={workdir}")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout
    got = json.loads((workdir / "results.json").read_text())
    assert without_timings(got) == without_timings(expected)

    again = run_script(*TINY, f"--workdir={workdir}")  # a finished run is not redone
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
    kill_when(workdir, "A")
    done = run_script(*TINY[:-1], "--seed=6", f"--workdir={workdir}")
    assert done.returncode != 0
    assert "other settings (differing: seed)" in done.stderr.strip().splitlines()[-1]
    fresh = run_script(*TINY[:-1], "--seed=6", "--noresume", "--max_generations=3",
                       f"--workdir={workdir}")
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads((workdir / "results.json").read_text())["seed"] == 6
