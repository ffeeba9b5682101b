"""auto_binary_mnist_pathnet.sh end to end on a tiny config: runs, skips, aggregates."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "auto_binary_mnist_pathnet.sh"
TINY = ("--num_layers=2 --num_modules=4 --num_active=2 --units=8 --population_size=4 "
        "--steps_per_candidate=3 --batch_size=8 --max_generations=4 --max_train=200 "
        "--threshold=0.9 --nojit_compile")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def supported_modes():
    """All three modes once binary_mnist_pathnet.py has --mode, else PathNet only."""
    done = subprocess.run([sys.executable, str(ROOT / "binary_mnist_pathnet.py"), "--helpfull"],
                          capture_output=True, text=True, cwd=ROOT)
    return ["pathnet", "independent", "finetune"] if "--mode:" in done.stdout else ["pathnet"]


def run_script(results_dir, timeout=400, **settings):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHON=sys.executable,
               RESULTS_DIR=str(results_dir), **settings)
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


def test_runs_skip_finished_runs_and_aggregate(tmp_path):
    modes = supported_modes()
    results_dir = tmp_path / "runs"
    settings = {"RUNS": "2", "ORDERINGS": "1,3:1,2", "MODES": " ".join(modes),
                "EXTRA_FLAGS": TINY, "REPORT_FLAGS": "--resamples=200"}
    # A run stopped before it wrote anything: its workdir holds only its log.
    stale = results_dir / "pathnet" / "1v3_to_1v2" / "seed_1"
    stale.mkdir(parents=True)
    (stale / "log.txt").write_text("an earlier attempt\n")

    first = run_script(results_dir, **settings)
    assert first.returncode == 0, first.stdout + first.stderr
    total = 2 * len(modes)
    assert "skipped 0 finished run(s)" in first.stdout
    assert "1 of them unfinished" in first.stdout
    assert f"[{total}/{total}]" in first.stdout
    assert "FAILED" not in first.stdout
    files = sorted(results_dir.glob("*/1v3_to_1v2/seed_*/results.json"))
    assert len(files) == total
    for path in files:
        results = json.loads(path.read_text())
        mode, _, seed = path.parts[-4:-1]
        assert results.get("mode", "pathnet") == mode
        assert f"seed_{results['seed']}" == seed
        assert results["task_b"]["digits"] == [1, 2]
        assert (path.parent / "log.txt").stat().st_size > 0
        # A campaign's runs: TensorBoard scalars only, no per-run figures.
        log_text = (path.parent / "log.txt").read_text()
        assert "--nofigures --tensorboard=scalars" in log_text
        assert not (path.parent / "figures").exists()
    log = (stale / "log.txt").read_text()
    assert log.startswith("an earlier attempt\n") and "--seed=1" in log

    summary = json.loads((results_dir / "summary.json").read_text())
    assert summary["num_runs"] == total
    assert summary["runs_per_mode"] == {mode: 2 for mode in modes}
    assert (results_dir / "summary.md").exists()
    assert len(summary["figures"]) == 4
    assert all((results_dir / name).stat().st_size > 0 for name in summary["figures"])

    times = {path: path.stat().st_mtime_ns for path in files}
    second = run_script(results_dir, **settings)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"skipped {total} finished run(s)" in second.stdout
    assert "finished in" not in second.stdout
    assert {path: path.stat().st_mtime_ns for path in files} == times
    assert json.loads((results_dir / "summary.json").read_text())["num_runs"] == total


@pytest.mark.parametrize("settings, message", [
    ({"ORDERINGS": "1,3-1,2"}, "is not of the form A:B"),
    ({"EXTRA_FLAGS": "--seed=3"}, "must not set --seed=3"),
    ({"RUNS": "many"}, "RUNS (many) must be"),
    ({"JOBS": "0"}, "JOBS (0) must be"),
    ({"MODES": "pathnet sideways"}, "MODES"),
    ({"BATCH": "0"}, "BATCH (0) must be"),
    ({"BACKEND": "spark"}, "BACKEND (spark) must be local or ray"),
    ({"EXTRA_FLAGS": "--seeds=0-3"}, "must not set --seeds=0-3"),
])
def test_bad_settings_stop_before_any_run(tmp_path, settings, message):
    done = run_script(tmp_path / "runs", timeout=60, **settings)
    assert done.returncode == 2
    assert message in done.stderr
    assert not list(tmp_path.rglob("results.json"))


def test_ray_backend_writes_what_the_local_backend_writes(tmp_path):
    pytest.importorskip("ray")  # the optional extra (CI installs it)
    settings = {"RUNS": "3", "ORDERINGS": "1,3:1,2", "MODES": "pathnet finetune",
                "BATCH": "2", "EXTRA_FLAGS": TINY, "REPORT_FLAGS": "--resamples=100 --no-figures"}
    local = run_script(tmp_path / "local", **settings)
    assert local.returncode == 0, local.stdout + local.stderr
    ray = run_script(tmp_path / "ray", BACKEND="ray", JOBS="2", **settings)
    assert ray.returncode == 0, ray.stdout + ray.stderr
    assert "4 batch(es) of up to 2 seeds, 2 at a time (ray)" in ray.stdout
    assert "[6/6]" in ray.stdout and "FAILED" not in ray.stdout
    files = sorted(path.relative_to(tmp_path / "local")
                   for path in (tmp_path / "local").rglob("results.json"))
    assert len(files) == 6
    for name in files:
        expected = json.loads((tmp_path / "local" / name).read_text())
        got = json.loads((tmp_path / "ray" / name).read_text())
        for results in (expected, got):
            results.pop("wall_seconds")
            for task in results["tasks"] + [results["task_a"], results["task_b"]]:
                if task is not None:
                    task.pop("wall_seconds")
        assert got == expected, name
    assert (json.loads((tmp_path / "ray" / "summary.json").read_text())["num_runs"] == 6)


def test_a_sigterm_reaches_every_running_batch_and_the_script_says_how_to_go_on(tmp_path):
    # PYTHON stands in for the interpreter: the script's own checks and the report go to
    # the real one; a batch (binary_mnist_pathnet.py --seeds=...) notes its start, then
    # waits for a TERM, notes it and exits as a run stopped by SIGTERM does.
    marks = tmp_path / "marks.txt"
    fake = tmp_path / "python"
    fake.write_text(f"""#!/bin/bash
if [[ " $* " != *" --seeds="* ]]; then exec {sys.executable} "$@"; fi
for arg in "$@"; do [[ "$arg" == --seeds=* ]] && seeds="${{arg#--seeds=}}"; done
echo "started $seeds" >> {marks}
trap 'echo "stopped $seeds" >> {marks}; exit 143' TERM
while true; do sleep 0.1; done
""")
    fake.chmod(0o755)
    env = dict(os.environ, PYTHON=str(fake), RESULTS_DIR=str(tmp_path / "runs"), RUNS="2",
               BATCH="1", JOBS="2", MODES="pathnet", ORDERINGS="1,3:1,2")
    script = subprocess.Popen(["bash", str(SCRIPT)], env=env, cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while (not marks.exists() or len(marks.read_text().splitlines()) < 2) and (
            time.monotonic() < deadline):
        time.sleep(0.05)
    script.send_signal(signal.SIGTERM)
    _, err = script.communicate(timeout=60)
    assert script.returncode == 130, err
    assert sorted(marks.read_text().splitlines()) == [
        "started 0", "started 1", "stopped 0", "stopped 1"]
    assert "stopped: rerun the same command to continue" in err
