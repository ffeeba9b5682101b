"""A workdir belongs to one run at a time; SIGTERM saves a checkpoint and exits
cleanly; TensorBoard's level (full, scalars, none)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pathnet_tf.files import checkpoint
from pathnet_tf.files.workdir import lock_workdir
from tests.test_checkpoint import TINY as LONG
from tests.test_run_figures import read_events
from tests.test_script import ROOT, SCRIPT, TINY, results_without_timings, run_script


def test_a_second_run_into_a_workdir_in_use_stops_and_touches_nothing(tmp_path):
    workdir = tmp_path / "run"
    (workdir / "ckpt").mkdir(parents=True)
    (workdir / "ckpt" / "checkpoint.npz").write_bytes(b"the first run's")
    (workdir / "results.json").write_text("{}")
    holder = lock_workdir(workdir)  # the first run, still going
    try:
        done = run_script(*TINY, "--noresume", f"--workdir={workdir}")
    finally:
        holder.close()
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(f"error: workdir '{workdir}' is in use by another run (pid "
                                f"{os.getpid()} on ") and "Traceback" not in done.stderr
    assert (workdir / "ckpt" / "checkpoint.npz").read_bytes() == b"the first run's"
    assert (workdir / "results.json").read_text() == "{}"
    assert sorted(p.name for p in workdir.iterdir()) == [".lock", "ckpt", "results.json"]
    # Once the first run is gone, the workdir is free again.
    done = run_script(*TINY, "--noresume", f"--workdir={workdir}")
    assert done.returncode == 0, done.stderr


def test_sigterm_writes_a_checkpoint_and_exits_cleanly_then_resumes(tmp_path):
    whole = run_script(*LONG, f"--workdir={tmp_path / 'whole'}")
    assert whole.returncode == 0, whole.stderr
    workdir = tmp_path / "stopped"
    path = workdir / "ckpt" / "checkpoint.npz"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.Popen([sys.executable, str(SCRIPT), *LONG, f"--workdir={workdir}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, cwd=ROOT)
    deadline = time.monotonic() + 240
    while not path.exists():  # the first checkpoint: the run is in its loop
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 240 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=240)
    assert process.returncode == 143, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("terminated (SIGTERM) in task ") and str(path) in last
    assert "Traceback" not in stderr and not (workdir / "results.json").exists()
    header = checkpoint.load(path)[1]
    assert header["phase"] in (0, 1) and header["task"]["evolve"]["generations"] >= 4
    resumed = run_script(*LONG, f"--workdir={workdir}")
    assert resumed.returncode == 0 and "resuming from" in resumed.stdout, resumed.stderr
    assert results_without_timings(workdir) == results_without_timings(tmp_path / "whole")


@pytest.mark.parametrize("level", ["scalars", "none"])
def test_tensorboard_level(tmp_path, level):
    workdir = tmp_path / level
    done = run_script(*TINY, "--max_generations=10", "--threshold=1.0",
                      f"--tensorboard={level}", f"--workdir={workdir}")
    assert done.returncode == 0, done.stderr
    if level == "none":
        assert not (workdir / "tb").exists()
        return
    images, scalars = read_events(workdir / "tb")
    tags = set(scalars) | {tag for tag, _ in images}
    assert not images and "A_1v3/fitness/winner" in tags and "B_1v2/test_accuracy" in tags
    assert not any("layer_0" in tag for tag in tags)  # no histograms
    assert json.loads((workdir / "results.json").read_text())["task_b"]["generations"] == 10
