"""Experiments: the data and configurations of each experiment, the protocol presets
and the flags the scripts share.

- `config`: `BinaryMnistConfig`, `SplitMnistConfig`, `CifarSvhnConfig`. No TensorFlow.
- `data`: MNIST and the noisy binary MNIST tasks of the paper.
- `protocol`: the paper's protocol (the defaults) and the TF1 code's, as presets.
- `cli`: the flags the scripts share and their mapping onto the configs.
- `binary_mnist`, `split_mnist`, `continual_mnist`, `cifar_svhn`: each experiment's
  `run(config, workdir)`.

May import `runs`, `evolution`, `core` and `files`.
"""
