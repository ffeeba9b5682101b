"""Synchronous advantage actor-critic (A2C) for W workers on one shared PathNet.

Each worker has its own pathway (`[L, N]` module indices) and its own batch of E
environments. All workers are computed in one batch: every layer runs its M modules
once on the whole batch (one convolution or one matrix product for all workers) and
each example weights the modules' activated outputs by its worker's pathway mask
(`[M]`, 1 for an active module), so a worker's gradients reach only its own active
modules, and the pathways are a tensor argument: one trace whatever the paths.

`A2CLearner.act(frames [W, E, *frame], paths [W, L, N])` -> `(logits [W, E, A],
values [W, E])`; `update(frames [T+1, W, E, ...], actions, rewards, dones [T, W, E],
paths)` is one compiled call: n-step returns bootstrapped from the last frame's
value, advantages, the policy-gradient, value and entropy terms, gradients clipped by
global norm, one masked Adam step (or RMSProp's, `config.optimizer`) on the shared
weights. The update mask is the modules some worker uses and that are not frozen
(`model.frozen`), plus the game's two heads: frozen rows and their optimizer slots stay
bit-identical (`optimizers.py`).

Switches of issue 25 (off by default): `head_learning_rate` gives the game's two heads
their own Adam rate; `config.frozen_output_scale` multiplies the last module layer's
frozen modules' outputs (`frozen_scale_row`); `value_warmup=True` (game B's learner when
`config.value_warmup_b` > 0) weights the policy and entropy terms by `policy_weight`
(a variable, 1), set to 0 by the runner for game B's first `value_warmup_b` updates, so that only
the value loss trains while the fresh value head learns its baseline (the entropy
bonus is off with the policy term); `config.layer_scale` multiplies every
layer's sum of its active modules (1: the paper's sum; 1/N: their mean; 1/M: the TF1
code's `sum / M`), which sets the features' size the heads and Adam's steps see.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from pathnet_tf.core.layers import PathNetConv2D
from pathnet_tf.core.model import PathNet
from pathnet_tf.core.optimizers import MaskedAdam, MaskedRMSProp


def build_model(config) -> PathNet:
    """The PathNet trunk of `config` (a `MinAtarConfig`) on its games' frames
    (`config.frame_shape`); heads are added per game by `A2CLearner`."""
    return PathNet(input_shape=config.frame_shape, num_layers=config.num_layers,
                   num_modules=config.num_modules, num_active=config.num_active,
                   units=config.units, conv_layers=config.conv_layers, compute="mask")


def n_step_returns(rewards, dones, bootstrap, discount: float):
    """`rewards, dones: [T, ...]` (dones 1.0 where the episode ended after that step),
    `bootstrap: [...]` (the value of the frame after the last step) -> `[T, ...]`:
    R_t = r_t + discount · (1 - done_t) · R_{t+1}, R_T = bootstrap."""
    running = bootstrap
    returns = []
    for t in reversed(range(rewards.shape[0])):
        running = rewards[t] + discount * (1.0 - dones[t]) * running
        returns.append(running)
    return tf.stack(returns[::-1])


def module_weights(paths, num_modules: int, repeats: int):
    """`paths: [W, L, N] int32` -> `[L, W*repeats, M] float32`: per example (worker w's
    `repeats` examples in a row), 1.0 for each module its worker's pathway uses."""
    masks = tf.reduce_max(tf.one_hot(paths, num_modules, dtype=tf.float32), axis=2)
    return tf.transpose(tf.repeat(masks, repeats, axis=0), [1, 0, 2])


def frozen_scale_row(model: PathNet, frozen_scale: float):
    """`[M]`: `frozen_scale` for the last module layer's frozen modules, 1 elsewhere,
    or None when `frozen_scale` is 1 (the default: nothing is multiplied). Only the
    last layer's outputs (the features the heads read) are scaled: scaling an earlier
    layer would change what the frozen modules above it receive, and a frozen path
    would no longer compute game A's features."""
    if frozen_scale == 1.0:
        return None
    frozen = tf.convert_to_tensor(model.frozen)[-1]
    return 1.0 + (frozen_scale - 1.0) * tf.cast(frozen > 0.5, tf.float32)


