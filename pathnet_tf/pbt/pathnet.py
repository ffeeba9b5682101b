"""PBT of PathNet's own hyperparameters: the learning rate and the mutation rate.

The population is `num_members` independent PathNet runs on one binary MNIST task
(task A of the paper, 1v3 by default), each a `PathNetMember`: its own `PathNet`, its
own `TaskTrainer` (modules, readout, optimizer slots and step), its own
`genetic.Tournament` (the GA population of pathways) and batch sampler. Members are
advanced `ready_generations` generations at a time, in turn, in one process, by
`training.evolve`; then `pbt.PBT` (the same NumPy decisions as the MNIST PBT) ranks
them by validation accuracy and a member in the bottom fraction copies one of the
top fraction: its weights (module kernels and biases, readout), optimizer slots and
step, its GA population *and* its hyperparameters, then explores them (x0.8 / x1.2,
clipped to bounds). Both hyperparameters act without retracing: the learning rate
is the `tf.Variable` `trainer.optimizer.learning_rate` read inside the compiled
tournament, the mutation rate is `tournament.mutation_rate`, read by the NumPy GA.

The run stops when a member's tournament winner reaches the threshold (0.998, the
paper's stopping rule on training fitness) or every member has used its
`max_generations`. Then the controls, on the same training images:
- "default_population": `num_members` members with the default learning rate and
  mutation rate, advanced on the same schedule with no exploit (the best of
  independent default runs, at PBT's cost in generations);
- "default": single plain runs with the default settings, one per baseline seed,
  each allowed the whole PBT budget (num_members x max_generations generations).

The PBT score is the accuracy of the member's best pathway of its last
`ready_generations` (the winner with the highest training fitness) on
`validation_size` training images held out from every run (PBT and control alike),
so selection never sees the test split.

The config (`PathNetPBTConfig`, its validation and defaults) is in
`pathnet_tf.pbt.pathnet_config`; its names are importable from here too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from pathnet_tf.core.model import PathNet
from pathnet_tf.core.optimizers import make_optimizer
from pathnet_tf.evolution.genetic import Tournament
from pathnet_tf.evolution.training import BatchSampler, TaskTrainer, evolve
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.files import atomic_io
from pathnet_tf.files.workdir import prepare_workdir
from pathnet_tf.pbt.decisions import PBT, Decision
from pathnet_tf.pbt.pathnet_config import HYPERPARAMETER_NAMES, PathNetPBTConfig

__all__ = ["HISTORY_FIELDS", "HYPERPARAMETER_NAMES", "PathNetMember", "PathNetPBTConfig",
           "evolve_population", "exploit", "load_task", "run", "run_baseline"]

HISTORY_FIELDS = (
    "round",
    "member",
    "generations",
    "score",
    "best_fitness",
    "mean_winner_fitness",
    "learning_rate",
    "mutation_rate",
    "ready",
    "copied_from",
    "mutation",
)


class PathNetMember:
    """One PathNet run on one task: model, trainer, GA population, batch sampler.

    Args:
      config: the run's config (sizes, GA and optimizer settings).
      train_x: `[n, 784] float32`, train_y: `[n] int32`.
      hyperparameters: {"learning_rate", "mutation_rate"}.
      rng: the member's own generator (GA choices and minibatches).
    """

    def __init__(self, config: PathNetPBTConfig, train_x, train_y,
                 hyperparameters: dict[str, float], rng: np.random.Generator):
        net, evo = config.pathnet, config.evolution
        self.model = PathNet(data_lib.IMAGE_SIZE, net.num_layers, net.num_modules,
                             net.num_active, net.units, compute=net.compute)
        task = self.model.add_task(2)
        self.trainer = TaskTrainer(
            self.model, task, train_x, train_y,
            make_optimizer(evo.optimizer, hyperparameters["learning_rate"]),
            tournament_size=evo.tournament_size, jit_compile=evo.jit_compile)
        self.tournament = Tournament(
            evo.population_size, net.num_layers, net.num_modules, net.num_active, rng,
            tournament_size=evo.tournament_size,
            mutation_rate=hyperparameters["mutation_rate"], boundary=evo.mutation_boundary)
        self.sampler = BatchSampler(len(train_x), rng)
        self.generations = 0
        self.set_hyperparameters(hyperparameters)

    # -- hyperparameters -------------------------------------------------------------

    @property
    def hyperparameters(self) -> dict[str, float]:
        return {"learning_rate": float(self.trainer.optimizer.learning_rate.numpy()),
                "mutation_rate": float(self.tournament.mutation_rate)}

    def set_hyperparameters(self, hyperparameters: dict[str, float]) -> None:
        """New values take effect at the next generation, without retracing: the
        learning rate is a variable of the compiled tournament, the mutation rate
        a number the NumPy GA reads at each `tell`."""
        learning_rate = float(hyperparameters["learning_rate"])
        mutation_rate = float(hyperparameters["mutation_rate"])
        if not 0 < learning_rate < math.inf:
            raise ValueError(f"learning_rate ({learning_rate}) must be > 0 and finite")
        if not 0 <= mutation_rate <= 1:
            raise ValueError(f"mutation_rate ({mutation_rate}) must be in [0, 1]")
        self.trainer.optimizer.learning_rate.assign(learning_rate)
        self.tournament.mutation_rate = mutation_rate

    # -- state -----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """A copy of everything exploit transfers, except the hyperparameters: the
        weights (`trainer.params`: module kernels and biases, the readout), the
        optimizer slots and step, the frozen mask and the GA population."""
        return {
            "params": [tf.identity(v) for v in self.trainer.params],
            "slots": [tuple(tf.identity(s) for s in slot) for slot in self.trainer.slots],
            "step": tf.identity(self.trainer.step),
            "frozen": tf.convert_to_tensor(self.model.frozen),
            "population": self.tournament.population.copy(),
            "generations": self.generations,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Overwrites this member with `state` (from `state` of any member)."""
        for variable, value in zip(self.trainer.params, state["params"], strict=True):
            variable.assign(value)
        for slot, values in zip(self.trainer.slots, state["slots"], strict=True):
            for variable, value in zip(slot, values, strict=True):
                variable.assign(value)
        self.trainer.step.assign(state["step"])
        self.model.frozen.assign(state["frozen"])
        self.tournament.population = state["population"].copy()
        self.generations = state["generations"]

    # -- training --------------------------------------------------------------------

    def evolve(self, generations: int, config: PathNetPBTConfig):
        """Up to `generations` more generations (fewer if the threshold is reached)."""
        evo = config.evolution
        result = evolve(self.trainer, self.tournament, self.sampler,
                        steps_per_candidate=evo.steps_per_candidate,
                        batch_size=evo.batch_size, threshold=evo.threshold,
                        max_generations=generations)
        self.generations += result.generations
        return result


