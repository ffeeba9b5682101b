"""Mode "joint"'s entry in the modes table (`modes.py`): the sequence hook that makes
the sequence runner refuse it. Joint training is not a sequence; `joint.run_joint`
trains it (docs/continual.md). Nothing is imported here, so the table's entry does
not import the runner."""

from __future__ import annotations


class NotASequence:
    """Raises as the sequence runner makes the hooks of a mode that is not a sequence."""

    name = "not_a_sequence"

    def __init__(self, sequence):
        raise ValueError(
            f"mode {sequence.mode.name!r} trains every task at once, not in sequence: "
            "run it with continual_mnist_pathnet.py (pathnet_tf.experiments.continual_mnist"
            ".run), which trains it with pathnet_tf.runs.joint.run_joint")
