"""Transfer between two tasks: evolve task A, freeze its best path, evolve task B.

The experiment scripts (binary MNIST, CIFAR-10/SVHN) build their tasks and a config,
then call `run_transfer`. A task is any object with `name`, `train_x`, `train_y`,
`test_x`, `test_y` (NumPy arrays; inputs `[n, ...] float32`, labels `[n] int32`) and
optionally `num_classes` (default: the largest label + 1) and `info` (a dict copied
into the task's results, e.g. the digits).
"""

from __future__ import annotations

import json
import pathlib
import shutil
import time
from collections.abc import Callable

import numpy as np

from pathnet_tf import checkpoint
from pathnet_tf.atomic_io import write_json
from pathnet_tf.genetic import FixedPath, Tournament, overlap, random_genotype
from pathnet_tf.optimizers import make_optimizer
from pathnet_tf.summaries import Summaries
from pathnet_tf.training import (
    BatchSampler,
    EvolveResult,
    ParallelTaskTrainer,
    RepeatedTrainer,
    TaskTrainer,
    evolve,
)


def num_classes(task) -> int:
    given = getattr(task, "num_classes", None)
    return int(given) if given else int(max(task.train_y.max(), task.test_y.max())) + 1


def setup_task(model, task_data, config, rng: np.random.Generator, fixed_path=None):
    """Adds a readout head for `task_data`; a fresh optimizer, trainer, population and
    batch sampler for it. Returns `(trainer, tournament, sampler)`.

    With `fixed_path` (`[L, N]`, the controls) the "population" is that one path and
    the trainer trains it for B×T steps a generation (`RepeatedTrainer`)."""
    evo, net = config.evolution, config.pathnet
    task = model.add_task(num_classes(task_data))
    optimizer = make_optimizer(evo.optimizer, evo.effective_learning_rate)
    if fixed_path is not None:
        trainer = RepeatedTrainer(
            TaskTrainer(model, task, task_data.train_x, task_data.train_y, optimizer,
                        tournament_size=1, jit_compile=evo.jit_compile),
            repeats=evo.tournament_size)
        return (trainer, FixedPath(fixed_path, net.num_modules),
                BatchSampler(len(task_data.train_x), rng))
    if evo.parallel:
        trainer = ParallelTaskTrainer(model, task, task_data.train_x, task_data.train_y,
                                      optimizer, tournament_size=evo.tournament_size,
                                      jit_compile=evo.jit_compile, tournaments=evo.parallel)
    else:
        trainer = TaskTrainer(model, task, task_data.train_x, task_data.train_y, optimizer,
                              tournament_size=evo.tournament_size,
                              jit_compile=evo.jit_compile)
    tournament = Tournament(evo.population_size, net.num_layers, net.num_modules,
                            net.num_active, rng, tournament_size=evo.tournament_size,
                            mutation_rate=evo.mutation_rate, boundary=evo.mutation_boundary)
    sampler = BatchSampler(len(task_data.train_x), rng)
    return trainer, tournament, sampler


def evolve_task(model, task_data, label: str, config, rng: np.random.Generator,
                summaries: Summaries, log: Callable[[str], None], *,
                checkpoint: Callable | None = None, checkpoint_every: int = 0,
                restore: Callable | None = None, fixed_path=None):
    """Sets up task `task_data` (`setup_task`) and evolves it. `restore(trainer,
    tournament, sampler)` may load a checkpoint's state first and returns the evolve
    state to resume from (or None); `checkpoint(trainer, tournament, sampler, state)`
    is called every `checkpoint_every` generations. `fixed_path`: see `setup_task`.
    Returns `(trainer, EvolveResult)`."""
    evo, net = config.evolution, config.pathnet
    trainer, tournament, sampler = setup_task(model, task_data, config, rng, fixed_path)
    steps = evo.steps_per_candidate * (1 if fixed_path is None else evo.tournament_size)
    state = restore(trainer, tournament, sampler) if restore is not None else None
    prefix = f"{label}_{task_data.name}"
    start = time.perf_counter()
    first = state.generations if state is not None else 0

    def on_generation(generation, paths, fitness, winner, best_fitness, best_path):
        summaries.generation(prefix, generation, fitness, winner, best_fitness,
                             tournament.module_usage, best_path, net.num_modules)
        summaries.histograms(prefix, generation, model)
        if generation % config.log_every == 0:
            rate = (generation - first) / (time.perf_counter() - start)
            log(f"task {label} ({task_data.name}) generation {generation}: "
                f"winner fitness {fitness[winner]:.4f}, best {best_fitness:.4f} "
                f"({rate:.1f} generations/s)")

    def on_checkpoint(state):
        checkpoint(trainer, tournament, sampler, state)

    result = evolve(trainer, tournament, sampler,
                    steps_per_candidate=steps, batch_size=evo.batch_size,
                    threshold=evo.threshold, max_generations=evo.max_generations,
                    on_generation=on_generation, state=state,
                    checkpoint_every=checkpoint_every if checkpoint else 0,
                    on_checkpoint=on_checkpoint)
    status = "solved" if result.solved else "NOT solved"
    log(f"task {label} ({task_data.name}) {status} after {result.generations} generations: "
        f"best fitness {result.best_fitness:.4f} ({result.wall_seconds:.1f} s)")
    return trainer, result


