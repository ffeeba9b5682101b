"""The A2C learner: n-step returns and advantages against NumPy, one trace over many
pathways, gradients only through a worker's own active modules, frozen modules
bit-identical under Adam."""

import numpy as np
import tensorflow as tf

from pathnet_tf.rl.a2c import A2CLearner, build_model, n_step_returns, sample_actions
from pathnet_tf.rl.config import MinAtarConfig
from pathnet_tf.rl.envs import CHANNELS

W, E, T = 3, 2, 4
CONFIG = MinAtarConfig(conv_layers=((2, 3, 1), (2, 3, 2)), units=4, num_modules=4,
                       num_active=2, num_workers=W, envs_per_worker=E, n_steps=T,
                       learning_rate=0.01, frames=100)


def make_learner(seed=0):
    tf.keras.utils.set_random_seed(seed)
    model = build_model(CONFIG)
    return model, A2CLearner(model, CONFIG, num_actions=3)


def random_paths(rng):
    return np.stack([np.stack([rng.choice(4, 2, replace=False) for _ in range(3)])
                     for _ in range(W)]).astype(np.int32)


def rollout(rng):
    frames = (rng.random((T + 1, W, E, 10, 10, CHANNELS)) < 0.2).astype(np.float32)
    actions = rng.integers(0, 3, (T, W, E)).astype(np.int32)
    rewards = rng.integers(0, 2, (T, W, E)).astype(np.float32)
    dones = (rng.random((T, W, E)) < 0.3).astype(np.float32)
    return frames, actions, rewards, dones


def numpy_returns(rewards, dones, bootstrap, discount):
    returns = np.zeros_like(rewards)
    running = bootstrap.copy()
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + discount * (1 - dones[t]) * running
        returns[t] = running
    return returns


