"""The masked optimizers against Keras' own, and their masks: masked-out entries of the
weights and of the slots stay exactly as they were."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pathnet_tf.core.optimizers import MaskedAdam, MaskedRMSProp, MaskedSGD, make_optimizer

STEPS = 8


def problem(seed=0):
    """Two parameters and a loss whose gradients live at very different scales: the
    second one's are ~1e-6, where Adam's epsilon (1e-7) is a tenth of sqrt(v)."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(3, 4)).astype(np.float32),
              rng.normal(size=(5,)).astype(np.float32)]
    targets = [rng.normal(size=p.shape).astype(np.float32) for p in params]

    def loss(values, step):
        scale = 1.0 + 0.1 * step  # the gradients change from step to step
        return (scale * tf.reduce_sum(tf.square(values[0] - targets[0]))
                + 1e-6 * scale * tf.reduce_sum(tf.sin(values[1] - targets[1])))

    return params, loss


def gradients(loss, values, step):
    values = [tf.convert_to_tensor(v) for v in values]
    with tf.GradientTape() as tape:
        tape.watch(values)
        value = loss(values, step)
    return tape.gradient(value, values)


def masked_run(optimizer, params, loss, masks=None):
    values = [tf.constant(p) for p in params]
    masks = masks or [tf.ones(p.shape, tf.bool) for p in params]
    slots = [optimizer.initial_slots(p.shape) for p in params]
    for step in range(STEPS):
        grads = gradients(loss, values, step)
        values, slots = optimizer.update(tf.constant(step + 1.0), values, grads, masks, slots,
                                         tf.convert_to_tensor(optimizer.learning_rate))
    return [v.numpy() for v in values], slots


def keras_run(optimizer, params, loss):
    variables = [keras.Variable(p) for p in params]
    for step in range(STEPS):
        grads = gradients(loss, [v.value for v in variables], step)
        optimizer.apply_gradients(zip(grads, variables))
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("learning_rate", [1e-3, 0.05])
def test_masked_adam_equals_keras_adam_when_nothing_is_masked(learning_rate):
    params, loss = problem()
    got, _ = masked_run(MaskedAdam(learning_rate), params, loss)
    want = keras_run(keras.optimizers.Adam(learning_rate), params, loss)
    for g, w, start in zip(got, want, params):
        assert not np.allclose(w, start)  # the problem moves the weights
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-9)


def test_masked_sgd_equals_keras_sgd_when_nothing_is_masked():
    params, loss = problem(1)
    got, _ = masked_run(MaskedSGD(0.05), params, loss)
    want = keras_run(keras.optimizers.SGD(0.05), params, loss)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("epsilon", [0.1, 1e-5])
def test_masked_rmsprop_equals_tf1_rmsprop_when_nothing_is_masked(epsilon):
    """TensorFlow 1's RMSPropOptimizer, which A3C and the TF1 PathNet code used: its
    mean square starts at 1, epsilon inside the square root, no momentum."""
    params, loss = problem(3)
    got, _ = masked_run(MaskedRMSProp(7e-4, epsilon=epsilon), params, loss)
    variables = [tf.Variable(p) for p in params]
    tf1 = tf.compat.v1.train.RMSPropOptimizer(7e-4, decay=0.99, momentum=0.0,
                                              epsilon=epsilon)
    for step in range(STEPS):
        tf1.apply_gradients(zip(gradients(loss, [v.value() for v in variables], step),
                                variables))
    assert not np.allclose(variables[0].numpy(), params[0])  # (the second's steps are ~1e-9)
    for g, w in zip(got, variables):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-6, atol=1e-9)


def test_masked_rmsprop_refuses_bad_constants():
    with pytest.raises(ValueError, match=r"decay \(1.0\) must be in \[0, 1\)"):
        MaskedRMSProp(1e-3, decay=1.0)
    with pytest.raises(ValueError, match=r"epsilon \(0.0\) must be > 0"):
        MaskedRMSProp(1e-3, epsilon=0.0)


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop"])
def test_masked_entries_of_weights_and_slots_stay_exactly(name):
    params, loss = problem(2)
    masks = [tf.constant(np.arange(p.size).reshape(p.shape) % 2 == 0) for p in params]
    optimizer = MaskedRMSProp(0.05) if name == "rmsprop" else make_optimizer(name, 0.05)
    got, slots = masked_run(optimizer, params, loss, masks)
    for value, start, mask, slot in zip(got, params, masks, slots):
        mask = mask.numpy()
        np.testing.assert_array_equal(value[~mask], start[~mask])
        assert not np.any(value[mask] == start[mask])
        for tensor, initial in zip(slot, optimizer.initial_slots(start.shape)):
            np.testing.assert_array_equal(tensor.numpy()[~mask], initial.numpy()[~mask])