def exploit(members: Sequence[PathNetMember], decisions: Sequence[Decision]) -> None:
    """Applies `PBT.step` decisions: each child takes its parent's state as it was
    before this call (all parents are read before anyone is overwritten), then
    every member gets `decision.hyperparameters`."""
    parents = {d.copied_from for d in decisions if d.copied_from is not None}
    snapshots = {parent: members[parent].state() for parent in parents}
    for decision in decisions:
        if decision.copied_from is not None:
            members[decision.member].load_state(snapshots[decision.copied_from])
    for decision in decisions:
        members[decision.member].set_hyperparameters(decision.hyperparameters)


def load_task(config: PathNetPBTConfig, mnist: data_lib.Mnist | None = None):
    """The task, and its training images split into (train_x, train_y, val_x, val_y).

    Built as `binary_mnist.run` builds task A for the same seed (same images, same
    noise); the last `validation_size` training images are held out."""
    if mnist is None:
        mnist = data_lib.load_mnist(config.data_dir)
    rng = np.random.default_rng([config.seed, 0])
    task = data_lib.binary_task(mnist, config.task, config.noise, rng, max_train=config.max_train)
    n = len(task.train_x) - config.validation_size
    if n < config.evolution.batch_size:
        raise ValueError(f"validation_size ({config.validation_size}) leaves {n} training "
                         f"images of task {task.name}; need at least a batch")
    return task, (task.train_x[:n], task.train_y[:n],
                  task.train_x[n:], task.train_y[n:])


