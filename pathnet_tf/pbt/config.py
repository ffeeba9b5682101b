"""JSON run configs of the PBT MNIST experiment: parsing and validation. No TensorFlow.

`load_config(path)` reads a JSON file (see config/README.md for every key) into a
frozen `RunConfig`, filling defaults; an unknown key, a wrong type or a bad range
raises `ConfigError` with one sentence naming the file, the key, the value and what
is allowed, before any data is read or any training starts. `RunConfig.to_dict()`
gives the resolved config back as JSON-ready values, which `parse_config` accepts.

A hyperparameter is either fixed (a number) or searched (an object with a prior):
- with "pbt" set, searched hyperparameters start from their prior and are explored
  by PBT; fixed ones stay fixed for every member;
- with "pbt": null (a vanilla run), searched hyperparameters are drawn once per
  worker and never change (random search); fixed ones are used as they are.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
from collections.abc import Mapping
from typing import Any

from pathnet_tf.pbt.decisions import Hyperparameter, PBTConfig, is_number

MODELS = ("fc", "conv")
HYPERPARAMETER_NAMES = ("learning_rate", "keep_prob")
MNIST_TRAIN_SIZE = 60000

_TOP_KEYS = (
    "description",
    "model",
    "population_size",
    "rounds",
    "epochs_per_round",
    "batch_size",
    "weight_decay",
    "validation_size",
    "train_subset",
    "seed",
    "data_dir",
    "hyperparameters",
    "pbt",
    "lr_plot_worker",
    "batched",
)
_REQUIRED_KEYS = ("model", "population_size", "rounds", "hyperparameters")
_PRIOR_KEYS = ("prior", "low", "high", "bounds")
_PBT_KEYS = tuple(field.name for field in dataclasses.fields(PBTConfig))

# What each hyperparameter's values and bounds may be: (value test, its wording,
# bounds test, its wording). Perturbation multiplies by factors > 0, so a bound of
# 0 is never reached from a positive value.
_ALLOWED = {
    "learning_rate": (
        lambda v: 0.0 < v < math.inf,
        "> 0 and finite",
        lambda lo, hi: 0.0 <= lo and hi < math.inf,
        "within [0, inf)",
    ),
    "keep_prob": (
        lambda v: 0.0 < v <= 1.0,
        "in (0, 1]",
        lambda lo, hi: 0.0 <= lo and hi <= 1.0,
        "within [0, 1]",
    ),
}


class ConfigError(ValueError):
    """A run config is unreadable, has an unknown key, a wrong type or a bad range."""


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """One PBT (or vanilla) MNIST run; see config/README.md for each field.

    Attributes:
      model: "fc" or "conv".
      population_size: number of workers (P).
      rounds: rounds of training; exploit-and-explore may follow each but the last.
      epochs_per_round: epochs of the training split per worker per round.
      batch_size: examples per Adam step.
      weight_decay: L2 coefficient added to every gradient (torch.optim.Adam style).
      validation_size: the last this-many training images, held out for selection.
      train_subset: if set, train only on the first this-many remaining images.
      seed: the one seed every random choice flows from.
      data_dir: MNIST directory, None for the package default (data/mnist).
      hyperparameters: {"learning_rate": ..., "keep_prob": ...}, each a float
        (fixed) or a `Hyperparameter` (searched).
      pbt: how PBT decides, or None for a vanilla run (no exploit, no explore).
      lr_plot_worker: the worker whose learning-rate schedule is plotted; None
        means the best worker at the end.
      batched: train the whole population as one batched computation
        (`Population.train_all`) instead of member after member.
      description: free text, not used.
    """

    model: str
    population_size: int
    rounds: int
    hyperparameters: Mapping[str, float | Hyperparameter]
    epochs_per_round: int = 1
    batch_size: int = 200
    weight_decay: float = 1e-5
    validation_size: int = 5000
    train_subset: int | None = None
    seed: int = 0
    data_dir: str | None = None
    pbt: PBTConfig | None = None
    lr_plot_worker: int | None = None
    batched: bool = False
    description: str = ""

    @property
    def searched(self) -> list[Hyperparameter]:
        """The hyperparameters with a prior, in HYPERPARAMETER_NAMES order."""
        return [h for h in self.hyperparameters.values() if isinstance(h, Hyperparameter)]

    @property
    def fixed(self) -> dict[str, float]:
        """The fixed hyperparameters, {name: value}."""
        return {
            name: value
            for name, value in self.hyperparameters.items()
            if not isinstance(value, Hyperparameter)
        }

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as JSON-ready values (`parse_config` reads it back)."""
        hyperparameters = {}
        for name, value in self.hyperparameters.items():
            if isinstance(value, Hyperparameter):
                hyperparameters[name] = {
                    "prior": value.prior,
                    "low": value.low,
                    "high": value.high,
                    "bounds": list(value.bounds),
                }
            else:
                hyperparameters[name] = value
        pbt = None
        if self.pbt is not None:
            pbt = dataclasses.asdict(self.pbt)
            pbt["perturb_factors"] = list(self.pbt.perturb_factors)
        return {
            "description": self.description,
            "model": self.model,
            "population_size": self.population_size,
            "rounds": self.rounds,
            "epochs_per_round": self.epochs_per_round,
            "batch_size": self.batch_size,
            "weight_decay": self.weight_decay,
            "validation_size": self.validation_size,
            "train_subset": self.train_subset,
            "seed": self.seed,
            "data_dir": self.data_dir,
            "hyperparameters": hyperparameters,
            "pbt": pbt,
            "lr_plot_worker": self.lr_plot_worker,
            "batched": self.batched,
        }


