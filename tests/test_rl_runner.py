"""The MinAtar runner on real games, tiny configs: end to end, tournaments at their
cadence copying pathways only, frozen modules bit-identical through game B, kill +
resume equal to an uninterrupted run, and the script's one-line errors."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from pathnet_tf.rl import runner
from pathnet_tf.rl.config import MinAtarConfig
from pathnet_tf.workdir import RunTerminated

ROOT = pathlib.Path(__file__).resolve().parents[1]
TINY = dict(conv_layers=((2, 3, 1),), units=4, num_modules=3, num_active=2, num_workers=4,
            envs_per_worker=2, n_steps=3, frames=240, evolve_every=2, log_every=3,
            fitness_episodes=2)


def config(**changes):
    return MinAtarConfig(**{**TINY, **changes})


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "wall_seconds"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def test_tiny_transfer_end_to_end(tmp_path):
    lines = []
    results = runner.run_transfer(config(), tmp_path, log=lines.append, checkpoint_every=4)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert without_timings(saved) == without_timings(json.loads(json.dumps(results)))
    for key, game in (("game_a", "breakout"), ("game_b", "space_invaders")):
        entry = saved[key]
        assert entry["game"] == game and entry["frames"] == 240 and entry["episodes"] > 0
        assert np.asarray(entry["best_path"]).shape == (2, 2)
        assert entry["curve"][-1][0] == 240 and entry["mean_return_last_100"] is not None
    assert any("frames/s" in line and "mean return" in line for line in lines)
    assert list((tmp_path / "tb").iterdir())
    assert json.loads((tmp_path / "config.json").read_text())["mode"] == "pathnet"


def test_tournaments_fire_at_their_cadence_and_copy_pathways_only():
    transfer = runner.Transfer(config(frames=24 * 12, mutation_rate=0.0, evolve_every=3))
    run = transfer.start_game()
    rounds = []
    original = run.workers.tournaments

    def watched():
        weights = [v.numpy().copy() for v in transfer.model.variables]
        before = run.workers.paths.copy()
        events = original()
        rounds.append(run.updates)
        for variable, value in zip(transfer.model.variables, weights):
            np.testing.assert_array_equal(variable.numpy(), value)  # weights untouched
        for event in events:
            for member in event["members"]:  # mutation_rate 0: the winner's path, exactly
                np.testing.assert_array_equal(run.workers.paths[member], before[event["winner"]])
        return events

    run.workers.tournaments = watched
    run.train(None, lambda line: None)
    assert rounds == [3, 6, 9, 12]
    assert run.workers.tournaments_held > 0 and run.workers.copies > 0


def test_frozen_modules_stay_bit_identical_through_game_b():
    transfer = runner.Transfer(config())
    transfer.start_game().train(None, lambda line: None)
    transfer.finish_game()
    frozen = transfer.model.frozen.numpy() > 0.5
    assert frozen.sum() == 2 * 2  # the best path: L = 2 layers of N = 2 modules
    layers = transfer.model.module_layers
    before = [(layer.kernel.numpy().copy(), layer.bias.numpy().copy()) for layer in layers]
    run = transfer.start_game()
    run.workers.paths[:2] = np.asarray(transfer.finished[0]["best_path"])  # on it
    run.train(None, lambda line: None)
    changed = []
    for index, layer in enumerate(layers):
        rows = frozen[index]
        np.testing.assert_array_equal(layer.kernel.numpy()[rows], before[index][0][rows])
        np.testing.assert_array_equal(layer.bias.numpy()[rows], before[index][1][rows])
        changed.append(not np.array_equal(layer.kernel.numpy()[~rows], before[index][0][~rows]))
    assert any(changed)


@pytest.mark.parametrize("mode", ["pathnet", "finetune"])
def test_kill_and_resume_equals_an_uninterrupted_run(tmp_path, mode):
    settings = config(mode=mode, frames=144)
    whole = runner.run_transfer(settings, tmp_path / "whole", log=lambda line: None,
                                tensorboard="none")
    calls = []

    def stop_after_seven():  # ends the run mid game A (pathnet) or mid game B ...
        calls.append(1)
        return len(calls) == 7

    workdir = runner.prepare_workdir(tmp_path / "killed")
    with pytest.raises(RunTerminated):
        runner._run(settings, workdir, lambda line: None, True, 0, "none", False,
                    stop=stop_after_seven)
    resumed = runner.run_transfer(settings, workdir, log=lambda line: None,
                                  tensorboard="none")
    assert without_timings(resumed) == without_timings(whole)


def script(*flags):
    return subprocess.run([sys.executable, str(ROOT / "minatar_pathnet.py"), *flags],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("flags, message", [
    (["--game_a=pong"], "game ('pong') must be one of"),
    (["--frames=0"], "frames (0) must be a positive integer"),
    (["--num_workers=-2"], "num_workers (-2) must be a positive integer"),
    (["--num_active=5", "--num_modules=4"], "num_active (5) must be <= num_modules (4)"),
    (["--conv_layers=8:3"], "conv_layers[0] ((8, 3)) must be three positive"),
])
def test_bad_inputs_stop_with_one_line(tmp_path, flags, message):
    done = script(*flags, f"--workdir={tmp_path / 'w'}")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {message}")
    assert "Traceback" not in done.stderr and not (tmp_path / "w").exists()


def test_a_workdir_that_is_a_file_stops_with_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    done = script(f"--workdir={tmp_path / 'file'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: workdir {str(tmp_path / 'file')!r} is a file, not a directory")


def test_sigterm_writes_a_checkpoint_and_a_rerun_resumes_from_it(tmp_path):
    import signal

    flags = ["--conv_layers=2:3:1", "--units=4", "--num_modules=3", "--num_active=2",
             "--num_workers=2", "--envs_per_worker=2", "--n_steps=2", "--log_every=1",
             "--frames=4000000", "--game_b=breakout", "--tensorboard=none",
             f"--workdir={tmp_path}"]

    def run_until(text):
        """Starts the script, waits for a stdout line containing `text`, sends SIGTERM."""
        process = subprocess.Popen([sys.executable, str(ROOT / "minatar_pathnet.py"), *flags],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, cwd=ROOT)
        seen = []
        for line in process.stdout:
            seen.append(line)
            if text in line:
                break
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        return process.returncode, "".join(seen), stderr

    status, _, stderr = run_until("frames/s")
    assert status == 143, stderr
    assert "terminated (SIGTERM)" in stderr and "rerun to resume" in stderr
    assert (tmp_path / "ckpt" / "checkpoint.npz").exists()
    status, stdout, _ = run_until("frames/s")
    assert status == 143 and "resuming from" in stdout
