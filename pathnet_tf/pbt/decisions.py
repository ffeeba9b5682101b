"""Population Based Training decisions: ready, exploit, explore. NumPy only.

PBT (Jaderberg et al. 2017, arXiv:1711.09846) as an ask/tell object that owns the
population's hyperparameters and its own `numpy.random.Generator`, and knows
nothing of networks:

    pbt = PBT(space, PBTConfig(), np.random.default_rng(0))
    hyperparameters = pbt.initial_hyperparameters(10)   # list of 10 dicts
    ... train every member one round, score it on held-out data ...
    decisions = pbt.step(scores)                         # one Decision per member
    ... for each decision with copied_from set: copy that member's weights and
        optimizer state; then give every member decision.hyperparameters ...

- ready: a member is ready once `ready_steps` calls of `step` have passed since it
  last went through exploit-and-explore (whether or not it copied anyone), as in
  the paper and Ray Tune's `perturbation_interval`.
- exploit "truncation": a ready member in the bottom `truncation_fraction` of the
  ranking copies a member of the top fraction drawn uniformly at random (the
  paper's default; 10 members and 0.2 means "bottom 2 copy a random one of top 2").
- exploit "binary_tournament": a ready member copies another member drawn uniformly
  at random if that member's score is strictly higher.
- explore (only after a copy): each hyperparameter, independently, is resampled from
  its prior with probability `resample_probability`, otherwise multiplied by one of
  `perturb_factors` drawn uniformly at random, then clipped to its bounds.

Decisions are taken on the scores and hyperparameters as they were when `step` was
called, so a parent is always copied as it was before anyone changed this step.
The returned dicts are fresh copies: changing one never changes a member's values
(the reference's shared-dict bug, in which members that were not exploited trained
with another member's hyperparameters).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

PRIORS = ("uniform", "log_uniform")
EXPLOITS = ("truncation", "binary_tournament")


def is_number(value: Any) -> bool:
    """True for a real int or float (not bool), finite or not."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


@dataclasses.dataclass(frozen=True)
class Hyperparameter:
    """One searched hyperparameter: its prior and the bounds explore clips to.

    Attributes:
      name: its key in the hyperparameter dicts.
      low: lower end of the prior's range.
      high: upper end of the prior's range, > low.
      prior: "uniform" on [low, high], or "log_uniform" (uniform in log; low > 0).
      bounds: (minimum, maximum) a perturbed value is clipped to; must contain
        [low, high]. None means (low, high).
    """

    name: str
    low: float
    high: float
    prior: str = "uniform"
    bounds: tuple[float, float] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"hyperparameter name {self.name!r} must be a non-empty string.")
        for field in ("low", "high"):
            value = getattr(self, field)
            if not is_number(value) or not math.isfinite(value):
                raise ValueError(
                    f"hyperparameter {self.name!r}: {field} {value!r} must be a finite number."
                )
        if not self.low < self.high:
            raise ValueError(
                f"hyperparameter {self.name!r}: low ({self.low}) must be < high ({self.high})."
            )
        if self.prior not in PRIORS:
            raise ValueError(
                f"hyperparameter {self.name!r}: prior {self.prior!r} must be one of "
                f"{', '.join(PRIORS)}."
            )
        if self.prior == "log_uniform" and self.low <= 0:
            raise ValueError(
                f"hyperparameter {self.name!r}: a log_uniform prior needs low > 0, not {self.low}."
            )
        bounds = (self.low, self.high) if self.bounds is None else self.bounds
        if (
            isinstance(bounds, (str, bytes))
            or len(bounds) != 2
            or not all(is_number(b) and not math.isnan(b) for b in bounds)
        ):
            raise ValueError(
                f"hyperparameter {self.name!r}: bounds {self.bounds!r} must be two "
                "numbers (minimum, maximum)."
            )
        minimum, maximum = float(bounds[0]), float(bounds[1])
        if not minimum <= self.low < self.high <= maximum:
            raise ValueError(
                f"hyperparameter {self.name!r}: bounds ({minimum}, {maximum}) must "
                f"contain the prior's range [{self.low}, {self.high}]."
            )
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))
        object.__setattr__(self, "bounds", (minimum, maximum))

    def sample(self, rng: np.random.Generator) -> float:
        """One draw from the prior."""
        if self.prior == "log_uniform":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    def clip(self, value: float) -> float:
        """`value` clipped to `bounds`."""
        return float(min(max(value, self.bounds[0]), self.bounds[1]))


