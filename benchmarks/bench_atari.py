"""Agent steps per second of PathNet A2C on real Atari (pathnet_tf/rl, AtariConfig).

For each TensorFlow thread count in `--threads` (each in its own child process, since
TensorFlow's thread pools are fixed at start), at the Atari defaults (W = 16 workers
x E = 2 environments, n = 5 steps, the paper's network):

- `env_alone`: this project's `AtariVectorEnv` (one ALEInterface per game, Python
  frame skip, max-pool, 84x84 area resize, stack of 4; checkpointable) stepping the
  W·E games with random actions; beside it `ale_vector_env`: ale_py's C++
  `AtariVectorEnv` with the same protocol and `num_threads` = the thread count (not
  checkpointable: it cannot clone its games' states);
- `network`: per variant (`compute` mask or gather, XLA or not), the median ms of one
  `act` call (W·E frames) and one `update` call (T+1 frames of each of W·E games),
  and the agent steps/s the network alone allows, W·E·T / (T·act + update), the
  variants timed in turn over several rounds;
- `whole_loop`: `GameRun.train` (rollouts, updates, tournaments, progress lines) over
  `--updates` updates after a warm-up, with the default compute, in agent steps/s
  (emulator frames/s is 4x), and `ratio` = whole loop / env alone (the mean of the
  env-alone rate measured before and after, `env_alone` and `env_alone_again`);
- `whole_loop_overlap`: the same with `overlap_updates` (each update beside the next
  rollout, acting on one-update-old weights), and its ratio to env alone;
- `ray_whole_loop` (in the first thread count's child): the whole loop with the games
  on `--ray_actors` Ray actors (`--backend=ray`, a local Ray; the network here).

Prints ONE JSON line (the children's progress goes to stderr); CPU seconds beside
wall seconds and the 1-minute load average (other jobs make wall figures upper bounds).

    nice -n 10 python benchmarks/bench_atari.py
    nice -n 10 python benchmarks/bench_atari.py --threads=1 --variants=mask_xla
"""

import dataclasses
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("game", "atari:pong", "Atari game.")
flags.DEFINE_list("threads", ["1", "2"], "TensorFlow thread counts, one child process each.")
flags.DEFINE_list("variants", ["mask_xla", "gather_xla", "mask_nojit", "gather_nojit"],
                  "compute (mask: all M modules on the whole batch; gather: each worker's "
                  "N) and XLA (xla) or not (nojit), for the network-alone timings.")
flags.DEFINE_integer("updates", 30, "Timed updates of the whole loop.")
flags.DEFINE_integer("env_steps", 300, "Timed steps of every environment (env alone).")
flags.DEFINE_list("ray_actors", ["1", "2"], "Ray actors for the whole loop on the Ray "
                  "backend (measured in the first thread count's child; empty: none).")
flags.DEFINE_boolean("overlap", True, "Also time the whole loop with overlap_updates "
                     "(each update beside the next rollout).")
flags.DEFINE_integer("child", 0, "Internal: measure at this many threads, print JSON.")


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def env_alone(config, threads: int) -> dict:
    from ale_py.vector_env import AtariVectorEnv as ALEVector

    from pathnet_tf.rl import atari

    count = config.num_workers * config.envs_per_worker
    rng = np.random.default_rng(0)
    envs = atari.AtariVectorEnv(config.game_a, count, seed=0,
                                sticky_action_prob=config.sticky_action_prob)
    for _ in range(20):
        envs.step(rng.integers(0, envs.num_actions, count))
    start, cpu = time.perf_counter(), cpu_seconds()
    for _ in range(FLAGS.env_steps):
        envs.step(rng.integers(0, envs.num_actions, count))
        envs.observe()
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    ours = {"steps_per_second": round(FLAGS.env_steps * count / wall),
            "cpu_steps_per_second": round(FLAGS.env_steps * count / cpu)}
    vector = ALEVector(config.game_a[len(atari.PREFIX):], count, num_threads=threads,
                       repeat_action_probability=config.sticky_action_prob, noop_max=0,
                       use_fire_reset=False, reward_clipping=False, episodic_life=False,
                       max_num_frames_per_episode=atari.MAX_EMULATOR_FRAMES)
    vector.reset(seed=0)
    actions = vector.single_action_space.n
    for _ in range(20):
        vector.step(rng.integers(0, actions, count))
    start, cpu = time.perf_counter(), cpu_seconds()
    for _ in range(FLAGS.env_steps):
        vector.step(rng.integers(0, actions, count))
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    vector.close()
    return {"ours": ours,
            "ale_vector_env": {"steps_per_second": round(FLAGS.env_steps * count / wall),
                               "cpu_steps_per_second": round(FLAGS.env_steps * count / cpu),
                               "num_threads": threads}}