def features_mask(model: PathNet, params, frames, paths, repeats: int,
                  frozen_scale: float = 1.0, layer_scale: float = 1.0):
    """compute="mask": every layer runs all M modules on the whole batch (one
    convolution or product for all workers); each example weights the modules' outputs
    by its worker's pathway mask. `frames: [W*repeats, *frame]` (worker w's
    `repeats` examples in a row), `paths: [W, L, N]` -> `[W*repeats, units]`, from
    `params` ordered as `[kernel_0, bias_0, ..., kernel_{L-1}, bias_{L-1}, ...]`.
    `frozen_scale`: the factor on the last layer's frozen modules (`frozen_scale_row`);
    `layer_scale`: the factor on every layer's sum (1: none)."""
    weights = module_weights(paths, model.num_modules, repeats)
    if layer_scale != 1.0:
        weights = weights * layer_scale
    scale = frozen_scale_row(model, frozen_scale)
    if scale is not None:
        weights = tf.concat([weights[:-1], weights[-1:] * scale], 0)
    every_module = tf.range(model.num_modules, dtype=tf.int32)
    hidden = frames
    for index, layer in enumerate(model.module_layers):
        kernel, bias = layer.to_slots(params[2 * index], params[2 * index + 1], every_module)
        if isinstance(layer, PathNetConv2D):
            h = tf.nn.conv2d(hidden, kernel, strides=list(layer.strides),
                             padding=layer.padding.upper())
            h = tf.reshape(h, tf.concat([tf.shape(h)[:3], [model.num_modules,
                                                           layer.filters]], 0))
            h = layer.activation(h + bias)  # [batch, h, w, M, filters]
            hidden = tf.einsum("bhwmf,bm->bhwf", h, weights[index])
        else:
            flat = tf.reshape(hidden, [-1, layer.in_dim])
            in_dim, modules, units = kernel.shape
            h = tf.matmul(flat, tf.reshape(kernel, [in_dim, modules * units]))
            h = layer.activation(tf.reshape(h, [-1, modules, units]) + bias)
            hidden = tf.einsum("bmu,bm->bu", h, weights[index])
    return tf.reshape(hidden, [-1, model.feature_dim])


def features_gather(model: PathNet, params, frames, paths, repeats: int,
                    frozen_scale: float = 1.0, layer_scale: float = 1.0):
    """compute="gather" (cost ∝ N): each worker's N active kernels are gathered and
    applied to its own examples as one batched product per layer (convolutions as
    image patches times the worker's `[kh·kw·in, N·filters]` kernel); a module named
    twice in a row of the pathway counts once. Same arguments as `features_mask`."""
    workers, num_active = paths.shape[0], paths.shape[2]
    scale = frozen_scale_row(model, frozen_scale)
    hidden = frames
    for index, layer in enumerate(model.module_layers):
        active = paths[:, index]  # [W, N]
        same = tf.cast(tf.equal(active[:, :, None], active[:, None, :]), tf.int32)
        first = tf.cast(tf.equal(tf.argmax(same, axis=2, output_type=tf.int32),
                                 tf.range(num_active)[None]), tf.float32)  # [W, N]
        if scale is not None and index == len(model.module_layers) - 1:
            first = first * tf.gather(scale, active)
        if layer_scale != 1.0:
            first = first * layer_scale
        kernel = tf.gather(params[2 * index], active)  # [W, N, ...]
        bias = tf.gather(params[2 * index + 1], active)[:, None]  # [W, 1, N, out]
        if isinstance(layer, PathNetConv2D):
            (kh, kw), (sh, sw) = layer.kernel_size, layer.strides
            patches = tf.image.extract_patches(hidden, [1, kh, kw, 1], [1, sh, sw, 1],
                                               [1, 1, 1, 1], layer.padding.upper())
            height, width, size = patches.shape[1:]
            kernel = tf.reshape(tf.transpose(kernel, [0, 2, 3, 4, 1, 5]),
                                [workers, size, num_active * layer.filters])
            h = tf.matmul(tf.reshape(patches, [workers, -1, size]), kernel)
            h = layer.activation(tf.reshape(h, [workers, -1, num_active, layer.filters])
                                 + bias)
            hidden = tf.reshape(tf.einsum("wpnf,wn->wpf", h, first),
                                [-1, height, width, layer.filters])
        else:
            flat = tf.reshape(hidden, [workers, -1, layer.in_dim])
            kernel = tf.reshape(tf.transpose(kernel, [0, 2, 1, 3]),
                                [workers, layer.in_dim, num_active * layer.units])
            h = layer.activation(tf.reshape(tf.matmul(flat, kernel),
                                            [workers, -1, num_active, layer.units]) + bias)
            hidden = tf.reshape(tf.einsum("wknu,wn->wku", h, first), [-1, layer.units])
    del repeats
    return tf.reshape(hidden, [-1, model.feature_dim])


FEATURES = {"mask": features_mask, "gather": features_gather}


