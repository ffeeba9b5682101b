"""Protocol presets: the paper's protocol (the defaults) and the TF1 code's
(jsikyoon/pathnet, docs/protocol.md section 3), each a set of values of the protocol switches.

`--protocol=tf1` sets every switch below to the TF1 code's value; a flag given
explicitly with it still wins (`resolve`). `--protocol=paper` is the defaults. Each
switch is a config field, so config.json records what a run really used. Pure
Python: nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses

from pathnet_tf.core.config import (
    AGGREGATIONS,
    FROZEN_PATHS,
    INITS,
    MODULE_TYPES_CHOICES,
    PathNetConfig,
)
from pathnet_tf.evolution.config import TOURNAMENTS, EvolutionConfig
from pathnet_tf.evolution.genetic import GENOTYPES
from pathnet_tf.experiments.config import BinaryMnistConfig
from pathnet_tf.experiments.data import NOISE_KINDS, TRAIN_SPLITS

# Switch name (= flag name = config field) -> the config section holding it
# ("" for the experiment config itself).
SWITCHES = {
    "frozen_path": "pathnet", "aggregation": "pathnet", "module_types": "pathnet",
    "init": "pathnet", "tournament": "evolution", "genotype": "evolution",
    "threshold": "evolution", "population_size": "evolution", "noise_kind": "",
    "train_split": "",
}

# The choices of the switches that are names (the paper's first).
CHOICES = {"frozen_path": FROZEN_PATHS, "aggregation": AGGREGATIONS,
           "module_types": MODULE_TYPES_CHOICES, "init": INITS, "tournament": TOURNAMENTS,
           "genotype": GENOTYPES, "noise_kind": NOISE_KINDS, "train_split": TRAIN_SPLITS}

# The TF1 code's protocol, item by item (docs/protocol.md section 3): 1 frozen path always on,
# 2 sum / M, 3 candidates in turn on shared weights, 4 stop at 0.99, 5 population 20,
# 6 identity / linear / residual modules, 7 truncated normal σ 0.1 and biases 0.1,
# 8 additive salt, 9 the drifting mask mutation, 10 the 55,000 training images of TF's
# input_data loader. (SGD 0.05, T 50, batch 16, B 2 are already the defaults.)
TF1 = {"frozen_path": "always_on", "aggregation": "mean", "tournament": "shared",
       "threshold": 0.99, "population_size": 20, "module_types": "tf1", "init": "tf1",
       "noise_kind": "additive_salt", "genotype": "tf1_mask", "train_split": "tf1"}

PROTOCOLS = ("paper", "tf1")


def _defaults() -> dict:
    sections = {"pathnet": PathNetConfig(), "evolution": EvolutionConfig()}
    values = {name: getattr(sections[section], name)
              for name, section in SWITCHES.items() if section}
    experiment = BinaryMnistConfig()
    values.update({name: getattr(experiment, name)
                   for name, section in SWITCHES.items() if not section})
    return values


PAPER = _defaults()


def preset(name: str) -> dict:
    """The switches' values of protocol `name` ("paper" or "tf1")."""
    if name not in PROTOCOLS:
        raise ValueError(f"protocol ({name!r}) must be one of {', '.join(PROTOCOLS)}")
    return dict(PAPER if name == "paper" else TF1)


def resolve(name: str, given: dict) -> dict:
    """The switches' values: protocol `name`'s, overridden by those `given` explicitly."""
    unknown = sorted(set(given) - set(SWITCHES))
    if unknown:
        raise ValueError(f"{', '.join(unknown)} are not protocol switches "
                         f"({', '.join(SWITCHES)})")
    return {**preset(name), **given}


def switches_of(config) -> dict:
    """The values of the protocol switches `config` has (`pathnet`, `evolution` and
    its own fields)."""
    sections = {"pathnet": config.pathnet, "evolution": config.evolution, "": config}
    return {name: getattr(sections[section], name) for name, section in SWITCHES.items()
            if hasattr(sections[section], name)}


def apply(config, name: str, **given):
    """`config` (an MNIST experiment config: `pathnet`, `evolution`, `noise_kind`,
    `train_split`) with protocol `name`'s switches set, then those `given` (library use
    of the presets)."""
    values = resolve(name, given)
    sections = {"pathnet": config.pathnet, "evolution": config.evolution}
    changes = {section: dataclasses.replace(sections[section], **{
        key: value for key, value in values.items() if SWITCHES[key] == section})
        for section in sections}
    own = {key: value for key, value in values.items() if not SWITCHES[key]}
    return dataclasses.replace(config, **own, **changes)