def networks(config, variants, rounds: int = 4) -> dict:
    """Every variant built first, then timed in turn for `rounds` rounds (so that a
    change of the machine's load hits all variants alike); medians over all rounds."""
    from pathnet_tf.rl.runner import GameRun, Transfer

    built = {}
    for variant in variants:
        compute, jit = variant.split("_")
        changed = dataclasses.replace(config, compute=compute)
        transfer = Transfer(changed, jit_compile=jit == "xla")
        run = GameRun(transfer.model, changed, changed.game_a, 0, None, jit == "xla")
        frames, actions, rewards, dones, paths = run.rollout()
        built[variant] = (
            lambda run=run, frames=frames, paths=paths:
                run.learner.act(frames[0], paths)[0].numpy(),
            lambda run=run, batch=(frames, actions, rewards, dones), paths=paths:
                run.learner.update(*batch, paths).numpy())
        built[variant][0]()
        built[variant][1]()
    samples = {variant: ([], []) for variant in variants}
    for _ in range(rounds):
        for variant, calls in built.items():
            for call, times, repeats in zip(calls, samples[variant], (5, 2)):
                for _ in range(repeats):
                    start = time.perf_counter()
                    call()
                    times.append(time.perf_counter() - start)
    steps = config.num_workers * config.envs_per_worker * config.n_steps
    report = {}
    for variant, (acts, updates) in samples.items():
        act_ms = float(np.median(acts)) * 1e3
        update_ms = float(np.median(updates)) * 1e3
        report[variant] = {"act_ms": round(act_ms, 2), "update_ms": round(update_ms, 2),
                           "steps_per_second": round(
                               steps / ((config.n_steps * act_ms + update_ms) / 1e3))}
    return report


def whole_loop(config, make_envs=None) -> dict:
    from pathnet_tf.rl.runner import GameRun, Transfer

    transfer = Transfer(config, jit_compile=True)
    run = GameRun(transfer.model, config, config.game_a, 0, None, True, make_envs)
    run.total_updates = 5
    run.train(None, lambda line: None)  # warm-up: traces, compiles
    run.total_updates = run.updates + FLAGS.updates
    start, cpu = time.perf_counter(), cpu_seconds()
    run.train(None, lambda line: None)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    steps = FLAGS.updates * config.frames_per_update // config.frame_skip
    if hasattr(run.envs, "close"):
        run.envs.close()
    return {"steps_per_second": round(steps / wall), "cpu_steps_per_second": round(steps / cpu),
            "compute": config.compute, "jit_compile": True}


def child(threads: int) -> dict:
    from pathnet_tf.evolution.training import set_threads

    set_threads(threads)
    from pathnet_tf.rl.config import AtariConfig

    config = AtariConfig(game_a=FLAGS.game, game_b=FLAGS.game)
    report = {"env_alone": env_alone(config, threads)}
    print(f"threads {threads}: env {report['env_alone']}", file=sys.stderr, flush=True)
    report["network"] = networks(config, FLAGS.variants)
    print(f"threads {threads}: network {report['network']}", file=sys.stderr, flush=True)
    report["whole_loop"] = whole_loop(config)
    print(f"threads {threads}: whole loop {report['whole_loop']}", file=sys.stderr, flush=True)
    if FLAGS.overlap:
        report["whole_loop_overlap"] = whole_loop(
            dataclasses.replace(config, overlap_updates=True))
        print(f"threads {threads}: whole loop, overlap_updates "
              f"{report['whole_loop_overlap']}", file=sys.stderr, flush=True)
    if FLAGS.ray_actors:
        from pathnet_tf.rl.ray_envs import environment_factory, start_ray

        start_ray(num_cpus=max(int(a) for a in FLAGS.ray_actors))
        report["ray_whole_loop"] = {}
        for actors in FLAGS.ray_actors:
            report["ray_whole_loop"][actors] = whole_loop(
                config, environment_factory("ray", int(actors)))
            print(f"threads {threads}: ray, {actors} actors, whole loop "
                  f"{report['ray_whole_loop'][actors]}", file=sys.stderr, flush=True)
    report["env_alone_again"] = env_alone(config, threads)  # after: the load may change
    env_rate = np.mean([report[key]["ours"]["steps_per_second"]
                        for key in ("env_alone", "env_alone_again")])
    for key in ("whole_loop", "whole_loop_overlap"):
        if key in report:
            report[f"ratio_{key}_to_env_alone"] = round(
                report[key]["steps_per_second"] / env_rate, 3)
    report["load_average_1min"] = os.getloadavg()[0]
    return report


def main(argv):
    del argv
    if FLAGS.child:
        print(json.dumps(child(FLAGS.child)))
        return
    from pathnet_tf.rl.config import AtariConfig

    config = AtariConfig(game_a=FLAGS.game, game_b=FLAGS.game)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report = {"benchmark": "bench_atari", "game": FLAGS.game, "started": started,
              "num_workers": config.num_workers, "envs_per_worker": config.envs_per_worker,
              "n_steps": config.n_steps, "conv_layers": config.conv_layers,
              "units": config.units, "num_modules": config.num_modules,
              "num_active": config.num_active, "default_compute": config.compute,
              "cpus": os.cpu_count(), "threads": {}}
    for threads in FLAGS.threads:  # Ray in the first child only
        done = subprocess.run(
            [sys.executable, os.path.abspath(__file__), f"--child={threads}",
             f"--game={FLAGS.game}", f"--variants={','.join(FLAGS.variants)}",
             f"--updates={FLAGS.updates}", f"--env_steps={FLAGS.env_steps}",
             f"--overlap={FLAGS.overlap}",
             "--ray_actors=" + (",".join(FLAGS.ray_actors)
                                if threads == FLAGS.threads[0] else "")],
            stdout=subprocess.PIPE, text=True, check=True)
        report["threads"][threads] = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(report))


if __name__ == "__main__":
    app.run(main)