def task_results(task_data, trainer: TaskTrainer, result: EvolveResult) -> dict:
    """The per-task part of results.json."""
    return {
        "name": task_data.name,
        **getattr(task_data, "info", {}),
        "generations": result.generations,
        "solved": result.solved,
        "best_fitness": result.best_fitness,
        "test_accuracy": trainer.evaluate(result.best_path, task_data.test_x,
                                          task_data.test_y),
        "best_path": result.best_path.tolist(),
        "fitness_history": result.fitness_history,
        "wall_seconds": result.wall_seconds,
        "tracing_counts": trainer.tracing_counts(),
        "nonfinite_candidates": int(trainer.nonfinite.numpy()),
    }


class _Checkpointer:
    """Saves and restores everything a run needs to continue (checkpoint.py)."""

    def __init__(self, path, config, model, rng: np.random.Generator):
        self.path, self.config, self.model, self.rng = path, config, model, rng

    def save(self, phase: str, trainer, tournament, sampler, state: EvolveResult,
             task_a: dict | None, elapsed: float) -> None:
        arrays = {f"model/{i}": v.numpy() for i, v in enumerate(self.model.variables)}
        for i, slot in enumerate(trainer.slots):
            for k, variable in enumerate(slot):
                arrays[f"slots/{i}/{k}"] = variable.numpy()
        arrays["trainer/step"] = trainer.step.numpy()
        arrays["trainer/learning_rate"] = trainer.optimizer.learning_rate.numpy()
        arrays["trainer/nonfinite"] = trainer.nonfinite.numpy()
        arrays["population"] = tournament.population
        arrays["sampler/order"] = sampler.order
        header = {
            "config": self.config.to_dict(),
            "phase": phase,
            "variables": [v.path for v in self.model.variables],
            "rng": self.rng.bit_generator.state,
            "sampler_position": sampler.position,
            "evolve": {"generations": state.generations, "solved": state.solved,
                       "best_fitness": state.best_fitness,
                       "best_path": None if state.best_path is None
                       else state.best_path.tolist(),
                       "fitness_history": state.fitness_history,
                       "wall_seconds": state.wall_seconds},
            "task_a": task_a,
            "elapsed": elapsed,
        }
        checkpoint.save(self.path, arrays, header)

    def restore(self, arrays, header, trainer, tournament, sampler) -> EvolveResult:
        names = [v.path for v in self.model.variables]
        if names != header["variables"]:
            raise checkpoint.CheckpointError(
                f"checkpoint {str(self.path)!r} holds variables {header['variables']}, "
                f"this model has {names}")
        for i, variable in enumerate(self.model.variables):
            variable.assign(arrays[f"model/{i}"])
        for i, slot in enumerate(trainer.slots):
            for k, variable in enumerate(slot):
                variable.assign(arrays[f"slots/{i}/{k}"])
        trainer.step.assign(arrays["trainer/step"])
        trainer.optimizer.learning_rate.assign(arrays["trainer/learning_rate"])
        trainer.nonfinite.assign(arrays["trainer/nonfinite"])
        tournament.population[...] = arrays["population"]
        sampler.order = arrays["sampler/order"]
        sampler.position = header["sampler_position"]
        self.rng.bit_generator.state = header["rng"]
        evolved = header["evolve"]
        return EvolveResult(
            generations=evolved["generations"], solved=evolved["solved"],
            best_fitness=evolved["best_fitness"],
            best_path=None if evolved["best_path"] is None
            else np.asarray(evolved["best_path"], np.int32),
            fitness_history=evolved["fitness_history"], wall_seconds=evolved["wall_seconds"])


def _load_checkpoint(path, config):
    """The checkpoint at `path` if it exists and fits `config`, else None / an error."""
    if not path.exists():
        return None
    arrays, header = checkpoint.load(path)
    if header.get("config") != json.loads(json.dumps(config.to_dict())):
        saved = header.get("config") or {}
        current = json.loads(json.dumps(config.to_dict()))
        differing = sorted(key for key in set(saved) | set(current)
                           if saved.get(key) != current.get(key))
        raise checkpoint.CheckpointError(
            f"checkpoint {str(path)!r} was written by a run with other settings "
            f"(differing: {', '.join(differing)}); use another workdir, or --noresume to "
            "start this one afresh")
    return arrays, header


