"""Tests for the Ray Tune backend of pbt_mnist.py (pathnet_tf.pbt.ray_backend,
ray_member, ray_history).

One run of a tiny PBT config on a local Ray instance (2 CPUs, one trial at a time),
then checks of its outputs: the default backend's files, Ray's perturbation log,
and that a copy restored the parent's checkpoint with its Adam state.
"""

import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ray", reason="the Ray backend is optional: pip install -e .[ray]")

import pbt_mnist  # noqa: E402
from pathnet_tf.files import atomic_io  # noqa: E402
from pathnet_tf.pbt import ray_backend, ray_history, ray_member  # noqa: E402
from pathnet_tf.pbt.config import parse_config  # noqa: E402
from pathnet_tf.pbt.decisions import Hyperparameter  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
WORKERS, ROUNDS, TRAIN, BATCH = 4, 3, 1000, 200
STEPS_PER_ROUND = TRAIN // BATCH


def _tiny_config(tmp_path) -> pathlib.Path:
    raw = json.loads((REPO / "config" / "tiny_PBT.json").read_text())
    raw.update(
        population_size=WORKERS,
        rounds=ROUNDS,
        train_subset=TRAIN,
        batch_size=BATCH,
        validation_size=1000,
    )
    path = tmp_path / "tiny_ray.json"
    path.write_text(json.dumps(raw))
    return path


@pytest.fixture(scope="module")
def ray_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("ray")
    config = _tiny_config(tmp_path)
    workdir = tmp_path / "run"
    assert pbt_mnist.main([str(config), "--workdir", str(workdir), "--backend=ray"]) == 0
    return config, workdir


def test_ray_backend_writes_the_default_backends_outputs(ray_run, tmp_path):
    config, shared = ray_run
    workdir = tmp_path / "run"  # this test writes (-m test): a copy, not the shared run
    shutil.copytree(shared, workdir)
    for name in (
        "config.json",
        "history.csv",
        "results.csv",
        "results.json",
        "ray_results.jsonl",
        "ckpt/best.keras",
        "ckpt/best.json",
        "figures/accuracy_per_worker.png",
        "figures/hyperparameter_scatter.png",
        "ray/pbt/pbt_global.txt",
    ):
        assert (workdir / name).is_file(), name
    for worker in range(WORKERS):
        rows = atomic_io.read_csv(workdir / "workers" / f"worker_{worker:02d}.csv")
        assert [int(row["round"]) for row in rows] == list(range(1, ROUNDS + 1))

    history = atomic_io.read_csv(workdir / "history.csv")
    assert len(history) == WORKERS * ROUNDS
    results = json.loads((workdir / "results.json").read_text())
    assert results["backend"] == "ray"
    final = [row for row in history if int(row["round"]) == ROUNDS]
    assert results["best_val_accuracy"] == max(float(row["score"]) for row in final)
    assert results["best_test_accuracy"] > 0.5  # 1,000 images, 3 epochs: it learned.
    assert results["tracing_counts"]["train_max_per_trial"] == 1
    assert len(atomic_io.read_csv(workdir / "results.csv")) == WORKERS

    # The same initial population as the default backend (same seed, same draws).
    first = {int(r["worker"]): r for r in history if int(r["round"]) == 1}
    from pathnet_tf.pbt import runner

    run_config = parse_config(json.loads(config.read_text()))
    pbt_seed, _ = np.random.SeedSequence(run_config.seed).spawn(2)
    initial, _ = runner.initial_hyperparameters(
        run_config, np.random.default_rng(pbt_seed)
    )
    for worker in range(WORKERS):
        assert float(first[worker]["learning_rate"]) == initial[worker]["learning_rate"]
        assert float(first[worker]["keep_prob"]) == initial[worker]["keep_prob"]

    # -m test evaluates the Ray run's best checkpoint like a default run's.
    assert pbt_mnist.main([str(config), "--workdir", str(workdir), "-m", "test"]) == 0
    tested = json.loads((workdir / "test_results.json").read_text())
    assert tested["test_accuracy"] == pytest.approx(results["best_test_accuracy"])


