"""PathNetDense and the PathNet model: shapes, arithmetic, gradients, serialisation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pathnet_tf.core.layers import PathNetDense, first_occurrence
from pathnet_tf.core.model import PathNet

L, M, N, UNITS, IN = 2, 4, 2, 5, 7


def numpy_reference(x, kernel, bias, active):
    """Sum over the distinct active modules of relu(x @ W_m + b_m)."""
    out = np.zeros((x.shape[0], kernel.shape[2]), np.float32)
    for m in sorted(set(int(a) for a in active)):
        out += np.maximum(x @ kernel[m] + bias[m], 0.0)
    return out


def make_layer(compute="gather", seed=1):
    layer = PathNetDense(num_modules=M, units=UNITS, compute=compute, seed=seed)
    layer.build((None, IN))
    layer.bias.assign(np.random.default_rng(0).normal(size=(M, UNITS)).astype(np.float32))
    return layer


@pytest.mark.parametrize("compute", ["gather", "mask"])
@pytest.mark.parametrize("active", [[0, 2], [3, 1], [2, 2]])
def test_layer_sums_active_modules_like_numpy(compute, active):
    layer = make_layer(compute)
    x = np.random.default_rng(1).normal(size=(3, IN)).astype(np.float32)
    out = layer(x, np.array(active, np.int32))
    assert out.shape == (3, UNITS)
    expected = numpy_reference(x, layer.kernel.numpy(), layer.bias.numpy(), active)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_first_occurrence_counts_a_repeated_module_once():
    np.testing.assert_array_equal(first_occurrence(tf.constant([3, 1, 3, 3])), [1, 1, 0, 0])
    np.testing.assert_array_equal(first_occurrence(tf.constant([0, 1, 2])), [1, 1, 1])


def test_modules_are_initialised_differently():
    layer = make_layer()
    kernel = layer.kernel.numpy()
    assert not np.allclose(kernel[0], kernel[1])
    limit = np.sqrt(6.0 / (IN + UNITS))
    assert np.abs(kernel).max() <= limit


@pytest.mark.parametrize("compute", ["gather", "mask"])
def test_gradients_reach_only_active_modules(compute):
    layer = make_layer(compute)
    x = tf.constant(np.random.default_rng(2).normal(size=(3, IN)), tf.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, tf.constant([1, 3])) ** 2)
    grad_kernel, grad_bias = tape.gradient(loss, [layer.kernel.value, layer.bias.value])
    grad_kernel = tf.convert_to_tensor(grad_kernel).numpy()
    grad_bias = tf.convert_to_tensor(grad_bias).numpy()
    for m in (0, 2):
        assert np.all(grad_kernel[m] == 0) and np.all(grad_bias[m] == 0)
    for m in (1, 3):
        assert np.any(grad_kernel[m] != 0)


def test_gather_and_mask_agree_on_outputs_and_gradients():
    gather, mask = make_layer("gather"), make_layer("mask")
    mask.kernel.assign(gather.kernel)
    mask.bias.assign(gather.bias)
    x = tf.constant(np.random.default_rng(3).normal(size=(4, IN)), tf.float32)
    active = tf.constant([2, 0])
    grads = []
    for layer in (gather, mask):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(layer(x, active)))
        grads.append([tf.convert_to_tensor(g).numpy()
                      for g in tape.gradient(loss, [layer.kernel.value, layer.bias.value])])
    np.testing.assert_allclose(gather(x, active), mask(x, active), rtol=1e-5, atol=1e-6)
    for g_gather, g_mask in zip(*grads):
        np.testing.assert_allclose(g_gather, g_mask, rtol=1e-5, atol=1e-6)


def test_eager_equals_compiled():
    model = PathNet(IN, L, M, N, UNITS, task_classes=[3])
    x = np.random.default_rng(4).normal(size=(5, IN)).astype(np.float32)
    path = np.array([[0, 3], [2, 1]], np.int32)
    eager = model(x, path, task=0)
    compiled = tf.function(lambda x, p: model(x, p, task=0))(x, path)
    xla = tf.function(lambda x, p: model(x, p, task=0), jit_compile=True)(x, path)
    assert eager.shape == (5, 3)
    np.testing.assert_allclose(eager, compiled, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eager, xla, rtol=1e-5, atol=1e-6)


def test_layer_validates_arguments():
    with pytest.raises(ValueError, match=r"num_modules \(0\)"):
        PathNetDense(num_modules=0)
    with pytest.raises(ValueError, match=r"units \(-1\)"):
        PathNetDense(units=-1)
    with pytest.raises(ValueError, match="compute"):
        PathNetDense(compute="all")


def test_model_validates_arguments():
    with pytest.raises(ValueError, match=r"num_active \(5\) must be <= num_modules \(4\)"):
        PathNet(IN, L, M, 5, UNITS)
    with pytest.raises(ValueError, match=r"num_layers \(0\)"):
        PathNet(IN, 0, M, N, UNITS)
    model = PathNet(IN, L, M, N, UNITS, task_classes=[2])
    with pytest.raises(ValueError, match=r"task \(1\)"):
        model(np.zeros((1, IN), np.float32), np.zeros((L, N), np.int32), task=1)


def test_layer_get_config_round_trip():
    layer = PathNetDense(num_modules=6, units=9, compute="mask", seed=3, name="modules")
    clone = PathNetDense.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.num_modules, clone.units, clone.compute) == (6, 9, "mask")


def test_model_saves_and_loads_with_dot_keras(tmp_path):
    model = PathNet(IN, L, M, N, UNITS, task_classes=[2, 3])
    model.freeze(np.array([[0, 1], [2, 3]], np.int32))
    path = np.array([[1, 3], [0, 2]], np.int32)
    x = np.random.default_rng(5).normal(size=(4, IN)).astype(np.float32)
    file = tmp_path / "pathnet.keras"
    model.save(file)
    loaded = keras.saving.load_model(file)
    assert isinstance(loaded, PathNet)
    assert loaded.get_config() == model.get_config()
    assert isinstance(loaded.module_layers[0], PathNetDense)
    np.testing.assert_array_equal(loaded.frozen.numpy(), model.frozen.numpy())
    for task in (0, 1):
        np.testing.assert_array_equal(loaded(x, path, task=task), model(x, path, task=task))


def test_freeze_and_reinitialise_keep_frozen_modules():
    model = PathNet(IN, L, M, N, UNITS, task_classes=[2])
    path = np.array([[0, 1], [3, 3]], np.int32)
    model.freeze(path)
    expected = np.zeros((L, M))
    expected[0, [0, 1]] = 1
    expected[1, 3] = 1
    np.testing.assert_array_equal(model.frozen.numpy(), expected)
    before = [layer.kernel.numpy() for layer in model.module_layers]
    model.reinitialize_unfrozen()
    for index, layer in enumerate(model.module_layers):
        after = layer.kernel.numpy()
        for m in range(M):
            if expected[index, m]:
                np.testing.assert_array_equal(after[m], before[index][m])
            else:
                assert not np.allclose(after[m], before[index][m])
