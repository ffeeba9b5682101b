"""What the heads see at initialisation on Atari: PathNet's features against a DQN-sized
network's, for several `layer_scale` values (issue 27's Pong diagnosis).

Pong frames after `--warmup` random agent steps in 32 games (seeded), the Atari
defaults (`AtariConfig`: W = 16 workers x E = 2 games, the paper's network), random
pathways. Per `layer_scale`, with every worker on ONE pathway (so only the frames
differ): `feature_norm` (mean L2 norm of an example's 256 features), `unit_mean_abs`
(mean |feature|), `unit_std_across_frames` (per unit, the standard deviation over the
32 frames, averaged over units) and their ratio `state_signal` (how much of a feature
is the state, the rest being the pathway's constant); `logit_std_across_actions`
(the first policy's spread: large = nearly deterministic) and
`logit_std_across_frames` (how much the first policy depends on the frame). Beside
them `dqn`: the same statistics for the Nature DQN trunk (32-64-64 conv, 512 dense,
orthogonal init with gain sqrt(2), zero biases; Mnih et al. 2015 as the usual A2C
implementations initialise it) on the same frames; its policy head (gain 0.01 in
those implementations) is not drawn. And `plain`: the same statistics for this
project's own network with one module per layer (M = N = 1, its Glorot init, the loop's
plain A2C runs) at the Nature DQN's widths and at a PathNet module's widths (8 kernels
per conv layer, 256 units): a PathNet layer sums N = 4 such modules. Prints ONE JSON
line.

    python benchmarks/atari_features.py
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("game", "atari:pong", "Atari game.")
flags.DEFINE_list("layer_scales", ["1", "0.5", "0.25", "0.1"], "layer_scale values.")
flags.DEFINE_integer("warmup", 200, "Random agent steps before the frames are taken.")
flags.DEFINE_integer("seed", 0, "Seed.")


def statistics(features, logits=None) -> dict:
    import numpy as np

    mean_abs = float(np.abs(features).mean())
    across_frames = float(features.std(axis=0).mean())
    out = {"feature_norm": float(np.linalg.norm(features, axis=1).mean()),
           "unit_mean_abs": mean_abs, "unit_std_across_frames": across_frames,
           "state_signal": across_frames / mean_abs}
    if logits is not None:
        out.update(logit_std_across_actions=float(logits.std(axis=1).mean()),
                   logit_std_across_frames=float(logits.std(axis=0).mean()))
    return out


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    from pathnet_tf.evolution.genetic import random_genotype
    from pathnet_tf.evolution.training import set_threads
    from pathnet_tf.rl.a2c import A2CLearner, build_model, features_mask
    from pathnet_tf.rl.atari import AtariVectorEnv
    from pathnet_tf.rl.config import AtariConfig

    set_threads(1)
    tf.keras.utils.set_random_seed(FLAGS.seed)
    config = AtariConfig(game_a=FLAGS.game)
    games = config.num_workers * config.envs_per_worker
    envs = AtariVectorEnv(FLAGS.game, games, seed=(FLAGS.seed, 3))
    rng = np.random.default_rng(FLAGS.seed)
    for _ in range(FLAGS.warmup):
        envs.step(rng.integers(0, envs.num_actions, games))
    frames = tf.cast(envs.observe(), tf.float32) / 255.0
    model = build_model(config)
    learner = A2CLearner(model, config, envs.num_actions)
    params = [v.value for v in learner.variables]
    path = random_genotype(rng, config.num_layers, config.num_modules, config.num_active)
    one_path = tf.constant(np.repeat(path[None], config.num_workers, 0))
    result = {"game": FLAGS.game, "frames": games, "warmup_agent_steps": FLAGS.warmup,
              "pathnet": {}}
    for text in FLAGS.layer_scales:
        scale = float(text)
        features = features_mask(model, params, frames, one_path, config.envs_per_worker,
                                 layer_scale=scale).numpy()
        logits = features @ params[-4].numpy() + params[-3].numpy()
        result["pathnet"][text] = statistics(features, logits)
    keras = tf.keras
    init = keras.initializers.Orthogonal(np.sqrt(2.0), seed=FLAGS.seed)
    dqn = keras.Sequential([
        keras.layers.Conv2D(32, 8, 4, activation="relu", kernel_initializer=init),
        keras.layers.Conv2D(64, 4, 2, activation="relu", kernel_initializer=init),
        keras.layers.Conv2D(64, 3, 1, activation="relu", kernel_initializer=init),
        keras.layers.Flatten(),
        keras.layers.Dense(512, activation="relu", kernel_initializer=init)])
    result["dqn"] = statistics(dqn(frames).numpy())
    result["plain"] = {}
    for name, conv, units in (("nature_widths", ((32, 8, 4), (64, 4, 2), (64, 3, 1)), 512),
                              ("module_widths", ((8, 8, 4), (8, 4, 2), (8, 3, 1)), 256)):
        plain = AtariConfig(game_a=FLAGS.game, conv_layers=conv, units=units,
                            num_modules=1, num_active=1)
        model = build_model(plain)
        learner = A2CLearner(model, plain, envs.num_actions)
        params = [v.value for v in learner.variables]
        only = tf.zeros((plain.num_workers, plain.num_layers, 1), tf.int32)
        features = features_mask(model, params, frames, only, plain.envs_per_worker).numpy()
        logits = features @ params[-4].numpy() + params[-3].numpy()
        result["plain"][name] = statistics(features, logits)
    print(json.dumps(result))


if __name__ == "__main__":
    app.run(main)
