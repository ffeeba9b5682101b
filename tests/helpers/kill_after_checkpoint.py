"""Runs an experiment script and SIGKILLs it at a point fixed in advance, not by timing.

    python tests/helpers/kill_after_checkpoint.py SCRIPT PHASE GENERATION LOG [FLAGS...]

Every call of `pathnet_tf.files.checkpoint.save` is appended to LOG as a JSON line
`[phase, generation]` (phase: the task's label, "A", "B", ...). Once a checkpoint of
PHASE at GENERATION or later is on disk,
the next call of `checkpoint.save` kills the process (SIGKILL, as the kernel's OOM
killer or a cluster would) *before* it writes: the generations run since the last
checkpoint are lost and the checkpoint on disk is the one a resume starts from. With
KILL_ONLY_IN set (e.g. "seed_1"), only checkpoints whose path holds it arm the kill
(one run of a batch).
"""

import json
import os
import runpy
import signal
import sys

script, phase, generation, log, *flags = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # as `python SCRIPT` would

from pathnet_tf.files import checkpoint  # noqa: E402

original_save = checkpoint.save
armed = False


ONLY_IN = os.environ.get("KILL_ONLY_IN", "")  # arm only on checkpoints whose path has it


def save(path, arrays, header):
    global armed
    task_phase = header.get("phase")  # the index of the task being learned, or "done"
    label = chr(ord("A") + task_phase) if isinstance(task_phase, int) else task_phase
    generations = header.get("task", {}).get("evolve", {}).get("generations")
    with open(log, "a") as file:
        file.write(json.dumps([label, generations]) + "\n")
    if armed:
        os.kill(os.getpid(), signal.SIGKILL)
    original_save(path, arrays, header)
    if (label == phase and generations is not None and generations >= int(generation)
            and ONLY_IN in str(path)):
        armed = True


checkpoint.save = save
sys.argv = [script, *flags]
runpy.run_path(script, run_name="__main__")
