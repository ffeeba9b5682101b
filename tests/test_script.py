"""binary_mnist_pathnet.py end to end on a tiny config, determinism, and bad input."""

import gzip
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "binary_mnist_pathnet.py"
TINY = ["--num_layers=2", "--num_modules=4", "--num_active=2", "--units=8",
        "--population_size=4", "--steps_per_candidate=3", "--batch_size=8",
        "--max_generations=4", "--max_train=200", "--threshold=0.9"]



def run_script(*flags, timeout=300, script=SCRIPT):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, str(script), *flags], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)


def test_script_writes_config_results_and_tensorboard_events(tmp_path):
    workdir = tmp_path / "run"
    done = run_script(*TINY, f"--workdir={workdir}", "--seed=3")
    assert done.returncode == 0, done.stderr
    results = json.loads((workdir / "results.json").read_text())
    config = json.loads((workdir / "config.json").read_text())
    assert config["seed"] == 3 and config["pathnet"]["num_modules"] == 4
    assert results["seed"] == 3
    for key, digits in (("task_a", [1, 3]), ("task_b", [1, 2])):
        task = results[key]
        assert task["digits"] == digits
        assert 1 <= task["generations"] <= 4
        assert isinstance(task["solved"], bool)
        assert task["solved"] == (task["best_fitness"] >= 0.9)
        assert 0.0 <= task["test_accuracy"] <= 1.0
        assert len(task["best_path"]) == 2 and len(task["best_path"][0]) == 2
        assert task["wall_seconds"] > 0
        assert task["tracing_counts"]["tournament"] == 1
    assert 0 <= results["overlap"] <= 4
    events = list((workdir / "tb").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    # XLA's compiled tournaments went to the tests' own cache (conftest.py), not ~/.cache.
    cache = pathlib.Path(os.environ["XDG_CACHE_HOME"], "pathnet_tf", "xla")
    assert cache.is_relative_to(tempfile.gettempdir()) and any(cache.glob("*XLA*"))
    assert "generation" in done.stdout or "solved" in done.stdout


def without_timings(results: dict) -> dict:
    """results.json's content less its wall-clock times (in place)."""
    for task in [results.get("task_a"), results.get("task_b"), *results.get("tasks", [])]:
        if task is not None:
            task.pop("wall_seconds", None)
    results.pop("wall_seconds")
    return results


def results_without_timings(workdir) -> dict:
    return without_timings(json.loads((workdir / "results.json").read_text()))


def test_same_seed_same_results_file_other_seed_other_results(tmp_path):
    flags = [*TINY, "--max_generations=5", "--threshold=0.999"]
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        done = run_script(*flags, f"--seed={seed}", f"--workdir={tmp_path / name}")
        assert done.returncode == 0, done.stderr
    first, second, other = (results_without_timings(tmp_path / name) for name in "abc")
    assert first == second  # two processes, one seed: the same file (timings aside)
    assert other["seed"] == 12
    del first["seed"], other["seed"]
    assert first != other
    assert (first["task_a"]["fitness_history"] != other["task_a"]["fitness_history"]
            or first["task_a"]["best_path"] != other["task_a"]["best_path"])


def truncated_copy(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "mnist", data)
    labels = data / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:1000])
    return data


def wrong_magic_copy(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "mnist", data)
    labels = data / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[:4] = (1234).to_bytes(4, "big")
    labels.write_bytes(gzip.compress(bytes(raw)))
    return data


def missing_file_copy(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "mnist", data)
    (data / "train-labels-idx1-ubyte.gz").unlink()
    return data


