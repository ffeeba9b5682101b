"""Transfer between two tasks: evolve task A, freeze its best path, evolve task B.

The experiment scripts (binary MNIST, CIFAR-10/SVHN) build their tasks and a config,
then call `run_transfer`. A task is any object with `name`, `train_x`, `train_y`,
`test_x`, `test_y` (NumPy arrays; inputs `[n, ...] float32`, labels `[n] int32`) and
optionally `num_classes` (default: the largest label + 1) and `info` (a dict copied
into the task's results, e.g. the digits).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

import numpy as np

from pathnet_tf.genetic import Tournament, overlap
from pathnet_tf.optimizers import make_optimizer
from pathnet_tf.summaries import Summaries
from pathnet_tf.training import (
    BatchSampler,
    EvolveResult,
    ParallelTaskTrainer,
    TaskTrainer,
    evolve,
)
from pathnet_tf.workdir import write_json


def num_classes(task) -> int:
    given = getattr(task, "num_classes", None)
    return int(given) if given else int(max(task.train_y.max(), task.test_y.max())) + 1


def evolve_task(model, task_data, label: str, config, rng: np.random.Generator,
                summaries: Summaries, log: Callable[[str], None]):
    """Adds a readout head for `task_data` and evolves a fresh population on it with a
    fresh optimizer. Returns `(trainer, EvolveResult)`."""
    evo, net = config.evolution, config.pathnet
    task = model.add_task(num_classes(task_data))
    optimizer = make_optimizer(evo.optimizer, evo.effective_learning_rate)
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
    prefix = f"{label}_{task_data.name}"
    start = time.perf_counter()

    def on_generation(generation, paths, fitness, winner, best_fitness, best_path):
        summaries.generation(prefix, generation, fitness, winner, best_fitness,
                             tournament.module_usage, best_path, net.num_modules)
        summaries.histograms(prefix, generation, model)
        if generation % config.log_every == 0:
            rate = generation / (time.perf_counter() - start)
            log(f"task {label} ({task_data.name}) generation {generation}: "
                f"winner fitness {fitness[winner]:.4f}, best {best_fitness:.4f} "
                f"({rate:.1f} generations/s)")

    result = evolve(trainer, tournament, sampler,
                    steps_per_candidate=evo.steps_per_candidate, batch_size=evo.batch_size,
                    threshold=evo.threshold, max_generations=evo.max_generations,
                    on_generation=on_generation)
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
    }


def run_transfer(config, model, tasks, workdir, log: Callable[[str], None] = print,
                 start: float | None = None) -> dict:
    """Evolves `tasks[0]` (A), freezes its best path, re-initialises every other
    module, evolves `tasks[1]` (B) on top. Writes `config.json`, TensorBoard events in
    `tb/` and `results.json` (atomically) into `workdir`; returns the results.

    `config` has `pathnet`, `evolution`, `seed`, `summary_every`, `histogram_every`,
    `log_every` and `to_dict()`; `model` is a fresh `PathNet` with no task heads.
    """
    start = time.perf_counter() if start is None else start
    rng = np.random.default_rng([config.seed, 1])  # the GA's stream, apart from the data's
    write_json(workdir / "config.json", config.to_dict())
    shutil.rmtree(workdir / "tb", ignore_errors=True)  # a fresh run: no stale events
    summaries = Summaries(workdir / "tb", config.summary_every, config.image_every,
                          config.histogram_every)
    try:
        trainer_a, result_a = evolve_task(model, tasks[0], "A", config, rng, summaries, log)
        results_a = task_results(tasks[0], trainer_a, result_a)
        # Transfer: A's best path is frozen for good; every other module starts afresh.
        model.freeze(result_a.best_path)
        model.reinitialize_unfrozen()
        trainer_b, result_b = evolve_task(model, tasks[1], "B", config, rng, summaries, log)
        results_b = task_results(tasks[1], trainer_b, result_b)
    finally:
        summaries.close()
    results = {
        "seed": config.seed,
        "task_a": results_a,
        "task_b": results_b,
        "overlap": overlap(result_a.best_path, result_b.best_path,
                           config.pathnet.num_modules),
        "wall_seconds": time.perf_counter() - start,
    }
    write_json(workdir / "results.json", results)
    log(f"task A {tasks[0].name}: {result_a.generations} generations, test accuracy "
        f"{results_a['test_accuracy']:.4f}; task B {tasks[1].name}: "
        f"{result_b.generations} generations, test accuracy "
        f"{results_b['test_accuracy']:.4f}; overlap {results['overlap']} modules; "
        f"results in {workdir / 'results.json'}")
    return results