def load_config(path: str | os.PathLike) -> RunConfig:
    """Reads and validates the JSON run config at `path`.

    Raises:
      ConfigError: the file is missing or not JSON, or `parse_config` rejects it.
    """
    path = pathlib.Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"config {path} cannot be read ({error.strerror}).") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"config {path} is not valid JSON ({error.msg} at line {error.lineno})."
        ) from None
    return parse_config(raw, source=str(path))


def parse_config(raw: Any, source: str = "config") -> RunConfig:
    """Validates a config given as a decoded JSON object; fills defaults.

    Args:
      raw: the decoded JSON (a dict).
      source: how errors name the config, e.g. its path.

    Raises:
      ConfigError: with one sentence naming `source`, the key and what is allowed.
    """

    def fail(message: str) -> ConfigError:
        return ConfigError(f"config {source}: {message}")

    if not isinstance(raw, Mapping):
        raise fail(f"must be a JSON object, not {type(raw).__name__}.")
    _check_keys(raw, _TOP_KEYS, "", fail)
    missing = [key for key in _REQUIRED_KEYS if key not in raw]
    if missing:
        raise fail(f"missing required key(s) {', '.join(missing)}.")

    model = raw["model"]
    if model not in MODELS:
        raise fail(f"model {model!r} must be one of {', '.join(MODELS)}.")
    population_size = _integer(raw, "population_size", 1, None, fail)
    rounds = _integer(raw, "rounds", 1, None, fail)
    epochs_per_round = _integer(raw, "epochs_per_round", 1, None, fail, default=1)
    batch_size = _integer(raw, "batch_size", 1, None, fail, default=200)
    seed = _integer(raw, "seed", 0, None, fail, default=0)
    validation_size = _integer(raw, "validation_size", 1, MNIST_TRAIN_SIZE - 1, fail, default=5000)
    train_subset = _integer(
        raw,
        "train_subset",
        1,
        MNIST_TRAIN_SIZE - validation_size,
        fail,
        default=None,
        nullable=True,
        why=f"(60000 MNIST training images minus validation_size {validation_size})",
    )
    lr_plot_worker = _integer(
        raw,
        "lr_plot_worker",
        0,
        population_size - 1,
        fail,
        default=None,
        nullable=True,
        why=f"(a worker index below population_size {population_size})",
    )
    weight_decay = raw.get("weight_decay", 1e-5)
    if not is_number(weight_decay) or not 0.0 <= weight_decay < math.inf:
        raise fail(f"weight_decay {weight_decay!r} must be a finite number >= 0.")
    data_dir = raw.get("data_dir")
    if data_dir is not None and (not isinstance(data_dir, str) or not data_dir):
        raise fail(f"data_dir {data_dir!r} must be a non-empty string or null.")
    batched = raw.get("batched", False)
    if not isinstance(batched, bool):
        raise fail(f"batched {batched!r} must be true or false.")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise fail(f"description {description!r} must be a string.")

    hyperparameters = _hyperparameters(raw["hyperparameters"], fail)

    pbt = None
    if raw.get("pbt") is not None:
        pbt = _pbt_config(raw["pbt"], fail)
        if population_size < 2:
            raise fail(
                f"population_size {population_size} must be >= 2 when pbt is set "
                "(use pbt: null for a single model)."
            )
        if not any(isinstance(h, Hyperparameter) for h in hyperparameters.values()):
            raise fail(
                "pbt needs at least one hyperparameter with a prior object; all are fixed numbers."
            )

    return RunConfig(
        model=model,
        population_size=population_size,
        rounds=rounds,
        hyperparameters=hyperparameters,
        epochs_per_round=epochs_per_round,
        batch_size=batch_size,
        weight_decay=float(weight_decay),
        validation_size=validation_size,
        train_subset=train_subset,
        seed=seed,
        data_dir=data_dir,
        pbt=pbt,
        lr_plot_worker=lr_plot_worker,
        batched=batched,
        description=description,
    )


