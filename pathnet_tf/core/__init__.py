"""The network: PathNet's layers and model, its module kinds, the masked optimizers,
and the network's configuration.

- `config`: `PathNetConfig` (L, M, N, units, the protocol switches of the network). No TensorFlow.
- `checks`, `shapes`: argument checks and shape arithmetic the configs share. No TensorFlow.
- `layers`: `PathNetDense`, `PathNetConv2D`: M modules, the active ones summed.
- `model`: `PathNet`: L layers, one readout head per task, the frozen mask.
- `module_kinds`: the TF1 code's identity / linear / residual modules.
- `optimizers`: masked SGD and Adam as pure update rules on tensors.

May import `files`; knows nothing of evolution, runs or experiments.
"""
