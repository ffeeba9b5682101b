"""EWC and SI on fine-tuning's one fixed path: a quadratic penalty inside the compiled
training step (modes "ewc" and "si", `modes.py`; docs/continual.md).

Both methods add `strength · Σ_k Ω_k (θ_k - θ*_k)²` to the task's loss, over the
module weights (every task's head is its own and unpenalised):

- **EWC** (Kirkpatrick et al. 2017, arXiv:1612.00796): Ω is the diagonal Fisher
  information of the tasks learned so far, strength λ/2. Each finished task adds its
  own penalty `λ/2 Σ F_t (θ - θ*_t)²`; their sum is kept as one quadratic with the
  same gradient: Ω = Σ_t F_t, θ* = Σ_t F_t θ*_t / Ω. **Online EWC** (Schwarz et al.
  2018, `ewc_gamma` = γ): Ω ← γ Ω + F_t, θ* = the weights after the last task.
  F_t is the exact expectation over the model's own predictive distribution,
  `E_x Σ_c p(c|x) (∂ log p(c|x) / ∂θ)²`, on `FISHER_EXAMPLES` training examples of
  task t, with task t's head and the fixed path.
- **SI** (Zenke et al. 2017, arXiv:1703.04200): during a task every step adds
  `-g_k Δθ_k` to ω_k (g: the gradient of the task's loss alone, Δθ: the step's actual
  change, penalty included, as Zenke et al.'s code does); at its end
  Ω ← Ω + ω / (Δ_k² + ξ), Δ the task's total change of θ_k; θ* = the weights after
  the task; strength c.

How it lives in the compiled step: `PenaltyTrainer` is a `training.TaskTrainer` whose
optimizer (`PenalizedOptimizer`) carries Ω, θ* and ω as three more optimizer slots:
they are gathered with the path's modules, carried through the step loop, written
back with the trained weights, saved in the checkpoint with the other slots, and the
update adds the penalty's gradient `2 · strength · Ω (θ - θ*)` to the task's before
the masked SGD/Adam rule runs. `Regularizer` (a sequence hook) keeps Ω and θ* across
tasks: it writes them into each task's trainer at the start and updates them at the
end.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from pathnet_tf.evolution.training import TaskTrainer

FISHER_EXAMPLES = 1024  # training examples of a task its Fisher information averages
FISHER_BATCH = 32  # examples per Jacobian
# Defaults of the strengths (ContinualMnistConfig overrides them; docs/continual.md).
DEFAULT_EWC_LAMBDA = 100.0
DEFAULT_SI_C = 0.1
DEFAULT_SI_XI = 0.1


class PenalizedOptimizer:
    """A masked optimizer (`optimizers.py`) whose update adds the gradient of
    `strength · Σ Ω (θ - θ*)²` to the task's, and accumulates SI's path integral
    ω ← ω - g Δθ. Slots: the inner optimizer's, then "importance" (Ω), "anchor" (θ*)
    and "path_integral" (ω); entries an update may not change keep every slot."""

    EXTRA_SLOTS = ("importance", "anchor", "path_integral")

    def __init__(self, inner, strength: tf.Variable):
        self.inner, self.strength = inner, strength
        self.slot_names = tuple(inner.slot_names) + self.EXTRA_SLOTS
        self.learning_rate = inner.learning_rate
        self.name = inner.name

    def update(self, step, params, grads, masks, slots, learning_rate):
        own = len(self.inner.slot_names)
        strength = tf.convert_to_tensor(self.strength)
        total = [g + 2.0 * strength * s[own] * (p - s[own + 1])
                 for p, g, s in zip(params, grads, slots)]
        new_params, inner_slots = self.inner.update(
            step, params, total, masks, [tuple(s[:own]) for s in slots], learning_rate)
        new_slots = []
        for p, p_new, g, mask, s, inner in zip(params, new_params, grads, masks, slots,
                                               inner_slots):
            integral = tf.where(mask, s[own + 2] - g * (p_new - p), s[own + 2])
            new_slots.append(tuple(inner) + (s[own], s[own + 1], integral))
        return new_params, new_slots


class PenaltyTrainer(TaskTrainer):
    """`TaskTrainer` with the quadratic penalty in its compiled step (module
    docstring). `strength` (a variable: no retrace when it changes), Ω and θ* are set
    by `set_penalty`; `path_integral()` reads ω."""

    def __init__(self, model, task, train_x, train_y, optimizer, *args, **kwargs):
        self.strength = tf.Variable(0.0, trainable=False, name="penalty_strength")
        super().__init__(model, task, train_x, train_y,
                         PenalizedOptimizer(optimizer, self.strength), *args, **kwargs)

    def _slot(self, name: str) -> int:
        return self.optimizer.slot_names.index(name)

    def set_penalty(self, strength: float, importance, anchor) -> None:
        """Ω and θ* of every variable of `model.task_variables(task)` (the head's: zeros
        and anything), and the strength; ω restarts at 0."""
        self.strength.assign(strength)
        for slot, omega, star in zip(self.slots, importance, anchor, strict=True):
            slot[self._slot("importance")].assign(omega)
            slot[self._slot("anchor")].assign(star)
            slot[self._slot("path_integral")].assign(tf.zeros_like(slot[0]))

    def path_integral(self) -> list[np.ndarray]:
        return [slot[self._slot("path_integral")].numpy() for slot in self.slots]


def module_values(model) -> list[np.ndarray]:
    """The module weights, `[kernel_0, bias_0, ..., kernel_{L-1}, bias_{L-1}]`."""
    return [v.numpy() for layer in model.module_layers for v in (layer.kernel, layer.bias)]


def fisher_diagonal(model, head: int, path, x, batch_size: int = FISHER_BATCH) -> list:
    """The diagonal Fisher information of the module weights (`module_values` order,
    full shapes; zero off the path) of pathway `path` with head `head`, averaged over
    the examples `x`: `mean_x Σ_c p(c|x) (∂ log p(c|x) / ∂θ)²`."""
    path = tf.constant(path, tf.int32)
    plan = model.plan(path)
    params = [tf.convert_to_tensor(v) for v in model.task_variables(head)]
    gathered = model.gather_slots(params, plan, head)
    modules = len(gathered) - 2

    @tf.function(autograph=False)
    def chunk(inputs):
        slot_params = [tf.identity(t) for t in gathered]
        with tf.GradientTape() as tape:
            tape.watch(slot_params[:modules])
            log_p = tf.nn.log_softmax(model.apply_slots(slot_params, inputs, plan, head))
        jacobians = tape.jacobian(log_p, slot_params[:modules])  # each [n, C, *shape]
        p = tf.exp(log_p)
        return [tf.reduce_sum(tf.reshape(p, [*p.shape, *[1] * (j.shape.rank - 2)])
                              * tf.square(j), axis=[0, 1]) for j in jacobians]

    sums = None
    for start in range(0, len(x), batch_size):
        part = chunk(tf.constant(x[start:start + batch_size], tf.float32))
        sums = part if sums is None else [a + b for a, b in zip(sums, part)]
    slot_fisher = [s / len(x) for s in sums] + list(gathered[-2:])
    rows = model.slot_rows(slot_fisher, head)[:modules]
    out = [np.zeros(v.shape, np.float32) for v in module_values(model)]
    for index, values in enumerate(rows):
        indices = plan[index // 2][0].numpy()
        out[index][indices] = values.numpy()
    return out


def si_importance(path_integral, delta, xi: float) -> list:
    """SI's Ω of one task: ω / (Δ² + ξ), entry by entry."""
    return [w / (np.square(d) + xi) for w, d in zip(path_integral, delta)]


