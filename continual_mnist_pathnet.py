# A thin wrapper: the script is pathnet_tf/scripts/continual_mnist_pathnet.py, the same as
# `python -m pathnet_tf.scripts.continual_mnist_pathnet` from an installed package.
from absl import flags

from pathnet_tf.scripts import continual_mnist_pathnet as _script
from pathnet_tf.scripts.continual_mnist_pathnet import FLAGS, entry, main, run

__doc__ = _script.__doc__  # absl's --help prints the running script's docstring
__all__ = ["FLAGS", "entry", "main", "run"]
flags.adopt_module_key_flags(_script)  # --help lists the script's own flags

if __name__ == "__main__":
    entry()