def run_baseline(config: PathNetPBTConfig, split, seed_index: int, budget: int) -> dict:
    """Plain PathNet with the default hyperparameters for up to `budget` generations."""
    train_x, train_y, _, _ = split
    rng = np.random.default_rng([config.seed, 4, seed_index])
    member = PathNetMember(config, train_x, train_y, config.default_hyperparameters, rng)
    start = time.perf_counter()
    result = member.evolve(budget, config)
    return {"seed_index": seed_index, "generations": result.generations,
            "solved": result.solved, "best_fitness": result.best_fitness,
            "best_path": result.best_path.tolist(),
            "wall_seconds": round(time.perf_counter() - start, 3),
            "_member": member}


def evolve_population(config: PathNetPBTConfig, members: Sequence[PathNetMember], task,
                      split, controller: PBT | None, write_history: Callable[[list], None],
                      log: Callable[[str], None], label: str) -> dict:
    """Advances the members `ready_generations` at a time, in turn, until one solves
    the task or all have used `max_generations`; with a `controller`, a PBT step
    (exploit and explore) follows every round but the last.

    Returns {"history", "solver" (None or the solving member's record), "rounds",
    "generations_summed_over_members", "wall_seconds"}.
    """
    _, _, val_x, val_y = split
    history: list[dict[str, Any]] = []
    solver, round_index = None, 0
    start = time.perf_counter()
    while solver is None and members[0].generations < config.max_generations:
        round_index += 1
        chunk = min(config.ready_generations, config.max_generations - members[0].generations)
        rows = []
        for index, member in enumerate(members):
            used = member.hyperparameters
            result = member.evolve(chunk, config)
            score = member.trainer.evaluate(result.best_path, val_x, val_y)
            rows.append({
                "round": round_index, "member": index, "generations": member.generations,
                "score": score, "best_fitness": result.best_fitness,
                "mean_winner_fitness": float(np.mean(result.fitness_history)),
                **used, "ready": False, "copied_from": None, "mutation": "",
            })
            if result.solved:
                solver = {"member": index, "round": round_index,
                          "generations": member.generations,
                          "best_fitness": result.best_fitness,
                          "best_path": result.best_path.tolist(),
                          "hyperparameters": used,
                          "test_accuracy": member.trainer.evaluate(
                              result.best_path, task.test_x, task.test_y)}
                break
        more = solver is None and members[0].generations < config.max_generations
        if controller is not None and more:
            decisions = controller.step([row["score"] for row in rows])
            exploit(members, decisions)
            for row, decision in zip(rows, decisions, strict=True):
                row.update(ready=decision.ready, copied_from=decision.copied_from,
                           mutation=decision.mutation)
        history.extend(rows)
        write_history(history)
        if round_index % config.log_every == 0 or solver is not None:
            best = max(rows, key=lambda row: row["score"])
            copies = ", ".join(f"{r['member']}<-{r['copied_from']}" for r in rows
                               if r["copied_from"] is not None) or "none"
            log(f"{label} round {round_index}: {members[0].generations} generations per "
                f"member; best validation accuracy {best['score']:.4f} (member "
                f"{best['member']}, lr {best['learning_rate']:.4g}, mutation rate "
                f"{best['mutation_rate']:.3g}); copies: {copies}")
    total = sum(member.generations for member in members)
    if solver is not None:
        log(f"{label} solved {task.name}: member {solver['member']} after "
            f"{solver['generations']} generations of its line, {total} generations "
            "summed over the members")
    else:
        log(f"{label} did not solve {task.name} within {total} generations")
    return {"history": history, "solver": solver, "rounds": round_index,
            "generations_summed_over_members": total,
            "wall_seconds": round(time.perf_counter() - start, 3)}