@dataclasses.dataclass(frozen=True)
class PBTConfig:
    """How PBT decides; defaults are the paper's and the reference protocol's.

    Attributes:
      ready_steps: steps (calls of `PBT.step`, e.g. rounds of one epoch) between two
        exploit-and-explore checks of one member; >= 1.
      exploit: "truncation" or "binary_tournament".
      truncation_fraction: in (0, 0.5]: the bottom and top fraction of the ranking,
        as ceil(fraction * population_size) members (at most half of them).
      perturb_factors: the factors explore multiplies a hyperparameter by, one
        drawn uniformly at random per hyperparameter; each > 0.
      resample_probability: in [0, 1]: chance, per hyperparameter, that explore
        draws a fresh value from the prior instead of perturbing.
    """

    ready_steps: int = 1
    exploit: str = "truncation"
    truncation_fraction: float = 0.2
    perturb_factors: tuple[float, ...] = (0.8, 1.2)
    resample_probability: float = 0.0

    def __post_init__(self):
        if (
            not isinstance(self.ready_steps, (int, np.integer))
            or isinstance(self.ready_steps, (bool, np.bool_))
            or self.ready_steps < 1
        ):
            raise ValueError(f"ready_steps {self.ready_steps!r} must be an integer >= 1.")
        if self.exploit not in EXPLOITS:
            raise ValueError(f"exploit {self.exploit!r} must be one of {', '.join(EXPLOITS)}.")
        if not is_number(self.truncation_fraction) or not (0.0 < self.truncation_fraction <= 0.5):
            raise ValueError(
                f"truncation_fraction {self.truncation_fraction!r} must be a number in (0, 0.5]."
            )
        factors = self.perturb_factors
        if (
            isinstance(factors, (str, bytes))
            or not isinstance(factors, Sequence)
            or len(factors) == 0
            or not all(is_number(f) and math.isfinite(f) and f > 0 for f in factors)
        ):
            raise ValueError(
                f"perturb_factors {factors!r} must be a non-empty list of finite numbers > 0."
            )
        if not is_number(self.resample_probability) or not (
            0.0 <= self.resample_probability <= 1.0
        ):
            raise ValueError(
                f"resample_probability {self.resample_probability!r} must be a number in [0, 1]."
            )
        object.__setattr__(self, "ready_steps", int(self.ready_steps))
        object.__setattr__(self, "perturb_factors", tuple(float(f) for f in factors))
        object.__setattr__(self, "truncation_fraction", float(self.truncation_fraction))
        object.__setattr__(self, "resample_probability", float(self.resample_probability))


@dataclasses.dataclass(frozen=True)
class Decision:
    """What one member does after a `PBT.step`.

    Attributes:
      member: the member's index.
      copied_from: index of the member whose weights, optimizer state and
        hyperparameters it copies (as they were before this step), or None.
      hyperparameters: the member's hyperparameters from now on (a fresh dict).
      mutation: the explore applied after a copy, e.g.
        "learning_rate*1.2;keep_prob*0.8(clipped)" or "keep_prob=resampled";
        "" when the member did not copy.
      ready: whether the member went through exploit-and-explore this step.
    """

    member: int
    copied_from: int | None
    hyperparameters: dict[str, float]
    mutation: str
    ready: bool


