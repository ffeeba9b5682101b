"""Pong alone (game A only) under `AtariConfig` with any changes, printing the A2C losses
every 100 updates (mean over them: policy, value, entropy, gradient norm) beside the
mean score and length (agent steps) of the last 100 episodes; writes OUT (the config
and every episode as [emulator frames, worker, score, length]). No checkpoint, no
TensorBoard: a diagnostic, not a run. Run from the repository's root:

    python results/atari/pong_diagnosis/a2c_probe.py CHANGES_JSON OUT

CHANGES_JSON: `AtariConfig` fields, e.g. '{"mode": "finetune", "layer_scale": 0.5,
"frames": 3000000}'; `conv_layers` as [[filters, kernel, stride], ...].
"""

import json
import os
import sys
import time

sys.path.insert(0, os.getcwd())
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from pathnet_tf.evolution.training import set_threads  # noqa: E402


def main(changes_json: str, out: str) -> None:
    set_threads(1)
    from pathnet_tf.rl.config import AtariConfig
    from pathnet_tf.rl.runner import Transfer

    changes = json.loads(changes_json)
    if "conv_layers" in changes:
        changes["conv_layers"] = tuple(tuple(layer) for layer in changes["conv_layers"])
    config = AtariConfig(**{"game_a": "atari:pong", "game_b": "atari:pong", **changes})
    run = Transfer(config, jit_compile=True).start_game()
    start, losses = time.time(), []
    while not run.done:
        losses.append(run.learner.update(*run.rollout()).numpy())
        run.updates += 1
        if run.workers.evolving and run.updates % config.evolve_every == 0:
            run.workers.tournaments()
        if run.updates % 100 == 0:
            mean, losses = np.mean(losses, 0), []
            last = run.episodes[-100:]
            score = np.mean([e[2] for e in last]) if last else float("nan")
            length = np.mean([e[3] for e in last]) if last else 0.0
            print(f"frames {run.frames} fps {run.frames / (time.time() - start):.0f} "
                  f"ret {score:.2f} len {length:.0f} eps {len(run.episodes)} "
                  f"pol {mean[1]:.4f} val {mean[2]:.4f} ent {mean[3]:.3f} gn {mean[4]:.3f}",
                  flush=True)
    with open(out, "w") as handle:
        json.dump({"config": config.to_dict(), "episodes": run.episodes}, handle)


if __name__ == "__main__":
    main(*sys.argv[1:3])
