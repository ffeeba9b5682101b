"""The TF1 code's variants of the model's modules (docs/protocol.md, TF1 items 6 and 7),
as pure functions `PathNet` calls when its protocol switches ask for them.

- Module kinds (`module_types="tf1"`): in every layer after the first, module j is an
  identity (j mod 3 = 0), a linear ReLU layer (j mod 3 = 1) or a residual ReLU layer,
  ReLU(Wx + b) + x (j mod 3 = 2). A layer's output is then
  `sum_s w_s · relu_s · ReLU(x W_s + b_s) + (sum_s w_s · skip_s) · x`, with
  `(relu_s, skip_s)` = (0, 1) identity, (1, 0) linear, (1, 1) residual: one matrix
  product for the planned modules, as for linear modules, plus a scaled input.
- Initialisation (`init="tf1"`): weights truncated normal σ 0.1, biases 0.1.
"""

from __future__ import annotations

import keras
import tensorflow as tf

PROTOCOL_OPTIONS = ("frozen_path", "aggregation", "module_types", "init")


def protocol_options(net) -> dict:
    """The model's protocol switches of a `PathNetConfig`, as `PathNet` keyword arguments."""
    return {name: getattr(net, name) for name in PROTOCOL_OPTIONS}


def module_kinds(num_layers: int, num_modules: int, module_types: str = "linear") -> list:
    """Per layer, each module's kind: "linear" (ReLU(Wx + b)) everywhere, or with
    `module_types="tf1"`, in every layer after the first, "identity", "linear",
    "residual" for j mod 3 = 0, 1, 2."""
    cycle = ("identity", "linear", "residual")
    return [tuple("linear" if module_types == "linear" or layer == 0 else cycle[j % 3]
                  for j in range(num_modules)) for layer in range(num_layers)]


def kind_scales(kinds) -> tuple | None:
    """One layer's module kinds -> None (all linear) or `(relu [M], skip [M])` 0/1."""
    if set(kinds) == {"linear"}:
        return None
    return (tf.constant([float(kind != "identity") for kind in kinds]),
            tf.constant([float(kind != "linear") for kind in kinds]))


def kind_weights(plan, scales) -> list:
    """Per layer, a plan's weights as the layers use them: `weights [S]` for a layer
    of linear modules (`scales` None), else `(ReLU weights [S], skip weight [])`."""
    mixed = []
    for (indices, weights), layer_scales in zip(plan, scales):
        if layer_scales is None:
            mixed.append(weights)
        else:
            relu, skip = (tf.gather(scale, indices) for scale in layer_scales)
            mixed.append((weights * relu, tf.reduce_sum(weights * skip)))
    return mixed


def stack_kind_weights(per_plan, scales) -> list:
    """`kind_weights` of B plans -> per layer `[B, S]`, or `([B, S], [B])`."""
    stacked = []
    for layer, layer_scales in enumerate(scales):
        column = [weights[layer] for weights in per_plan]
        stacked.append(tf.stack(column) if layer_scales is None else
                       (tf.stack([w for w, _ in column]), tf.stack([s for _, s in column])))
    return stacked


def with_skip(output, hidden, skip, candidates: bool = False):
    """A layer's `output` plus its input `hidden` times the skip weight (None: none);
    `candidates`: `skip: [B]`, `hidden: [B, batch, ...]`."""
    if skip is None:
        return output
    return output + (skip[:, None, None] if candidates else skip) * hidden


def tf1_initial_values(layer) -> tuple:
    """Fresh `(kernel, bias)` of all M modules of `layer`: the TF1 code's truncated
    normal σ 0.1 (cut at 2σ) and 0.1."""
    kernel = keras.random.truncated_normal(layer.kernel.shape, stddev=0.1,
                                           seed=layer.seed_generator)
    return kernel, tf.fill(layer.bias.shape, 0.1)


def tf1_readout_initializers() -> dict:
    """`keras.layers.Dense` keyword arguments for a TF1-initialised readout."""
    return {"kernel_initializer": keras.initializers.TruncatedNormal(stddev=0.1),
            "bias_initializer": keras.initializers.Constant(0.1)}
