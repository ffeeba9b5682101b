"""The one table of modes: how a sequence of tasks is learned. Pure Python.

A mode says three things (`Mode`): whether the tasks before the last are trained at
all, whether a task is learned by an evolving population of pathways or by one fixed
path, and what happens to the model between two tasks. The runner (`run.py`), the
flags (`cli.py`), the config checks, the report and the plots all read `MODES`, so a
new mode is one `register(Mode(...))`: nothing else needs to change.

The fixed path of the controls is drawn from the seed (`fixed_path_rng`) before
anything else, so a resumed run draws the same one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable


def freeze_and_reinitialize(model, best_path) -> None:
    """PathNet's transfer step: the task's best path joins the frozen modules for good;
    every module not frozen is re-initialised."""
    model.freeze(best_path)
    model.reinitialize_unfrozen()


def keep_everything(model, best_path) -> None:
    """Fine-tuning: nothing frozen, nothing re-initialised (the next task still gets a
    new readout and a fresh optimizer, as every task does)."""
    del model, best_path


@dataclasses.dataclass(frozen=True)
class Mode:
    """One way of learning a task sequence.

    name: the `--mode` value. label: its name in reports and figures. color: its
    colour in figures. train_earlier: whether the tasks before the last are learned
    (False: only the last task is, from scratch). population: True, evolve a
    population of pathways (PathNet); False, train one fixed random path for
    B × T steps a generation (the controls). between: `between(model, best_path)`,
    called after every task but the last. help: one line for `--help`.
    trainer: `trainer()` -> the `training.TaskTrainer` subclass that trains the fixed
    path (None: `TaskTrainer`), e.g. one with a penalty in its compiled step.
    hooks: functions -> sequence hook classes (`run.Sequence` makes one per run:
    `task_start`, `task_end`, `state`, `load_state`, `results`), e.g. the state a
    penalty carries across tasks. Both are functions that import when called, so that
    this table stays free of TensorFlow.
    """

    name: str
    label: str
    color: str
    train_earlier: bool
    population: bool
    between: Callable
    help: str
    trainer: Callable | None = None
    hooks: tuple = ()


MODES: dict[str, Mode] = {}
# The mode the others are measured against (reports: "independent / pathnet"; the
# ablation's first / second ratios): PathNet itself.
REFERENCE = "pathnet"


def register(mode: Mode) -> Mode:
    """Adds `mode` to the table (a name already there is replaced)."""
    MODES[mode.name] = mode
    return mode


def get(name: str) -> Mode:
    if name not in MODES:
        raise ValueError(f"mode ({name!r}) must be one of {', '.join(MODES)}")
    return MODES[name]


register(Mode("pathnet", "PathNet", "tab:blue", train_earlier=True, population=True,
              between=freeze_and_reinitialize,
              help="evolve each task; freeze its best path, re-initialise the rest"))
register(Mode("independent", "independent", "tab:gray", train_earlier=False,
              population=False, between=keep_everything,
              help="the last task alone, learned from scratch by one fixed random path"))
register(Mode("finetune", "fine-tune", "tab:orange", train_earlier=True, population=False,
              between=keep_everything,
              help="one fixed random path trained on each task in turn, nothing frozen"))


# Regularisation baselines (issue 28, docs/continual.md): fine-tuning's one fixed path,
# with a quadratic penalty in the compiled training step (`regularized.py`).
def penalty_trainer():
    from pathnet_tf.runs.regularized import PenaltyTrainer

    return PenaltyTrainer


def regularizer():
    from pathnet_tf.runs.regularized import Regularizer

    return Regularizer


register(Mode("ewc", "EWC", "tab:green", train_earlier=True, population=False,
              between=keep_everything,
              help="fine-tuning's fixed path with elastic weight consolidation (--ewc_lambda; "
                   "online with --ewc_gamma)",
              trainer=penalty_trainer, hooks=(regularizer,)))
register(Mode("si", "SI", "tab:purple", train_earlier=True, population=False,
              between=keep_everything,
              help="fine-tuning's fixed path with synaptic intelligence (--si_c)",
              trainer=penalty_trainer, hooks=(regularizer,)))


# The two bounds of issue 28 (docs/continual.md). "separate": a separate fresh network
# per task (the literature's "independent"), as one model re-initialised between tasks
# whose accuracy matrix is recorded as T untouched networks give it (`separate.py`).
def reinitialize_all(model, best_path) -> None:
    from pathnet_tf.runs.separate import reinitialize_all as reinitialize

    reinitialize(model, best_path)


def separate_networks():
    from pathnet_tf.runs.separate import SeparateNetworks

    return SeparateNetworks


# "joint": every task's training data at once (the upper bound). It is not a sequence,
# so the sequence runner refuses it (`joint_mode.NotASequence`); `continual_mnist.run`
# runs it by its own path (`joint.run_joint`).
def not_a_sequence():
    from pathnet_tf.runs.joint_mode import NotASequence

    return NotASequence


register(Mode("separate", "separate networks", "tab:brown", train_earlier=True,
              population=False, between=reinitialize_all,
              help="a separate fresh network per task (one fixed random path, every module "
                   "re-initialised between tasks): nothing forgotten, nothing transferred",
              hooks=(separate_networks,)))
register(Mode("joint", "joint training", "tab:red", train_earlier=True, population=False,
              between=keep_everything,
              help="every task's data at once on one fixed random path, a head per task, "
                   "the sequence's total steps (continual_mnist_pathnet.py only, "
                   "--budget=fixed)",
              hooks=(not_a_sequence,)))
