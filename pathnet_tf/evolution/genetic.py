"""Genotypes and tournament selection. NumPy only.

A genotype (pathway) is an `[L, N]` integer matrix: row l names the N modules (0..M-1)
used in layer l (the paper's "3×3 matrix of integers in the range [1, 10]", zero-based
here). A population is an `[P, L, N]` array. `Tournament` is an ask/tell object that
owns its random generator and knows nothing of networks:

    candidates = tournament.ask()              # [B, L, N] genotypes to evaluate
    winner = tournament.tell(fitness, loss)    # losers <- mutated copies of the winner
"""

from __future__ import annotations

import numpy as np

BOUNDARIES = ("clamp", "wrap")
GENOTYPES = ("paper", "tf1_mask")  # which mutation a Tournament uses


def random_genotype(rng: np.random.Generator, num_layers: int, num_modules: int,
                    num_active: int) -> np.ndarray:
    """An `[L, N] int32` genotype with N distinct modules in each layer."""
    if num_active > num_modules:
        raise ValueError(f"num_active ({num_active}) must be <= num_modules ({num_modules})")
    rows = [rng.choice(num_modules, size=num_active, replace=False) for _ in range(num_layers)]
    return np.stack(rows).astype(np.int32)


def default_mutation_rate(num_layers: int, num_active: int) -> float:
    """The paper's per-element mutation probability, 1 / (L·N)."""
    return 1.0 / (num_layers * num_active)


def mutate(genotype: np.ndarray, rng: np.random.Generator, num_modules: int,
           rate: float | None = None, max_offset: int = 2,
           boundary: str = "clamp") -> np.ndarray:
    """A mutated copy of `genotype` (`[L, N]`).

    Each element, with probability `rate` (default 1/(L·N)), gets a uniform integer
    offset from [-max_offset, max_offset] (inclusive; an offset of 0 is possible, as in
    the paper's description), then is clamped to [0, M-1] (`boundary="clamp"`, the
    paper's author's code) or wrapped modulo M (`"wrap"`, as in kimhc6028's port).
    """
    genotype = np.asarray(genotype)
    if rate is None:
        rate = default_mutation_rate(*genotype.shape)
    return _offset(genotype, rng, num_modules, rate, -max_offset, max_offset, boundary)


def _offset(genotype, rng, num_modules, rate, low, high, boundary) -> np.ndarray:
    """Each element, with probability `rate`, plus a uniform integer in [low, high],
    then clamped to [0, M-1] or wrapped modulo M; `[L, N] int32`."""
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary ({boundary!r}) must be one of {BOUNDARIES}")
    chosen = rng.random(genotype.shape) < rate
    offsets = rng.integers(low, high + 1, size=genotype.shape)
    mutated = genotype + np.where(chosen, offsets, 0)
    if boundary == "clamp":
        mutated = np.clip(mutated, 0, num_modules - 1)
    else:
        mutated = np.mod(mutated, num_modules)
    return mutated.astype(np.int32)


def tf1_mutation_rate(num_layers: int, num_active: int) -> float:
    """The TF1 code's per-module mutation probability, 2 / (L·N)."""
    return 2.0 / (num_layers * num_active)


def mutate_tf1(genotype: np.ndarray, rng: np.random.Generator, num_modules: int,
               rate: float | None = None, boundary: str = "clamp") -> np.ndarray:
    """The TF1 code's mutation of its `[L, M]` binary mask, on an `[L, N]` genotype.

    Each active module, with probability `rate` (default 2/(L·N)), is switched off and
    the module at offset d ∈ {-4, -3, -2, -1} (uniform) switched on, clamped to
    [0, M-1] (or wrapped, `boundary="wrap"`): paths drift toward module 0. Two modules
    landing on one index become one module (a repeated index, which counts once), and
    the copies of a repeated module move together, as the mask's one entry does: a
    path can lose modules, never regain them (docs/protocol.md section 3, item 9).
    """
    genotype = np.asarray(genotype)
    if rate is None:
        rate = tf1_mutation_rate(*genotype.shape)
    moved = _offset(genotype, rng, num_modules, rate, -4, -1, boundary)
    # Each element follows the first element naming the same module (its mask entry).
    first = np.argmax(genotype[:, :, None] == genotype[:, None, :], axis=2)  # [L, N]
    return np.take_along_axis(moved, first, axis=1).astype(np.int32)


def select_winner(fitness, loss=None) -> int:
    """Index of the tournament's winner: highest fitness; ties go to the lower loss,
    then to the lower index. Order-independent except for exact ties in both."""
    fitness = np.asarray(fitness, dtype=np.float64)
    loss = np.zeros_like(fitness) if loss is None else np.asarray(loss, dtype=np.float64)
    # lexsort sorts by the last key first: fitness descending, then loss ascending.
    return int(np.lexsort((loss, -fitness))[0])


def active_mask(genotype: np.ndarray, num_modules: int) -> np.ndarray:
    """`[..., L, N]` genotypes (one, or a population) -> `[..., L, M] bool`, True for
    the modules each uses."""
    genotype = np.asarray(genotype)
    mask = np.zeros((*genotype.shape[:-1], num_modules), dtype=bool)
    np.put_along_axis(mask, genotype, True, axis=-1)
    return mask


