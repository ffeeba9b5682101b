"""Frames per second of MinAtar learning at the default config (pathnet_tf/rl).

In one process, for each variant (`compute`: "mask", every module on the whole batch,
or "gather", each worker's N active modules; `nojit` / `xla`: the compiled act and
update calls without or with XLA): the environments alone (random actions, frames/s), one
`act` call and one `update` call (median ms), and the whole learning loop
(`GameRun.train`: rollouts, updates, tournaments, progress lines) over `--updates`
updates after a warm-up. Prints ONE JSON line; CPU seconds beside wall seconds, and
the 1-minute load average (other jobs make the wall figures upper bounds).

    python benchmarks/bench_minatar.py                   # breakout, the four variants
    python benchmarks/bench_minatar.py --game=space_invaders --variants=gather_xla
"""

import dataclasses
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("game", "breakout", "MinAtar game.")
flags.DEFINE_list("variants", ["mask_nojit", "mask_xla", "gather_nojit", "gather_xla"],
                  "compute (mask: all M modules on the whole batch; gather: each worker's "
                  "N) and XLA (xla) or not (nojit).")
flags.DEFINE_integer("updates", 100, "Timed updates of the learning loop per variant.")
flags.DEFINE_integer("threads", 1, "TensorFlow threads.")
flags.DEFINE_integer("num_workers", None, "W (default: the config's).")
flags.DEFINE_integer("envs_per_worker", None, "E (default: the config's).")


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def timed(function, repeats):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return round(float(np.median(samples)) * 1e3, 3)


def measure(config, jit_compile: bool) -> dict:
    from pathnet_tf.rl.runner import GameRun, Transfer

    transfer = Transfer(config, jit_compile=jit_compile)
    run = GameRun(transfer.model, config, config.game_a, 0, None, jit_compile)
    frames, actions, rewards, dones, paths = run.rollout()
    act_ms = timed(lambda: run.learner.act(frames[0], paths), 50)
    update_ms = timed(lambda: run.learner.update(frames, actions, rewards, dones, paths), 20)
    run.total_updates = run.updates + 20
    run.train(None, lambda line: None)  # warm-up
    run.total_updates = run.updates + FLAGS.updates
    cpu, start = cpu_seconds(), time.perf_counter()
    run.train(None, lambda line: None)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    frames_done = FLAGS.updates * config.frames_per_update
    return {"act_ms": act_ms, "update_ms": update_ms,
            "learning_frames_per_second": round(frames_done / wall),
            "cpu_frames_per_second": round(frames_done / cpu),
            "traces": [run.learner.act.experimental_get_tracing_count(),
                       run.learner.update.experimental_get_tracing_count()]}


def main(argv):
    del argv
    from pathnet_tf.evolution.training import set_threads

    set_threads(FLAGS.threads)
    from pathnet_tf.rl.config import MinAtarConfig
    from pathnet_tf.rl.envs import VectorEnv
    changes = {name: FLAGS[name].value for name in ("num_workers", "envs_per_worker")
               if FLAGS[name].value is not None}
    config = MinAtarConfig(game_a=FLAGS.game, **changes)
    count = config.num_workers * config.envs_per_worker
    envs = VectorEnv(FLAGS.game, count, seed=0)
    rng = np.random.default_rng(0)
    steps = 200
    start = time.perf_counter()
    for _ in range(steps):
        envs.step(rng.integers(0, envs.num_actions, count))
        envs.observe()
    env_fps = steps * count / (time.perf_counter() - start)
    report = {"benchmark": "bench_minatar", "game": FLAGS.game, "threads": FLAGS.threads,
              "num_workers": config.num_workers, "envs_per_worker": config.envs_per_worker,
              "n_steps": config.n_steps, "frames_per_update": config.frames_per_update,
              "env_only_frames_per_second": round(env_fps), "variants": {}}
    for variant in FLAGS.variants:
        compute, jit = variant.split("_")
        report["variants"][variant] = measure(dataclasses.replace(config, compute=compute),
                                              jit == "xla")
        print(f"{variant}: {report['variants'][variant]}", file=sys.stderr, flush=True)
    report["load_average_1min"] = os.getloadavg()[0]
    print(json.dumps(report))


if __name__ == "__main__":
    app.run(main)
