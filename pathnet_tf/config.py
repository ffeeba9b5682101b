"""Configuration: frozen dataclasses whose defaults are the paper's values.

Every field is validated at construction with a message naming the field, its value
and what is allowed, so a bad setting stops a run before anything is trained or
written. Scripts map their flags one-to-one onto these fields (`--num_modules` ->
`PathNetConfig.num_modules`).
"""

from __future__ import annotations

import dataclasses
import math

from pathnet_tf.data import validate_digits
from pathnet_tf.genetic import BOUNDARIES

# The choices below are defined here, at the bottom of the import graph, so that
# validating a configuration never imports TensorFlow (a bad flag fails in a blink).
COMPUTE_MODES = ("gather", "mask")  # layers.module_plan
OPTIMIZERS = ("sgd", "adam")  # optimizers.make_optimizer


def _check_positive_int(owner, *names):
    for name in names:
        value = getattr(owner, name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} ({value!r}) must be a positive integer")


def _check_choice(owner, name, choices):
    value = getattr(owner, name)
    if value not in choices:
        raise ValueError(f"{name} ({value!r}) must be one of {', '.join(choices)}")


@dataclasses.dataclass(frozen=True)
class PathNetConfig:
    """The network: L layers of M modules of `units` units, N active per layer."""

    num_layers: int = 3  # L
    num_modules: int = 10  # M
    num_active: int = 3  # N
    units: int = 20
    compute: str = "gather"  # "gather" (cost ∝ N) or "mask" (cost ∝ M)

    def __post_init__(self):
        _check_positive_int(self, "num_layers", "num_modules", "num_active", "units")
        if self.num_active > self.num_modules:
            raise ValueError(f"num_active ({self.num_active}) must be <= num_modules "
                             f"({self.num_modules})")
        _check_choice(self, "compute", COMPUTE_MODES)


# Chosen by the learning-rate sweep described in README.md ("Choosing the learning rate").
DEFAULT_OPTIMIZER = "sgd"
DEFAULT_LEARNING_RATES = {"sgd": 0.05, "adam": 0.001}


@dataclasses.dataclass(frozen=True)
class EvolutionConfig:
    """The tournament genetic algorithm and the training of each candidate."""

    population_size: int = 64  # P
    tournament_size: int = 2  # B
    steps_per_candidate: int = 50  # T
    batch_size: int = 16
    threshold: float = 0.998  # a task is solved when a winner's fitness reaches it
    max_generations: int = 1000
    optimizer: str = DEFAULT_OPTIMIZER
    learning_rate: float | None = None  # None: the optimizer's default above
    mutation_rate: float | None = None  # None: 1 / (L·N)
    mutation_boundary: str = "clamp"
    jit_compile: bool = True

    def __post_init__(self):
        _check_positive_int(self, "population_size", "tournament_size",
                            "steps_per_candidate", "batch_size", "max_generations")
        if self.tournament_size < 2 or self.tournament_size > self.population_size:
            raise ValueError(f"tournament_size ({self.tournament_size}) must be between 2 "
                             f"and population_size ({self.population_size})")
        if not (isinstance(self.threshold, (int, float)) and 0 < self.threshold <= 1):
            raise ValueError(f"threshold ({self.threshold!r}) must be in (0, 1]")
        _check_choice(self, "optimizer", OPTIMIZERS)
        if self.learning_rate is not None and not (
                math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"learning_rate ({self.learning_rate!r}) must be a positive number")
        if self.mutation_rate is not None and not 0 <= self.mutation_rate <= 1:
            raise ValueError(f"mutation_rate ({self.mutation_rate!r}) must be in [0, 1]")
        _check_choice(self, "mutation_boundary", BOUNDARIES)

    @property
    def effective_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return DEFAULT_LEARNING_RATES[self.optimizer]


@dataclasses.dataclass(frozen=True)
class BinaryMnistConfig:
    """The binary MNIST transfer experiment: task A, then task B on top of it."""

    pathnet: PathNetConfig = dataclasses.field(default_factory=PathNetConfig)
    evolution: EvolutionConfig = dataclasses.field(default_factory=EvolutionConfig)
    task_a: tuple = (1, 3)
    task_b: tuple = (1, 2)
    noise: float = 0.5  # salt-and-pepper probability per pixel
    data_dir: str | None = None  # None: the bundled data/mnist
    max_train: int | None = None  # keep only this many training images per task (tests)
    seed: int = 0
    summary_every: int = 1  # TensorBoard scalars and module-usage image
    histogram_every: int = 50  # TensorBoard histograms of module weights
    log_every: int = 10  # progress line

    def __post_init__(self):
        object.__setattr__(self, "task_a", validate_digits(self.task_a))
        object.__setattr__(self, "task_b", validate_digits(self.task_b))
        if not (isinstance(self.noise, (int, float)) and 0 <= self.noise <= 1):
            raise ValueError(f"noise ({self.noise!r}) must be in [0, 1]")
        if self.max_train is not None:
            _check_positive_int(self, "max_train")
        _check_positive_int(self, "summary_every", "histogram_every", "log_every")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed ({self.seed!r}) must be a non-negative integer")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