def overlap(path_a: np.ndarray, path_b: np.ndarray, num_modules: int) -> int:
    """Number of modules two pathways share, counted per layer (distinct modules)."""
    return int(np.sum(active_mask(path_a, num_modules) & active_mask(path_b, num_modules)))


class Tournament:
    """Tournament selection over a population of pathways (ask/tell).

    Args:
      population_size: P, number of genotypes.
      num_layers, num_modules, num_active: L, M, N.
      tournament_size: B, candidates per tournament (the paper uses 2).
      rng: the generator this object owns; every random choice comes from it.
      mutation_rate: per-element probability, default 1/(L·N) (2/(L·N) for tf1_mask).
      boundary: "clamp" or "wrap" (see `mutate`).
      genotype: "paper" (`mutate`) or "tf1_mask" (`mutate_tf1`, the TF1 code's).
    """

    def __init__(self, population_size: int, num_layers: int, num_modules: int,
                 num_active: int, rng: np.random.Generator, tournament_size: int = 2,
                 mutation_rate: float | None = None, boundary: str = "clamp",
                 genotype: str = "paper"):
        if tournament_size < 2 or tournament_size > population_size:
            raise ValueError(
                f"tournament_size ({tournament_size}) must be between 2 and "
                f"population_size ({population_size})")
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary ({boundary!r}) must be one of {BOUNDARIES}")
        if genotype not in GENOTYPES:
            raise ValueError(f"genotype ({genotype!r}) must be one of {GENOTYPES}")
        self.num_modules = num_modules
        self.tournament_size = tournament_size
        self.genotype = genotype
        default_rate = default_mutation_rate if genotype == "paper" else tf1_mutation_rate
        self.mutation_rate = (default_rate(num_layers, num_active)
                              if mutation_rate is None else mutation_rate)
        self.boundary = boundary
        self.rng = rng
        self.population = np.stack([
            random_genotype(rng, num_layers, num_modules, num_active)
            for _ in range(population_size)])  # [P, L, N]
        self._pending: np.ndarray | None = None

    def ask(self, tournaments: int | None = None) -> np.ndarray:
        """Pick B distinct members at random; returns their genotypes `[B, L, N]`.

        With `tournaments=K`, K tournaments at once over K·B distinct members:
        `[K, B, L, N]` (the parallel mode)."""
        count = 1 if tournaments is None else tournaments
        if count * self.tournament_size > len(self.population):
            raise ValueError(
                f"{count} tournaments of {self.tournament_size} need "
                f"{count * self.tournament_size} distinct members; the population has "
                f"{len(self.population)}")
        members = self.rng.choice(len(self.population), count * self.tournament_size,
                                  replace=False).reshape(count, self.tournament_size)
        self._pending = members if tournaments is not None else members[0]
        return self.population[self._pending].copy()

    def tell(self, fitness, loss=None):
        """Report the candidates' fitness (and loss, the tie-break) in `ask()` order:
        `[B]`, or `[K, B]` after `ask(tournaments=K)`.

        Every loser is overwritten by a mutated copy of its tournament's winner.
        Returns the winner's position among the candidates (0..B-1), or `[K]` of them.
        """
        if self._pending is None:
            raise RuntimeError("tell() called without a pending ask()")
        fitness = np.asarray(fitness)
        if fitness.shape != self._pending.shape:
            raise ValueError(f"fitness has shape {fitness.shape}, expected "
                             f"{self._pending.shape}")
        members, self._pending = self._pending, None
        if members.ndim == 1:
            return self._settle(members, fitness, loss)
        losses = [None] * len(members) if loss is None else np.asarray(loss)
        return np.array([self._settle(m, f, loss_k)
                         for m, f, loss_k in zip(members, fitness, losses)])

    def _settle(self, members, fitness, loss) -> int:
        winner = select_winner(fitness, loss)
        champion = self.population[members[winner]]
        for position, member in enumerate(members):
            if position != winner:
                if self.genotype == "tf1_mask":
                    self.population[member] = mutate_tf1(
                        champion, self.rng, self.num_modules, self.mutation_rate,
                        boundary=self.boundary)
                else:
                    self.population[member] = mutate(
                        champion, self.rng, self.num_modules, self.mutation_rate,
                        boundary=self.boundary)
        return winner

    def module_usage(self) -> np.ndarray:
        """`[L, M]` fraction of the population using each module."""
        return active_mask(self.population, self.num_modules).mean(axis=0)


class FixedPath:
    """The controls' stand-in for `Tournament`: one pathway, never evolved.

    `ask()` returns it as a one-candidate tournament `[1, L, N]`; `tell()` always
    names it the winner. `population` holds it, for checkpoints and summaries."""

    def __init__(self, genotype: np.ndarray, num_modules: int):
        self.population = np.asarray(genotype, np.int32)[None].copy()  # [1, L, N]
        self.num_modules = num_modules

    def ask(self, tournaments: int | None = None) -> np.ndarray:
        if tournaments is not None:
            raise ValueError("a fixed path runs no parallel tournaments")
        return self.population.copy()

    def tell(self, fitness, loss=None) -> int:
        del fitness, loss
        return 0

    def module_usage(self) -> np.ndarray:
        return active_mask(self.population[0], self.num_modules).astype(np.float64)