class Regularizer:
    """The sequence hook of modes "ewc" and "si": Ω and θ* across tasks (module
    docstring), set into each task's `PenaltyTrainer` at its start and updated at its
    end; in the checkpoint; results.json's `regularizer` (the method, its settings
    and the sum of Ω after each task)."""

    name = "regularizer"

    def __init__(self, sequence):
        config = sequence.config
        self.method = sequence.mode.name
        if self.method not in ("ewc", "si"):
            raise ValueError(f"Regularizer serves modes ewc and si, not {self.method!r}")
        self.ewc_lambda = float(getattr(config, "ewc_lambda", DEFAULT_EWC_LAMBDA))
        self.ewc_gamma = getattr(config, "ewc_gamma", None)
        self.si_c = float(getattr(config, "si_c", DEFAULT_SI_C))
        self.si_xi = float(getattr(config, "si_xi", DEFAULT_SI_XI))
        self.importance: list | None = None  # Ω, module_values order
        self.anchor: list | None = None  # θ*
        self.start: list | None = None  # the weights when the current task started (SI)
        self.totals: list = []  # Σ Ω after each finished task

    @property
    def strength(self) -> float:
        return self.ewc_lambda / 2.0 if self.method == "ewc" else self.si_c

    @staticmethod
    def _trainer(run):
        return getattr(run.trainer, "inner", run.trainer)

    def task_start(self, sequence, run) -> None:
        values = module_values(sequence.model)
        if self.importance is None:
            self.importance = [np.zeros_like(v) for v in values]
            self.anchor = [v.copy() for v in values]
        if self.start is None:  # (a resumed task has its start from the checkpoint)
            self.start = values
        head = [np.zeros(v.shape, np.float32) for v in
                sequence.model.task_variables(run.head)[-2:]]
        self._trainer(run).set_penalty(self.strength, self.importance + head,
                                       self.anchor + head)

    def task_end(self, sequence, run) -> None:
        model, task = sequence.model, sequence.tasks[sequence.index]
        values = module_values(model)
        if self.method == "si":
            omega = self._trainer(run).path_integral()[:len(values)]
            delta = [v - s for v, s in zip(values, self.start)]
            added = si_importance(omega, delta, self.si_xi)
            self.importance = [i + a for i, a in zip(self.importance, added)]
            self.anchor = values
        else:
            fisher = fisher_diagonal(model, run.head, run.result.best_path,
                                     task.train_x[:FISHER_EXAMPLES])
            if self.ewc_gamma is not None:  # online EWC
                self.importance = [self.ewc_gamma * i + f
                                   for i, f in zip(self.importance, fisher)]
                self.anchor = values
            else:  # one penalty per task, summed into one quadratic
                total = [i + f for i, f in zip(self.importance, fisher)]
                self.anchor = [np.where(t > 0, (i * a + f * v) / np.where(t > 0, t, 1.0), v)
                               for t, i, a, f, v in zip(total, self.importance, self.anchor,
                                                        fisher, values)]
                self.importance = total
        self.importance = [i.astype(np.float32) for i in self.importance]
        self.anchor = [a.astype(np.float32) for a in self.anchor]
        self.start = None
        self.totals.append(float(sum(np.sum(i, dtype=np.float64) for i in self.importance)))

    def state(self) -> tuple[dict, dict]:
        arrays = {}
        for name in ("importance", "anchor", "start"):
            for index, value in enumerate(getattr(self, name) or []):
                arrays[f"{name}/{index}"] = value
        header = {name: getattr(self, name) is not None
                  for name in ("importance", "anchor", "start")}
        header["totals"] = self.totals
        return arrays, header

    def load_state(self, arrays: dict, header: dict) -> None:
        for name in ("importance", "anchor", "start"):
            if not header[name]:
                setattr(self, name, None)
                continue
            count = len([key for key in arrays if key.startswith(f"{name}/")])
            setattr(self, name, [arrays[f"{name}/{index}"] for index in range(count)])
        self.totals = list(header["totals"])

    def results(self, sequence) -> dict:
        del sequence
        settings = ({"lambda": self.ewc_lambda, "gamma": self.ewc_gamma}
                    if self.method == "ewc" else {"c": self.si_c, "xi": self.si_xi})
        return {"regularizer": {"method": self.method, **settings,
                                "importance_sum": self.totals}}
