"""The binary MNIST transfer experiment: evolve task A, freeze its best path, evolve B.

`run(config, workdir)` is what `binary_mnist_pathnet.py` calls. It checks everything
that can be checked (config, workdir, data files, digit pairs) before it trains or
writes anything, then writes `config.json`, TensorBoard events under `tb/` and, at
the end, `results.json` (atomically).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

import keras
import numpy as np

from pathnet_tf import data as data_lib
from pathnet_tf.config import BinaryMnistConfig
from pathnet_tf.genetic import Tournament, overlap
from pathnet_tf.model import PathNet
from pathnet_tf.optimizers import make_optimizer
from pathnet_tf.summaries import Summaries
from pathnet_tf.training import BatchSampler, EvolveResult, TaskTrainer, evolve
from pathnet_tf.workdir import prepare_workdir, write_json


def _evolve_task(model: PathNet, task_data: data_lib.BinaryTask, label: str,
                 config: BinaryMnistConfig, rng: np.random.Generator,
                 summaries: Summaries, log: Callable[[str], None]):
    """Adds a readout for `task_data`, evolves a fresh population on it with a fresh
    optimizer; returns the trainer and the result."""
    evo, net = config.evolution, config.pathnet
    task = model.add_task(2)
    trainer = TaskTrainer(model, task, task_data.train_x, task_data.train_y,
                          make_optimizer(evo.optimizer, evo.effective_learning_rate),
                          tournament_size=evo.tournament_size, jit_compile=evo.jit_compile)
    tournament = Tournament(evo.population_size, net.num_layers, net.num_modules,
                            net.num_active, rng, tournament_size=evo.tournament_size,
                            mutation_rate=evo.mutation_rate, boundary=evo.mutation_boundary)
    sampler = BatchSampler(len(task_data.train_x), rng)
    prefix = f"{label}_{task_data.name}"
    start = time.perf_counter()

    def on_generation(generation, paths, fitness, winner, best_fitness, best_path):
        summaries.generation(prefix, generation, fitness, winner, best_fitness,
                             tournament.module_usage(), best_path, net.num_modules)
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


def _task_results(task_data: data_lib.BinaryTask, trainer: TaskTrainer,
                  result: EvolveResult) -> dict:
    return {
        "digits": list(task_data.digits),
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


def run(config: BinaryMnistConfig, workdir, log: Callable[[str], None] = print,
        mnist: data_lib.Mnist | None = None) -> dict:
    """Runs the experiment into `workdir`; returns what it writes to results.json.

    `mnist`: the data set if already loaded, else it is read from `config.data_dir`.
    Raises (before writing anything) `data.DataError` for bad data,
    `workdir.WorkdirError` for an unusable workdir.
    """
    start = time.perf_counter()
    workdir = prepare_workdir(workdir)
    if mnist is None:
        mnist = data_lib.load_mnist(config.data_dir)
    rng = np.random.default_rng(config.seed)
    keras.utils.set_random_seed(config.seed)
    tasks = [data_lib.binary_task(mnist, digits, config.noise, rng,
                                  max_train=config.max_train)
             for digits in (config.task_a, config.task_b)]

    write_json(workdir / "config.json", config.to_dict())
    shutil.rmtree(workdir / "tb", ignore_errors=True)  # a fresh run: no stale events
    summaries = Summaries(workdir / "tb", config.summary_every, config.histogram_every)
    net = config.pathnet
    model = PathNet(data_lib.IMAGE_SIZE, net.num_layers, net.num_modules, net.num_active,
                    net.units, compute=net.compute)
    log(f"PathNet L={net.num_layers} M={net.num_modules} N={net.num_active} "
        f"units={net.units}; task A {tasks[0].name} ({len(tasks[0].train_x)} train images), "
        f"task B {tasks[1].name}; workdir {workdir}")

    trainer_a, result_a = _evolve_task(model, tasks[0], "A", config, rng, summaries, log)
    results_a = _task_results(tasks[0], trainer_a, result_a)
    # Transfer: task A's best path is frozen for good; every other module starts afresh.
    model.freeze(result_a.best_path)
    model.reinitialize_unfrozen()
    trainer_b, result_b = _evolve_task(model, tasks[1], "B", config, rng, summaries, log)
    results_b = _task_results(tasks[1], trainer_b, result_b)
    summaries.close()

    results = {
        "seed": config.seed,
        "task_a": results_a,
        "task_b": results_b,
        "overlap": overlap(result_a.best_path, result_b.best_path, net.num_modules),
        "wall_seconds": time.perf_counter() - start,
    }
    write_json(workdir / "results.json", results)
    log(f"task A {tasks[0].name}: {result_a.generations} generations, test accuracy "
        f"{results_a['test_accuracy']:.4f}; task B {tasks[1].name}: "
        f"{result_b.generations} generations, test accuracy "
        f"{results_b['test_accuracy']:.4f}; overlap {results['overlap']} modules; "
        f"results in {workdir / 'results.json'}")
    return results
