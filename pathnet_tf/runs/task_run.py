"""One task's run as one object: `TaskRun` holds the task's readout head, its
optimizer and trainer, its population (or the controls' fixed path), its batch sampler
and its `EvolveResult`, and saves and loads all of it (`state()` / `load_state()`) as
NumPy arrays plus JSON. `run.Sequence` strings TaskRuns together.

A task is any object with `name`, `train_x`, `train_y`, `test_x`, `test_y` (NumPy
arrays; inputs `[n, ...] float32`, labels `[n] int32`) and optionally `num_classes`
(default: the largest label + 1) and `info` (a dict copied into the task's results,
e.g. the digits).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from pathnet_tf.core.optimizers import make_optimizer
from pathnet_tf.evolution.genetic import FixedPath, Tournament
from pathnet_tf.evolution.parallel import ParallelTaskTrainer
from pathnet_tf.evolution.reuse import ReuseLog, seed_population
from pathnet_tf.evolution.shared_tournament import SharedTaskTrainer
from pathnet_tf.evolution.training import (
    BatchSampler,
    EvolveResult,
    RepeatedTrainer,
    TaskTrainer,
    evolve,
)
from pathnet_tf.runs import modes
from pathnet_tf.runs.summaries import Summaries


def num_classes(task) -> int:
    given = getattr(task, "num_classes", None)
    return int(given) if given else int(max(task.train_y.max(), task.test_y.max())) + 1


def task_label(index: int, count: int) -> str:
    """"A", "B", ... for the tasks of a sequence (numbers past 26 tasks)."""
    return chr(ord("A") + index) if count <= 26 else str(index + 1)


class TrainerPool:
    """Models and trainers kept across the runs of one process (`campaign.run_seeds`),
    so that their compiled functions are traced and compiled once per process, not
    once per run (XLA keeps every program it compiles: new functions each run cost
    seconds and memory). A run asks for its model (`model`: built fresh, then copied
    into the kept one, `PathNet.restart`) and for each task's trainer (`trainer`: the
    one an earlier run built for the same head, data shape and settings, restarted,
    `TaskTrainer.restart`). A run through a pool gives the results it gives alone."""

    def __init__(self):
        self._models: dict = {}
        self._trainers: dict = {}

    def model(self, key, build: Callable):
        """The kept model for `key` (the model's settings), now a copy of `build()`."""
        fresh = build()
        kept = self._models.get(key)
        if kept is None:
            self._models[key] = fresh
            return fresh
        kept.restart(fresh)
        return kept

    def trainer(self, key, build: Callable, model, train_x, train_y, learning_rate: float):
        """The kept trainer for `key` on `model` with data of this shape, restarted,
        or `build()` (kept for the next run)."""
        key = (id(model), key, np.shape(train_x), np.shape(train_y))
        kept = self._trainers.get(key)
        if kept is None:
            kept = self._trainers[key] = build()
        else:
            kept.restart(train_x, train_y, learning_rate)
        return kept


class TaskRun:
    """One task's whole evolution: its readout head (added to `model` now), a fresh
    optimizer and trainer, its population (`Tournament`) or fixed path (`FixedPath`,
    the controls), its batch sampler and its `EvolveResult` so far.

    `rng` is the run's generator for the genetic algorithm and the batches (shared by
    the tasks of a sequence, saved by the sequence). `fixed_path`: `[L, N]` for the
    controls, whose "generation" is B×T steps on that path (`RepeatedTrainer`).
    `reference_path`: the previous task's best path `[L, N]` (None for the first task):
    the population's reuse of it is logged (`reuse.ReuseLog`) and `seed_fraction` of
    the population starts on it."""

    def __init__(self, model, task_data, config, rng: np.random.Generator, label: str,
                 fixed_path=None, pool: TrainerPool | None = None, reference_path=None):
        evo, net = config.evolution, config.pathnet
        self.model, self.task_data, self.config, self.label = model, task_data, config, label
        self.head = model.add_task(num_classes(task_data))
        x, y = task_data.train_x, task_data.train_y
        if getattr(config, "noise_draw", "once") == "per_batch":  # noised in the graph
            noise = {"input_noise": (config.noise_kind, float(config.noise))}
        else:
            noise = {}

        def trainer(kind, **settings):  # a new one, or the pool's for these settings
            settings.update(noise)

            def build():
                return kind(model, self.head, x, y, make_optimizer(
                    evo.optimizer, evo.effective_learning_rate),
                    jit_compile=evo.jit_compile, **settings)
            if pool is None:
                return build()
            key = (kind.__name__, self.head, evo.optimizer, evo.jit_compile,
                   tuple(sorted(settings.items())))
            return pool.trainer(key, build, model, x, y, evo.effective_learning_rate)

        if fixed_path is not None:
            kind = modes.get(getattr(config, "mode", "pathnet")).trainer  # a subclass?
            kind = kind() if kind else TaskTrainer
            self.trainer = RepeatedTrainer(trainer(kind, tournament_size=1),
                                           repeats=evo.tournament_size)
            self.tournament = FixedPath(fixed_path, net.num_modules)
        else:
            if evo.parallel:
                self.trainer = trainer(ParallelTaskTrainer, tournament_size=evo.tournament_size,
                                       tournaments=evo.parallel)
            else:
                kind = SharedTaskTrainer if evo.tournament == "shared" else TaskTrainer
                self.trainer = trainer(kind, tournament_size=evo.tournament_size)
            self.tournament = Tournament(
                evo.population_size, net.num_layers, net.num_modules, net.num_active, rng,
                tournament_size=evo.tournament_size, mutation_rate=evo.mutation_rate,
                boundary=evo.mutation_boundary, genotype=evo.genotype)
        self.trainer.noise_seed.assign([config.seed, self.head])
        frozen = model.frozen.numpy() > 0.5
        self.reuse = None  # a population on top of frozen modules: its reuse, logged
        if fixed_path is None and frozen.any():
            self.reuse = ReuseLog(frozen, reference_path, net.num_modules)
            if reference_path is not None and evo.seed_fraction > 0:
                self.reuse.seeded = seed_population(self.tournament.population,
                                                    reference_path, evo.seed_fraction)
        self.sampler = BatchSampler(len(x), rng)
        # Minibatches drawn per generation: T shared by the fair tournament's candidates;
        # B·T for the controls (B·T steps on one path) and the shared tournament (T each).
        own_batches = fixed_path is not None or evo.tournament == "shared"
        self.steps = evo.steps_per_candidate * (evo.tournament_size if own_batches else 1)
        self.result = EvolveResult(generations=0, solved=False, best_fitness=-1.0,
                                   best_path=None, fitness_history=[], wall_seconds=0.0)
        self.population = fixed_path is None
        self.usage: list = []  # [generation, [L][M] module usage]: 1, every image_every, last

    @property
    def prefix(self) -> str:
        return f"{self.label}_{self.task_data.name}"

    def evolve(self, summaries: Summaries, log: Callable[[str], None],
               checkpoint_every: int = 0, on_checkpoint: Callable | None = None,
               stop: Callable[[], bool] | None = None) -> EvolveResult:
        """Evolves the task from where `result` left off until it is solved, out of
        generations, or `stop()` says so (see `training.evolve`). `on_checkpoint()` is
        called every `checkpoint_every` generations, with `result` up to date."""
        config, net = self.config, self.config.pathnet
        interval = [time.perf_counter(), self.result.generations]  # the progress line's

        def on_generation(generation, paths, fitness, winner, best_fitness, best_path):
            summaries.generation(self.prefix, generation, fitness, winner, best_fitness,
                                 self.tournament.module_usage, best_path, net.num_modules,
                                 frozen=self.model.frozen.numpy)
            if self.population and (generation == 1 or generation % config.image_every == 0):
                self.usage.append([generation, self.tournament.module_usage().tolist()])
            if self.reuse is not None:
                summaries.reuse(self.prefix, generation, self.reuse.record(
                    generation, paths[winner], self.tournament.population))
            summaries.histograms(self.prefix, generation, self.model)
            if generation % config.log_every == 0:  # the rate since the last line
                now = time.perf_counter()
                rate = (generation - interval[1]) / max(now - interval[0], 1e-9)
                interval[:] = [now, generation]
                log(f"task {self.label} ({self.task_data.name}) generation {generation}: "
                    f"winner fitness {fitness[winner]:.4f}, best {best_fitness:.4f} "
                    f"({rate:.1f} generations/s)")

        def checkpointed(state: EvolveResult):
            self.result = state
            on_checkpoint()

        evo = config.evolution
        self.result = evolve(
            self.trainer, self.tournament, self.sampler, steps_per_candidate=self.steps,
            batch_size=evo.batch_size, threshold=(  # budget "fixed": max_generations each
                math.inf if getattr(config, "budget", "threshold") == "fixed" else evo.threshold),
            max_generations=evo.max_generations, on_generation=on_generation,
            state=self.result, checkpoint_every=checkpoint_every if on_checkpoint else 0,
            on_checkpoint=checkpointed, stop=stop)
        last = self.result.generations
        if not (self.result.solved or last >= evo.max_generations):
            return self.result  # stopped early (SIGTERM): the task goes on after a resume
        if self.population and last and (not self.usage or self.usage[-1][0] != last):
            self.usage.append([last, self.tournament.module_usage().tolist()])  # the end
        self.test_accuracy = self.trainer.evaluate(self.result.best_path, self.task_data.test_x,
                                                   self.task_data.test_y)
        summaries.task_end(self.prefix, self.result.generations, self.test_accuracy)
        status = "solved" if self.result.solved else "NOT solved"
        log(f"task {self.label} ({self.task_data.name}) {status} after "
            f"{self.result.generations} generations: best fitness "
            f"{self.result.best_fitness:.4f} ({self.result.wall_seconds:.1f} s)")
        return self.result

    def results(self) -> dict:
        """The task's part of results.json (after `evolve`)."""
        task, result, trainer = self.task_data, self.result, self.trainer
        return {
            "name": task.name,
            **getattr(task, "info", {}),
            "generations": result.generations,
            "solved": result.solved,
            "best_fitness": result.best_fitness,
            "test_accuracy": self.test_accuracy,
            "best_path": result.best_path.tolist(),
            "fitness_history": result.fitness_history,
            "wall_seconds": result.wall_seconds,
            "tracing_counts": trainer.tracing_counts(),
            "nonfinite_candidates": int(trainer.nonfinite.numpy()),
            "module_usage": {"generations": [g for g, _ in self.usage],
                             "usage": [u for _, u in self.usage]} if self.population else None,
            "reuse": None if self.reuse is None else self.reuse.results(),
        }

    # -- state -----------------------------------------------------------------------

    def state(self) -> tuple[dict, dict]:
        """Everything of this task a run needs to continue but the model's variables:
        `(arrays, header)`, NumPy arrays and JSON."""
        trainer, result = self.trainer, self.result
        arrays = {f"slots/{i}/{k}": variable.numpy()
                  for i, slot in enumerate(trainer.slots) for k, variable in enumerate(slot)}
        arrays["trainer/step"] = trainer.step.numpy()
        arrays["trainer/learning_rate"] = trainer.optimizer.learning_rate.numpy()
        arrays["trainer/nonfinite"] = trainer.nonfinite.numpy()
        arrays["population"] = self.tournament.population
        arrays["sampler/order"] = self.sampler.order
        header = {
            "sampler_position": self.sampler.position,
            "usage": self.usage,
            "reuse": None if self.reuse is None else self.reuse.state(),
            "evolve": {"generations": result.generations, "solved": result.solved,
                       "best_fitness": result.best_fitness,
                       "best_path": None if result.best_path is None
                       else result.best_path.tolist(),
                       "fitness_history": result.fitness_history,
                       "wall_seconds": result.wall_seconds},
        }
        return arrays, header

    def load_state(self, arrays: dict, header: dict) -> None:
        """The inverse of `state()`."""
        trainer = self.trainer
        for i, slot in enumerate(trainer.slots):
            for k, variable in enumerate(slot):
                variable.assign(arrays[f"slots/{i}/{k}"])
        trainer.step.assign(arrays["trainer/step"])
        trainer.optimizer.learning_rate.assign(arrays["trainer/learning_rate"])
        trainer.nonfinite.assign(arrays["trainer/nonfinite"])
        self.tournament.population[...] = arrays["population"]
        self.sampler.order = arrays["sampler/order"]
        self.sampler.position = header["sampler_position"]
        self.usage = header["usage"]
        # Built here: when a resumed run starts its task, the frozen modules are not
        # loaded yet (`run.Sequence.load_state`).
        self.reuse = (None if header.get("reuse") is None
                      else ReuseLog.from_state(header["reuse"], self.config.pathnet.num_modules))
        evolved = header["evolve"]
        self.result = EvolveResult(
            generations=evolved["generations"], solved=evolved["solved"],
            best_fitness=evolved["best_fitness"],
            best_path=None if evolved["best_path"] is None
            else np.asarray(evolved["best_path"], np.int32),
            fitness_history=evolved["fitness_history"], wall_seconds=evolved["wall_seconds"])