BAD_INPUTS = [
    (["--num_active=5", "--num_modules=4"], "num_active (5) must be <= num_modules (4)"),
    (["--units=0"], "units (0)"),
    (["--num_layers=-1"], "num_layers (-1)"),
    (["--population_size=0"], "population_size (0)"),
    (["--batch_size=0"], "batch_size (0)"),
    (["--steps_per_candidate=0"], "steps_per_candidate (0)"),
    (["--max_generations=0"], "max_generations (0)"),
    (["--task_a=1,10"], "10"),
    (["--task_b=-1,2"], "-1"),
    (["--task_a=4,4"], "4,4"),
    (["--task_b=1,2,3"], "1,2,3"),
    (["--threshold=0"], "threshold (0.0) must be in (0, 1]"),
    (["--threshold=1.2"], "threshold (1.2) must be in (0, 1]"),
    (["--learning_rate=-0.1"], "learning_rate (-0.1)"),
    (["--noise=2"], "noise (2.0)"),
    (["--data_dir={tmp}/nowhere"], "nowhere"),
    (["--data_dir={missing}"], "train-labels-idx1-ubyte"),
    (["--data_dir={truncated}"], "t10k-labels-idx1-ubyte"),
    (["--data_dir={wrong_magic}"], "magic"),
]


@pytest.mark.parametrize("flags, message", BAD_INPUTS, ids=[" ".join(f) for f, _ in BAD_INPUTS])
def test_bad_input_stops_with_one_clear_line_and_writes_nothing(tmp_path, flags, message):
    makers = {"missing": missing_file_copy, "truncated": truncated_copy,
              "wrong_magic": wrong_magic_copy}
    values = {"tmp": tmp_path}
    for name, make in makers.items():
        if any("{" + name + "}" in flag for flag in flags):
            values[name] = make(tmp_path)
    workdir = tmp_path / "run"
    done = run_script(*[flag.format(**values) for flag in flags], f"--workdir={workdir}")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and message in lines[-1], done.stderr
    assert "Traceback" not in done.stderr
    assert not workdir.exists() or not any(workdir.iterdir())


BAD_FLAGS = [
    (["--no_such_flag=3"], "Unknown command line flag 'no_such_flag'"),
    (["--optimizer=rmsprop"], "--optimizer=rmsprop"),
    (["--num_layers=two"], "--num_layers=two"),
    (["--mode=frozen"], "--mode=frozen"),
    (["--threshold=high"], "--threshold=high"),
]


@pytest.mark.parametrize("flags, message", BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
@pytest.mark.parametrize("script", ["binary_mnist_pathnet.py", "cifar_svhn_pathnet.py"])
def test_bad_flag_stops_with_one_error_line_and_exit_status_1(tmp_path, script, flags, message):
    workdir = tmp_path / "run"
    done = run_script(*flags, f"--workdir={workdir}", script=ROOT / script, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert "--helpshort" in lines[0] and done.stdout == ""
    assert not workdir.exists()


def test_workdir_that_is_a_file_or_unwritable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    done = run_script(f"--workdir={blocker}")
    assert done.returncode != 0 and "is a file" in done.stderr.strip().splitlines()[-1]
    assert blocker.read_text() == "keep me"
    done = run_script(f"--workdir={blocker / 'sub'}")
    assert done.returncode != 0 and "cannot be created" in done.stderr.strip().splitlines()[-1]


def test_parallel_mode_runs_end_to_end(tmp_path):
    workdir = tmp_path / "run"
    done = run_script(*TINY, "--parallel=2", f"--workdir={workdir}")
    assert done.returncode == 0, done.stderr
    results = json.loads((workdir / "results.json").read_text())
    for task in ("task_a", "task_b"):
        assert 1 <= results[task]["generations"] <= 4
        assert len(results[task]["fitness_history"]) == results[task]["generations"]
    done = run_script("--parallel=40", f"--workdir={tmp_path / 'bad'}")
    assert done.returncode != 0 and "parallel (40)" in done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("mode", ["independent", "finetune"])
def test_control_modes_write_their_results(tmp_path, mode):
    workdir = tmp_path / mode
    done = run_script(*TINY, f"--mode={mode}", f"--workdir={workdir}")
    assert done.returncode == 0, done.stderr
    results = json.loads((workdir / "results.json").read_text())
    assert results["mode"] == mode and results["overlap"] is None
    assert 1 <= results["task_b"]["generations"] <= 4
    if mode == "independent":
        assert results["task_a"] is None
    else:  # the same fixed path learns A, then B
        assert results["task_a"]["best_path"] == results["task_b"]["best_path"]
    done = run_script(f"--mode={mode}", "--parallel=2", f"--workdir={tmp_path / 'bad'}")
    assert done.returncode != 0 and "needs mode pathnet" in done.stderr
