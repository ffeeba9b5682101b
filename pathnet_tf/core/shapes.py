"""The network's shape choices, shared by the layers (which use them) and the configs
(which check them): how a layer computes its modules, the conv modules' padding, and
the length a convolution leaves. Standard library only: defined here, below both, so
that the layers need not import the configs and a config imports no TensorFlow.
"""

from __future__ import annotations

COMPUTE_MODES = ("gather", "mask")  # layers.module_plan
PADDINGS = ("valid", "same")  # layers.PathNetConv2D


def conv_output_length(length: int, kernel: int, stride: int, padding: str) -> int:
    """Output length of a convolution along one spatial axis (0: the kernel does not fit)."""
    if padding == "same":
        return -(-length // stride)
    return max(0, (length - kernel) // stride + 1)
