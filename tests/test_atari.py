"""Real Atari (pathnet_tf/rl/atari.py) through the MinAtar runner, tiny configs: the
ROMs found offline in ale-py's wheel, the 84x84 area resize, the environments'
protocol and exact checkpoints, a tiny run end to end, kill + resume equal to an
uninterrupted run, the defaults (the paper's network; MinAtar's unchanged), the Ray
backend's results equal to the local one's, and the script's one-line errors."""

import json
import pathlib
import random
import signal
import subprocess
import sys

import numpy as np
import pytest
from test_rl_runner import without_timings

from pathnet_tf.files.workdir import RunTerminated
from pathnet_tf.rl import atari, runner
from pathnet_tf.rl.config import AtariConfig, MinAtarConfig

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Breakout: a random policy's episodes end within ~800 emulator frames (Pong's take ~13k).
TINY = dict(game_a="atari:breakout", game_b="atari:breakout", conv_layers=((2, 8, 4),),
            units=4, num_modules=3, num_active=2, num_workers=2, envs_per_worker=1,
            n_steps=4, frames=3200, evolve_every=2, log_every=10, fitness_episodes=1)


def config(**changes):
    return AtariConfig(**{**TINY, **changes})


def test_the_roms_are_in_ale_py_s_wheel_offline(monkeypatch):
    import socket

    import ale_py
    from ale_py import roms

    def no_network(*args, **kwargs):
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    envs = atari.AtariVectorEnv("atari:alien", 1, seed=0)  # loads the ROM, plays a step
    envs.step(np.zeros(1, np.int64))
    assert envs.observe().max() > 0

    ids = atari.rom_ids()
    assert {"pong", "alien", "breakout"} <= set(ids) and len(ids) > 100
    path = roms.get_rom_path("pong")  # checks the file's md5 against ale-py's table
    assert path.is_file() and pathlib.Path(ale_py.__file__).parent in path.parents
    assert atari.num_actions("atari:pong") == 6 and atari.num_actions("atari:alien") == 18


def test_resize_is_area_averaging():
    rng = np.random.default_rng(0)
    screens = rng.integers(0, 256, (3, 210, 160)).astype(np.uint8)

    def area(source, target):  # a dense matrix, straight from the definition
        matrix = np.zeros((target, source))
        scale = source / target
        for i in range(target):
            for j in range(source):
                matrix[i, j] = max(0.0, min((i + 1) * scale, j + 1) - max(i * scale, j))
        return matrix / scale

    expected = np.einsum("ij,njk,lk->nil", area(210, 84), screens.astype(float),
                         area(160, 84))
    got = atari.resize(screens)
    assert got.shape == (3, 84, 84) and got.dtype == np.uint8
    assert np.abs(got.astype(float) - expected).max() <= 0.5 + 1e-4  # rounding only
    assert (atari.resize(np.full((1, 210, 160), 77, np.uint8)) == 77).all()


def test_environments_clip_rewards_report_raw_scores_and_continue_exactly():
    envs = atari.AtariVectorEnv("atari:breakout", 3, seed=1)
    assert envs.observe().shape == (3, 84, 84, 4) and envs.observe().dtype == np.uint8
    rng = np.random.default_rng(1)
    seen = []
    for _ in range(150):
        rewards, _ = envs.step(rng.integers(0, envs.num_actions, 3))
        seen.append(rewards)
    assert set(np.unique(seen)) <= {0.0, 1.0} and np.max(seen) == 1.0
    blob = envs.state()
    before = len(envs.finished)
    actions = rng.integers(0, envs.num_actions, (400, 3))
    first = [envs.step(a) for a in actions]
    copy = atari.AtariVectorEnv("atari:breakout", 3, seed=99)  # other games, then loaded
    copy.load_state(blob)
    second = [copy.step(a) for a in actions]
    for (r1, d1), (r2, d2) in zip(first, second):
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(envs.observe(), copy.observe())
    assert copy.finished and envs.finished[before:] == copy.finished
    # raw scores: Breakout's bricks are worth 1 to 7, a whole episode's score >= 0
    assert all(score >= 0 and length > 0 for _, score, length in envs.finished)


def test_the_atari_defaults_are_the_paper_s_network_and_minatar_s_are_unchanged():
    atari_config = AtariConfig()
    assert atari_config.conv_layers == ((8, 8, 4), (8, 4, 2), (8, 3, 1))
    assert (atari_config.num_layers, atari_config.num_modules, atari_config.num_active,
            atari_config.units) == (4, 10, 4, 256)
    assert atari_config.frame_shape == (84, 84, 4) and atari_config.sticky_action_prob == 0.25
    assert atari_config.frames_per_update == 16 * 2 * 5 * 4  # emulator frames
    committed = json.loads((ROOT / "results/minatar_default_run/config.json").read_text())
    now = json.loads(json.dumps(MinAtarConfig().to_dict()))
    switches = {"seed_fraction": 0.0, "head_learning_rate": None,  # issue 25, off
                "frozen_output_scale": 1.0, "head_init_scale": 1.0, "mutation_rate_b": None,
                "layer_scale": 1.0, "value_warmup_b": 0, "heads_from_a": False,
                "num_active_b": None, "overlap_updates": False,
                "optimizer": "adam", "rmsprop_epsilon": 0.1}  # issue 27: Adam, as before
    assert now == {**committed, **switches} and not set(switches) & set(committed)
    assert {name: getattr(atari_config, name) for name in switches} == switches
    assert MinAtarConfig().frames_per_update == 320


