"""The MinAtar runner on real games, tiny configs: end to end, tournaments at their
cadence copying pathways only, frozen modules bit-identical through game B, kill +
resume equal to an uninterrupted run, and the script's one-line errors."""

import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from pathnet_tf.files import checkpoint
from pathnet_tf.files.workdir import RunTerminated
from pathnet_tf.rl import a2c, runner
from pathnet_tf.rl.config import MinAtarConfig

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
        runner.run_transfer(settings, workdir, log=lambda line: None, checkpoint_every=0,
                    tensorboard="none", stop=stop_after_seven)
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
    (["--optimizer=rmsprop", "--rmsprop_epsilon=0"], "rmsprop_epsilon (0.0) must be > 0"),
    (["--optimizer=sgd"], "flag --optimizer=sgd: value should be one of <adam|rmsprop>"),
    (["--backend=ray", "--ray_actors=0"], "ray_actors (0) must be a positive integer"),
    (["--backend=spark"], "flag --backend=spark: value should be one of <local|ray>"),
])
def test_bad_inputs_stop_with_one_line(tmp_path, flags, message):
    done = script(*flags, f"--workdir={tmp_path / 'w'}")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {message}")
    assert "Traceback" not in done.stderr and not (tmp_path / "w").exists()


def test_the_script_runs_its_games_on_ray_with_the_local_results(tmp_path):
    pytest.importorskip("ray", reason="the Ray backend is optional: requirements-ray.txt")
    tiny = ["--conv_layers=2:3:1", "--units=4", "--num_modules=3", "--num_active=2",
            "--num_workers=4", "--envs_per_worker=2", "--n_steps=3", "--frames=240",
            "--evolve_every=2", "--log_every=3", "--fitness_episodes=2",
            "--tensorboard=none"]
    results = {}
    for backend in ("local", "ray"):
        done = script(*tiny, f"--backend={backend}", f"--workdir={tmp_path / backend}")
        assert done.returncode == 0, done.stderr[-2000:]
        results[backend] = json.loads((tmp_path / backend / "results.json").read_text())
    assert results["local"]["game_b"]["episodes"] > 0
    assert without_timings(results["ray"]) == without_timings(results["local"])


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


# -- issue 25's transfer switches: seed_fraction, the reuse diagnostics, defaults ------

GOLDEN = ROOT / "tests" / "data" / "rl_default_results_c2114b6.json"
SWITCHES = {"seed_fraction", "head_learning_rate", "frozen_output_scale", "head_init_scale",
            "mutation_rate_b", "layer_scale", "value_warmup_b", "heads_from_a",
            "num_active_b", "overlap_updates", "optimizer", "rmsprop_epsilon", "reuse"}


def without_switches(value):
    if isinstance(value, dict):
        return {k: without_switches(v) for k, v in value.items() if k not in SWITCHES}
    if isinstance(value, list):
        return [without_switches(v) for v in value]
    return value


@pytest.mark.parametrize("mode, seeds", [("pathnet", (0, 1, 2)), ("finetune", (0,)),
                                         ("independent", (0,))])
def test_default_runs_equal_the_results_before_the_switches(tmp_path, mode, seeds):
    """Tiny breakout -> breakout runs at the defaults against the results the code
    gave before the switches existed (commit c2114b6, same config; the file holds
    seeds 0-2 of each mode): every key it wrote is unchanged; the only additions are
    the switches' config keys and each game's `reuse` entry."""
    golden = json.loads(GOLDEN.read_text())
    for seed in seeds:
        results = runner.run_transfer(config(mode=mode, seed=seed, game_b="breakout"),
                                      tmp_path / str(seed), log=lambda line: None,
                                      tensorboard="none")
        results = without_timings(json.loads(json.dumps(results)))
        assert without_switches(results) == golden[f"{mode}/seed_{seed}"]
        assert results["config"]["seed_fraction"] == 0.0
        b = results["game_b"]
        if mode == "pathnet":  # game B evolves on frozen modules: diagnosed, not seeded
            assert b["reuse"]["seeded"] == 0 and b["reuse"]["frozen_modules"] == 4
            assert len(b["reuse"]["holding"]) == b["updates"] // 2  # a round every 2
            assert results["game_a"]["reuse"] is None
        else:  # one fixed path, nothing to diagnose
            assert b["reuse"] is None


