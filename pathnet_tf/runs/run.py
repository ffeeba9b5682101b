"""Tasks learned in order: `Sequence` (the run's state: the model, the random
generator, the finished tasks' results and the current `task_run.TaskRun`) and
`run_sequence` (with checkpoints, TensorBoard, results.json and figures). A task is
as `task_run.py` says; what happens between tasks is the mode's (`modes.py`).

Everything a run needs to continue is in `Sequence.state()`: the model's variables,
the random generator, the finished tasks' results and the current `TaskRun.state()`.
A checkpoint is that state, written whole (`checkpoint.py`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pathlib
import re
import shutil
import time
from collections.abc import Callable

import numpy as np

from pathnet_tf.evolution.evaluation import Evaluator
from pathnet_tf.evolution.genetic import active_mask, overlap, random_genotype
from pathnet_tf.files import checkpoint
from pathnet_tf.files.atomic_io import write_json
from pathnet_tf.files.results_schema import SCHEMA_VERSION
from pathnet_tf.files.workdir import RunTerminated, held_until_sigterm
from pathnet_tf.runs import modes
from pathnet_tf.runs.accuracy_matrix import AccuracyMatrix
from pathnet_tf.runs.summaries import TENSORBOARD_LEVELS, Summaries
from pathnet_tf.runs.task_run import TaskRun, num_classes, task_label


def structure(names) -> list[str]:
    """Variable paths without Keras's numbering of layers and seed generators
    ("path_net_16/frozen" -> "path_net/frozen"): the numbers count the models a process
    made before, so the second run of a batch names its variables unlike a fresh one."""
    return [re.sub(r"_\d+(?=/|$)", "", name) for name in names]


def variable_state(variables) -> tuple[dict, list]:
    """A checkpoint's `model/<i>` arrays of `variables` and their names (the inverse of
    `load_variables`)."""
    return ({f"model/{i}": v.numpy() for i, v in enumerate(variables)},
            [v.path for v in variables])


def load_variables(variables, arrays: dict, header: dict, path) -> None:
    """Assigns a checkpoint's `model/<i>` arrays to `variables` if they are the ones it
    saved (the same `structure` of names, the same shapes), else CheckpointError."""
    names = [v.path for v in variables]
    shapes = [tuple(v.shape) for v in variables]
    saved = [tuple(np.shape(arrays.get(f"model/{i}")))
             for i in range(len(header["variables"]))]
    if structure(names) != structure(header["variables"]) or shapes != saved:
        raise checkpoint.CheckpointError(
            f"checkpoint {str(path)!r} holds variables {header['variables']} of shapes "
            f"{saved}, this model has {names} of shapes {shapes}")
    for i, variable in enumerate(variables):
        variable.assign(arrays[f"model/{i}"])


class Sequence:
    """Tasks learned in order on one model (`run_sequence` drives it): the mode, the
    random generator, the finished tasks' results, and the current `TaskRun`."""

    def __init__(self, config, model, tasks, pool=None):
        if not tasks:
            raise ValueError("tasks must hold at least one task")
        self.config, self.model, self.tasks = config, model, list(tasks)
        self.mode = modes.get(getattr(config, "mode", "pathnet"))
        self.rng = np.random.default_rng([config.seed, 1])  # the GA's, apart from the data's
        net = config.pathnet
        # The controls' one path, drawn before anything else (a resumed run draws it alike).
        self.fixed_path = (None if self.mode.population else random_genotype(
            np.random.default_rng([config.seed, 2]), net.num_layers, net.num_modules,
            net.num_active))
        self.index = 0  # the task being learned; len(tasks) when done
        self.finished: list[dict | None] = []  # results of the tasks before `index`
        self.reused: list[int | None] = []  # modules of each best path frozen before it
        self.frozen: list[int] = []  # modules frozen after each task
        self.frozen_by = np.full((net.num_layers, net.num_modules), -1)  # task that froze it
        self.current: TaskRun | None = None
        self.evaluators: dict[int, Evaluator] = {}  # head -> its compiled evaluation
        self.elapsed = 0.0
        self.pool = pool  # a task_run.TrainerPool, for many runs in one process
        # Sequence hooks: the accuracy matrix (continual.py) and the mode's own (modes.py).
        self.hooks = [AccuracyMatrix(self), *(hook()(self) for hook in self.mode.hooks)]

    def trained(self, index: int) -> bool:
        return index == len(self.tasks) - 1 or self.mode.train_earlier

    def start_task(self) -> TaskRun:
        previous = self.finished[-1] if self.finished else None
        self.current = TaskRun(self.model, self.tasks[self.index], self.config, self.rng,
                               task_label(self.index, len(self.tasks)), self.fixed_path,
                               pool=self.pool, reference_path=None if previous is None
                               else np.asarray(previous["best_path"], np.int32))
        for hook in self.hooks:
            hook.task_start(self, self.current)
        return self.current

    def finish_task(self) -> None:
        """Records the current task's results and applies the mode between tasks."""
        run, net = self.current, self.config.pathnet
        self.finished.append(run.results())
        self.evaluators[run.head] = run.trainer.evaluator
        for hook in self.hooks:  # before the mode's step between tasks
            hook.task_end(self, run)
        frozen = self.model.frozen.numpy() > 0.5
        path_mask = active_mask(run.result.best_path, net.num_modules)
        self.reused.append(int((frozen & path_mask).sum()) if self.mode.population else None)
        if self.index < len(self.tasks) - 1:
            self.mode.between(self.model, run.result.best_path)
        now = self.model.frozen.numpy() > 0.5
        self.frozen_by[now & ~frozen & (self.frozen_by < 0)] = self.index
        self.frozen.append(int(now.sum()))
        self.current = None
        self.index += 1
        self.skip_untrained()

    def skip_untrained(self) -> None:
        while self.index < len(self.tasks) and not self.trained(self.index):
            self.finished.append(None)
            self.reused.append(None)
            self.frozen.append(int((self.model.frozen.numpy() > 0.5).sum()))
            self.index += 1

    # -- state -----------------------------------------------------------------------

    def state(self) -> tuple[dict, dict]:
        arrays, names = variable_state(self.model.run_variables())
        header = {"config": self.config.to_dict(), "phase": self.index, "variables": names,
                  "rng": self.rng.bit_generator.state, "finished": self.finished,
                  "reused": self.reused, "frozen": self.frozen,
                  "frozen_by": self.frozen_by.tolist(), "elapsed": self.elapsed}
        header["hooks"] = {}
        for hook in self.hooks:
            hook_arrays, header["hooks"][hook.name] = hook.state()
            arrays.update({f"hook/{hook.name}/{k}": v for k, v in hook_arrays.items()})
        if self.current is not None:
            task_arrays, task_header = self.current.state()
            arrays.update({f"task/{name}": value for name, value in task_arrays.items()})
            header["task"] = task_header
        return arrays, header

    def load_state(self, arrays: dict, header: dict, path) -> None:
        """Continues from a checkpoint: re-adds the finished tasks' heads, starts the
        current task, then loads every variable and counter."""
        self.index, self.finished = header["phase"], header["finished"]
        self.reused, self.frozen = header["reused"], header["frozen"]
        self.frozen_by = np.asarray(header["frozen_by"])
        self.elapsed = header["elapsed"]
        for hook in self.hooks:  # before the current task starts (its hooks read them)
            if hook.name in header.get("hooks", {}):
                prefix = f"hook/{hook.name}/"
                hook.load_state({k[len(prefix):]: v for k, v in arrays.items()
                                 if k.startswith(prefix)}, header["hooks"][hook.name])
        for index in range(self.index):
            if self.trained(index):
                self.model.add_task(num_classes(self.tasks[index]))  # weights below
        if self.index < len(self.tasks):
            self.start_task()
        load_variables(self.model.run_variables(), arrays, header, path)
        if self.current is not None:
            self.current.trainer.evaluator.set_always_on(self.frozen_before(self.index))
            prefix = "task/"
            self.current.load_state({name[len(prefix):]: value for name, value in arrays.items()
                                     if name.startswith(prefix)}, header["task"])
        self.rng.bit_generator.state = header["rng"]

    def frozen_before(self, index: int) -> np.ndarray:
        """`[L, M] float32`, 1 for the modules frozen before task `index` (the ones on
        in its every pass under frozen_path "always_on")."""
        return ((self.frozen_by >= 0) & (self.frozen_by < index)).astype(np.float32)

    def evaluate_all(self) -> list:
        """Each trained task's best path on its own test split, now (at the end)."""
        accuracies = []
        head = 0
        for task, results in zip(self.tasks, self.finished):
            if results is None:
                accuracies.append(None)
                continue
            if head not in self.evaluators:  # a task a resumed run had finished before
                self.evaluators[head] = Evaluator(self.model, head,
                                                  self.frozen_before(len(accuracies)))
            accuracies.append(self.evaluators[head].evaluate(
                np.asarray(results["best_path"], np.int32), task.test_x, task.test_y))
            head += 1
        return accuracies

    def results(self, wall_seconds: float) -> dict:
        """results.json: the `tasks` list and, for two tasks, `task_a` / `task_b` /
        `overlap` as the report reads them."""
        evo = self.config.evolution
        results = {"schema_version": SCHEMA_VERSION, "mode": self.mode.name,
                   "seed": self.config.seed, "num_modules": self.config.pathnet.num_modules,
                   "threshold": evo.threshold}
        if len(self.tasks) == 2:
            task_a, task_b = self.finished
            results.update({"task_a": task_a, "task_b": task_b, "overlap": (
                overlap(np.asarray(task_a["best_path"]), np.asarray(task_b["best_path"]),
                        self.config.pathnet.num_modules) if self.mode.population
                else None)})
        results.update({"tasks": self.finished, "final_test_accuracy": self.evaluate_all(),
                        "reused_frozen_modules": self.reused, "frozen_modules": self.frozen,
                        "frozen_by": self.frozen_by.tolist(),
                        "wall_seconds": wall_seconds})
        for hook in self.hooks:  # added keys: R and its metrics, the mode's own
            results.update(hook.results(self))
        return results