def test_tiny_atari_run_end_to_end(tmp_path):
    lines = []
    results = runner.run_transfer(config(), tmp_path, log=lines.append, checkpoint_every=4)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert without_timings(saved) == without_timings(json.loads(json.dumps(results)))
    for key in ("game_a", "game_b"):
        entry = saved[key]
        assert entry["game"] == "atari:breakout" and entry["frames"] == 3200  # 100 updates
        assert entry["episodes"] > 0 and entry["tournaments"] > 0
        assert all(frame % 4 == 0 for frame in entry["episode_frames"])
        assert entry["curve"][-1][0] == 3200 and entry["mean_return_last_100"] is not None
    assert any("frames/s" in line and "atari:breakout" in line for line in lines)
    assert list((tmp_path / "tb").iterdir())
    assert json.loads((tmp_path / "config.json").read_text())["game_a"] == "atari:breakout"


def test_kill_and_resume_equals_an_uninterrupted_atari_run(tmp_path):
    settings = config(frames=1600)  # 50 updates a game
    whole = runner.run_transfer(settings, tmp_path / "whole", log=lambda line: None,
                                tensorboard="none")
    calls = []

    def stop_after_thirty():  # mid game A
        calls.append(1)
        return len(calls) == 30

    workdir = runner.prepare_workdir(tmp_path / "killed")
    with pytest.raises(RunTerminated):
        runner.run_transfer(settings, workdir, log=lambda line: None, checkpoint_every=0,
                    tensorboard="none", stop=stop_after_thirty)
    resumed = runner.run_transfer(settings, workdir, log=lambda line: None,
                                  tensorboard="none")
    assert resumed["game_a"]["episodes"] > 0
    assert without_timings(resumed) == without_timings(whole)


def test_the_ray_backend_gives_the_local_backend_s_results(tmp_path):
    pytest.importorskip("ray", reason="the Ray backend is optional: requirements-ray.txt")
    import ray

    from pathnet_tf.rl.ray_envs import start_ray

    settings = config(frames=1600)
    local = runner.run_transfer(settings, tmp_path / "local", log=lambda line: None,
                                tensorboard="none")

    def handler(signum, frame):  # stands for the runner's: checkpoint, then exit
        pass

    previous = signal.signal(signal.SIGTERM, handler)
    random_state = random.getstate()  # Keras seeds its weights from it
    try:
        start_ray(num_cpus=2)
        assert signal.getsignal(signal.SIGTERM) is handler  # not Ray's (exit at once)
        assert random.getstate() == random_state
    finally:
        signal.signal(signal.SIGTERM, previous)
    try:
        remote = runner.run_transfer(settings, tmp_path / "ray", log=lambda line: None,
                                     tensorboard="none", backend="ray", ray_actors=2)
    finally:
        ray.shutdown()
    assert local["game_a"]["episodes"] > 0
    assert without_timings(remote) == without_timings(local)
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == sorted(
        p.name for p in (tmp_path / "local").iterdir())


@pytest.mark.parametrize("flags, message", [
    (["--game_a=atari:pongg"], "game ('atari:pongg') is not an Atari ROM ale-py carries "
                               "(did you mean atari:pong"),
    (["--game_b=breakout"], "game_a ('atari:pong') and game_b ('breakout') must both be"),
    (["--game_a=pong"], "game ('pong') must be one of asterix"),
    (["--conv_layers=8:90:1"], "conv_layers[0] (8, 90, 1) leaves no output of a 84x84"),
    (["--sticky_action_prob=1.5"], "sticky_action_prob (1.5) must be in [0, 1]"),
    (["--frames=-4"], "frames (-4) must be a positive integer"),
    (["--backend=ray", "--ray_actors=0"], "ray_actors (0) must be a positive integer"),
    (["--backend=spark"], "flag --backend=spark: value should be one of <local|ray>"),
])
def test_bad_games_and_flags_stop_with_one_line(tmp_path, flags, message):
    done = subprocess.run([sys.executable, str(ROOT / "atari_pathnet.py"), *flags,
                           f"--workdir={tmp_path / 'w'}"], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {message}")
    assert "Traceback" not in done.stderr and not (tmp_path / "w").exists()
