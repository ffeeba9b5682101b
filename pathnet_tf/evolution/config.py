"""The evolution's configuration: `EvolutionConfig` (the tournament genetic algorithm
and the training of each candidate), a frozen dataclass whose defaults are the paper's
values. Standard library only, like `core/config.py`.
"""

from __future__ import annotations

import dataclasses
import math

from pathnet_tf.core.checks import check_choice, check_positive_ints
from pathnet_tf.core.config import OPTIMIZERS
from pathnet_tf.evolution.genetic import BOUNDARIES, GENOTYPES

TOURNAMENTS = ("fair", "shared")  # training.TaskTrainer, shared_tournament.py (a protocol switch)
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
    mutation_rate: float | None = None  # None: 1 / (L·N); 2 / (L·N) with genotype tf1_mask
    mutation_boundary: str = "clamp"
    jit_compile: bool = True
    parallel: int = 0  # K > 0: K tournaments side by side per call (training.py)
    tournament: str = "fair"  # "shared": candidates train in turn on the same weights
    genotype: str = "paper"  # "tf1_mask": the TF1 code's mutation (genetic.mutate_tf1)
    # A transfer switch (docs/transfer.md): the share of a later task's population that
    # starts on the previous task's best path (0: the paper, a random population).
    seed_fraction: float = 0.0

    def __post_init__(self):
        check_choice(self, "tournament", TOURNAMENTS)
        if isinstance(self.seed_fraction, bool) or not (
                isinstance(self.seed_fraction, (int, float)) and 0 <= self.seed_fraction <= 1):
            raise ValueError(f"seed_fraction ({self.seed_fraction!r}) must be in [0, 1]")
        check_choice(self, "genotype", GENOTYPES)
        if self.tournament == "shared" and self.parallel:
            raise ValueError(f"parallel ({self.parallel}) needs tournament fair; the "
                             "shared tournament trains its candidates one after another")
        if isinstance(self.parallel, bool) or not isinstance(self.parallel, int) or (
                self.parallel < 0):
            raise ValueError(f"parallel ({self.parallel!r}) must be 0 (serial) or a "
                             "positive number of tournaments")
        if self.parallel * self.tournament_size > self.population_size:
            raise ValueError(f"parallel ({self.parallel}) tournaments of "
                             f"{self.tournament_size} need {self.parallel * self.tournament_size}"
                             f" distinct pathways; population_size is {self.population_size}")
        check_positive_ints(self, "population_size", "tournament_size",
                            "steps_per_candidate", "batch_size", "max_generations")
        if self.tournament_size < 2 or self.tournament_size > self.population_size:
            raise ValueError(f"tournament_size ({self.tournament_size}) must be between 2 "
                             f"and population_size ({self.population_size})")
        if not (isinstance(self.threshold, (int, float)) and 0 < self.threshold <= 1):
            raise ValueError(f"threshold ({self.threshold!r}) must be in (0, 1]")
        check_choice(self, "optimizer", OPTIMIZERS)
        if self.learning_rate is not None and not (
                math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"learning_rate ({self.learning_rate!r}) must be a positive number")
        if self.mutation_rate is not None and not 0 <= self.mutation_rate <= 1:
            raise ValueError(f"mutation_rate ({self.mutation_rate!r}) must be in [0, 1]")
        check_choice(self, "mutation_boundary", BOUNDARIES)

    @property
    def effective_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return DEFAULT_LEARNING_RATES[self.optimizer]
