"""Population Based Training (Jaderberg et al. 2017): the second system of pathnet_tf.

PBT of MNIST classifiers (`pbt_mnist.py`) and of PathNet's own hyperparameters
(`pathnet_pbt.py`). It sits on the floors below it (`files`, `core`, `evolution`,
`experiments`: data, atomic files, optimizers, training) and never imports `rl` or
`scripts`; nothing below imports it. One concern per module, imports pointing down:

- `decisions`: ready, exploit, explore as an ask/tell object (`PBT`). NumPy only.
- `config`: the JSON run configs (`RunConfig`, `load_config`). No TensorFlow.
- `models`: the fc and conv classifiers, `VariableDropout`, loss and accuracy.
- `data`: MNIST as tensors, the validation split, shuffled epochs.
- `population`: every member's state stacked [P, ...]; training in turn, exploit.
- `batched`: `Population.train_all`, the whole population in one compiled step
  (Adam as `pathnet_tf.core.optimizers.MaskedAdam`).
- `outputs`: history.csv, results, best checkpoint and figures, both backends.
- `runner`: `run(config, workdir)` in this process, `evaluate_checkpoint` (`-m test`).
- `ray_backend`, `ray_member`, `ray_history`: the same run as Ray Tune trials
  (optional, `pip install -e .[ray]`; never imported here).
- `plotting`: figures from history.csv. No TensorFlow.
- `pathnet`: PBT of PathNet's learning rate and mutation rate; its config
  (`PathNetPBTConfig`, no TensorFlow) in `pathnet_config`.

The NumPy-only names below import eagerly; the others on first use (`__getattr__`, one
explicit import per name), so `from pathnet_tf.pbt import load_config` checks a config
without starting TensorFlow.
"""

from __future__ import annotations

from pathnet_tf.pbt.config import (
    HYPERPARAMETER_NAMES,
    MODELS,
    ConfigError,
    RunConfig,
    load_config,
    parse_config,
)
from pathnet_tf.pbt.decisions import PBT, Decision, Hyperparameter, PBTConfig, num_in_quantile

__all__ = [
    "HYPERPARAMETER_NAMES",
    "MODELS",
    "PBT",
    "BestCheckpointError",
    "ConfigError",
    "Decision",
    "Hyperparameter",
    "PBTConfig",
    "PathNetMember",
    "PathNetPBTConfig",
    "Population",
    "RunConfig",
    "Splits",
    "VariableDropout",
    "build_model",
    "epoch_batches",
    "evaluate_checkpoint",
    "initial_hyperparameters",
    "load_config",
    "num_in_quantile",
    "parse_config",
    "plot_run",
    "run",
    "split_mnist",
]


def __getattr__(name: str):
    """The names that need TensorFlow (or matplotlib), imported on first use (PEP 562),
    one explicit import per name; the value is then kept in the package's namespace."""
    if name == "VariableDropout":
        from pathnet_tf.pbt.models import VariableDropout as value
    elif name == "build_model":
        from pathnet_tf.pbt.models import build_model as value
    elif name == "Splits":
        from pathnet_tf.pbt.data import Splits as value
    elif name == "split_mnist":
        from pathnet_tf.pbt.data import split_mnist as value
    elif name == "epoch_batches":
        from pathnet_tf.pbt.data import epoch_batches as value
    elif name == "Population":
        from pathnet_tf.pbt.population import Population as value
    elif name == "run":
        from pathnet_tf.pbt.runner import run as value
    elif name == "evaluate_checkpoint":
        from pathnet_tf.pbt.runner import evaluate_checkpoint as value
    elif name == "initial_hyperparameters":
        from pathnet_tf.pbt.runner import initial_hyperparameters as value
    elif name == "BestCheckpointError":
        from pathnet_tf.pbt.runner import BestCheckpointError as value
    elif name == "plot_run":
        from pathnet_tf.pbt.plotting import plot_run as value
    elif name == "PathNetPBTConfig":
        from pathnet_tf.pbt.pathnet_config import PathNetPBTConfig as value
    elif name == "PathNetMember":
        from pathnet_tf.pbt.pathnet import PathNetMember as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