def num_in_quantile(population_size: int, fraction: float) -> int:
    """Members in the top (and bottom) fraction: ceil(fraction * size), <= size // 2."""
    # The epsilon keeps 0.3 * 10 = 3.0000000000000004 at 3.
    return min(math.ceil(fraction * population_size - 1e-9), population_size // 2)


class PBT:
    """Exploit-and-explore decisions for a population; see the module docstring.

    Args:
      space: the searched hyperparameters, names unique.
      config: how to decide.
      rng: the only source of randomness; a `numpy.random.Generator`, or an int
        seed for one.
    """

    def __init__(
        self,
        space: Sequence[Hyperparameter],
        config: PBTConfig | None = None,
        rng: np.random.Generator | int | None = None,
    ):
        space = tuple(space)
        if not space:
            raise ValueError("space must hold at least one Hyperparameter, not none.")
        for hyperparameter in space:
            if not isinstance(hyperparameter, Hyperparameter):
                raise TypeError(f"space entry {hyperparameter!r} must be a Hyperparameter.")
        names = [h.name for h in space]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"hyperparameter names must be unique; repeated: {', '.join(duplicates)}."
            )
        if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
            rng = np.random.default_rng(int(rng))
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator or an int seed, not {type(rng).__name__}."
            )
        self.space = space
        self.config = PBTConfig() if config is None else config
        self.rng = rng
        self._hyperparameters: list[dict[str, float]] = []
        self._steps_since_ready = np.zeros(0, dtype=np.int64)
        self._num_steps = 0

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.space)

    @property
    def population_size(self) -> int:
        return len(self._hyperparameters)

    @property
    def hyperparameters(self) -> list[dict[str, float]]:
        """The current hyperparameters of every member (fresh copies)."""
        return [dict(h) for h in self._hyperparameters]

    @property
    def num_steps(self) -> int:
        """Calls of `step` since `initial_hyperparameters`."""
        return self._num_steps

    def initial_hyperparameters(self, population_size: int) -> list[dict[str, float]]:
        """Draws every member's hyperparameters from the priors and resets counters.

        Returns:
          `population_size` fresh dicts {name: value}.
        """
        if (
            not isinstance(population_size, (int, np.integer))
            or isinstance(population_size, (bool, np.bool_))
            or population_size < 1
        ):
            raise ValueError(f"population_size {population_size!r} must be an integer >= 1.")
        self._hyperparameters = [
            {h.name: h.sample(self.rng) for h in self.space} for _ in range(int(population_size))
        ]
        self._steps_since_ready = np.zeros(int(population_size), dtype=np.int64)
        self._num_steps = 0
        return self.hyperparameters

    def step(self, scores: Sequence[float], steps: int = 1) -> list[Decision]:
        """Tells the scores (higher is better) after `steps` steps; decides.

        Args:
          scores: [population_size] numbers; NaN ranks below everything.
          steps: how many steps (e.g. rounds) every member trained since the last
            call; >= 1.

        Returns:
          One `Decision` per member, in member order.
        """
        if not self._hyperparameters:
            raise ValueError(
                "step needs a population: call initial_hyperparameters(n) or load_state_dict first."
            )
        n = self.population_size
        try:
            values = np.asarray(scores, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"scores {scores!r} must be {n} numbers, one per member.") from None
        if values.shape != (n,):
            raise ValueError(
                f"scores must be {n} numbers, one per member, not shape {list(values.shape)}."
            )
        if (
            not isinstance(steps, (int, np.integer))
            or isinstance(steps, (bool, np.bool_))
            or steps < 1
        ):
            raise ValueError(f"steps {steps!r} must be an integer >= 1.")
        values = np.where(np.isnan(values), -np.inf, values)

        self._num_steps += int(steps)
        self._steps_since_ready += int(steps)
        ready = self._steps_since_ready >= self.config.ready_steps
        if self.config.exploit == "truncation":
            parents = self._truncation(values, ready)
        else:
            parents = self._binary_tournament(values, ready)

        before = self.hyperparameters
        decisions = []
        for member in range(n):
            parent = parents[member]
            if parent is None:
                hyperparameters, mutation = dict(before[member]), ""
            else:
                hyperparameters, mutation = self._explore(before[parent])
            self._hyperparameters[member] = dict(hyperparameters)
            decisions.append(
                Decision(
                    member=member,
                    copied_from=parent,
                    hyperparameters=hyperparameters,
                    mutation=mutation,
                    ready=bool(ready[member]),
                )
            )
        self._steps_since_ready[ready] = 0
        return decisions

    def _ranking(self, values: np.ndarray) -> np.ndarray:
        """Member indices from worst to best, ties broken at random."""
        shuffled = self.rng.permutation(values.size)
        return shuffled[np.argsort(values[shuffled], kind="stable")]

    def _truncation(self, values: np.ndarray, ready: np.ndarray) -> list[int | None]:
        parents: list[int | None] = [None] * values.size
        count = num_in_quantile(values.size, self.config.truncation_fraction)
        if count == 0:
            return parents
        order = self._ranking(values)
        bottom, top = order[:count], order[-count:]
        for member in bottom:
            if ready[member]:
                parents[member] = int(top[self.rng.integers(count)])
        return parents

    def _binary_tournament(self, values: np.ndarray, ready: np.ndarray) -> list[int | None]:
        n = values.size
        parents: list[int | None] = [None] * n
        if n < 2:
            return parents
        for member in range(n):
            if not ready[member]:
                continue
            # A uniform draw among the other n - 1 members.
            other = int(self.rng.integers(n - 1))
            other += other >= member
            if values[other] > values[member]:
                parents[member] = other
        return parents

    def _explore(self, parent: Mapping[str, float]) -> tuple[dict[str, float], str]:
        """The parent's hyperparameters, perturbed or resampled, and a description."""
        new, parts = {}, []
        for h in self.space:
            if self.rng.random() < self.config.resample_probability:
                new[h.name] = h.sample(self.rng)
                parts.append(f"{h.name}=resampled")
                continue
            factors = self.config.perturb_factors
            factor = factors[self.rng.integers(len(factors))]
            raw = parent[h.name] * factor
            new[h.name] = h.clip(raw)
            clipped = "(clipped)" if new[h.name] != raw else ""
            parts.append(f"{h.name}*{factor:g}{clipped}")
        return new, ";".join(parts)

    def state_dict(self) -> dict[str, Any]:
        """Everything `load_state_dict` needs, as JSON-serialisable values."""
        return {
            "names": list(self.names),
            "hyperparameters": self.hyperparameters,
            "steps_since_ready": [int(s) for s in self._steps_since_ready],
            "num_steps": self._num_steps,
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restores the state saved by `state_dict` (same space required)."""
        names = list(state["names"])
        if names != list(self.names):
            raise ValueError(
                f"state holds hyperparameters {names}; this PBT searches {list(self.names)}."
            )
        hyperparameters = [
            {name: float(h[name]) for name in names} for h in state["hyperparameters"]
        ]
        steps = np.asarray(state["steps_since_ready"], dtype=np.int64)
        if steps.shape != (len(hyperparameters),):
            raise ValueError(
                f"state holds {len(hyperparameters)} members but "
                f"{steps.size} ready counters; they must match."
            )
        self.rng.bit_generator.state = state["rng"]
        self._hyperparameters = hyperparameters
        self._steps_since_ready = steps
        self._num_steps = int(state["num_steps"])
