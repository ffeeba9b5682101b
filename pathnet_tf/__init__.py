"""pathnet_tf: PathNet (Fernando et al. 2017) in TensorFlow 2 / Keras 3, and Population
Based Training (Jaderberg et al. 2017) in `pathnet_tf.pbt`.

The public names: the layers and the model (`PathNetDense`, `PathNetConv2D`,
`PathNet`), the genetic algorithm (`Tournament`), the compiled training (`TaskTrainer`,
`evolve`, `BatchSampler`), the runner (`run_sequence`, `TaskRun`), the modes
(`MODES`, `Mode`, `register_mode`) and the configs (`PathNetConfig`,
`EvolutionConfig`, `BinaryMnistConfig`, `SplitMnistConfig`, `CifarSvhnConfig`).

Configs, modes and the genetic algorithm import without TensorFlow; the rest load it
on first use, so `from pathnet_tf import PathNetConfig` checks a setting in a blink.
"""

from __future__ import annotations

from pathnet_tf.config import (
    BinaryMnistConfig,
    CifarSvhnConfig,
    EvolutionConfig,
    PathNetConfig,
    SplitMnistConfig,
)
from pathnet_tf.genetic import Tournament
from pathnet_tf.lazy import loader
from pathnet_tf.modes import MODES, Mode
from pathnet_tf.modes import register as register_mode

_LAZY = {
    "PathNet": "model",
    "PathNetDense": "layers",
    "PathNetConv2D": "layers",
    "TaskTrainer": "training",
    "BatchSampler": "training",
    "evolve": "training",
    "TaskRun": "task_run",
    "run_sequence": "run",
    "load_mnist": "data",
    "binary_task": "data",
}

__all__ = [
    "MODES",
    "BinaryMnistConfig",
    "CifarSvhnConfig",
    "EvolutionConfig",
    "Mode",
    "PathNetConfig",
    "SplitMnistConfig",
    "Tournament",
    "register_mode",
    *_LAZY,
]


__getattr__ = loader(__name__, _LAZY, globals())


def __dir__():
    return sorted(set(globals()) | set(__all__))