def _check_keys(raw: Mapping, allowed: tuple[str, ...], where: str, fail) -> None:
    for key in raw:
        if key not in allowed:
            raise fail(f"unknown key {where}{key!r}; allowed keys: {', '.join(allowed)}.")


def _integer(
    raw: Mapping,
    key: str,
    minimum: int,
    maximum: int | None,
    fail,
    default: Any = ...,
    nullable: bool = False,
    why: str = "",
) -> Any:
    value = raw.get(key, default)
    if value is ...:  # Required keys are checked before; this is defensive.
        raise fail(f"missing required key {key}.")
    if value is None and nullable:
        return None
    allowed = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        null = " or null" if nullable else ""
        suffix = f" {why}" if why else ""
        raise fail(f"{key} {value!r} must be an integer {allowed}{null}{suffix}.")
    return value


def _hyperparameters(raw: Any, fail) -> dict[str, float | Hyperparameter]:
    if not isinstance(raw, Mapping):
        raise fail(
            f"hyperparameters {raw!r} must be an object with keys "
            f"{', '.join(HYPERPARAMETER_NAMES)}."
        )
    _check_keys(raw, HYPERPARAMETER_NAMES, "hyperparameters.", fail)
    missing = [name for name in HYPERPARAMETER_NAMES if name not in raw]
    if missing:
        raise fail(f"hyperparameters is missing {', '.join(missing)}.")
    result: dict[str, float | Hyperparameter] = {}
    for name in HYPERPARAMETER_NAMES:
        spec = raw[name]
        value_ok, value_allowed, bounds_ok, bounds_allowed = _ALLOWED[name]
        if is_number(spec):
            if not value_ok(spec):
                raise fail(f"hyperparameters.{name} {spec!r} must be {value_allowed}.")
            result[name] = float(spec)
            continue
        if not isinstance(spec, Mapping):
            raise fail(
                f"hyperparameters.{name} {spec!r} must be a number (fixed) or an "
                'object {"prior", "low", "high", "bounds"} (searched).'
            )
        _check_keys(spec, _PRIOR_KEYS, f"hyperparameters.{name}.", fail)
        for key in ("low", "high"):
            if key not in spec:
                raise fail(f"hyperparameters.{name} is missing {key}.")
        bounds = spec.get("bounds")
        if bounds is not None and not isinstance(bounds, list):
            raise fail(
                f"hyperparameters.{name}.bounds {bounds!r} must be a list "
                "[minimum, maximum] or null."
            )
        try:
            hyperparameter = Hyperparameter(
                name=name,
                low=spec["low"],
                high=spec["high"],
                prior=spec.get("prior", "uniform"),
                bounds=None if bounds is None else tuple(bounds),
            )
        except ValueError as error:
            raise fail(str(error)) from None
        for key in ("low", "high"):
            if not value_ok(spec[key]):
                raise fail(f"hyperparameters.{name}.{key} {spec[key]!r} must be {value_allowed}.")
        if not bounds_ok(*hyperparameter.bounds):
            raise fail(
                f"hyperparameters.{name}.bounds {list(hyperparameter.bounds)} must "
                f"lie {bounds_allowed}."
            )
        result[name] = hyperparameter
    return result


def _pbt_config(raw: Any, fail) -> PBTConfig:
    if not isinstance(raw, Mapping):
        raise fail(f"pbt {raw!r} must be an object or null.")
    _check_keys(raw, _PBT_KEYS, "pbt.", fail)
    values = dict(raw)
    if "perturb_factors" in values:
        factors = values["perturb_factors"]
        if not isinstance(factors, list):
            raise fail(f"pbt.perturb_factors {factors!r} must be a list of numbers > 0.")
        values["perturb_factors"] = tuple(factors)
    for key in ("truncation_fraction", "resample_probability"):
        if key in values and not is_number(values[key]):
            raise fail(f"pbt.{key} {values[key]!r} must be a number.")
    try:
        return PBTConfig(**values)
    except ValueError as error:
        raise fail(f"pbt.{error}") from None
