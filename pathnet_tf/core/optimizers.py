"""Masked SGD, Adam and RMSProp as pure update rules on tensors.

Why not `keras.optimizers`: PathNet needs two guarantees a stock optimizer does not
give. (1) Frozen modules stay bit-identical: a zero gradient is not enough under Adam
or momentum, whose state keeps moving a weight. (2) Only the modules on the current
pathway are trained; under Adam the inactive ones must not drift on stale momentum.
Here every update takes a boolean mask per variable and leaves masked-out entries of
the weights *and* of the optimizer slots exactly as they were (`tf.where`, not a
multiplication by zero).

The rules are pure, `update(step, params, grads, masks, slots, learning_rate) ->
(params, slots)`, so the compiled training loop can carry candidate weights and slots
as tensors. `slots[i]` is a tuple of tensors shaped like `params[i]` (one per
`slot_names`); `step` is the 1-based count of updates; `learning_rate` is the value
of the optimizer's `learning_rate` variable, read by the caller (once per step, and
outside any `tf.vectorized_map`): changing the variable (PBT) takes effect without
retracing.
"""

from __future__ import annotations

import tensorflow as tf

from pathnet_tf.core.config import OPTIMIZERS


class _MaskedOptimizer:
    slot_names: tuple = ()
    slot_init: tuple = ()  # each slot's initial value (0.0 where not given)

    def initial_slots(self, shape) -> tuple:
        """A variable of `shape`'s slots as they start, one tensor per `slot_names`."""
        starts = dict(zip(self.slot_names, self.slot_init))
        return tuple(tf.fill(shape, starts.get(name, 0.0)) for name in self.slot_names)

    def __init__(self, learning_rate: float):
        if not learning_rate > 0:
            raise ValueError(f"learning_rate ({learning_rate}) must be > 0")
        self.learning_rate = tf.Variable(learning_rate, dtype=tf.float32, trainable=False,
                                         name="learning_rate")


class MaskedSGD(_MaskedOptimizer):
    """Plain SGD, `w <- w - lr * g` where the mask allows. No slots."""

    name = "sgd"

    def update(self, step, params, grads, masks, slots, learning_rate):
        del step
        lr = learning_rate
        new_params = [tf.where(mask, p - lr * g, p) for p, g, mask in zip(params, grads, masks)]
        return new_params, slots


class MaskedAdam(_MaskedOptimizer):
    """Adam (Kingma & Ba 2015) with Keras's default betas and epsilon; slots m, v."""

    name = "adam"
    slot_names = ("m", "v")

    def __init__(self, learning_rate: float, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def update(self, step, params, grads, masks, slots, learning_rate):
        lr = learning_rate
        b1, b2 = self.beta_1, self.beta_2
        lr_t = lr * tf.sqrt(1.0 - tf.pow(b2, step)) / (1.0 - tf.pow(b1, step))
        new_params, new_slots = [], []
        for p, g, mask, (m, v) in zip(params, grads, masks, slots):
            m_new = b1 * m + (1.0 - b1) * g
            v_new = b2 * v + (1.0 - b2) * tf.square(g)
            p_new = p - lr_t * m_new / (tf.sqrt(v_new) + self.epsilon)
            new_params.append(tf.where(mask, p_new, p))
            new_slots.append((tf.where(mask, m_new, m), tf.where(mask, v_new, v)))
        return new_params, new_slots


class MaskedRMSProp(_MaskedOptimizer):
    """RMSProp as A3C used it (Mnih et al. 2016; the TF1 PathNet code's A3C, jsikyoon/
    pathnet `rmsprop_applier.py` and `constants.py`: decay 0.99, epsilon 0.1, no
    momentum), TensorFlow 1's rule: `ms <- decay * ms + (1 - decay) * g^2`,
    `w <- w - lr * g / sqrt(ms + epsilon)` (epsilon inside the root), `ms` starting at
    1 (`slot_init`), as TF1's `RMSPropOptimizer` starts it. One slot, ms.

    For the RL learner (`rl/a2c.py`), which honours `slot_init`; the supervised trainers
    start every slot at zero and take `make_optimizer`'s optimizers only."""

    name = "rmsprop"
    slot_names = ("ms",)
    slot_init = (1.0,)

    def __init__(self, learning_rate: float, decay: float = 0.99, epsilon: float = 0.1):
        super().__init__(learning_rate)
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay ({decay}) must be in [0, 1)")
        if not epsilon > 0:
            raise ValueError(f"epsilon ({epsilon}) must be > 0")
        self.decay, self.epsilon = decay, epsilon

    def update(self, step, params, grads, masks, slots, learning_rate):
        del step
        new_params, new_slots = [], []
        for p, g, mask, (ms,) in zip(params, grads, masks, slots):
            ms_new = self.decay * ms + (1.0 - self.decay) * tf.square(g)
            p_new = p - learning_rate * g / tf.sqrt(ms_new + self.epsilon)
            new_params.append(tf.where(mask, p_new, p))
            new_slots.append((tf.where(mask, ms_new, ms),))
        return new_params, new_slots


def make_optimizer(name: str, learning_rate: float):
    """`"sgd"` or `"adam"` -> a fresh masked optimizer."""
    if name == "sgd":
        return MaskedSGD(learning_rate)
    if name == "adam":
        return MaskedAdam(learning_rate)
    raise ValueError(f"optimizer ({name!r}) must be one of {OPTIMIZERS}")