def test_ray_copies_match_its_log_and_carry_adam_state(ray_run):
    config, workdir = ray_run
    run_config = parse_config(json.loads(config.read_text()))
    history = atomic_io.read_csv(workdir / "history.csv")
    table = {(int(r["round"]), int(r["worker"])): r for r in history}
    space = {h.name: h for h in run_config.searched}
    copies = sorted(
        (int(r["round"]), int(r["worker"]), int(r["copied_from"]))
        for r in history
        if r["copied_from"] != ""
    )
    # One copy (bottom 25 % of 4) after each round but the last, as Ray logged them.
    logged = ray_history.read_perturbations(workdir / "ray" / "pbt")
    assert copies == sorted((p["round"], p["worker"], p["copied_from"]) for p in logged)
    assert [c[0] for c in copies] == list(range(1, ROUNDS))
    for round_index, worker, parent in copies:
        assert float(table[(round_index, parent)]["score"]) >= float(
            table[(round_index, worker)]["score"]
        )
        child_next = table[(round_index + 1, worker)]
        parent_row = table[(round_index, parent)]
        for part, name in zip(
            table[(round_index, worker)]["mutation"].split(";"),
            ("learning_rate", "keep_prob"),
            strict=True,
        ):
            factor = float(part.split("*")[1].removesuffix("(clipped)"))
            expected = space[name].clip(float(parent_row[name]) * factor)
            assert float(child_next[name]) == pytest.approx(expected, rel=1e-9)

    # The child's first result after the copy: it restored the parent's checkpoint of
    # that round, Adam slots and iteration count included, and trained on from it.
    results = [json.loads(line) for line in (workdir / "ray_results.jsonl").open()]
    trial_dirs = json.loads((workdir / "results.json").read_text())["ray"]["trial_dirs"]
    for round_index, worker, parent in copies:
        restored = next(
            r for r in results if r["worker"] == worker and r["round"] == round_index + 1
        )
        assert restored["restored_from_worker"] == parent
        assert restored["restored_round"] == round_index
        assert restored["restored_optimizer_iterations"] == STEPS_PER_ROUND * round_index
        assert restored["restored_adam_slot_abs_sum"] > 0
        assert restored["optimizer_iterations"] == STEPS_PER_ROUND * (round_index + 1)

        checkpoints = sorted((workdir / trial_dirs[str(parent)]).glob("checkpoint_*"))
        by_round = {}
        for directory in checkpoints:
            state, member = ray_member.read_checkpoint(directory)
            by_round[member["round"]] = (state, member)
        state, member = by_round[round_index]
        assert member["worker"] == parent
        assert set(member["hyperparameters"]) == {"learning_rate", "keep_prob"}
        names = member["state_names"]
        iteration = next(i for i, n in enumerate(names) if n.endswith("iteration"))
        slots = [i for i, n in enumerate(names) if "momentum" in n or "velocit" in n]
        assert int(state[iteration]) == STEPS_PER_ROUND * round_index
        assert len(slots) == 2 * 10  # m and v of 3 kernels, 3 biases, 2 BatchNorm pairs.
        slot_sum = sum(float(np.abs(state[i]).sum()) for i in slots)
        assert slot_sum == pytest.approx(restored["restored_adam_slot_abs_sum"], rel=1e-5)

    final = {r["worker"]: r for r in results if r["round"] == ROUNDS}
    assert all(r["optimizer_iterations"] == STEPS_PER_ROUND * ROUNDS for r in final.values())


def test_clip_to_bounds_keeps_ray_explore_in_range():
    clip = ray_backend.ClipToBounds([Hyperparameter("keep_prob", 0.5, 0.99, bounds=(0.0, 1.0))])
    assert clip({"keep_prob": 1.188, "other": 3}) == {"keep_prob": 1.0, "other": 3}
    assert clip({"keep_prob": 0.4}) == {"keep_prob": 0.4}


def test_ray_backend_rejects_binary_tournament(tmp_path, capsys):
    raw = json.loads((REPO / "config" / "tiny_PBT.json").read_text())
    raw["pbt"]["exploit"] = "binary_tournament"
    path = tmp_path / "bt.json"
    path.write_text(json.dumps(raw))
    workdir = tmp_path / "out"
    assert pbt_mnist.main([str(path), "--workdir", str(workdir), "--backend=ray"]) == 2
    assert "truncation selection only" in capsys.readouterr().err
    assert not workdir.exists()


def test_default_backend_never_imports_ray():
    code = (
        "import sys, pbt_mnist; from pathnet_tf.pbt import runner; "
        "pbt_mnist.parse_args(['config/tiny_PBT.json']); "
        "assert 'ray' not in sys.modules, 'ray imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_ray_backend_without_ray_stops_with_the_install_command(tmp_path):
    code = (
        "import sys; sys.modules['ray'] = None; import pbt_mnist; "
        f"sys.exit(pbt_mnist.main(['config/tiny_PBT.json', '--workdir', r'{tmp_path / 'out'}', "
        "'--backend=ray']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "pip install -e .[ray]" in done.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "out").exists()