def run(config: PathNetPBTConfig, workdir, log: Callable[[str], None] = print,
        mnist: data_lib.Mnist | None = None) -> dict:
    """PBT of (learning rate, mutation rate) on the task, then the controls.

    Controls, on the same training images: (1) "default_population": num_members
    members with the default hyperparameters advanced on the same schedule without
    exploit (the best of independent runs, at PBT's cost); (2) "default": single
    runs with the default hyperparameters and the whole PBT budget, one per
    baseline seed. Writes config.json, history.csv (PBT, one row per member per
    round), history_default_population.csv and results.json into `workdir`.
    """
    start = time.perf_counter()
    workdir = prepare_workdir(workdir)
    task, split = load_task(config, mnist)
    train_x, train_y, val_x, _ = split
    atomic_io.write_json(workdir / "config.json", config.to_dict())
    keras.utils.set_random_seed(config.seed)
    log(f"PBT of PathNet on {task.name}: {config.num_members} members, "
        f"{len(train_x)} training and {len(val_x)} validation images, "
        f"{config.ready_generations} generations per round, at most "
        f"{config.max_generations} per member")

    def writer(name):
        return lambda history: atomic_io.write_csv(workdir / name, history, HISTORY_FIELDS)

    controller = PBT(config.space, config.pbt, np.random.default_rng([config.seed, 2]))
    initial = controller.initial_hyperparameters(config.num_members)
    members = [PathNetMember(config, train_x, train_y, initial[m],
                             np.random.default_rng([config.seed, 3, m]))
               for m in range(config.num_members)]
    pbt = evolve_population(config, members, task, split, controller,
                            writer("history.csv"), log, "PBT")
    pbt_history = pbt.pop("history")
    pbt.update(solved=pbt["solver"] is not None,
               initial_hyperparameters=initial,
               final_hyperparameters=[m.hyperparameters for m in members],
               copies=sum(1 for row in pbt_history if row["copied_from"] is not None),
               tracing_counts=[m.trainer.tracing_counts() for m in members])
    del members

    defaults = [PathNetMember(config, train_x, train_y, config.default_hyperparameters,
                              np.random.default_rng([config.seed, 5, m]))
                for m in range(config.num_members)]
    population = evolve_population(config, defaults, task, split, None,
                                   writer("history_default_population.csv"), log,
                                   "default population")
    population.pop("history")
    population["solved"] = population["solver"] is not None
    del defaults

    budget = config.num_members * config.max_generations
    baselines = []
    for seed_index in range(config.baseline_seeds):
        baseline = run_baseline(config, split, seed_index, budget)
        member = baseline.pop("_member")
        baseline["test_accuracy"] = member.trainer.evaluate(
            np.asarray(baseline["best_path"], np.int32), task.test_x, task.test_y)
        baselines.append(baseline)
        log(f"default run {seed_index}: {'solved' if baseline['solved'] else 'NOT solved'} "
            f"after {baseline['generations']} generations")
    solved_baselines = [b["generations"] for b in baselines if b["solved"]]

    results = {
        "task": task.name,
        "digits": list(task.digits),
        "threshold": config.evolution.threshold,
        "num_members": config.num_members,
        "budget_generations": budget,
        "pbt": pbt,
        "default_population": population,
        "default": {
            "hyperparameters": config.default_hyperparameters,
            "runs": baselines,
            "solved_fraction": (len(solved_baselines) / len(baselines)) if baselines else None,
            "mean_generations_solved_runs": (float(np.mean(solved_baselines))
                                             if solved_baselines else None),
            "mean_generations_all_runs": (float(np.mean([b["generations"] for b in baselines]))
                                          if baselines else None),
        },
        "wall_seconds": round(time.perf_counter() - start, 3),
    }
    atomic_io.write_json(workdir / "results.json", results)
    return results