def run_transfer(config, model, tasks, workdir, log: Callable[[str], None] = print,
                 start: float | None = None, resume: bool = True,
                 checkpoint_every: int = 25,
                 on_task_end: Callable[[str, object, EvolveResult], None] | None = None,
                 ) -> dict:
    """Evolves `tasks[0]` (A), freezes its best path, re-initialises every other
    module, evolves `tasks[1]` (B) on top. Writes `config.json`, TensorBoard events in
    `tb/`, a checkpoint every `checkpoint_every` generations in `ckpt/` and
    `results.json` (atomically) into `workdir`; returns the results.

    With `resume`, a checkpoint already in `workdir` (of a run with the same config)
    is continued from, and says so; the results equal an uninterrupted run's (timings
    aside). `config` has `pathnet`, `evolution`, `seed`, `summary_every`,
    `image_every`, `histogram_every`, `log_every` and `to_dict()`; `model` is a fresh
    `PathNet` with no task heads. `on_task_end(label, model, result)` (label "A" or
    "B") is called when a task's evolution ends, before anything is frozen or
    re-initialised: an observer (tests use it to check the transfer step); it is not
    called for a task a resumed run had finished before.
    """
    start = time.perf_counter() if start is None else start
    workdir = pathlib.Path(workdir)
    path = workdir / "ckpt" / "checkpoint.npz"
    loaded = _load_checkpoint(path, config) if resume else None
    if loaded is not None and loaded[1]["phase"] == "done":
        log(f"run in {workdir} is already complete; results in {workdir / 'results.json'}")
        return json.loads((workdir / "results.json").read_text())
    rng = np.random.default_rng([config.seed, 1])  # the GA's stream, apart from the data's
    checkpointer = _Checkpointer(path, config, model, rng)
    elapsed = 0.0
    if loaded is None:
        shutil.rmtree(workdir / "tb", ignore_errors=True)  # a fresh run: no stale events
        shutil.rmtree(workdir / "ckpt", ignore_errors=True)
        (workdir / "results.json").unlink(missing_ok=True)
        write_json(workdir / "config.json", config.to_dict())
    else:
        arrays, header = loaded
        elapsed = header["elapsed"]
        log(f"resuming from {path}: task {header['phase']}, generation "
            f"{header['evolve']['generations']}")
    start -= elapsed
    summaries = Summaries(workdir / "tb", config.summary_every, config.image_every,
                          config.histogram_every)
    results_a = loaded[1]["task_a"] if loaded is not None else None

    def hooks(phase):
        def save(trainer, tournament, sampler, state):
            checkpointer.save(phase, trainer, tournament, sampler, state, results_a,
                              time.perf_counter() - start)

        def restore(trainer, tournament, sampler):
            if loaded is None or loaded[1]["phase"] != phase:
                return None
            return checkpointer.restore(*loaded, trainer, tournament, sampler)

        return {"checkpoint": save, "checkpoint_every": checkpoint_every, "restore": restore}

    mode = getattr(config, "mode", "pathnet")
    net = config.pathnet
    # The controls' one path, drawn before anything else (a resumed run draws it alike).
    fixed_path = (None if mode == "pathnet" else
                  random_genotype(np.random.default_rng([config.seed, 2]), net.num_layers,
                                  net.num_modules, net.num_active))
    try:
        if mode == "independent":
            pass  # task B only, learned from scratch by the fixed path
        elif results_a is None:
            trainer_a, result_a = evolve_task(model, tasks[0], "A", config, rng, summaries,
                                              log, fixed_path=fixed_path, **hooks("A"))
            results_a = task_results(tasks[0], trainer_a, result_a)
            if on_task_end is not None:
                on_task_end("A", model, result_a)
            if mode == "pathnet":
                # Transfer: A's best path is frozen for good; every other module afresh.
                model.freeze(result_a.best_path)
                model.reinitialize_unfrozen()
            # finetune: nothing frozen, nothing re-initialised; B gets a new readout.
        else:
            model.add_task(num_classes(tasks[0]))  # its weights come from the checkpoint
        trainer_b, result_b = evolve_task(model, tasks[1], "B", config, rng, summaries, log,
                                          fixed_path=fixed_path, **hooks("B"))
        results_b = task_results(tasks[1], trainer_b, result_b)
        if on_task_end is not None:
            on_task_end("B", model, result_b)
    finally:
        summaries.close()
    results = {
        "mode": mode,
        "seed": config.seed,
        "task_a": results_a,
        "task_b": results_b,
        "overlap": overlap(np.asarray(results_a["best_path"]), result_b.best_path,
                           net.num_modules) if mode == "pathnet" else None,
        "wall_seconds": time.perf_counter() - start,
    }
    write_json(workdir / "results.json", results)
    checkpoint.save(path, {}, {"config": config.to_dict(), "phase": "done"})
    summary_a = ("" if results_a is None else
                 f"task A {tasks[0].name}: {results_a['generations']} generations, test "
                 f"accuracy {results_a['test_accuracy']:.4f}; ")
    summary_overlap = "" if results["overlap"] is None else (
        f"; overlap {results['overlap']} modules")
    log(f"{mode}: {summary_a}task B {tasks[1].name}: {result_b.generations} generations, "
        f"test accuracy {results_b['test_accuracy']:.4f}{summary_overlap}; results in "
        f"{workdir / 'results.json'}")
    return results