class A2CLearner:
    """One game's heads (a policy head of `num_actions` logits and a value head, added
    to `model` now, never shared), a fresh masked optimizer and the two compiled calls.

    `config`: a `MinAtarConfig` (W, E, T, discount, costs, learning rate, clipping);
    `num_active`: N of the pathways the calls take (None: `config.num_active`)."""

    def __init__(self, model: PathNet, config, num_actions: int, jit_compile: bool = False,
                 head_learning_rate: float | None = None, value_warmup: bool = False,
                 num_active: int | None = None):
        self.model, self.config, self.value_warmup = model, config, value_warmup
        self.policy_head = model.add_task(num_actions)
        self.value_head = model.add_task(1)
        self.num_actions = num_actions
        self.variables = []
        for layer in model.module_layers:
            self.variables += [layer.kernel, layer.bias]
        for head in (model.readouts[self.policy_head], model.readouts[self.value_head]):
            self.variables += [head.kernel, head.bias]
        self.optimizer = (MaskedAdam(config.learning_rate) if config.optimizer == "adam"
                          else MaskedRMSProp(config.learning_rate,
                                             epsilon=config.rmsprop_epsilon))
        # the heads' own rate (None: one step with the trunk's); both rules are
        # elementwise, so the heads' step is the same rule with another rate
        self.head_learning_rate = (None if head_learning_rate is None else tf.Variable(
            head_learning_rate, dtype=tf.float32, trainable=False, name="head_learning_rate"))
        self.slots = [tuple(tf.Variable(start, trainable=False)
                            for start in self.optimizer.initial_slots(v.shape))
                      for v in self.variables]
        # what `act` reads: the weights themselves, or (`overlap_updates`) a copy that
        # `sync` refreshes, so that acting beside an update sees one set of weights
        self.acting = (self.variables if not config.overlap_updates else
                       [tf.Variable(v.value, trainable=False) for v in self.variables])
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        # 1.0, or 0.0 while only the value loss trains (`value_warmup_b`, the runner sets it)
        self.policy_weight = tf.Variable(1.0, trainable=False, name="policy_weight")
        w, e, t = config.num_workers, config.envs_per_worker, config.n_steps
        frame = list(config.frame_shape)
        dtype = tf.as_dtype(config.frame_dtype)  # uint8 (Atari): scaled to [0, 1] inside
        paths = tf.TensorSpec([w, config.num_layers, num_active or config.num_active],
                              tf.int32)
        # beside an update, an XLA act would wait for it: XLA's CPU programs run one at
        # a time (measured, results/atari/README.md), TensorFlow's ordinary ops do not
        self.act = tf.function(self._act, input_signature=[
            tf.TensorSpec([w, e, *frame], dtype), paths],
            jit_compile=jit_compile and not config.overlap_updates)
        self.update = tf.function(self._update, jit_compile=jit_compile, input_signature=[
            tf.TensorSpec([t + 1, w, e, *frame], dtype),
            tf.TensorSpec([t, w, e], tf.int32), tf.TensorSpec([t, w, e], tf.float32),
            tf.TensorSpec([t, w, e], tf.float32), paths])

    def _heads(self, params, frames, paths, repeats):
        """Flat `frames: [W*repeats, ...]` -> `(logits [W*repeats, A], values [W*repeats])`."""
        if frames.dtype == tf.uint8:  # Atari's pixels
            frames = tf.cast(frames, tf.float32) * (1.0 / 255.0)
        hidden = FEATURES[self.config.compute](self.model, params, frames, paths, repeats,
                                               self.config.frozen_output_scale,
                                               self.config.layer_scale)
        logits = tf.matmul(hidden, params[-4]) + params[-3]
        values = tf.matmul(hidden, params[-2]) + params[-1]
        return logits, values[:, 0]

    def sync(self) -> None:
        """The acting copy of the weights <- the weights (`overlap_updates`; else none)."""
        if self.acting is not self.variables:
            for copy, variable in zip(self.acting, self.variables):
                copy.assign(variable)

    def _act(self, frames, paths):
        w, e = frames.shape[0], frames.shape[1]
        params = ([v.value for v in self.variables] if self.acting is self.variables
                  else [copy.value() for copy in self.acting])  # Keras's, or tf.Variables
        logits, values = self._heads(params, tf.reshape(frames, [w * e, *frames.shape[2:]]),
                                     paths, e)
        return tf.reshape(logits, [w, e, -1]), tf.reshape(values, [w, e])

    def update_masks(self, paths):
        """Per variable, a boolean mask (broadcastable) of what the update may change:
        the modules some worker's pathway uses and that are not frozen; both heads."""
        used = tf.reduce_max(tf.one_hot(paths, self.model.num_modules), axis=[0, 2]) > 0.5
        trainable = tf.logical_and(used, tf.logical_not(
            tf.convert_to_tensor(self.model.frozen) > 0.5))  # [L, M]
        masks = []
        for index, layer in enumerate(self.model.module_layers):
            row = trainable[index]
            masks += [tf.reshape(row, [-1] + [1] * (len(layer.kernel.shape) - 1)),
                      row[:, None]]
        return masks + [tf.constant(True)] * 4

    def loss(self, params, frames, actions, rewards, dones, paths):
        """The A2C loss of one rollout and its parts (time-major `[T(+1), W, E]` inputs)."""
        steps, w, e = actions.shape
        per_worker = tf.reshape(tf.transpose(frames, [1, 0, 2, 3, 4, 5]),
                                [w * (steps + 1) * e, *frames.shape[3:]])
        logits, values = self._heads(params, per_worker, paths, (steps + 1) * e)
        logits = tf.transpose(tf.reshape(logits, [w, steps + 1, e, -1]), [1, 0, 2, 3])
        values = tf.transpose(tf.reshape(values, [w, steps + 1, e]), [1, 0, 2])
        returns = n_step_returns(rewards, dones, tf.stop_gradient(values[-1]),
                                 self.config.discount)
        advantages = returns - values[:-1]
        log_probs = tf.nn.log_softmax(logits[:-1])
        chosen = tf.reduce_sum(tf.one_hot(actions, self.num_actions) * log_probs, axis=-1)
        policy_loss = -tf.reduce_mean(chosen * tf.stop_gradient(advantages))
        value_loss = 0.5 * tf.reduce_mean(tf.square(advantages))
        entropy = -tf.reduce_mean(tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=-1))
        if self.value_warmup:
            total = (self.policy_weight * (policy_loss - self.config.entropy_cost * entropy)
                     + self.config.value_cost * value_loss)
        else:  # the expression as it was before the switch: the same floats
            total = (policy_loss + self.config.value_cost * value_loss
                     - self.config.entropy_cost * entropy)
        return total, policy_loss, value_loss, entropy

    def _update(self, frames, actions, rewards, dones, paths):
        params = [v.value for v in self.variables]
        with tf.GradientTape() as tape:
            tape.watch(params)
            total, policy_loss, value_loss, entropy = self.loss(
                params, frames, actions, rewards, dones, paths)
        grads = tape.gradient(total, params)
        masks = self.update_masks(paths)
        grads = [tf.where(mask, g, tf.zeros_like(g)) for g, mask in zip(grads, masks)]
        norm = tf.linalg.global_norm(grads)
        if self.config.max_grad_norm > 0:
            grads, _ = tf.clip_by_global_norm(grads, self.config.max_grad_norm,
                                              use_norm=norm)
        self.step.assign_add(1)
        step = tf.cast(self.step, tf.float32)
        slots = [tuple(slot.value() for slot in pair) for pair in self.slots]
        if self.head_learning_rate is None:
            new_params, new_slots = self.optimizer.update(
                step, params, grads, masks, slots, self.optimizer.learning_rate)
        else:  # the trunk, then the four head variables (the last four)
            new_params, new_slots = self.optimizer.update(
                step, params[:-4], grads[:-4], masks[:-4], slots[:-4],
                self.optimizer.learning_rate)
            head_params, head_slots = self.optimizer.update(
                step, params[-4:], grads[-4:], masks[-4:], slots[-4:],
                self.head_learning_rate)
            new_params, new_slots = new_params + head_params, new_slots + head_slots
        for variable, value in zip(self.variables, new_params):
            variable.assign(value)
        for pair, values in zip(self.slots, new_slots):
            for slot, value in zip(pair, values):
                slot.assign(value)
        return tf.stack([total, policy_loss, value_loss, entropy, norm])

    # -- state -----------------------------------------------------------------------

    def state(self) -> dict:
        arrays = {"step": self.step.numpy()}
        for i, pair in enumerate(self.slots):
            for name, slot in zip(self.optimizer.slot_names, pair):
                arrays[f"slot/{i}/{name}"] = slot.numpy()
        return arrays

    def load_state(self, arrays: dict) -> None:
        self.step.assign(arrays["step"])
        for i, pair in enumerate(self.slots):
            for name, slot in zip(self.optimizer.slot_names, pair):
                slot.assign(arrays[f"slot/{i}/{name}"])


def sample_actions(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row of `logits: [..., A]`, drawn from softmax(logits) (Gumbel-max)."""
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=-1).astype(np.int32)
