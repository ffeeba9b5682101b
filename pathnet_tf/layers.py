"""PathNet layers: M modules per layer, the active ones summed.

A PathNet layer holds the weights of all its M modules stacked along a leading axis
(`kernel: [M, in_dim, units]`, `bias: [M, units]`). `call(inputs, active)` runs only
the modules listed in `active` (`[N] int32`, a row of a genotype), applies the
activation to each module's output and **sums** them (the paper's aggregation, not the
TF1 code's sum / M). A module named twice in `active` counts once: a pathway uses
"at most N" distinct modules per layer.

The arithmetic lives in pure functions (`dense_modules`) so that the compiled training
loop can run it on loop-carried tensors; the Keras layer is a thin owner of the
variables around it.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from pathnet_tf.config import COMPUTE_MODES


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


def active_mask(active: tf.Tensor, num_modules: int) -> tf.Tensor:
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
        return tf.range(num_modules, dtype=tf.int32), active_mask(active, num_modules)
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


def dense_modules(inputs, kernel, bias, active, activation=tf.nn.relu, compute="gather"):
    """Sum of the active dense modules' outputs: `inputs: [batch, in_dim]`,
    `kernel: [M, in_dim, units]`, `bias: [M, units]`, `active: [N] int32` (duplicates
    count once) -> `[batch, units]`. `compute` as in `module_plan`."""
    indices, weights = module_plan(active, kernel.shape[0], compute)
    return dense_slots(inputs, kernel_slots(kernel, indices), tf.gather(bias, indices),
                       weights, activation)


def glorot_limit(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


@keras.saving.register_keras_serializable(package="pathnet_tf")
class PathNetDense(keras.layers.Layer):
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
        super().__init__(**kwargs)
        if not isinstance(num_modules, int) or num_modules <= 0:
            raise ValueError(f"num_modules ({num_modules}) must be a positive integer")
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"units ({units}) must be a positive integer")
        if compute not in COMPUTE_MODES:
            raise ValueError(f"compute ({compute!r}) must be one of {COMPUTE_MODES}")
        self.num_modules = num_modules
        self.units = units
        self.activation = keras.activations.get(activation)
        self.compute = compute
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

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

    def call(self, inputs, active):
        active = tf.convert_to_tensor(active, tf.int32)
        return dense_modules(
            inputs, self.kernel, self.bias, active, self.activation, self.compute
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

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_modules=self.num_modules,
            units=self.units,
            activation=keras.activations.serialize(self.activation),
            compute=self.compute,
            seed=self.seed,
        )
        return config