def test_n_step_returns_and_advantages_match_numpy():
    rng = np.random.default_rng(0)
    rewards = rng.normal(size=(5, 3, 2)).astype(np.float32)
    dones = (rng.random((5, 3, 2)) < 0.3).astype(np.float32)
    bootstrap = rng.normal(size=(3, 2)).astype(np.float32)
    got = n_step_returns(tf.constant(rewards), tf.constant(dones), tf.constant(bootstrap), 0.9)
    np.testing.assert_allclose(got.numpy(), numpy_returns(rewards, dones, bootstrap, 0.9),
                               rtol=1e-6)
    # the learner's losses: its value loss is half the mean squared advantage
    model, learner = make_learner()
    frames, actions, rewards, dones = rollout(rng)
    paths = random_paths(rng)
    params = [v.value for v in learner.variables]
    _, policy_loss, value_loss, entropy = learner.loss(params, frames, actions, rewards,
                                                       dones, paths)
    logits, values = zip(*[learner.act(frames[t], paths) for t in range(T + 1)])
    logits, values = np.stack(logits), np.stack(values)
    advantages = numpy_returns(rewards, dones, values[-1], CONFIG.discount) - values[:-1]
    log_probs = logits[:-1] - np.log(np.exp(logits[:-1]).sum(-1, keepdims=True))
    chosen = np.take_along_axis(log_probs, actions[..., None], -1)[..., 0]
    np.testing.assert_allclose(value_loss, 0.5 * np.mean(advantages ** 2), rtol=1e-4)
    np.testing.assert_allclose(policy_loss, -np.mean(chosen * advantages), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(entropy, -np.mean((np.exp(log_probs) * log_probs).sum(-1)),
                               rtol=1e-4)


def test_one_trace_over_many_pathways():
    model, learner = make_learner()
    rng = np.random.default_rng(1)
    frames, actions, rewards, dones = rollout(rng)
    for _ in range(60):
        paths = random_paths(rng)
        learner.act(frames[0], paths)
        learner.update(frames, actions, rewards, dones, paths)
    assert learner.act.experimental_get_tracing_count() == 1
    assert learner.update.experimental_get_tracing_count() == 1


def test_a_workers_gradients_reach_only_its_active_modules():
    model, learner = make_learner()
    rng = np.random.default_rng(2)
    frames, _, _, _ = rollout(rng)
    paths = random_paths(rng)
    params = [v.value for v in learner.variables]
    with tf.GradientTape() as tape:
        tape.watch(params)
        logits, values = learner._heads(params, tf.reshape(frames[0], [W * E, 10, 10, 10]),
                                        paths, E)
        worker_0 = tf.reduce_sum(logits[:E]) + tf.reduce_sum(values[:E])
    grads = tape.gradient(worker_0, params)
    for layer in range(CONFIG.num_layers):
        for grad in grads[2 * layer: 2 * layer + 2]:
            per_module = np.abs(tf.convert_to_tensor(grad).numpy()).reshape(4, -1).sum(1)
            used = np.isin(np.arange(4), paths[0, layer])
            assert np.all(per_module[~used] == 0.0)
            assert np.all(per_module[used] > 0.0) or layer == 0  # sparse first frames


def test_frozen_modules_and_their_adam_slots_stay_bit_identical():
    model, learner = make_learner()
    rng = np.random.default_rng(3)
    frozen_path = random_paths(rng)[0]
    model.freeze(frozen_path)
    frozen = model.frozen.numpy() > 0.5
    before = [v.numpy().copy() for v in learner.variables[:2 * CONFIG.num_layers]]
    for _ in range(5):
        frames, actions, rewards, dones = rollout(rng)
        paths = random_paths(rng)
        paths[0] = frozen_path  # the frozen modules are on a pathway, so get gradients
        learner.update(frames, actions, rewards, dones, paths)
    after = [v.numpy() for v in learner.variables[:2 * CONFIG.num_layers]]
    for index in range(2 * CONFIG.num_layers):
        rows = frozen[index // 2]
        np.testing.assert_array_equal(after[index][rows], before[index][rows])
        for slot in learner.slots[index]:
            assert np.all(slot.numpy()[rows] == 0.0)
    assert any(not np.array_equal(a[~frozen[i // 2]], b[~frozen[i // 2]])
               for i, (a, b) in enumerate(zip(after, before)))


def test_sample_actions_follows_the_policy():
    rng = np.random.default_rng(4)
    logits = np.log(np.array([[0.7, 0.2, 0.1]] * 20000))
    counts = np.bincount(sample_actions(logits, rng), minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.02)


def test_gather_and_mask_compute_the_same_outputs_and_gradients():
    import dataclasses

    from pathnet_tf.rl.a2c import features_gather, features_mask

    model, learner = make_learner()
    rng = np.random.default_rng(5)
    frames = tf.constant(rollout(rng)[0][0].reshape(W * E, 10, 10, CHANNELS))
    paths = random_paths(rng)
    paths[1, 0] = [2, 2]  # a module named twice counts once
    params = [v.value for v in learner.variables]
    results = []
    for features in (features_mask, features_gather):
        with tf.GradientTape() as tape:
            tape.watch(params)
            out = features(model, params, frames, tf.constant(paths), E)
            total = tf.reduce_sum(out * tf.range(out.shape[1], dtype=tf.float32))
        grads = tape.gradient(total, params[:2 * CONFIG.num_layers])
        results.append([out.numpy()] + [tf.convert_to_tensor(g).numpy() for g in grads])
    for mask_value, gather_value in zip(*results):
        np.testing.assert_allclose(gather_value, mask_value, rtol=1e-4, atol=1e-5)
    gather = A2CLearner(model, dataclasses.replace(CONFIG, compute="gather"), 3)
    for _ in range(3):
        gather.update(*rollout(rng), random_paths(rng))
    assert gather.update.experimental_get_tracing_count() == 1


def test_frozen_output_scale_multiplies_the_last_layer_s_frozen_modules_only():
    from pathnet_tf.rl.a2c import features_gather, features_mask

    model, learner = make_learner()
    frozen = np.zeros((CONFIG.num_layers, CONFIG.num_modules), np.float32)
    frozen[:, 0] = 1.0  # module 0 of every layer frozen
    model.frozen.assign(frozen)
    rng = np.random.default_rng(6)
    frames = tf.constant(rollout(rng)[0][0].reshape(W * E, 10, 10, CHANNELS))
    paths = random_paths(rng)
    paths[0] = [[0, 1], [0, 2], [0, 0]]  # worker 0: only frozen module 0 in the last layer
    paths[1] = [[0, 1], [0, 2], [1, 2]]  # worker 1: none frozen in the last layer
    paths[2] = [[0, 1], [0, 2], [0, 3]]  # worker 2: frozen 0 and fresh 3, summed
    params = [v.value for v in learner.variables]
    for features in (features_mask, features_gather):
        plain = features(model, params, frames, tf.constant(paths), E).numpy()
        scaled = features(model, params, frames, tf.constant(paths), E, 3.0).numpy()
        only_fresh = paths.copy()
        only_fresh[2, 2] = [3, 3]
        fresh = features(model, params, frames, tf.constant(only_fresh), E).numpy()
        np.testing.assert_allclose(scaled[:E], 3.0 * plain[:E], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(scaled[E:2 * E], plain[E:2 * E])
        frozen_part = plain[2 * E:] - fresh[2 * E:]  # module 0's share of worker 2's sum
        assert np.abs(frozen_part).max() > 0
        np.testing.assert_allclose(scaled[2 * E:], fresh[2 * E:] + 3.0 * frozen_part,
                                   rtol=1e-4, atol=1e-5)


def test_layer_scale_multiplies_every_layer_s_sum():
    """Biases are zero at initialisation and ReLU is positively homogeneous, so a factor
    s on each of the L layers' sums scales the features by s**L, in both computations;
    1.0 (the default) leaves them bit-identical."""
    from pathnet_tf.rl.a2c import features_gather, features_mask

    model, learner = make_learner()
    rng = np.random.default_rng(8)
    frames = tf.constant(rollout(rng)[0][0].reshape(W * E, 10, 10, CHANNELS))
    paths = tf.constant(random_paths(rng))
    params = [v.value for v in learner.variables]
    for features in (features_mask, features_gather):
        plain = features(model, params, frames, paths, E).numpy()
        assert np.abs(plain).max() > 0
        np.testing.assert_array_equal(features(model, params, frames, paths, E, 1.0, 1.0),
                                      plain)
        scaled = features(model, params, frames, paths, E, 1.0, 0.5).numpy()
        np.testing.assert_allclose(scaled, plain * 0.5 ** CONFIG.num_layers, rtol=1e-4,
                                   atol=1e-6)


def test_head_learning_rate_moves_the_heads_only_at_their_own_rate():
    import dataclasses

    rng = np.random.default_rng(7)
    batch, paths = rollout(rng), random_paths(rng)
    deltas = []
    for head_rate in (None, 0.1):  # 10x the trunk's 0.01
        tf.keras.utils.set_random_seed(0)
        model = build_model(CONFIG)
        learner = A2CLearner(model, dataclasses.replace(CONFIG), 3,
                             head_learning_rate=head_rate)
        before = [v.numpy().copy() for v in learner.variables]
        learner.update(*batch, paths)
        deltas.append([v.numpy() - b for v, b in zip(learner.variables, before)])
    for default, own in zip(deltas[0][:-4], deltas[1][:-4]):  # the trunk: the same step
        np.testing.assert_array_equal(own, default)
    for default, own in zip(deltas[0][-4:], deltas[1][-4:]):  # Adam's first step ~ lr
        assert np.abs(default).max() > 0
        np.testing.assert_allclose(own, 10.0 * default, rtol=1e-3, atol=1e-7)
