# A thin wrapper: the script is pathnet_tf/scripts/pbt_mnist.py, the same as
# `python -m pathnet_tf.scripts.pbt_mnist` from an installed package.
from pathnet_tf.scripts import pbt_mnist as _script
from pathnet_tf.scripts.pbt_mnist import entry, main, parse_args

__doc__ = _script.__doc__
__all__ = ["entry", "main", "parse_args"]

if __name__ == "__main__":
    entry()