class _OneTracePerTask(logging.Filter):
    """Drops TensorFlow's "N out of the last N calls ... triggered tf.function
    retracing" warning: each task of a sequence traces its own tournament and evaluator
    once (new functions, new variables), which TF's detector counts as retracing one
    function. Each function's real tracing count is in results.json."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def load_checkpoint(path, config):
    """The checkpoint at `path` if it exists and fits `config`, else None / an error.
    A field the checkpoint's config lacks fits when `config` holds it at its default:
    the checkpoint was written before that switch existed, when the run behaved as the
    default does."""
    if not path.exists():
        return None
    arrays, header = checkpoint.load(path)
    differing = checkpoint.config_differences(header.get("config"), config)
    if differing:
        raise checkpoint.CheckpointError(
            f"checkpoint {str(path)!r} was written by a run with other settings "
            f"(differing: {', '.join(differing)}); use another workdir, or --noresume to "
            "start this one afresh")
    return arrays, header


def _summary_line(sequence: Sequence, results: dict, workdir) -> str:
    parts = [f"task {task_label(i, len(sequence.tasks))} {r['name']}: {r['generations']} "
             f"generations, test accuracy {r['test_accuracy']:.4f}"
             for i, r in enumerate(sequence.finished) if r is not None]
    tail = "" if results.get("overlap") is None else f"; overlap {results['overlap']} modules"
    return (f"{sequence.mode.name}: {'; '.join(parts)}{tail}; results in "
            f"{pathlib.Path(workdir) / 'results.json'}")


def run_sequence(config, model, tasks, workdir, log: Callable[[str], None] = print,
                 start: float | None = None, resume: bool = True, checkpoint_every: int = 25,
                 on_task_start: Callable | None = None,
                 on_task_end: Callable | None = None, figures: bool = True,
                 tensorboard: str = "full", pool=None) -> dict:
    """Learns `tasks` in order on `model` (a fresh `PathNet` with no heads) as the mode
    says (`config.mode`, `modes.py`); for PathNet: evolve each task, freeze its best
    path, re-initialise every other module; the next task gets a new head, a fresh
    optimizer and a fresh population. Writes `config.json`, TensorBoard events in
    `tb/`, a checkpoint every `checkpoint_every` generations in `ckpt/` and
    `results.json` (atomically) into `workdir`; returns the results.

    With `resume`, a checkpoint already in `workdir` (of a run with the same config)
    is continued from, and says so; the results equal an uninterrupted run's (timings
    aside). `config` has `pathnet`, `evolution`, `mode`, `seed`, `summary_every`,
    `image_every`, `histogram_every`, `log_every` and `to_dict()`.
    Observers: `on_task_start(label, model)` once a task's head and population exist
    (after the mode's step between tasks), `on_task_end(label, model, result)` when its
    evolution ends (before that step); neither is called for a task a resumed run had
    finished before. `figures`: draw `workdir/figures/` (`run_figures.draw_all`) at
    the end. `tensorboard`: "full", "scalars" (no images, no histograms) or "none".
    `pool`: a `task_run.TrainerPool` whose trainers this run may reuse (many runs in
    one process, `campaign.run_seeds`; `model` then the pool's).

    The workdir is this run's alone while it runs (`workdir.lock_workdir`: a second run
    into it stops with a `WorkdirError` and touches nothing). SIGTERM (what Slurm and
    Ray send before SIGKILL) ends the current generation, writes a checkpoint and
    raises `RunTerminated`; rerunning resumes from there.
    """
    start = time.perf_counter() if start is None else start
    if tensorboard not in TENSORBOARD_LEVELS:
        raise ValueError(f"tensorboard ({tensorboard!r}) must be one of "
                         f"{', '.join(TENSORBOARD_LEVELS)}")
    workdir = pathlib.Path(workdir)
    options = RunOptions(log, resume, checkpoint_every, on_task_start, on_task_end, figures,
                         tensorboard, pool)
    with held_until_sigterm(workdir) as stop:
        return _run(config, model, tasks, workdir, options, start, stop)


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How `run_sequence` runs a sequence (not what it learns: that is the config)."""

    log: Callable[[str], None] = print
    resume: bool = True
    checkpoint_every: int = 25
    on_task_start: Callable | None = None
    on_task_end: Callable | None = None
    figures: bool = True
    tensorboard: str = "full"
    pool: object = None  # a task_run.TrainerPool


def _run(config, model, tasks, workdir: pathlib.Path, options: RunOptions, start: float,
         stop: Callable[[], bool]) -> dict:
    log = options.log
    path = workdir / "ckpt" / "checkpoint.npz"
    loaded = load_checkpoint(path, config) if options.resume else None
    if loaded is not None and loaded[1]["phase"] == "done":
        log(f"run in {workdir} is already complete; results in {workdir / 'results.json'}")
        return json.loads((workdir / "results.json").read_text())
    sequence = Sequence(config, model, tasks, options.pool)
    if loaded is None:
        shutil.rmtree(workdir / "tb", ignore_errors=True)  # a fresh run: no stale events
        shutil.rmtree(workdir / "ckpt", ignore_errors=True)
        (workdir / "results.json").unlink(missing_ok=True)
        write_json(workdir / "config.json", config.to_dict())
        sequence.skip_untrained()
    else:
        sequence.load_state(*loaded, path)
        where = ("" if sequence.current is None else
                 f"task {sequence.current.label}, generation {sequence.current.result.generations}")
        log(f"resuming from {path}: {where}")
    start -= sequence.elapsed
    summaries = Summaries(workdir / "tb", config.summary_every, config.image_every,
                          config.histogram_every, level=options.tensorboard)
    if loaded is None:
        summaries.hparams(config.to_dict())
    quiet = _OneTracePerTask()
    logging.getLogger("tensorflow").addFilter(quiet)

    def save():
        sequence.elapsed = time.perf_counter() - start
        checkpoint.save(path, *sequence.state())

    try:
        while sequence.index < len(sequence.tasks):
            run = sequence.current
            if run is None:
                run = sequence.start_task()
                if options.on_task_start is not None:
                    options.on_task_start(run.label, model)
            result = run.evolve(summaries, log, options.checkpoint_every, save, stop=stop)
            if not (result.solved or result.generations >= config.evolution.max_generations):
                raise RunTerminated(  # stop() ended it: the checkpoint holds the state
                    f"terminated (SIGTERM) in task {run.label} at generation "
                    f"{result.generations}; checkpoint in {path}: rerun to resume")
            if options.on_task_end is not None:
                options.on_task_end(run.label, model, result)
            sequence.finish_task()
        results = sequence.results(time.perf_counter() - start)
    finally:
        summaries.close()
        logging.getLogger("tensorflow").removeFilter(quiet)
    write_json(workdir / "results.json", results)
    checkpoint.save(path, {}, {"config": config.to_dict(), "phase": "done"})
    line = _summary_line(sequence, results, workdir)
    # drawn from results.json's content, as `python -m pathnet_tf.reports.plotting` does
    if options.figures:
        from pathnet_tf.runs import run_figures

        run_figures.draw_all(results, workdir / "figures")
        line += f"; figures in {workdir / 'figures'}"
    log(line)
    return results
