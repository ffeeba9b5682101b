"""The experiment scripts as modules of the package, so that an installed pathnet_tf
runs them (`python -m pathnet_tf.scripts.<name>`, or the console scripts pyproject.toml
names). Each is a thin absl (or argparse) front end: flags -> a config -> the library's
`run(config, workdir)`; the checkout's top-level `<name>.py` files are wrappers around
them.

- `binary_mnist_pathnet`: binary MNIST transfer (task A, then task B); the main job.
- `split_mnist_pathnet`: Split MNIST, five binary tasks in sequence.
- `continual_mnist_pathnet`: Split or Permuted MNIST among continual-learning methods.
- `cifar_svhn_pathnet`: CIFAR-10 <-> SVHN transfer (tensorflow-datasets).
- `minatar_pathnet`: PathNet with A2C on two MinAtar games in turn.
- `atari_pathnet`: the same on real Atari games (ale-py).
- `rl_script`: what the two RL scripts share, their flags and run (not a script).
- `auto_binary_mnist_pathnet.sh`: a campaign of repeated binary MNIST runs, then its
  report (`reports/ablation.py` runs it; the checkout's top-level file is a wrapper).
- `pathnet_pbt`: PBT of PathNet's learning rate and mutation rate.
- `pbt_mnist`: PBT of MNIST classifiers from a JSON config (`config/`).

A script module may import anything in the package; nothing in the package imports a
script module. Importing this folder's `__init__` imports none of them (each defines
its flags on import).
"""
