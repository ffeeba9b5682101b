"""The config of PBT of PathNet's hyperparameters (`pathnet_tf.pbt.pathnet`).

What belongs here: `PathNetPBTConfig` (the run's settings: each member's PathNet and
GA, the task, population and budget, the searched hyperparameters and how PBT
decides), its validation, its defaults and the control's hyperparameters. No
training: the members, the PBT loop and the controls are in `pathnet_tf.pbt.pathnet`,
which re-exports these names. No TensorFlow (tests/test_config_imports.py).
"""

from __future__ import annotations

import dataclasses

from pathnet_tf.core.checks import check_positive_int
from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.evolution.genetic import default_mutation_rate
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.protocol import PAPER, switches_of
from pathnet_tf.pbt.decisions import Hyperparameter, PBTConfig

HYPERPARAMETER_NAMES = ("learning_rate", "mutation_rate")


def _default_learning_rate() -> Hyperparameter:
    # Around SGD's default 0.05 (README's sweep), a decade and a half either side.
    return Hyperparameter("learning_rate", 0.005, 0.5, prior="log_uniform", bounds=(1e-4, 2.0))


def _default_mutation_rate() -> Hyperparameter:
    # Around the paper's 1 / (L N) = 1/9 for L = N = 3.
    return Hyperparameter("mutation_rate", 0.02, 0.5, prior="log_uniform", bounds=(1e-3, 1.0))


def _default_pbt() -> PBTConfig:
    return PBTConfig(truncation_fraction=0.25)


@dataclasses.dataclass(frozen=True)
class PathNetPBTConfig:
    """PBT over independent PathNet runs on one binary MNIST task.

    Attributes:
      pathnet, evolution: each member's PathNet and GA (the paper's settings by
        default); `evolution.max_generations` is not used (see `max_generations`),
        `evolution.learning_rate` and `evolution.mutation_rate` are the control's.
      task: the digit pair, e.g. (1, 3).
      noise: salt-and-pepper probability per pixel.
      num_members: PBT population size (whole PathNet runs), >= 2.
      ready_generations: generations a member runs between two PBT steps.
      max_generations: per member; the PBT budget is num_members x this, and each
        control run gets that whole budget.
      learning_rate, mutation_rate: the searched hyperparameters (name, prior,
        bounds).
      pbt: how PBT decides (ready every step: `ready_steps` counts PBT steps).
      validation_size: training images held out for the PBT score.
      baseline_seeds: control runs with the default hyperparameters.
      max_train: keep only this many training images (tests).
      data_dir: MNIST directory; None = the bundled data/mnist.
      seed: every random choice flows from it.
      log_every: progress line every this many PBT rounds.
    """

    pathnet: PathNetConfig = dataclasses.field(default_factory=PathNetConfig)
    evolution: EvolutionConfig = dataclasses.field(default_factory=EvolutionConfig)
    task: tuple = (1, 3)
    noise: float = 0.5
    num_members: int = 8
    ready_generations: int = 20
    max_generations: int = 500
    learning_rate: Hyperparameter = dataclasses.field(default_factory=_default_learning_rate)
    mutation_rate: Hyperparameter = dataclasses.field(default_factory=_default_mutation_rate)
    pbt: PBTConfig = dataclasses.field(default_factory=_default_pbt)
    validation_size: int = 1000
    baseline_seeds: int = 3
    max_train: int | None = None
    data_dir: str | None = None
    seed: int = 0
    log_every: int = 1

    def __post_init__(self):
        object.__setattr__(self, "task", data_lib.validate_digits(self.task))
        if not (isinstance(self.noise, (int, float)) and 0 <= self.noise <= 1):
            raise ValueError(f"noise ({self.noise!r}) must be in [0, 1]")
        for name in ("num_members", "ready_generations", "max_generations",
                     "validation_size", "log_every"):
            check_positive_int(name, getattr(self, name))
        if self.num_members < 2:
            raise ValueError(f"num_members ({self.num_members}) must be >= 2 for PBT")
        if (isinstance(self.baseline_seeds, bool) or not isinstance(self.baseline_seeds, int)
                or self.baseline_seeds < 0):
            raise ValueError(f"baseline_seeds ({self.baseline_seeds!r}) must be an integer >= 0")
        if self.max_train is not None and (not isinstance(self.max_train, int)
                                           or self.max_train <= self.validation_size):
            raise ValueError(f"max_train ({self.max_train!r}) must be an integer > "
                             f"validation_size ({self.validation_size})")
        changed = [f"{name}={value!r}" for name, value in switches_of(self).items()
                   if value != PAPER[name] and name not in ("threshold", "population_size")]
        if changed:  # the members' trainer and tournament are the paper protocol's
            raise ValueError(f"the PathNet PBT runs the paper's protocol; "
                             f"{', '.join(changed)} is not supported here")
        for name in HYPERPARAMETER_NAMES:
            hyperparameter = getattr(self, name)
            if not isinstance(hyperparameter, Hyperparameter) or hyperparameter.name != name:
                raise ValueError(f"{name} must be a Hyperparameter named {name!r}")
        if self.mutation_rate.bounds[1] > 1.0:
            raise ValueError(f"mutation_rate bounds {list(self.mutation_rate.bounds)} must "
                             "lie within [0, 1]")
        if self.learning_rate.bounds[0] <= 0:
            raise ValueError(f"learning_rate bounds {list(self.learning_rate.bounds)} must "
                             "be > 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed ({self.seed!r}) must be a non-negative integer")

    @property
    def space(self) -> tuple[Hyperparameter, Hyperparameter]:
        return (self.learning_rate, self.mutation_rate)

    @property
    def default_hyperparameters(self) -> dict[str, float]:
        """The control's: the optimizer's default learning rate, 1 / (L N)."""
        mutation = self.evolution.mutation_rate
        if mutation is None:
            mutation = default_mutation_rate(self.pathnet.num_layers, self.pathnet.num_active)
        return {"learning_rate": self.evolution.effective_learning_rate,
                "mutation_rate": float(mutation)}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
