"""The workers' pathways and their tournaments (the paper's Atari evolution). NumPy only.

W workers learn at once on shared weights, each on its own pathway (`paths: [W, L,
N]`). A worker's fitness is the mean return of its last `fitness_episodes` episodes
played on its current pathway. Every `evolve_every` updates the runner calls
`tournaments()`: the workers are shuffled into groups of B (`tournament_size`; a
remainder sits out); in a group where every member has finished an episode on its
pathway, the fittest wins and every other member takes the winner's pathway,
mutated (`genetic.mutate`), and starts a new fitness record. Only pathways are
copied: weights are shared and the optimizer is one.
"""

from __future__ import annotations

import numpy as np

from pathnet_tf.evolution.genetic import active_mask, mutate, random_genotype, select_winner
from pathnet_tf.evolution.reuse import seed_population


class WorkerPaths:
    """The W pathways, their recent returns and the tournaments' history.

    `fixed_path` (`[L, N]`): the controls' one path for every worker, never evolved."""

    def __init__(self, rng: np.random.Generator, num_workers: int, num_layers: int,
                 num_modules: int, num_active: int, tournament_size: int = 2,
                 mutation_rate: float | None = None, fitness_episodes: int = 5,
                 fixed_path=None):
        self.rng, self.num_modules = rng, num_modules
        self.tournament_size, self.mutation_rate = tournament_size, mutation_rate
        self.fitness_episodes = fitness_episodes
        self.evolving = fixed_path is None
        if self.evolving:
            self.paths = np.stack([random_genotype(rng, num_layers, num_modules, num_active)
                                   for _ in range(num_workers)])
        else:
            self.paths = np.repeat(np.asarray(fixed_path, np.int32)[None], num_workers, 0)
        self.recent: list[list[float]] = [[] for _ in range(num_workers)]
        self.tournaments_held = 0
        self.copies = 0  # losers that took a winner's pathway

    def seed(self, reference, fraction: float) -> int:
        """Puts round(fraction · W) workers' pathways on `reference` (`[L, N]`, game A's
        best path; wider pathways hold it and other modules, `reuse.seed_population`);
        returns how many. Before any episode."""
        return seed_population(self.paths, reference, fraction, self.rng, self.num_modules)

    def record(self, worker: int, episode_return: float) -> None:
        recent = self.recent[worker]
        recent.append(float(episode_return))
        del recent[:-self.fitness_episodes]

    def fitness(self) -> np.ndarray:
        """`[W]` mean of each worker's recent returns on its pathway (NaN: none yet)."""
        return np.array([np.mean(r) if r else np.nan for r in self.recent])

    def tournaments(self) -> list[dict]:
        """One round of tournaments; returns what happened in each group that played:
        `{"members", "fitness", "winner"}` (workers' indices)."""
        if not self.evolving:
            return []
        fitness = self.fitness()
        size = self.tournament_size
        order = self.rng.permutation(len(self.paths))
        events = []
        for group in order[:len(order) // size * size].reshape(-1, size):
            if np.isnan(fitness[group]).any():
                continue
            winner = int(group[select_winner(fitness[group])])
            for loser in group:
                if loser != winner:
                    self.paths[loser] = mutate(self.paths[winner], self.rng,
                                               self.num_modules, self.mutation_rate)
                    self.recent[loser] = []
                    self.copies += 1
            events.append({"members": group.tolist(), "fitness": fitness[group].tolist(),
                           "winner": winner})
        self.tournaments_held += len(events)
        return events

    def best(self) -> tuple[int, np.ndarray]:
        """The fittest worker (a worker with no record counts as -inf) and its pathway."""
        fitness = np.nan_to_num(self.fitness(), nan=-np.inf)
        worker = int(np.argmax(fitness))
        return worker, self.paths[worker].copy()

    def module_usage(self) -> np.ndarray:
        """`[L, M]` fraction of workers whose pathway uses each module."""
        return active_mask(self.paths, self.num_modules).mean(axis=0)

    def state(self) -> tuple[dict, dict]:
        return ({"paths": self.paths.copy()},
                {"recent": self.recent, "tournaments_held": self.tournaments_held,
                 "copies": self.copies})

    def load_state(self, arrays: dict, header: dict) -> None:
        self.paths = np.asarray(arrays["paths"], np.int32).copy()
        self.recent = [list(r) for r in header["recent"]]
        self.tournaments_held, self.copies = header["tournaments_held"], header["copies"]
