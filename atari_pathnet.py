# A thin wrapper: the script is pathnet_tf/scripts/atari_pathnet.py, the same as
# `python -m pathnet_tf.scripts.atari_pathnet` from an installed package.
from absl import flags

from pathnet_tf.scripts import atari_pathnet as _script
from pathnet_tf.scripts.atari_pathnet import FLAGS, config_from_flags, entry, main, run

__doc__ = _script.__doc__  # absl's --help prints the running script's docstring
__all__ = ["FLAGS", "config_from_flags", "entry", "main", "run"]
flags.adopt_module_key_flags(_script)  # --help lists the script's own flags

if __name__ == "__main__":
    entry()