def test_seed_fraction_puts_that_share_of_game_b_s_workers_on_game_a_s_path():
    transfer = runner.Transfer(config(game_b="breakout", seed_fraction=0.5, num_workers=6))
    transfer.start_game().train(None, lambda line: None)
    assert transfer.current.reuse is None  # game A: nothing frozen yet
    transfer.finish_game()
    best = np.asarray(transfer.finished[0]["best_path"])
    run = transfer.start_game()
    assert run.reuse.seeded == 3
    np.testing.assert_array_equal(run.workers.paths[:3], np.repeat(best[None], 3, 0))
    unseeded = runner.Transfer(config(game_b="breakout", num_workers=6))
    unseeded.start_game().train(None, lambda line: None)
    unseeded.finish_game()
    others = unseeded.start_game().workers.paths
    np.testing.assert_array_equal(run.workers.paths[3:], others[3:])  # same draws
    assert not all(np.array_equal(path, best) for path in others[:3])


def test_reuse_diagnostics_count_a_population_that_never_leaves_the_frozen_path(tmp_path):
    """seed_fraction 1 and no mutation: every worker holds game A's path in every
    round, so do the winners; the first round already has a winning holder."""
    import tensorflow as tf

    results = runner.run_transfer(
        config(game_b="breakout", seed_fraction=1.0, mutation_rate=0.0), tmp_path,
        log=lambda line: None, tensorboard="scalars")
    reuse = results["game_b"]["reuse"]
    best_a = np.asarray(results["game_a"]["best_path"])
    distinct = [len(set(row)) for row in best_a.tolist()]  # frozen modules per layer
    rounds = results["game_b"]["updates"] // 2
    assert reuse["seeded"] == 4 and reuse["reference_path"] == best_a.tolist()
    assert reuse["frozen_modules"] == sum(distinct)
    assert reuse["holding"] == [4] * rounds
    assert reuse["population_frozen"] == [[float(d) for d in distinct]] * rounds
    played = [row for row in reuse["winner_frozen"] if row is not None]
    assert played and all(row == [float(d) for d in distinct] for row in played)
    assert reuse["first_win_holding"] == 1 + reuse["winner_frozen"].index(played[0])
    tags = set()
    for events in (tmp_path / "tb").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            tags |= {value.tag for value in event.summary.value}
    assert {"B_breakout/reuse/holding", "B_breakout/reuse/population_frozen",
            "B_breakout/reuse/winner_frozen"} <= tags


def assert_resumes_exactly(settings, workdir, whole: dict, stop_at: int, **options) -> None:
    """A run of `settings` stopped at the `stop_at`-th call of `stop` (in game B) and
    resumed from its checkpoint gives `whole`, the uninterrupted run's results.
    `options`: more arguments of `run_transfer`, both times."""
    calls = []

    def stop_in_game_b():
        calls.append(1)
        return len(calls) == stop_at

    workdir = runner.prepare_workdir(workdir)
    with pytest.raises(RunTerminated, match="in game B"):
        runner.run_transfer(settings, workdir, log=lambda line: None, checkpoint_every=0,
                            tensorboard="none", stop=stop_in_game_b, **options)
    resumed = runner.run_transfer(settings, workdir, log=lambda line: None,
                                  tensorboard="none", **options)
    assert without_timings(resumed) == without_timings(whole)


def test_kill_and_resume_equals_an_uninterrupted_run_with_seeding(tmp_path):
    settings = config(game_b="breakout", frames=144, seed_fraction=0.5,
                      head_learning_rate=0.01, frozen_output_scale=2.0)
    whole = runner.run_transfer(settings, tmp_path / "whole", log=lambda line: None,
                                tensorboard="none")
    assert whole["game_b"]["reuse"]["seeded"] == 2 and whole["game_b"]["reuse"]["holding"]
    # game A is 6 updates of 24 frames: stops after game B's 4th
    assert_resumes_exactly(settings, tmp_path / "killed", whole, stop_at=10)


