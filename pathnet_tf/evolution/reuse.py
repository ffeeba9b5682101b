"""Diagnostics of reuse: does a later task's population find, keep and win with the
modules an earlier task froze? NumPy only.

Transfer in PathNet needs three things in a row: a pathway of the new population must
hold the frozen modules (finding), keep them through mutation (keeping), and win
tournaments with them (learning on them). `ReuseLog` records, every generation of a
task that starts with frozen modules:

- `winner_frozen`: per layer, the frozen modules on the tournament winner's path;
- `population_frozen`: per layer, the population's mean number of frozen modules;
- `holding`: how many pathways hold the whole *reference path* (the previous task's
  best path: every module of it, in every layer);
- `first_win_holding`: the first generation whose winner held the reference path.

The same numbers go to TensorBoard (`Summaries.reuse`) and to results.json (each
task's `reuse`). `seed_population` is the switch that starts a share of the
population on the reference path (`EvolutionConfig.seed_fraction`, docs/transfer.md).
"""

from __future__ import annotations

import numpy as np

from pathnet_tf.evolution.genetic import active_mask


def frozen_per_layer(paths: np.ndarray, frozen: np.ndarray, num_modules: int) -> np.ndarray:
    """`[..., L]`: the distinct frozen modules each path uses, per layer (`frozen`:
    the `[L, M]` mask)."""
    return (active_mask(paths, num_modules) & np.asarray(frozen, bool)).sum(axis=-1)


def holds(paths: np.ndarray, reference: np.ndarray, num_modules: int) -> np.ndarray:
    """`[...] bool`: whether each path uses every module of `reference` (`[L, N]`)."""
    wanted = active_mask(reference, num_modules)
    return np.all(active_mask(paths, num_modules) | ~wanted, axis=(-2, -1))


def seed_population(population: np.ndarray, reference: np.ndarray, fraction: float,
                    rng: np.random.Generator | None = None, num_modules: int = 0) -> int:
    """Sets the first round(fraction · P) members of `population` (`[P, L, N]`, in
    place) to `reference`; returns how many. The tournament draws its members at
    random, so which ones are seeded does not matter.

    A population wider than the reference (`[P, L, N']`, N' > the reference's N: a
    later task's pathways use more modules per layer) gets the reference in its
    members' first N places and, in the other N' − N, modules the reference's layer
    does not use, drawn by `rng` from the `num_modules` of each layer."""
    count = int(round(fraction * len(population)))
    reference = np.asarray(reference, population.dtype)
    extra = population.shape[-1] - reference.shape[-1]
    if extra < 0:
        raise ValueError(f"a path of {reference.shape[-1]} modules per layer cannot seed "
                         f"pathways of {population.shape[-1]}")
    if extra == 0:
        population[:count] = reference
        return count
    if rng is None or num_modules < population.shape[-1]:
        raise ValueError(f"seeding pathways wider than the reference needs an rng and "
                         f"at least {population.shape[-1]} modules per layer")
    free = [np.setdiff1d(np.arange(num_modules), row) for row in reference]  # per layer
    for member in range(count):
        for layer, row in enumerate(reference):
            population[member, layer] = np.concatenate(
                [row, rng.choice(free[layer], size=extra, replace=False)])
    return count


class ReuseLog:
    """The per-generation reuse series of one task (see the module's docstring; RL:
    per round of tournaments, `record_round`).

    `frozen`: the `[L, M]` mask of modules frozen when the task starts; `reference`:
    the previous task's best path `[L, N]` (None: there is none)."""

    def __init__(self, frozen: np.ndarray, reference, num_modules: int):
        self.frozen = np.asarray(frozen, bool)
        self.reference = None if reference is None else np.asarray(reference, np.int32)
        self.num_modules = num_modules
        self.winner_frozen: list[list[int]] = []
        self.population_frozen: list[list[float]] = []
        self.holding: list[int] = []
        self.first_win_holding: int | None = None
        self.seeded = 0

    def record(self, generation: int, winner_path: np.ndarray,
               population: np.ndarray) -> dict:
        """Adds generation `generation` (after its tournament); returns its values."""
        winner = frozen_per_layer(winner_path, self.frozen, self.num_modules)
        self.winner_frozen.append([int(v) for v in winner])
        mean, holding = self._record_population(population)
        if (self.first_win_holding is None and self.reference is not None
                and holds(winner_path, self.reference, self.num_modules)):
            self.first_win_holding = generation
        return {"winner_frozen": int(winner.sum()), "population_frozen": float(mean.sum()),
                "holding": holding}

    def record_round(self, round_: int, winner_paths: np.ndarray,
                     population: np.ndarray) -> dict:
        """RL (`rl/runner.py`): one round of tournaments, `round_` (1-based), after it.
        A round has a winner per group that played (`winner_paths: [K, L, N]`, K >= 0):
        `winner_frozen` is their mean per layer (None when no group played), and the
        first win is the first round in which any winner holds the reference path."""
        winner_paths = np.asarray(winner_paths).reshape(-1, *population.shape[1:])
        winners = None
        if len(winner_paths):
            winners = frozen_per_layer(winner_paths, self.frozen, self.num_modules).mean(0)
            self.winner_frozen.append([round(float(v), 6) for v in winners])
        else:
            self.winner_frozen.append(None)
        mean, holding = self._record_population(population)
        if (self.first_win_holding is None and self.reference is not None
                and len(winner_paths)
                and holds(winner_paths, self.reference, self.num_modules).any()):
            self.first_win_holding = round_
        return {"winner_frozen": None if winners is None else float(winners.sum()),
                "population_frozen": float(mean.sum()), "holding": holding}

    def _record_population(self, population: np.ndarray) -> tuple[np.ndarray, int]:
        """Appends the population's mean frozen modules per layer and the pathways
        holding the reference path; returns both."""
        mean = frozen_per_layer(population, self.frozen, self.num_modules).mean(axis=0)
        holding = (0 if self.reference is None
                   else int(holds(population, self.reference, self.num_modules).sum()))
        self.population_frozen.append([round(float(v), 6) for v in mean])
        self.holding.append(holding)
        return mean, holding

    def results(self) -> dict:
        """The task's `reuse` entry of results.json."""
        return {"frozen_modules": int(self.frozen.sum()),
                "reference_path": None if self.reference is None else self.reference.tolist(),
                "seeded": self.seeded, "winner_frozen": self.winner_frozen,
                "population_frozen": self.population_frozen, "holding": self.holding,
                "first_win_holding": self.first_win_holding}

    def state(self) -> dict:
        return {**self.results(), "frozen": self.frozen.astype(int).tolist()}

    @classmethod
    def from_state(cls, state: dict, num_modules: int) -> ReuseLog:
        """The log a checkpoint's `state()` holds (a resumed run's task builds its own
        before the frozen modules are loaded)."""
        log = cls(np.asarray(state["frozen"], bool), state["reference_path"], num_modules)
        log.load_state(state)
        return log

    def load_state(self, state: dict) -> None:
        self.seeded = state["seeded"]
        self.winner_frozen = state["winner_frozen"]
        self.population_frozen = state["population_frozen"]
        self.holding = state["holding"]
        self.first_win_holding = state["first_win_holding"]
