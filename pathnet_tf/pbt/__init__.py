"""Population Based Training (Jaderberg et al. 2017): the second system of pathnet_tf.

PBT of MNIST classifiers (`pbt_mnist.py`) and of PathNet's own hyperparameters
(`pathnet_pbt.py`). It uses the PathNet core (data, atomic files, optimizers,
training); the core never imports it. One concern per module, imports pointing down:

- `decisions`: ready, exploit, explore as an ask/tell object (`PBT`). NumPy only.
- `config`: the JSON run configs (`RunConfig`, `load_config`). No TensorFlow.
- `models`: the fc and conv classifiers, `VariableDropout`, loss and accuracy.
- `data`: MNIST as tensors, the validation split, shuffled epochs.
- `population`: every member's state stacked [P, ...]; training in turn, exploit.
- `batched`: `Population.train_all`, the whole population in one compiled step
  (Adam as `pathnet_tf.optimizers.MaskedAdam`).
- `outputs`: history.csv, results, best checkpoint and figures, both backends.
- `runner`: `run(config, workdir)` in this process, `evaluate_checkpoint` (`-m test`).
- `ray_backend`, `ray_member`, `ray_history`: the same run as Ray Tune trials
  (optional, `pip install -e .[ray]`; never imported here).
- `plotting`: figures from history.csv. No TensorFlow.
- `pathnet`: PBT of PathNet's learning rate and mutation rate; its config
  (`PathNetPBTConfig`, TensorFlow through `pathnet_tf.layers`) in `pathnet_config`.

The NumPy-only names below import eagerly; the TensorFlow ones on first use, so
`from pathnet_tf.pbt import load_config` checks a config without starting TensorFlow.
"""

from __future__ import annotations

from pathnet_tf.lazy import loader
from pathnet_tf.pbt.config import (
    HYPERPARAMETER_NAMES,
    MODELS,
    ConfigError,
    RunConfig,
    load_config,
    parse_config,
)
from pathnet_tf.pbt.decisions import PBT, Decision, Hyperparameter, PBTConfig, num_in_quantile

_LAZY = {
    "VariableDropout": "models",
    "build_model": "models",
    "Splits": "data",
    "split_mnist": "data",
    "epoch_batches": "data",
    "Population": "population",
    "run": "runner",
    "evaluate_checkpoint": "runner",
    "initial_hyperparameters": "runner",
    "CheckpointError": "runner",
    "plot_run": "plotting",
    "PathNetPBTConfig": "pathnet_config",
    "PathNetMember": "pathnet",
}

__all__ = [
    "HYPERPARAMETER_NAMES",
    "MODELS",
    "PBT",
    "ConfigError",
    "Decision",
    "Hyperparameter",
    "PBTConfig",
    "RunConfig",
    "load_config",
    "num_in_quantile",
    "parse_config",
    *_LAZY,
]


__getattr__ = loader(__name__, _LAZY, globals())
