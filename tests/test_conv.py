"""PathNetConv2D and conv PathNets: arithmetic, gradients, slot layout, compiled
training (one trace, frozen = bit-identical, the SGD reference), serialisation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pathnet_tf.core.layers import PathNetConv2D, PathNetDense
from pathnet_tf.core.model import PathNet
from pathnet_tf.core.optimizers import make_optimizer
from pathnet_tf.evolution.training import TaskTrainer

M, N, FILTERS, CHANNELS = 4, 2, 3, 2
IMAGE = (9, 9, CHANNELS)
# L = 3: two conv layers (9x9 -> 4x4 -> 3x3) then a dense layer of 5-unit modules.
CONV_LAYERS = [(3, 3, 2), (2, 2, 1)]
L, UNITS, CLASSES = 3, 5, 2
T, BATCH = 3, 4


def numpy_conv_valid(x, kernel, stride):
    """Reference 'valid' convolution: `x: [b, h, w, c]`, `kernel: [kh, kw, c, f]`."""
    kh, kw = kernel.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    windows = windows[:, ::stride, ::stride]  # [b, oh, ow, c, kh, kw]
    return np.einsum("bijcyx,yxcf->bijf", windows, kernel)


def reference(x, kernel, bias, active, stride):
    """Sum over the distinct active modules of relu(conv(x, W_m) + b_m)."""
    out = 0.0
    for m in sorted(set(int(a) for a in active)):
        out = out + np.maximum(numpy_conv_valid(x, kernel[m], stride) + bias[m], 0.0)
    return out


def make_layer(compute="gather", padding="valid", seed=1, kernel_size=3, strides=2):
    layer = PathNetConv2D(num_modules=M, filters=FILTERS, kernel_size=kernel_size,
                          strides=strides, padding=padding, compute=compute, seed=seed)
    layer.build((None, *IMAGE))
    layer.bias.assign(np.random.default_rng(0).normal(size=(M, FILTERS)).astype(np.float32))
    return layer


def images(seed, batch=3):
    return np.random.default_rng(seed).normal(size=(batch, *IMAGE)).astype(np.float32)


def make_model(compute="gather", task_classes=(CLASSES,)):
    return PathNet(input_shape=IMAGE, num_layers=L, num_modules=M, num_active=N,
                   units=UNITS, conv_layers=CONV_LAYERS, compute=compute,
                   task_classes=task_classes)


# -- the layer -----------------------------------------------------------------------

@pytest.mark.parametrize("padding, kernel_size, strides, expected", [
    ("valid", 3, 2, (4, 4)), ("same", 3, 2, (5, 5)), ("valid", (3, 2), (1, 3), (7, 3))])
def test_output_shape(padding, kernel_size, strides, expected):
    layer = make_layer(padding=padding, kernel_size=kernel_size, strides=strides)
    out = layer(images(0), np.array([0, 2], np.int32))
    assert out.shape == (3, *expected, FILTERS)
    assert layer.compute_output_shape((None, *IMAGE)) == (None, *expected, FILTERS)
    assert layer.kernel.shape == (M, *layer.kernel_size, CHANNELS, FILTERS)
    assert layer.bias.shape == (M, FILTERS)


@pytest.mark.parametrize("compute", ["gather", "mask"])
@pytest.mark.parametrize("active", [[0, 2], [3, 1], [2, 2]])
def test_layer_sums_active_modules_like_numpy(compute, active):
    layer = make_layer(compute)
    x = images(1)
    out = layer(x, np.array(active, np.int32))
    expected = reference(x, layer.kernel.numpy(), layer.bias.numpy(), active, stride=2)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_same_padding_matches_one_conv2d_per_module():
    layer = make_layer(padding="same")
    x = images(2)
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    expected = sum(tf.nn.relu(tf.nn.conv2d(x, kernel[m], 2, "SAME") + bias[m]) for m in (1, 3))
    np.testing.assert_allclose(layer(x, np.array([3, 1], np.int32)), expected,
                               rtol=1e-5, atol=1e-5)


def test_modules_are_initialised_glorot_uniform_with_their_own_fans():
    layer = make_layer()
    kernel = layer.kernel.numpy()
    assert not np.allclose(kernel[0], kernel[1])
    limit = np.sqrt(6.0 / (9 * CHANNELS + 9 * FILTERS))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit


@pytest.mark.parametrize("compute", ["gather", "mask"])
def test_gradients_reach_only_active_modules(compute):
    layer = make_layer(compute)
    x = tf.constant(images(3))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, tf.constant([1, 3])) ** 2)
    grads = tape.gradient(loss, [layer.kernel.value, layer.bias.value])
    grad_kernel, grad_bias = (tf.convert_to_tensor(g).numpy() for g in grads)
    for m in (0, 2):
        assert np.all(grad_kernel[m] == 0) and np.all(grad_bias[m] == 0)
    for m in (1, 3):
        assert np.any(grad_kernel[m] != 0)


def test_gather_and_mask_agree_on_outputs_and_gradients():
    gather, mask = make_layer("gather"), make_layer("mask")
    mask.kernel.assign(gather.kernel)
    x = tf.constant(images(4))
    active = tf.constant([2, 0])
    outputs, grads = [], []
    for layer in (gather, mask):
        with tf.GradientTape() as tape:
            out = layer(x, active)
            loss = tf.reduce_sum(tf.sin(out))
        outputs.append(out.numpy())
        grads.append([tf.convert_to_tensor(g).numpy()
                      for g in tape.gradient(loss, [layer.kernel.value, layer.bias.value])])
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)
    for g_gather, g_mask in zip(*grads):
        np.testing.assert_allclose(g_gather, g_mask, rtol=1e-5, atol=1e-6)


def test_slot_layout_round_trips_and_computes_the_layer():
    layer = make_layer()
    indices = tf.constant([3, 0, 3])
    kernel_slots, bias_slots = layer.to_slots(layer.kernel, layer.bias, indices)
    assert kernel_slots.shape == (3, 3, CHANNELS, 3 * FILTERS)
    # Module s owns output channels s*f:(s+1)*f.
    np.testing.assert_array_equal(kernel_slots[..., FILTERS:2 * FILTERS],
                                  layer.kernel.numpy()[0])
    kernel_rows, bias_rows = layer.from_slots(kernel_slots, bias_slots)
    np.testing.assert_array_equal(kernel_rows, tf.gather(layer.kernel, indices))
    np.testing.assert_array_equal(bias_rows, tf.gather(layer.bias, indices))
    weights = tf.constant([1.0, 1.0, 0.0])  # the repeated module counts once
    x = images(5)
    np.testing.assert_allclose(layer.apply_slots(x, kernel_slots, bias_slots, weights),
                               layer(x, tf.constant([3, 0])), rtol=1e-6, atol=1e-6)
    kernel_mask, bias_mask = layer.slot_masks(tf.constant([True, False, True]))
    full = tf.broadcast_to(kernel_mask, kernel_slots.shape).numpy()
    assert full[..., :FILTERS].all() and not full[..., FILTERS:2 * FILTERS].any()
    assert full[..., 2 * FILTERS:].all()
    np.testing.assert_array_equal(tf.broadcast_to(bias_mask, bias_slots.shape)[:, 0],
                                  [True, False, True])


def test_layer_validates_arguments():
    with pytest.raises(ValueError, match=r"num_modules \(0\)"):
        PathNetConv2D(num_modules=0)
    with pytest.raises(ValueError, match=r"filters \(-2\)"):
        PathNetConv2D(filters=-2)
    with pytest.raises(ValueError, match=r"kernel_size \(\(3, 0\)\)"):
        PathNetConv2D(kernel_size=(3, 0))
    with pytest.raises(ValueError, match=r"strides \(1.5\)"):
        PathNetConv2D(strides=1.5)
    with pytest.raises(ValueError, match="padding"):
        PathNetConv2D(padding="full")
    with pytest.raises(ValueError, match="compute"):
        PathNetConv2D(compute="all")


def test_layer_get_config_round_trip():
    layer = PathNetConv2D(num_modules=6, filters=8, kernel_size=(5, 3), strides=2,
                          padding="same", compute="mask", seed=3, name="conv_modules")
    clone = PathNetConv2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.kernel_size, clone.strides, clone.padding) == ((5, 3), (2, 2), "same")


# -- the model -----------------------------------------------------------------------

def test_conv_pathnet_structure_and_validation():
    model = make_model()
    assert [type(layer) for layer in model.module_layers] == [
        PathNetConv2D, PathNetConv2D, PathNetDense]
    assert model.example_shape == IMAGE and model.num_layers == L
    assert model.module_layers[2].in_dim == 3 * 3 * 2 and model.feature_dim == UNITS
    with pytest.raises(ValueError, match="input_shape"):
        PathNet(81, L, M, N, UNITS, conv_layers=CONV_LAYERS)
    with pytest.raises(ValueError, match=r"conv_layers \(2 layers\)"):
        PathNet(input_shape=IMAGE, num_layers=1, conv_layers=CONV_LAYERS)
    with pytest.raises(ValueError, match=r"conv_layers\[1\].*leaves no output"):
        PathNet(input_shape=IMAGE, conv_layers=[(3, 3, 2), (2, 5, 1)])
    with pytest.raises(ValueError, match=r"conv_layers\[0\]"):
        PathNet(input_shape=IMAGE, conv_layers=[(3, 3)])
    with pytest.raises(ValueError, match=r"input_dim \(10\)"):
        PathNet(10, input_shape=IMAGE)
    with pytest.raises(ValueError, match="input_dim or input_shape"):
        PathNet()


def test_the_papers_atari_stack():
    """L=4, M=10, N=4: conv modules of 8 kernels (8x8 stride 4, 4x4 stride 2, 3x3
    stride 1), then a dense layer of modules; genotypes stay [L, N]."""
    model = PathNet(input_shape=(84, 84, 3), num_layers=4, num_modules=10, num_active=4,
                    units=20, conv_layers=[(8, 8, 4), (8, 4, 2), (8, 3, 1)],
                    task_classes=[6])
    shapes = [layer.kernel.shape for layer in model.module_layers]
    assert shapes == [(10, 8, 8, 3, 8), (10, 4, 4, 8, 8), (10, 3, 3, 8, 8), (10, 392, 20)]
    x = np.random.default_rng(9).uniform(size=(2, 84, 84, 3)).astype(np.float32)
    path = np.random.default_rng(9).integers(0, 10, size=(4, 4)).astype(np.int32)
    assert model(x, path).shape == (2, 6)


def test_all_conv_layers_feed_the_readout_flattened():
    model = PathNet(input_shape=IMAGE, num_layers=2, num_modules=M, num_active=N,
                    conv_layers=CONV_LAYERS, task_classes=[3])
    assert model.feature_dim == 3 * 3 * 2
    assert model(images(6), np.array([[0, 1], [2, 3]], np.int32)).shape == (3, 3)


def test_eager_equals_compiled():
    model = make_model(task_classes=[3])
    x = images(7, batch=5)
    path = np.array([[0, 3], [2, 1], [1, 1]], np.int32)
    eager = model(x, path, task=0)
    compiled = tf.function(lambda x, p: model(x, p, task=0))(x, path)
    xla = tf.function(lambda x, p: model(x, p, task=0), jit_compile=True)(x, path)
    assert eager.shape == (5, 3)
    np.testing.assert_allclose(eager, compiled, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eager, xla, rtol=1e-5, atol=1e-6)


def test_conv_pathnet_get_config_and_dot_keras_round_trip(tmp_path):
    model = make_model(task_classes=[2, 3])
    model.freeze(np.array([[0, 1], [2, 3], [1, 1]], np.int32))
    config = model.get_config()
    assert config["input_shape"] == list(IMAGE)
    assert config["conv_layers"] == [list(layer) for layer in CONV_LAYERS]
    assert PathNet.from_config(config).get_config() == config
    file = tmp_path / "conv_pathnet.keras"
    model.save(file)
    loaded = keras.saving.load_model(file)
    assert isinstance(loaded, PathNet) and loaded.get_config() == config
    assert isinstance(loaded.module_layers[0], PathNetConv2D)
    np.testing.assert_array_equal(loaded.frozen.numpy(), model.frozen.numpy())
    x, path = images(8), np.array([[1, 3], [0, 2], [3, 0]], np.int32)
    for task in (0, 1):
        np.testing.assert_array_equal(loaded(x, path, task=task), model(x, path, task=task))


def test_reinitialise_keeps_frozen_conv_modules():
    model = make_model()
    model.freeze(np.array([[0, 1], [3, 3], [2, 0]], np.int32))
    before = [layer.kernel.numpy() for layer in model.module_layers]
    model.reinitialize_unfrozen()
    frozen = model.frozen.numpy()
    for index, layer in enumerate(model.module_layers):
        for m in range(M):
            same = np.array_equal(layer.kernel.numpy()[m], before[index][m])
            assert same == bool(frozen[index, m])


# -- compiled training ---------------------------------------------------------------

def make_data(seed=0, n=24):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *IMAGE)).astype(np.float32)
    return x, (x[:, 4, 4, 0] > 0).astype(np.int32)


def make_trainer(optimizer="sgd", learning_rate=0.1, jit_compile=False, seed=0):
    tf.keras.utils.set_random_seed(seed)
    model = make_model(task_classes=())
    task = model.add_task(CLASSES)
    x, y = make_data()
    trainer = TaskTrainer(model, task, x, y, make_optimizer(optimizer, learning_rate),
                          jit_compile=jit_compile)
    return model, trainer


def batches(rng, steps=T, batch=BATCH, n=24):
    return rng.integers(0, n, size=(steps, batch)).astype(np.int32)


def test_tournament_traces_once_across_a_hundred_paths():
    model, trainer = make_trainer()
    rng = np.random.default_rng(0)
    x, y = make_data()
    for i in range(100):
        paths = rng.integers(0, M, size=(2, L, N)).astype(np.int32)
        trainer.run_tournament(paths, batches(rng, steps=(1, 2)[i % 2], batch=(1, 3, 5)[i % 3]))
        trainer.evaluate(paths[0], x[: 3 + i % 4], y[: 3 + i % 4])
    assert set(trainer.tracing_counts().values()) == {1}


def test_tournament_traces_once_with_xla_too():
    model, trainer = make_trainer(jit_compile=True)
    rng = np.random.default_rng(1)
    for i in range(12):
        trainer.run_tournament(rng.integers(0, M, size=(2, L, N)).astype(np.int32),
                               batches(rng, batch=(2, 5)[i % 2]))
    assert trainer.tracing_counts()["tournament"] == 1


def test_trained_winner_equals_plain_sgd_on_the_full_variables():
    """The slot layout is gathered, trained and written back: the result must be plain
    SGD on the stacked variables (only the path's modules move)."""
    model, trainer = make_trainer()
    x, y = make_data()
    indices = batches(np.random.default_rng(2))
    path = np.array([[0, 1], [3, 3], [2, 0]], np.int32)  # a repeated module trains once
    params = [tf.Variable(v.numpy()) for v in model.task_variables(0)]
    for index in indices:
        with tf.GradientTape() as tape:
            logits = model.apply([p.value() for p in params], tf.gather(x, index), path, 0)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.gather(y, index), logits=logits))
        for p, g in zip(params, tape.gradient(loss, params)):
            p.assign_sub(0.1 * tf.convert_to_tensor(g))
    trainer.run_tournament(np.stack([path, path]), indices)  # identical candidates
    for got, want in zip(model.task_variables(0), params):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_frozen_conv_modules_stay_bit_identical_through_task_b(optimizer):
    model, trainer_a = make_trainer(optimizer, learning_rate=0.05)
    rng = np.random.default_rng(4)
    for _ in range(3):
        trainer_a.run_tournament(rng.integers(0, M, size=(2, L, N)).astype(np.int32),
                                 batches(rng))
    model.freeze(np.array([[0, 1], [2, 2], [3, 0]], np.int32))
    model.reinitialize_unfrozen()
    frozen = model.frozen.numpy() > 0.5
    before = [(layer.kernel.numpy(), layer.bias.numpy()) for layer in model.module_layers]
    task_b = model.add_task(CLASSES)
    x, y = make_data(seed=1)
    trainer_b = TaskTrainer(model, task_b, x, 1 - y, make_optimizer(optimizer, 0.05),
                            jit_compile=False)
    # Every candidate runs through frozen modules next to trainable ones.
    paths = np.array([[[0, 3], [2, 1], [3, 1]], [[1, 2], [2, 0], [0, 2]]], np.int32)
    for _ in range(4):
        trainer_b.run_tournament(paths, batches(rng))
    moved = False
    for (kernel, bias), layer, keep in zip(before, model.module_layers, frozen):
        np.testing.assert_array_equal(layer.kernel.numpy()[keep], kernel[keep])
        np.testing.assert_array_equal(layer.bias.numpy()[keep], bias[keep])
        moved |= not np.array_equal(layer.kernel.numpy()[~keep], kernel[~keep])
    assert moved  # ... while the unfrozen modules on those paths did learn
