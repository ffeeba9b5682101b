# A thin wrapper: the script is pathnet_tf/scripts/pathnet_pbt.py, the same as
# `python -m pathnet_tf.scripts.pathnet_pbt` from an installed package.
from absl import flags

from pathnet_tf.scripts import pathnet_pbt as _script
from pathnet_tf.scripts.pathnet_pbt import FLAGS, config_from_flags, entry, main

__doc__ = _script.__doc__  # absl's --help prints the running script's docstring
__all__ = ["FLAGS", "config_from_flags", "entry", "main"]
flags.adopt_module_key_flags(_script)  # --help lists the script's own flags

if __name__ == "__main__":
    entry()
