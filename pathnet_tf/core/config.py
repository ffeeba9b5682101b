"""The network's configuration: `PathNetConfig`, a frozen dataclass whose defaults are
the paper's values, and the choices of its switches.

Every field is validated at construction with a message naming the field, its value
and what is allowed, so a bad setting stops a run before anything is trained or
written. Standard library only: validating a configuration never imports TensorFlow
(a bad flag fails in a blink). The evolution's configuration is in
`evolution/config.py`, the experiments' in `experiments/config.py`.
"""

from __future__ import annotations

import dataclasses

from pathnet_tf.core.checks import check_choice, check_positive_ints
from pathnet_tf.core.shapes import COMPUTE_MODES

OPTIMIZERS = ("sgd", "adam")  # optimizers.make_optimizer
# The protocol switches (README "Flags"; docs/protocol.md section 3): the first choice of each is
# the paper's protocol and the default, the second the TF1 code's (experiments/protocol.py).
FROZEN_PATHS = ("available", "always_on")  # model.PathNet.plan
AGGREGATIONS = ("sum", "mean")  # model.PathNet.plan
MODULE_TYPES_CHOICES = ("linear", "tf1")  # model.module_kinds
INITS = ("glorot", "tf1")  # model.PathNet.initial_values


@dataclasses.dataclass(frozen=True)
class PathNetConfig:
    """The network: L layers of M modules of `units` units, N active per layer."""

    num_layers: int = 3  # L
    num_modules: int = 10  # M
    num_active: int = 3  # N
    units: int = 20
    compute: str = "gather"  # "gather" (cost ∝ N) or "mask" (cost ∝ M)
    frozen_path: str = "available"  # "always_on": earlier tasks' frozen modules in every pass
    aggregation: str = "sum"  # "mean": a layer's summed module outputs / M
    module_types: str = "linear"  # "tf1": identity/linear/residual modules after layer 1
    init: str = "glorot"  # "tf1": truncated normal σ 0.1, biases 0.1

    def __post_init__(self):
        check_positive_ints(self, "num_layers", "num_modules", "num_active", "units")
        if self.num_active > self.num_modules:
            raise ValueError(f"num_active ({self.num_active}) must be <= num_modules "
                             f"({self.num_modules})")
        check_choice(self, "compute", COMPUTE_MODES)
        for name, choices in (("frozen_path", FROZEN_PATHS), ("aggregation", AGGREGATIONS),
                              ("module_types", MODULE_TYPES_CHOICES), ("init", INITS)):
            check_choice(self, name, choices)
