"""PathNet layers: M modules per layer, the active ones summed.

A PathNet layer holds the weights of all its M modules stacked along a leading axis:
`PathNetDense` (`kernel: [M, in_dim, units]`, `bias: [M, units]`) and `PathNetConv2D`
(`kernel: [M, kh, kw, in_ch, filters]`, `bias: [M, filters]`). `call(inputs, active)`
runs only the modules listed in `active` (`[N] int32`, a row of a genotype), applies the
activation to each module's output and **sums** them (the paper's aggregation, not the
TF1 code's sum / M). A module named twice in `active` counts once: a pathway uses
"at most N" distinct modules per layer.

The arithmetic lives in pure functions (`dense_slots`, `conv_slots`) so that the
compiled training loop can run it on loop-carried tensors; the Keras layer is a thin
owner of the variables around it.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from pathnet_tf.core.checks import check_positive_int
from pathnet_tf.core.shapes import COMPUTE_MODES, PADDINGS, conv_output_length


def first_index(active: tf.Tensor) -> tf.Tensor:
    """`active: [N] int32` -> `[N] int32`: for each n, the first position holding the
    same module as `active[n]` (n itself unless the module is repeated)."""
    same = tf.cast(tf.equal(active[:, None], active[None, :]), tf.int32)  # [N, N]
    return tf.argmax(same, axis=1, output_type=tf.int32)


def first_occurrence(active: tf.Tensor) -> tf.Tensor:
    """`active: [N] int32` -> `[N] float32`: 1.0 where `active[n]` does not appear in
    `active[:n]`, else 0.0 (a repeated module counts once)."""
    positions = tf.range(tf.shape(active)[0], dtype=tf.int32)
    return tf.cast(tf.equal(first_index(active), positions), tf.float32)


def layer_active_mask(active: tf.Tensor, num_modules: int) -> tf.Tensor:
    """`active: [N] int32` -> `[M] float32`, 1.0 for every module named in `active`."""
    return tf.reduce_max(tf.one_hot(active, num_modules, dtype=tf.float32), axis=0)


def module_plan(active: tf.Tensor, num_modules: int, compute: str = "gather"):
    """Which module rows a layer computes for a pathway row, and their weights.

    `active: [N] int32` -> `(indices [S] int32, weights [S] float32)`. With
    compute="gather", S = N: the active modules, a repeated module weighted 0 after its
    first occurrence (cost ∝ N). With "mask", S = M: every module, weighted 1 if active
    else 0 (cost ∝ M). Both give the same outputs and gradients.
    """
    if compute == "gather":
        return active, first_occurrence(active)
    if compute == "mask":
        return tf.range(num_modules, dtype=tf.int32), layer_active_mask(active, num_modules)
    raise ValueError(f"compute ({compute!r}) must be one of {COMPUTE_MODES}")


def dense_slots(inputs, kernels, biases, weights, activation=tf.nn.relu):
    """Weighted sum of S dense modules' activated outputs, one matrix product.

    `inputs: [batch, in_dim]`, `kernels: [in_dim, S, units]` (the slot layout: the S
    modules side by side, so that `inputs @ kernels` is one `[in_dim, S*units]`
    product), `biases: [S, units]`, `weights: [S]` -> `[batch, units]`.
    """
    in_dim, slots, units = kernels.shape
    h = tf.matmul(inputs, tf.reshape(kernels, [in_dim, slots * units]))
    h = activation(tf.reshape(h, [-1, slots, units]) + biases)
    return tf.einsum("bsu,s->bu", h, weights)


def kernel_slots(kernel, indices):
    """`kernel: [M, in_dim, units]` rows `indices: [S]` -> slot layout `[in_dim, S, units]`."""
    return tf.transpose(tf.gather(kernel, indices), [1, 0, 2])


def kernel_rows(slots):
    """Slot layout `[in_dim, S, units]` -> rows `[S, in_dim, units]`."""
    return tf.transpose(slots, [1, 0, 2])


def glorot_limit(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


class ModuleLayer(keras.layers.Layer):
    """What every PathNet layer shares: M modules stacked along the leading axis of
    `kernel` and `bias`, an activation applied to each module's output, the compute
    mode (`module_plan`) and a seeded initialiser.

    `call(inputs, active)` runs through the same slot layout the compiled training
    loop uses (`to_slots`, `apply_slots`), so a layer call and a training step share
    one code path. Subclasses define `build`, `initial_kernel`, the four slot methods
    and `compute_output_shape`.
    """

    def __init__(self, num_modules: int = 10, activation="relu", compute: str = "gather",
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("num_modules", num_modules)
        if compute not in COMPUTE_MODES:
            raise ValueError(f"compute ({compute!r}) must be one of {COMPUTE_MODES}")
        self.num_modules = num_modules
        self.activation = keras.activations.get(activation)
        self.compute = compute
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, active):
        indices, weights = module_plan(tf.convert_to_tensor(active, tf.int32),
                                       self.num_modules, self.compute)
        return self.apply_slots(inputs, *self.to_slots(self.kernel, self.bias, indices),
                                weights)

    # -- the B candidates of a tournament side by side -------------------------------
    # The fair tournament trains its B candidates in one loop: each weight of the B
    # candidates is one stacked tensor (the "candidate layout"). This generic layout
    # stacks the slot layouts along a leading axis and computes candidate by candidate;
    # `PathNetDense` overrides it to fuse the candidates' products. `shared`: all the
    # candidates see the same input (the first layer); otherwise inputs are `[B, ...]`.

    def stack_candidates(self, kernels, biases, shared: bool, masks: bool = False):
        """B candidates' slot-layout kernels and biases (or optimizer slots; or their
        `slot_masks` when `masks`) -> `(kernel, bias)` in the candidate layout."""
        del shared, masks
        return tf.stack(kernels), tf.stack(biases)

    def unstack_candidates(self, kernel, bias, shared: bool):
        """Inverse of `stack_candidates`: `(B kernels, B biases)`, slot layout."""
        del shared
        return tf.unstack(kernel), tf.unstack(bias)

    def apply_candidates(self, inputs, kernel, bias, weights, shared: bool):
        """`[B, batch, ...]` outputs of B candidates (candidate layout, `weights: [B, S]`)
        from `inputs` (`[batch, ...]` if `shared`, else `[B, batch, ...]`)."""
        return tf.stack([self.apply_slots(inputs if shared else inputs[b], kernel[b],
                                          bias[b], weights[b])
                         for b in range(kernel.shape[0])])

    def get_config(self):
        config = super().get_config()
        config.update(num_modules=self.num_modules, compute=self.compute, seed=self.seed,
                      activation=keras.activations.serialize(self.activation))
        return config


@keras.saving.register_keras_serializable(package="pathnet_tf")
class PathNetDense(ModuleLayer):
    """A layer of `num_modules` (M) dense modules of `units` units each.

    `call(inputs, active)`: `inputs: [batch, in_dim]`, `active: [N] int32` ->
    `[batch, units]`, the sum of the active modules' activated outputs. Each module is
    initialised Glorot-uniform with its own fans (in_dim, units); biases start at zero.
    """

    def __init__(
        self,
        num_modules: int = 10,
        units: int = 20,
        activation="relu",
        compute: str = "gather",
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(num_modules, activation, compute, seed, **kwargs)
        check_positive_int("units", units)
        self.units = units

    def build(self, input_shape):
        in_dim = int(input_shape[-1])
        self.in_dim = in_dim
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.num_modules, in_dim, self.units),
            initializer=lambda shape, dtype=None: self.initial_kernel(),
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.num_modules, self.units), initializer="zeros"
        )

    def initial_kernel(self) -> tf.Tensor:
        """A fresh draw of all M kernels, `[M, in_dim, units]` (used at build and re-init)."""
        limit = glorot_limit(self.in_dim, self.units)
        return keras.random.uniform(
            (self.num_modules, self.in_dim, self.units),
            minval=-limit,
            maxval=limit,
            seed=self.seed_generator,
        )

    # -- the slot layout, used by the compiled training loop -------------------------
    # Training gathers the S planned modules of each weight once per candidate, trains
    # them for T steps and writes them back. Any PathNet layer offers these four.

    def to_slots(self, kernel, bias, indices):
        """Rows `indices: [S]` of `kernel: [M, in, units]`, `bias: [M, units]` (or
        optimizer slots of those shapes) -> `(kernel [in, S, units], bias [S, units])`."""
        return kernel_slots(kernel, indices), tf.gather(bias, indices)

    def from_slots(self, kernel, bias):
        """Inverse of `to_slots`: `(kernel rows [S, in, units], bias rows [S, units])`."""
        return kernel_rows(kernel), bias

    def slot_masks(self, trainable):
        """`trainable: [S] bool` -> masks broadcastable to the slot kernel and bias."""
        return trainable[None, :, None], trainable[:, None]

    def apply_slots(self, inputs, kernel, bias, weights):
        """Outputs `[batch, units]` from slot-layout weights; inputs are flattened."""
        if inputs.shape.rank != 2:
            inputs = tf.reshape(inputs, [-1, self.in_dim])
        return dense_slots(inputs, kernel, bias, weights, self.activation)

    # -- the candidate layout: B candidates' modules side by side --------------------
    # Kernels `[B, in, S*units]`, one batched product per layer for all B candidates
    # (forward and backward); biases `[B, S, units]`. Each candidate keeps its own 2-D
    # `[in, S*units]` block and its update masks are broadcast to full rows: XLA's
    # elementwise update of a 2-D block is ~3x faster than of the same values as
    # `[in, S, units]`. (One `[in, B*S*units]` product for the shared first layer
    # would be a little faster still, but it rounds differently from one candidate's
    # `[in, S*units]` product, so results would no longer be bit-identical to
    # training the candidates one by one; a batched product rounds as they do.)

    def stack_candidates(self, kernels, biases, shared: bool, masks: bool = False):
        del shared
        if masks:  # [1, S, 1] -> [1, S, units]
            kernels = [tf.broadcast_to(k, [1, k.shape[1], self.units]) for k in kernels]
        in_dim, slots = kernels[0].shape[0], kernels[0].shape[1]
        kernel = tf.reshape(tf.stack(kernels), [len(kernels), in_dim, slots * self.units])
        return kernel, tf.stack(biases)

    def unstack_candidates(self, kernel, bias, shared: bool):
        del shared
        candidates, slots = bias.shape[0], bias.shape[1]
        return (tf.unstack(tf.reshape(kernel, [candidates, -1, slots, self.units])),
                tf.unstack(bias))

    def apply_candidates(self, inputs, kernel, bias, weights, shared: bool):
        candidates, slots, units = bias.shape
        in_dim = kernel.shape[1]
        if shared:
            inputs = tf.broadcast_to(tf.reshape(inputs, [1, -1, in_dim]),
                                     [candidates, tf.shape(inputs)[0], in_dim])
        else:
            inputs = tf.reshape(inputs, [candidates, -1, in_dim])
        h = tf.matmul(inputs, kernel)  # [B, batch, S*units]
        h = self.activation(tf.reshape(h, [candidates, -1, slots, units]) + bias[:, None])
        # A multiply-and-reduce, not an einsum: XLA fuses it into one loop, where the
        # einsum became a transpose and a tiny dot (forward and backward).
        return tf.reduce_sum(h * weights[:, None, :, None], axis=2)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


# -- convolutional modules -----------------------------------------------------------
#
# A conv layer stacks its M modules' kernels as `[M, kh, kw, in_ch, filters]`. Its slot
# layout puts the S planned modules side by side along the output-channel axis,
# `[kh, kw, in_ch, S*filters]`, so that one `tf.nn.conv2d` computes all S modules.

def conv_kernel_slots(kernel, indices):
    """`kernel: [M, kh, kw, in_ch, filters]` rows `indices: [S]` -> slot layout
    `[kh, kw, in_ch, S*filters]` (module s owns channels `s*filters:(s+1)*filters`)."""
    _, kh, kw, in_ch, filters = kernel.shape
    slots = tf.transpose(tf.gather(kernel, indices), [1, 2, 3, 0, 4])  # [kh, kw, in, S, f]
    return tf.reshape(slots, [kh, kw, in_ch, -1])


def conv_kernel_rows(slots, filters: int):
    """Slot layout `[kh, kw, in_ch, S*filters]` -> rows `[S, kh, kw, in_ch, filters]`."""
    kh, kw, in_ch, _ = slots.shape
    return tf.transpose(tf.reshape(slots, [kh, kw, in_ch, -1, filters]), [3, 0, 1, 2, 4])


def conv_slots(inputs, kernels, biases, weights, strides, padding, activation=tf.nn.relu):
    """Weighted sum of S conv modules' activated outputs, one convolution.

    `inputs: [batch, height, width, in_ch]`, `kernels: [kh, kw, in_ch, S*filters]` (slot
    layout), `biases: [S, filters]`, `weights: [S]`, `strides: (sh, sw)`, `padding`
    "valid" or "same" -> `[batch, out_height, out_width, filters]`.
    """
    filters = biases.shape[-1]
    h = tf.nn.conv2d(inputs, kernels, strides=list(strides), padding=padding.upper())
    h = tf.reshape(h, tf.concat([tf.shape(h)[:3], [-1, filters]], 0))
    h = activation(h + biases)  # [batch, out_h, out_w, S, filters]
    return tf.einsum("bhwsf,s->bhwf", h, weights)


def _pair(name, value):
    """A positive int or a pair of them -> a pair (kernel_size, strides)."""
    if isinstance(value, int):
        values = (value, value)
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = ()
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0
                               for v in values):
        raise ValueError(f"{name} ({value!r}) must be a positive integer or a pair of them")
    return values


@keras.saving.register_keras_serializable(package="pathnet_tf")
class PathNetConv2D(ModuleLayer):
    """A layer of `num_modules` (M) convolutional modules of `filters` kernels each.

    `call(inputs, active)`: `inputs: [batch, height, width, in_ch]`, `active: [N] int32`
    -> `[batch, out_height, out_width, filters]`, the sum of the active modules'
    activated outputs (a module named twice counts once). Weights: `kernel: [M, kh, kw,
    in_ch, filters]`, `bias: [M, filters]`. Each module is initialised Glorot-uniform
    with its own fans (kh·kw·in_ch, kh·kw·filters); biases start at zero.

    Args:
      num_modules: M. filters: kernels (output channels) per module.
      kernel_size, strides: an int or a pair (height, width).
      padding: "valid" or "same". activation: applied to each module's output.
      compute: "gather" (cost ∝ N) or "mask" (cost ∝ M), see `module_plan`.
      seed: seed of the initialiser's `SeedGenerator`.
    """

    def __init__(
        self,
        num_modules: int = 10,
        filters: int = 8,
        kernel_size=3,
        strides=1,
        padding: str = "valid",
        activation="relu",
        compute: str = "gather",
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(num_modules, activation, compute, seed, **kwargs)
        check_positive_int("filters", filters)
        self.kernel_size = _pair("kernel_size", kernel_size)
        self.strides = _pair("strides", strides)
        if padding not in PADDINGS:
            raise ValueError(f"padding ({padding!r}) must be one of {PADDINGS}")
        self.filters = filters
        self.padding = padding

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"input_shape ({input_shape!r}) must be [batch, height, width, "
                             "channels] with known channels")
        self.in_channels = int(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.num_modules, *self.kernel_size, self.in_channels, self.filters),
            initializer=lambda shape, dtype=None: self.initial_kernel(),
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.num_modules, self.filters), initializer="zeros"
        )

    def initial_kernel(self) -> tf.Tensor:
        """A fresh draw of all M kernels, `[M, kh, kw, in_ch, filters]`."""
        receptive_field = self.kernel_size[0] * self.kernel_size[1]
        limit = glorot_limit(receptive_field * self.in_channels, receptive_field * self.filters)
        return keras.random.uniform(
            (self.num_modules, *self.kernel_size, self.in_channels, self.filters),
            minval=-limit,
            maxval=limit,
            seed=self.seed_generator,
        )

    # -- the slot layout (see PathNetDense) ------------------------------------------

    def to_slots(self, kernel, bias, indices):
        """Rows `indices: [S]` of `kernel: [M, kh, kw, in, f]`, `bias: [M, f]` (or
        optimizer slots of those shapes) -> `(kernel [kh, kw, in, S*f], bias [S, f])`."""
        return conv_kernel_slots(kernel, indices), tf.gather(bias, indices)

    def from_slots(self, kernel, bias):
        """Inverse of `to_slots`: `(kernel rows [S, kh, kw, in, f], bias rows [S, f])`."""
        return conv_kernel_rows(kernel, self.filters), bias

    def slot_masks(self, trainable):
        """`trainable: [S] bool` -> masks broadcastable to the slot kernel
        (`[1, 1, 1, S*f]`, each module's flag repeated over its f channels) and bias."""
        channels = tf.reshape(tf.tile(trainable[:, None], [1, self.filters]), [-1])
        return channels[None, None, None, :], trainable[:, None]

    def apply_slots(self, inputs, kernel, bias, weights):
        """Outputs `[batch, out_h, out_w, filters]` from slot-layout weights."""
        return conv_slots(inputs, kernel, bias, weights, self.strides, self.padding,
                          self.activation)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        out = [None if size is None else conv_output_length(size, k, s, self.padding)
               for size, k, s in zip((height, width), self.kernel_size, self.strides)]
        return (batch, *out, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding}
