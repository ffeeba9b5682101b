"""The PathNet model: L layers of M modules, one readout head per task, a frozen mask.

`PathNet(inputs, path, task)` runs the pathway `path` (`[L, N] int32`) through the
module layers and the readout of `task`. The layers are dense modules
(`PathNetDense`), optionally preceded by convolutional ones (`PathNetConv2D`, for image
inputs `[batch, height, width, channels]`); dense layers and the readouts flatten
their inputs. Heads are added per task (`add_task`), never
shared. `frozen` (`[L, M]`, a tracked non-trainable weight) marks modules that no
update may touch: the training code keeps them bit-identical.

For the compiled training loop the model also exposes its arithmetic as a pure
function of a list of tensors (`apply(params, ...)`, with `params` ordered as
`task_variables(task)`), so candidate weights can be loop-carried without touching
the variables.

The protocol switches (`PathNetConfig`; README "Flags"): `frozen_path="always_on"`
puts the frozen modules in every pathway's forward pass (`plan`); `aggregation="mean"`
divides each layer's sum by M; `module_types="tf1"` makes the modules of every layer
after the first identity, linear or residual (`module_kinds`); `init="tf1"` draws
weights truncated normal σ 0.1 and sets biases to 0.1 (`initial_values`).
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from pathnet_tf.core.checks import check_positive_int
from pathnet_tf.core.config import AGGREGATIONS, FROZEN_PATHS, INITS, MODULE_TYPES_CHOICES
from pathnet_tf.core.layers import (
    PathNetConv2D,
    PathNetDense,
    first_occurrence,
    layer_active_mask,
    module_plan,
)
from pathnet_tf.core.module_kinds import (
    PROTOCOL_OPTIONS,
    kind_scales,
    kind_weights,
    module_kinds,
    stack_kind_weights,
    tf1_initial_values,
    tf1_readout_initializers,
    with_skip,
)
from pathnet_tf.core.shapes import COMPUTE_MODES, PADDINGS


def _positive_ints(name, value, length=None) -> tuple:
    """A sequence of positive ints (of `length` if given) -> a tuple, or ValueError."""
    try:
        values = tuple(value)
    except TypeError:
        values = None
    if (not values or (length is not None and len(values) != length)
            or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in values)):
        what = f"{length} positive integers" if length else "positive integers"
        raise ValueError(f"{name} ({value!r}) must be {what}")
    return values


@keras.saving.register_keras_serializable(package="pathnet_tf")
class PathNet(keras.Model):
    """L layers of M modules (the first conv, the rest dense), and a readout per task.

    Args:
      input_dim: size of a flattened input (may be omitted when `input_shape` is given).
      num_layers: L, all layers of modules (conv and dense). num_modules: M.
      num_active: N (at most N modules per layer). units: units per dense module.
      task_classes: number of classes of each task head to create now.
      compute: "gather" (cost ∝ N) or "mask" (cost ∝ M), see `layers.module_plan`.
      input_shape: the shape of one example, e.g. `(height, width, channels)`; default
        `(input_dim,)`. Conv layers need `(height, width, channels)`.
      conv_layers: `(filters, kernel_size, stride)` of each of the first
        `len(conv_layers)` layers, which are `PathNetConv2D` (square kernels and
        strides); the remaining `num_layers - len(conv_layers)` are `PathNetDense`.
        E.g. the paper's Atari stack: `[(8, 8, 4), (8, 4, 2), (8, 3, 1)]`, L=4.
      padding: "valid" or "same", of every conv layer.
      frozen_path, aggregation, module_types, init: the protocol switches (module
        docstring); the defaults are the paper's protocol.
    """

    def __init__(self, input_dim: int | None = None, num_layers: int = 3,
                 num_modules: int = 10, num_active: int = 3, units: int = 20,
                 task_classes=(), compute: str = "gather", input_shape=None,
                 conv_layers=(), padding: str = "valid", frozen_path: str = "available",
                 aggregation: str = "sum", module_types: str = "linear",
                 init: str = "glorot", **kwargs):
        super().__init__(**kwargs)
        for name, value, choices in (("frozen_path", frozen_path, FROZEN_PATHS),
                                     ("aggregation", aggregation, AGGREGATIONS),
                                     ("module_types", module_types, MODULE_TYPES_CHOICES),
                                     ("init", init, INITS)):
            if value not in choices:
                raise ValueError(f"{name} ({value!r}) must be one of {', '.join(choices)}")
        if module_types != "linear" and conv_layers:
            raise ValueError(f"module_types ({module_types!r}) needs dense layers only; "
                             f"conv_layers ({len(conv_layers)} layers) must be empty")
        self.frozen_path, self.aggregation = frozen_path, aggregation
        self.module_types, self.init = module_types, init
        self.module_kinds = module_kinds(num_layers, num_modules, module_types)
        self.kind_scales = [kind_scales(kinds) for kinds in self.module_kinds]
        for name, value in [("num_layers", num_layers), ("num_modules", num_modules),
                            ("num_active", num_active), ("units", units)]:
            check_positive_int(name, value)
        if num_active > num_modules:
            raise ValueError(
                f"num_active ({num_active}) must be <= num_modules ({num_modules})")
        if compute not in COMPUTE_MODES:
            raise ValueError(f"compute ({compute!r}) must be one of {COMPUTE_MODES}")
        if padding not in PADDINGS:
            raise ValueError(f"padding ({padding!r}) must be one of {PADDINGS}")
        example_shape = self._example_shape(input_dim, input_shape)
        conv_layers = tuple(_positive_ints(f"conv_layers[{index}]", layer, 3)
                            for index, layer in enumerate(conv_layers))
        if len(conv_layers) > num_layers:
            raise ValueError(f"conv_layers ({len(conv_layers)} layers) must not outnumber "
                             f"num_layers ({num_layers})")
        if conv_layers and len(example_shape) != 3:
            raise ValueError(f"input_shape ({input_shape!r}) must be (height, width, "
                             "channels) when there are conv_layers")
        self.input_dim = math.prod(example_shape)
        self.input_shape_arg = None if input_shape is None else example_shape
        self.example_shape = example_shape  # one example; inputs are [batch, *example_shape]
        self.num_layers = num_layers
        self.num_modules = num_modules
        self.num_active = num_active
        self.units = units
        self.compute = compute
        self.conv_layers = conv_layers
        self.padding = padding
        self.module_layers = []
        shape = example_shape
        for index in range(num_layers):
            if index < len(conv_layers):
                filters, kernel_size, stride = conv_layers[index]
                layer = PathNetConv2D(num_modules, filters, kernel_size, stride, padding,
                                      compute=compute, name=f"modules_{index}")
                out_shape = layer.compute_output_shape((None, *shape))[1:]
                if min(out_shape) < 1:
                    raise ValueError(f"conv_layers[{index}] ({filters}, {kernel_size}, "
                                     f"{stride}) leaves no output of a "
                                     f"{shape[0]}x{shape[1]} input")
                layer.build((None, *shape))
            else:
                layer = PathNetDense(num_modules, units, compute=compute,
                                     name=f"modules_{index}")
                layer.build((None, math.prod(shape)))
                out_shape = (units,)
            if init != "glorot":
                kernel, bias = self.initial_values(layer)
                layer.kernel.assign(kernel)
                layer.bias.assign(bias)
            self.module_layers.append(layer)
            shape = out_shape
        self.feature_dim = math.prod(shape)  # the readouts' (flattened) input size
        self.frozen = self.add_weight(name="frozen", shape=(num_layers, num_modules),
                                      initializer="zeros", trainable=False)
        self.readouts = []
        self.task_classes = []
        for num_classes in task_classes:
            self.add_task(num_classes)
        self.built = True

    @staticmethod
    def _example_shape(input_dim, input_shape) -> tuple:
        if input_shape is None:
            if input_dim is None:
                raise ValueError("input_dim or input_shape must be given")
            check_positive_int("input_dim", input_dim)
            return (input_dim,)
        shape = _positive_ints("input_shape", input_shape)
        if input_dim is not None and input_dim != math.prod(shape):
            raise ValueError(f"input_dim ({input_dim!r}) must be the size of input_shape "
                             f"{shape} ({math.prod(shape)}) when both are given")
        return shape

    # -- structure -------------------------------------------------------------------

    def add_task(self, num_classes: int) -> int:
        """Adds a fresh readout head of `num_classes` outputs; returns the task index.
        After `restart`, a head the model already has is reused (fresh values, drawn
        as a new head's would be) instead of a new one built."""
        check_positive_int("num_classes", num_classes)
        task = self.heads_in_use
        initializers = {} if self.init == "glorot" else tf1_readout_initializers()
        head = keras.layers.Dense(num_classes, name=f"readout_{task}", **initializers)
        head.build((None, self.feature_dim))
        if task < len(self.readouts):
            if self.task_classes[task] != num_classes:
                raise ValueError(f"num_classes ({num_classes}) must be {self.task_classes[task]}"
                                 f", the classes of the head {task} this restarted model reuses")
            self.readouts[task].kernel.assign(head.kernel)
            self.readouts[task].bias.assign(head.bias)
        else:
            self.readouts.append(head)
            self.task_classes.append(num_classes)
        self.heads_in_use = task + 1
        return task

    @property
    def heads_in_use(self) -> int:
        """The heads of the current run (all the model has, unless `restart`ed)."""
        return self.__dict__.get("_heads", len(self.readouts))

    @heads_in_use.setter
    def heads_in_use(self, count: int) -> None:
        self.__dict__["_heads"] = count

    def restart(self, template: PathNet) -> None:
        """Makes this model what `template` (a fresh PathNet of the same shape, no heads)
        is, so that one model (and the functions compiled on it) serves many runs:
        every module weight, the frozen mask and the random generators' states are
        copied; the heads are kept for `add_task` to reuse. The run's variables are
        then `run_variables()`."""
        if template.readouts or template.get_config() | {"name": None, "task_classes": []} != (
                self.get_config() | {"name": None, "task_classes": []}):
            raise ValueError("restart needs a template of the same shape without heads")
        ours = self.run_variables(heads=0)
        theirs = template.variables
        for mine, value in zip(ours, theirs, strict=True):
            mine.assign(value)
        self.heads_in_use = 0

    def run_variables(self, heads: int | None = None) -> list:
        """`variables` without the heads past the first `heads` (default
        `heads_in_use`): what one run's checkpoint holds."""
        heads = self.heads_in_use if heads is None else heads
        spare = {id(v) for head in self.readouts[heads:] for v in head.variables}
        return [v for v in self.variables if id(v) not in spare]

    def _check_task(self, task: int):
        if not 0 <= task < self.heads_in_use:
            raise ValueError(f"task ({task}) must name one of the {self.heads_in_use} "
                             "readout heads (add_task first)")

    def task_variables(self, task: int) -> list:
        """The variables training on `task` may change, in `apply`'s order:
        `[kernel_0, bias_0, ..., kernel_{L-1}, bias_{L-1}, head_kernel, head_bias]`."""
        self._check_task(task)
        variables = []
        for layer in self.module_layers:
            variables += [layer.kernel, layer.bias]
        head = self.readouts[task]
        return variables + [head.kernel, head.bias]

    # -- arithmetic ------------------------------------------------------------------
    #
    # A "plan" is, per layer, the module rows computed for a pathway and their weights
    # (`layers.module_plan`): the N active modules ("gather") or all M ("mask").
    # Training gathers those rows once per candidate into each layer's "slot layout"
    # (dense kernels `[in_dim, S, units]`: one matrix product per layer; conv kernels
    # `[kh, kw, in_ch, S*filters]`: one convolution per layer), trains the small gathered
    # tensors for T steps and writes them back as rows: cost ∝ N, not M.

    def plan(self, path, frozen=None, frozen_slots: int | None = None) -> list:
        """`path: [L, N] int32` -> per layer `(indices [S] int32, weights [S] float32)`.

        With frozen_path "always_on" the frozen modules join every pathway, each
        module weighted 1 if on the path or frozen (`frozen`: the `[L, M]` mask to use,
        default the model's): with `frozen_slots` K (no layer holds more than K frozen
        modules) and compute "gather", S = N + K (the path, then the frozen modules,
        a module counted once), else S = M, every module planned. With aggregation
        "mean" the weights are divided by M."""
        if self.frozen_path == "always_on":
            frozen = tf.convert_to_tensor(self.frozen if frozen is None else frozen)
            gathered = (frozen_slots is not None and self.compute == "gather"
                        and self.num_active + frozen_slots < self.num_modules)
            plan = [self._always_on_plan(path[index], frozen[index], frozen_slots)
                    if gathered else
                    (tf.range(self.num_modules, dtype=tf.int32),
                     tf.maximum(layer_active_mask(path[index], self.num_modules), frozen[index]))
                    for index in range(self.num_layers)]
        else:
            plan = [module_plan(path[index], self.num_modules, self.compute)
                    for index in range(self.num_layers)]
        if self.aggregation == "mean":
            plan = [(indices, weights / self.num_modules) for indices, weights in plan]
        return plan

    def _always_on_plan(self, active, frozen, slots: int):
        """One layer's always-on plan with S = N + `slots`: the path's modules, then
        the layer's frozen ones (lowest index first; padded with modules weighted 0)."""
        if slots == 0:
            return active, first_occurrence(active)
        held = tf.argsort(frozen, direction="DESCENDING", stable=True)[:slots]
        indices = tf.concat([active, tf.cast(held, tf.int32)], 0)
        on = tf.maximum(layer_active_mask(active, self.num_modules), frozen)  # [M]
        return indices, first_occurrence(indices) * tf.gather(on, indices)

    def frozen_slots(self) -> int:
        """The most frozen modules any layer holds now (read eagerly, also while a
        function is being traced: they do not change during a task)."""
        with tf.init_scope():
            return int(tf.reduce_max(tf.reduce_sum(tf.convert_to_tensor(self.frozen),
                                                   axis=1)).numpy())

    def kind_weights(self, plan) -> list:
        """Per layer, the plan's weights as the layers use them (`module_kinds.py`)."""
        return kind_weights(plan, self.kind_scales)

    def candidate_weights(self, plans) -> list:
        """`kind_weights` of B plans stacked, per layer `[B, S]` or `([B, S], [B])`."""
        return stack_kind_weights([self.kind_weights(plan) for plan in plans],
                                  self.kind_scales)

    def variable_layers(self, task: int) -> list:
        """For each of `task_variables(task)`: the module layer whose rows it holds
        (stacked along axis 0), or None for the readout."""
        self._check_task(task)
        return [index for index in range(self.num_layers) for _ in range(2)] + [None, None]

    def gather_slots(self, tensors, plan, task: int) -> list:
        """The planned modules of tensors aligned with `task_variables(task)` (weights,
        or optimizer slots of the same shapes), in each layer's slot layout; the
        readout as is."""
        self._check_task(task)
        slots = []
        for index, layer in enumerate(self.module_layers):
            slots += layer.to_slots(tensors[2 * index], tensors[2 * index + 1], plan[index][0])
        return slots + list(tensors[-2:])

    def slot_rows(self, slots, task: int) -> list:
        """Inverse layout of `gather_slots`: module tensors as rows `[S, ...]`."""
        self._check_task(task)
        rows = []
        for index, layer in enumerate(self.module_layers):
            rows += layer.from_slots(slots[2 * index], slots[2 * index + 1])
        return rows + list(slots[-2:])

    def slot_masks(self, plan, task: int, frozen=None) -> list:
        """Per gathered tensor, a boolean mask (broadcastable) of the modules an update
        may change: on the pathway (weight > 0, so a repeated module is updated once)
        and not frozen. The readout always may. `frozen`: the `[L, M]` mask's value if
        already read (inside `tf.vectorized_map` a variable must be read outside)."""
        self._check_task(task)
        frozen = tf.convert_to_tensor(self.frozen if frozen is None else frozen) > 0.5
        masks = []
        for index, layer in enumerate(self.module_layers):
            indices, weights = plan[index]
            trainable = tf.logical_and(weights > 0, tf.logical_not(
                tf.gather(frozen[index], indices)))  # [S]
            masks += layer.slot_masks(trainable)
        return masks + [tf.constant(True), tf.constant(True)]

    def apply_slots(self, slot_params, inputs, plan, task: int):
        """Logits `[batch, classes]` from gathered weights (`gather_slots`)."""
        hidden = inputs
        for index, (layer, weights) in enumerate(zip(self.module_layers,
                                                     self.kind_weights(plan))):
            weights, skip = weights if isinstance(weights, tuple) else (weights, None)
            hidden = with_skip(layer.apply_slots(hidden, slot_params[2 * index],
                                                 slot_params[2 * index + 1], weights),
                               hidden, skip)
        if hidden.shape.rank != 2:  # the last module layer is conv
            hidden = tf.reshape(hidden, [-1, self.feature_dim])
        head_kernel, head_bias = slot_params[-2], slot_params[-1]
        return tf.matmul(hidden, head_kernel) + head_bias

    # The B candidates of a tournament side by side: every weight (optimizer slot,
    # update mask) of the B candidates stacked into one tensor, each layer's
    # "candidate layout" (`ModuleLayer.stack_candidates`; the first layer's candidates
    # share their input, so a dense first layer is one product for all of them). The
    # readout is stacked along a leading axis; its update masks (always True) stay
    # scalars.

    def stack_candidates(self, candidates, task: int, masks: bool = False) -> list:
        """B lists aligned with `gather_slots`'s output (weights or optimizer slots; or
        `slot_masks` when `masks`) -> one list of tensors in the candidate layout."""
        self._check_task(task)
        stacked = []
        for index, layer in enumerate(self.module_layers):
            stacked += layer.stack_candidates([c[2 * index] for c in candidates],
                                              [c[2 * index + 1] for c in candidates],
                                              shared=index == 0, masks=masks)
        if masks:
            return stacked + [tf.constant(True), tf.constant(True)]
        return stacked + [tf.stack([c[position] for c in candidates]) for position in (-2, -1)]

    def unstack_candidates(self, stacked, task: int) -> list:
        """Inverse of `stack_candidates` (weights or slots): B lists, slot layout."""
        self._check_task(task)
        columns = []
        for index, layer in enumerate(self.module_layers):
            columns += layer.unstack_candidates(stacked[2 * index], stacked[2 * index + 1],
                                                shared=index == 0)
        columns += [tf.unstack(stacked[-2]), tf.unstack(stacked[-1])]
        return [list(candidate) for candidate in zip(*columns)]

    def apply_candidates(self, stacked, inputs, weights, task: int):
        """Logits `[B, batch, classes]` of B candidates (`stacked`: candidate layout,
        `weights`: `candidate_weights`, per layer `[B, S]`) on the same `inputs`."""
        hidden = inputs
        for index, layer in enumerate(self.module_layers):
            layer_weights, skip = (weights[index] if isinstance(weights[index], tuple)
                                   else (weights[index], None))  # identity / residual
            hidden = with_skip(layer.apply_candidates(
                hidden, stacked[2 * index], stacked[2 * index + 1], layer_weights,
                shared=index == 0), hidden, skip, candidates=True)
        head_kernel, head_bias = stacked[-2], stacked[-1]  # [B, features, classes], [B, classes]
        if hidden.shape.rank != 3:  # the last module layer is conv
            hidden = tf.reshape(hidden, [head_kernel.shape[0], -1, self.feature_dim])
        return tf.matmul(hidden, head_kernel) + head_bias[:, None]

    def apply(self, params, inputs, path, task: int, frozen=None):
        """Logits `[batch, classes]` of pathway `path` (`[L, N] int32`) for `task`,
        computed from `params` (tensors ordered as `task_variables(task)`); `frozen`:
        the always-on modules (`plan`)."""
        plan = self.plan(path, frozen)
        return self.apply_slots(self.gather_slots(params, plan, task), inputs, plan, task)

    def call(self, inputs, path, task: int = 0):
        self._check_task(task)
        path = tf.convert_to_tensor(path, tf.int32)
        params = [v.value for v in self.task_variables(task)]
        return self.apply(params, tf.convert_to_tensor(inputs, tf.float32), path, task)

    # -- transfer --------------------------------------------------------------------

    def freeze(self, path) -> None:
        """Marks the modules of `path` (`[L, N]`) frozen, adding to those already frozen."""
        path = tf.convert_to_tensor(path, tf.int32)
        masks = tf.stack([layer_active_mask(path[i], self.num_modules)
                          for i in range(self.num_layers)])
        self.frozen.assign(tf.maximum(tf.convert_to_tensor(self.frozen), masks))

    def initial_values(self, layer) -> tuple:
        """Fresh `(kernel, bias)` of all M modules of `layer`: Glorot-uniform and zeros
        (init "glorot"), or truncated normal σ 0.1 and 0.1 (init "tf1")."""
        if self.init == "glorot":
            return layer.initial_kernel(), tf.zeros_like(layer.bias)
        return tf1_initial_values(layer)

    def reinitialize_unfrozen(self) -> None:
        """Fresh initial values (`initial_values`) for every module that is not frozen."""
        frozen = tf.convert_to_tensor(self.frozen) > 0.5
        for index, layer in enumerate(self.module_layers):
            keep = frozen[index]  # [M], broadcast over each module's kernel
            keep_kernel = tf.reshape(keep, [-1] + [1] * (len(layer.kernel.shape) - 1))
            kernel, bias = self.initial_values(layer)
            layer.kernel.assign(tf.where(keep_kernel, layer.kernel, kernel))
            layer.bias.assign(tf.where(keep[:, None], layer.bias, bias))

    def get_config(self):
        return {
            "name": self.name,
            "input_dim": self.input_dim,
            "num_layers": self.num_layers,
            "num_modules": self.num_modules,
            "num_active": self.num_active,
            "units": self.units,
            "task_classes": list(self.task_classes),
            "compute": self.compute,
            "input_shape": None if self.input_shape_arg is None else list(self.input_shape_arg),
            "conv_layers": [list(layer) for layer in self.conv_layers],
            "padding": self.padding,
            **{name: getattr(self, name) for name in PROTOCOL_OPTIONS},
        }
