"""pathnet_tf: PathNet (Fernando et al. 2017) in TensorFlow 2 / Keras 3, and Population
Based Training (Jaderberg et al. 2017) in `pathnet_tf.pbt`.

The public names: the layers and the model (`PathNetDense`, `PathNetConv2D`,
`PathNet`), the genetic algorithm (`Tournament`), the compiled training (`TaskTrainer`,
`evolve`, `BatchSampler`), the runner (`run_sequence`, `TaskRun`), the modes
(`MODES`, `Mode`, `register_mode`) and the configs (`PathNetConfig`,
`EvolutionConfig`, `BinaryMnistConfig`, `SplitMnistConfig`, `CifarSvhnConfig`).

Configs, modes and the genetic algorithm import without TensorFlow; the rest load it
on first use, so `from pathnet_tf import PathNetConfig` checks a setting in a blink.

The code lives in folders by concern, imports pointing down (docs/design.md): `files/`
(atomic files, workdirs, checkpoints), `core/` (the network), `evolution/` (pathways,
tournaments, compiled training), `runs/` (modes, a sequence of tasks, results.json),
`experiments/` (data, configs, protocols, flags), `reports/` (many runs summarised),
then `pbt/` and `rl/`, and `scripts/` on top.
"""

from __future__ import annotations

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.evolution.genetic import Tournament
from pathnet_tf.experiments.config import BinaryMnistConfig, CifarSvhnConfig, SplitMnistConfig
from pathnet_tf.runs.modes import MODES, Mode
from pathnet_tf.runs.modes import register as register_mode

__all__ = [
    "MODES",
    "BatchSampler",
    "BinaryMnistConfig",
    "CifarSvhnConfig",
    "EvolutionConfig",
    "Mode",
    "PathNet",
    "PathNetConfig",
    "PathNetConv2D",
    "PathNetDense",
    "SplitMnistConfig",
    "TaskRun",
    "TaskTrainer",
    "Tournament",
    "binary_task",
    "evolve",
    "load_mnist",
    "register_mode",
    "run_sequence",
]


def __getattr__(name: str):
    """The names that need TensorFlow, imported on first use (PEP 562): one explicit
    import per name, so a reader (and every tool that follows imports) finds where
    each is defined. The value is then kept in the package's namespace."""
    if name == "PathNet":
        from pathnet_tf.core.model import PathNet as value
    elif name == "PathNetDense":
        from pathnet_tf.core.layers import PathNetDense as value
    elif name == "PathNetConv2D":
        from pathnet_tf.core.layers import PathNetConv2D as value
    elif name == "TaskTrainer":
        from pathnet_tf.evolution.training import TaskTrainer as value
    elif name == "BatchSampler":
        from pathnet_tf.evolution.training import BatchSampler as value
    elif name == "evolve":
        from pathnet_tf.evolution.training import evolve as value
    elif name == "TaskRun":
        from pathnet_tf.runs.task_run import TaskRun as value
    elif name == "run_sequence":
        from pathnet_tf.runs.run import run_sequence as value
    elif name == "load_mnist":
        from pathnet_tf.experiments.data import load_mnist as value
    elif name == "binary_task":
        from pathnet_tf.experiments.data import binary_task as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