@pytest.mark.parametrize("changes, message", [
    (dict(seed_fraction=1.5), "seed_fraction (1.5) must be in [0, 1]"),
    (dict(seed_fraction=-0.1), "seed_fraction (-0.1) must be in [0, 1]"),
    (dict(head_learning_rate=0.0), "head_learning_rate (0.0) must be > 0"),
    (dict(frozen_output_scale=0.0), "frozen_output_scale (0.0) must be > 0"),
    (dict(layer_scale=-1.0), "layer_scale (-1.0) must be > 0"),
])
def test_bad_switches_stop_with_one_sentence(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        config(**changes)


def test_head_init_scale_and_mutation_rate_b_change_game_b_only():
    def kernel(transfer, run):
        return transfer.model.readouts[run.learner.policy_head].kernel.numpy()

    # Each Transfer seeds Keras's generator: built and started one after the other.
    plain = runner.Transfer(config(mode="independent"))  # independent: game B at once
    b_plain = plain.start_game()
    scaled = runner.Transfer(config(mode="independent", head_init_scale=0.01,
                                    mutation_rate_b=0.2))
    b_scaled = scaled.start_game()
    assert b_scaled.index == 1
    np.testing.assert_allclose(kernel(scaled, b_scaled), 0.01 * kernel(plain, b_plain),
                               rtol=1e-6)
    assert b_scaled.workers.mutation_rate == 0.2 and b_plain.workers.mutation_rate is None
    unswitched = runner.Transfer(config())
    a_plain = unswitched.start_game()
    expected = kernel(unswitched, a_plain)
    switched = runner.Transfer(config(head_init_scale=0.01, mutation_rate_b=0.2))
    a_switched = switched.start_game()  # game A: neither switch applies
    assert a_switched.index == 0 and a_switched.workers.mutation_rate is None
    np.testing.assert_array_equal(kernel(switched, a_switched), expected)
    with pytest.raises(ValueError, match=r"head_init_scale \(0.0\) must be > 0"):
        config(head_init_scale=0.0)
    with pytest.raises(ValueError, match=r"mutation_rate_b \(1.5\) must be in \[0, 1\]"):
        config(mutation_rate_b=1.5)


def test_value_warmup_b_trains_game_b_s_value_head_alone_first():
    def heads(transfer, run):
        return [transfer.model.readouts[index].kernel.numpy().copy()
                for index in (run.learner.policy_head, run.learner.value_head)]

    def train_until(run, updates):
        run.train(None, lambda line: None, stop=lambda: run.updates >= updates)

    transfer = runner.Transfer(config(mode="independent", value_warmup_b=2))
    run = transfer.start_game()  # independent: game B at once
    policy0, value0 = heads(transfer, run)
    train_until(run, 2)
    policy2, value2 = heads(transfer, run)
    np.testing.assert_array_equal(policy2, policy0)  # the warm-up: value only
    assert not np.array_equal(value2, value0)
    train_until(run, 3)
    assert not np.array_equal(heads(transfer, run)[0], policy0)
    trained = []
    for changes in ({}, {"value_warmup_b": 2}):  # game A: no warm-up, the same floats
        transfer = runner.Transfer(config(**changes))
        run = transfer.start_game()
        policy0, _ = heads(transfer, run)
        train_until(run, 1)
        trained.append(heads(transfer, run))
        assert not np.array_equal(trained[-1][0], policy0)
    for before, after in zip(*trained):
        np.testing.assert_array_equal(after, before)
    with pytest.raises(ValueError, match=r"value_warmup_b \(-1\) must be >= 0"):
        config(value_warmup_b=-1)


def test_heads_from_a_starts_game_b_on_copies_of_game_a_s_heads():
    transfer = runner.Transfer(config(game_b="breakout", heads_from_a=True))
    transfer.start_game().train(None, lambda line: None)
    transfer.finish_game()
    trained_a = [w.numpy().copy() for head in transfer.model.readouts for w in head.weights]
    run = transfer.start_game()
    heads = transfer.model.readouts
    assert (run.learner.policy_head, run.learner.value_head) == (2, 3)
    for mine, theirs in ((heads[2], heads[0]), (heads[3], heads[1])):
        for a, b in zip(mine.weights, theirs.weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    run.train(None, lambda line: None, stop=lambda: run.updates >= 1)
    assert not np.array_equal(heads[2].kernel.numpy(), heads[0].kernel.numpy())
    np.testing.assert_array_equal(heads[0].kernel.numpy(), trained_a[0])  # A's stay put
    plain = runner.Transfer(config(game_b="breakout"))
    plain.start_game().train(None, lambda line: None)
    plain.finish_game()
    fresh = plain.start_game()
    assert not np.array_equal(plain.model.readouts[fresh.learner.policy_head].kernel.numpy(),
                              plain.model.readouts[0].kernel.numpy())
    with pytest.raises(ValueError, match="same actions .'breakout' has 3, "
                                         "'space_invaders' 4"):
        config(game_b="space_invaders", heads_from_a=True)
    with pytest.raises(ValueError, match="heads_from_a needs a mode that learns game A"):
        config(mode="independent", game_b="breakout", heads_from_a=True)


def test_num_active_b_widens_game_b_s_pathways_around_game_a_s_path(tmp_path):
    settings = config(game_b="breakout", num_modules=4, num_active=2, num_active_b=3,
                      seed_fraction=0.5, frames=144)
    results = runner.run_transfer(settings, tmp_path / "whole", log=lambda line: None,
                                  tensorboard="none")
    best_a = np.asarray(results["game_a"]["best_path"])
    assert best_a.shape == (2, 2) and np.asarray(results["game_b"]["best_path"]).shape == (2, 3)
    transfer = runner.Transfer(settings)
    transfer.start_game().train(None, lambda line: None)
    transfer.finish_game()
    run = transfer.start_game()
    assert run.workers.paths.shape == (4, 2, 3) and run.reuse.seeded == 2
    np.testing.assert_array_equal(run.workers.paths[:2, :, :2], np.repeat(best_a[None], 2, 0))
    frozen = transfer.model.frozen.numpy() > 0.5
    for layer in range(2):  # the third module of a seeded path: a trainable one
        assert not frozen[layer, run.workers.paths[:2, layer, 2]].any()
    assert_resumes_exactly(settings, tmp_path / "killed", results, stop_at=10)
    with pytest.raises(ValueError, match=r"num_active_b \(5\) must be between 1 and "
                                         r"num_modules \(4\)"):
        config(num_modules=4, num_active_b=5)
    with pytest.raises(ValueError, match="needs a population mode"):
        config(mode="finetune", num_active_b=3)
    with pytest.raises(ValueError, match=r"num_active_b \(1\) must be >= num_active \(2\)"):
        config(num_active_b=1, seed_fraction=1.0)


def acting_weights_seen(settings) -> list[bytes]:
    """Game A of `settings`: the policy kernel every `act` call read, one per call."""
    run = runner.Transfer(settings).start_game()
    act, seen = run.learner.act, []

    def recording(frames, paths):
        seen.append(run.learner.acting[-4].numpy().tobytes())
        return act(frames, paths)

    run.learner.act = recording
    run.train(None, lambda line: None)
    assert run.updates == 10
    for copy, variable in zip(run.learner.acting, run.learner.variables):
        np.testing.assert_array_equal(copy.numpy(), variable.numpy())  # synced at the end
    return seen


def test_overlap_updates_acts_on_weights_one_update_old_beside_each_update():
    """10 updates (240 frames of 24), progress lines every 3: the loop pauses after
    updates 3, 6, 9 and 10, so rollouts 2, 3, 5, 6, 8, 9 run beside updates 1, 2, 4,
    5, 7, 8 and act on the weights after updates 0, 1, 3, 4, 6, 7; rollouts 1, 4, 7,
    10 on those after 0, 3, 6, 9. One set of weights per rollout (n_steps = 3 calls):
    10 different sets in order without the switch, 7 with it."""
    plain = acting_weights_seen(config())
    lagged = acting_weights_seen(config(overlap_updates=True))
    assert len(plain) == len(lagged) == 30
    per_rollout = [[seen[i:i + 3] for i in range(0, 30, 3)] for seen in (plain, lagged)]
    assert all(len(set(calls)) == 1 for rollouts in per_rollout for calls in rollouts)
    plain_sets, lagged_sets = ([calls[0] for calls in rollouts] for rollouts in per_rollout)
    assert len(set(plain_sets)) == 10
    assert len(set(lagged_sets)) == 7 and lagged_sets[0] == plain_sets[0]
    order = [0, 0, 1, 3, 3, 4, 6, 6, 7, 9]  # the update whose weights rollout r acts on
    first_seen = {weights: index for index, weights in reversed(list(enumerate(lagged_sets)))}
    assert [order[first_seen[weights]] for weights in lagged_sets] == order


def test_overlap_updates_run_resumes_exactly_and_records_every_frame(tmp_path):
    settings = config(game_b="breakout", frames=144, overlap_updates=True, log_every=2,
                      seed_fraction=0.5)
    whole = runner.run_transfer(settings, tmp_path / "whole", log=lambda line: None,
                                tensorboard="none")
    for game in ("game_a", "game_b"):
        ended = whole[game]["episode_frames"]
        assert ended == sorted(ended) and 0 < ended[0] and ended[-1] <= 144
        assert whole[game]["updates"] == 6 and whole[game]["frames"] == 144
    # stop is asked only where nothing is in flight (after updates 2, 4, 6 of each game)
    assert_resumes_exactly(settings, tmp_path / "killed", whole, stop_at=4)


def test_rmsprop_runs_from_a_mean_square_of_one_and_resumes_exactly(tmp_path):
    transfer = runner.Transfer(config(optimizer="rmsprop", rmsprop_epsilon=1e-5))
    learner = transfer.start_game().learner
    assert learner.optimizer.name == "rmsprop" and learner.optimizer.epsilon == 1e-5
    assert all(len(pair) == 1 and np.all(pair[0].numpy() == 1.0) for pair in learner.slots)
    settings = config(game_b="breakout", frames=144, optimizer="rmsprop")
    whole = runner.run_transfer(settings, tmp_path / "whole", log=lambda line: None,
                                tensorboard="none")
    adam = runner.run_transfer(config(game_b="breakout", frames=144), tmp_path / "adam",
                               log=lambda line: None, tensorboard="none")
    assert whole["config"]["optimizer"] == "rmsprop"
    assert whole["game_a"]["curve"] != adam["game_a"]["curve"]  # another rule, other games
    assert_resumes_exactly(settings, tmp_path / "killed", whole, stop_at=10)


@pytest.mark.parametrize("changes, message", [
    (dict(optimizer="sgd"), "optimizer ('sgd') must be one of adam, rmsprop"),
    (dict(rmsprop_epsilon=0.0), "rmsprop_epsilon (0.0) must be > 0"),
])
def test_bad_optimizer_settings_stop_with_one_sentence(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        config(**changes)


# -- game_a_from: game B from another run's finished game A -------------------------------

def test_game_b_starts_from_another_runs_finished_game_a(tmp_path):
    source = runner.run_transfer(config(game_b="breakout", frames=144), tmp_path / "source",
                                 log=lambda line: None, tensorboard="none")
    snapshot = tmp_path / "source" / "ckpt" / "game_a.npz"
    _, header = checkpoint.load(snapshot)
    assert header["phase"] == 1 and "game" not in header
    assert without_timings(header["finished"][0]) == without_timings(source["game_a"])
    # game B alone, its own seed and transfer switches, on the source's game A
    settings = config(game_b="breakout", frames=144, seed=7, seed_fraction=1.0,
                      mutation_rate_b=0.0, heads_from_a=True)
    lines = []
    started = runner.run_transfer(settings, tmp_path / "b", log=lines.append,
                                  tensorboard="none", game_a_from=tmp_path / "source")
    assert without_timings(started["game_a"]) == without_timings(source["game_a"])
    assert started["game_a_from"] == str(snapshot) and started["config"]["seed"] == 7
    assert started["game_b"]["frames"] == 144 and started["game_b"]["episodes"] > 0
    reuse = started["game_b"]["reuse"]
    assert reuse["seeded"] == 4 and reuse["reference_path"] == source["game_a"]["best_path"]
    assert reuse["holding"] == [4] * len(reuse["holding"])  # mutation 0: all on A's path
    assert any(line.startswith("game A from ") for line in lines)
    assert not (tmp_path / "b" / "ckpt" / "game_a.npz").exists()
    again = runner.run_transfer(settings, tmp_path / "again", log=lambda line: None,
                                tensorboard="none", game_a_from=snapshot)
    assert without_timings(again) == without_timings(started)
    assert_resumes_exactly(settings, tmp_path / "killed", started, stop_at=3,
                           game_a_from=snapshot)


def test_finetune_from_another_runs_game_a_goes_on_along_its_path(tmp_path):
    source = runner.run_transfer(config(mode="finetune", game_b="breakout", frames=72),
                                 tmp_path / "source", log=lambda line: None,
                                 tensorboard="none")
    started = runner.run_transfer(config(mode="finetune", game_b="breakout", frames=72,
                                         seed=3), tmp_path / "b", log=lambda line: None,
                                  tensorboard="none", game_a_from=tmp_path / "source")
    own = runner.Transfer(config(mode="finetune", seed=3)).fixed_path
    assert not np.array_equal(own, source["game_a"]["best_path"])  # seed 3 draws another
    assert started["game_b"]["best_path"] == source["game_a"]["best_path"]


def test_game_a_from_refuses_what_does_not_fit(tmp_path):
    runner.run_transfer(config(game_b="breakout", frames=72), tmp_path / "source",
                        log=lambda line: None, tensorboard="none")
    source = tmp_path / "source"
    cases = [
        (config(units=8), "learned game A with other settings (differing: units)"),
        (config(mode="finetune"), "(differing: mode)"),
        (config(mode="independent"), "needs a mode that learns game A"),
    ]
    for settings, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            runner.run_transfer(settings, tmp_path / "new", log=lambda line: None,
                                tensorboard="none", game_a_from=source)
    with pytest.raises(ValueError, match="holds no finished game A"):
        runner.run_transfer(config(), tmp_path / "new", game_a_from=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="must be another run's workdir"):
        runner.run_transfer(config(), source, game_a_from=source)
    done = script(f"--game_a_from={tmp_path / 'nowhere'}", f"--workdir={tmp_path / 'w'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: game_a_from (")
    assert not (tmp_path / "w").exists()


def test_a_checkpoint_written_before_a_switch_existed_resumes_at_its_default(tmp_path):
    settings = config(game_b="breakout", frames=144)
    whole = runner.run_transfer(settings, tmp_path / "whole", log=lambda line: None,
                                tensorboard="none")
    workdir = runner.prepare_workdir(tmp_path / "old")
    calls = []
    with pytest.raises(RunTerminated):
        runner.run_transfer(settings, workdir, log=lambda line: None, checkpoint_every=0,
                            tensorboard="none", stop=lambda: calls.append(1) or len(calls) == 8)
    path = workdir / "ckpt" / "checkpoint.npz"
    arrays, header = checkpoint.load(path)
    for key in ("optimizer", "rmsprop_epsilon"):  # as a checkpoint of 5adadf5 has it
        del header["config"][key]
    checkpoint.save(path, arrays, header)
    with pytest.raises(checkpoint.CheckpointError, match=r"differing: optimizer\)"):
        runner.run_transfer(config(game_b="breakout", frames=144, optimizer="rmsprop"),
                            workdir, log=lambda line: None, tensorboard="none")
    resumed = runner.run_transfer(settings, workdir, log=lambda line: None,
                                  tensorboard="none")
    assert without_timings(resumed) == without_timings(whole)


def test_modes_with_their_own_trainer_or_hooks_are_refused():
    from pathnet_tf.rl.config import runnable_modes

    assert runnable_modes() == ["pathnet", "independent", "finetune"]
    for mode in ("ewc", "si", "separate", "joint"):  # the RL runner would run them as finetune
        with pytest.raises(ValueError, match=rf"mode \('{mode}'\) must be one of pathnet, "
                                             "independent, finetune"):
            config(mode=mode)
    done = script("--mode=ewc")
    assert done.returncode != 0 and "--mode" in done.stderr


# -- widen_game_a: a plain network's game A as module 0 of a PathNet ------------------------

def test_widen_game_a_puts_a_plain_networks_game_a_into_pathnet(tmp_path):
    plain = dict(mode="finetune", num_modules=1, num_active=1, game_b="breakout", frames=72,
                 compute="mask")
    source = runner.run_transfer(config(**plain), tmp_path / "source", log=lambda line: None,
                                 tensorboard="none")
    snapshot = tmp_path / "source" / "ckpt" / "game_a.npz"
    arrays, header = checkpoint.load(snapshot)
    settings = config(num_modules=3, num_active=1, game_b="breakout", frames=72, seed=5,
                      seed_fraction=1.0, mutation_rate_b=0.0, compute="gather")
    wide, wide_header = runner.widen(arrays, header, snapshot, settings)
    assert wide_header["phase"] == 1 and wide_header["config"] == settings.to_dict()
    assert wide_header["widened_from"] == {"snapshot": str(snapshot), "num_modules": 1,
                                           "mode": "finetune", "compute": "mask"}
    names = [re.sub(r"_\d+/", "/", name) for name in header["variables"]]  # Keras's suffixes
    assert [re.sub(r"_\d+/", "/", name) for name in wide_header["variables"]] == names
    for index, name in enumerate(names):
        small, big = arrays[f"model/{index}"], wide[f"model/{index}"]
        if name == "path_net/frozen":  # game A's path (module 0) frozen, the rest not
            assert big.tolist() == [[1.0, 0.0, 0.0]] * len(big)
        elif name.startswith("modules/"):  # module 0: the source's; 1, 2: fresh
            assert big.shape[0] == 3 and np.array_equal(big[:1], small)
            if name.endswith("kernel"):
                assert not np.allclose(big[1], big[0]) and not np.allclose(big[2], big[1])
        elif name.startswith("readout"):  # game A's heads, as the source's
            assert np.array_equal(big, small)
        else:  # the layers' initialisers' seed states, moved on by the re-initialising
            assert name.startswith("seed_generator") and big.shape == small.shape
    assert sum(name.startswith("readout") for name in names) == 4  # 2 heads: kernel, bias
    # game A's path in the wide PathNet computes the plain network's features
    features = []
    for settings_, arrays_, header_ in ((config(**plain), arrays, header),
                                        (settings, wide, wide_header)):
        transfer = runner.Transfer(settings_)
        transfer.load_state(arrays_, header_, snapshot)
        params = [v for layer in transfer.model.module_layers for v in (layer.kernel, layer.bias)]
        frames = np.random.default_rng(0).random((8, *settings_.frame_shape), np.float32)
        paths = np.zeros((4, settings_.num_layers, 1), np.int32)  # W = 4 workers, module 0
        features.append(a2c.FEATURES[settings_.compute](transfer.model, params, frames,
                                                        paths, 2).numpy())
    assert np.abs(features[0]).max() > 0
    np.testing.assert_allclose(features[1], features[0], rtol=1e-5, atol=1e-5)
    lines = []
    started = runner.run_transfer(settings, tmp_path / "b", log=lines.append,
                                  tensorboard="none", game_a_from=snapshot, widen_game_a=True)
    assert without_timings(started["game_a"]) == without_timings(source["game_a"])
    assert started["game_a_from"] == str(snapshot) and started["mode"] == "pathnet"
    assert started["widened_from"] == wide_header["widened_from"]
    reuse = started["game_b"]["reuse"]
    assert reuse["reference_path"] == [[0]] * settings.num_layers
    assert reuse["holding"] == [4] * len(reuse["holding"])  # seeded, no mutation
    assert started["game_b"]["frames"] == 72 and started["game_b"]["episodes"] > 0
    assert_resumes_exactly(settings, tmp_path / "killed", started, stop_at=2,
                           game_a_from=snapshot, widen_game_a=True)


def test_widen_game_a_refuses_what_does_not_fit(tmp_path):
    plain = dict(mode="finetune", num_modules=2, num_active=1, game_b="breakout", frames=72)
    runner.run_transfer(config(**plain), tmp_path / "source", log=lambda line: None,
                        tensorboard="none")
    source = tmp_path / "source"
    cases = [
        (config(num_modules=3, num_active=1, units=8), "(differing: units)"),
        (config(num_modules=1, num_active=1), "num_modules (1) must be at least the 2"),
    ]
    for settings, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            runner.run_transfer(settings, tmp_path / "new", log=lambda line: None,
                                tensorboard="none", game_a_from=source, widen_game_a=True)
    with pytest.raises(ValueError, match=re.escape("(differing: mode, num_modules)")):
        runner.run_transfer(config(num_modules=3, num_active=1), tmp_path / "new",
                            log=lambda line: None, game_a_from=source)
    done = script("--widen_game_a", f"--workdir={tmp_path / 'w'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "error: --widen_game_a needs --game_a_from"
