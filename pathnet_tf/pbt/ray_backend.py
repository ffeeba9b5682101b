"""The PBT MNIST experiment on Ray Tune (`pbt_mnist.py CONFIG --backend=ray`).

Optional: needs `pip install -e .[ray]` (ray[tune] >= 2.9); the default backend
(`runner.run`) never imports this module or Ray.

The same members as the default backend, as Ray Tune trials of one experiment under
`ray.tune.schedulers.PopulationBasedTraining`, mapped from the same JSON config:

- `pbt.ready_steps` -> `perturbation_interval`, in `training_iteration`s (= rounds);
- `pbt.truncation_fraction` -> `quantile_fraction` (a member of the bottom fraction
  copies a random member of the top fraction);
- `pbt.perturb_factors` -> `perturbation_factors`;
- `pbt.resample_probability` -> `resample_probability`;
- searched hyperparameters -> `hyperparam_mutations` (`tune.uniform` or
  `tune.loguniform` of the prior), plus a `custom_explore_fn` that clips to the
  config's bounds (Ray itself never clips: repeated x1.2 drifts out of range);
- `pbt.exploit: "binary_tournament"` has no Ray equivalent: rejected.

The scheduler runs in synchronous mode (`synch=True`: every member finishes the
round before anyone is exploited, as in the default backend). Trials run one (or
`num_cpus // cpus_per_trial`) at a time on a local Ray instance started here with
`num_cpus` CPUs (Ray 2.60 no longer has `local_mode`; this is a one-node cluster
inside this machine) and are time-multiplexed by Tune, reusing actors.

Each trial is one `ray_member.MnistMember` (a population of one, checkpointed with
its Adam state); `ray_history` rebuilds history.csv from what the trials reported.

Outputs in the workdir: the default backend's `config.json`, `history.csv`,
`workers/worker_XX.csv`, `results.csv`, `results.json`, `ckpt/best.keras`,
`ckpt/best.json` and figures, built from the results the driver received (kept in
`ray_results.jsonl`, in arrival order, by a Tune callback: a trial's own
`result.json` can miss a round when Tune switches its actor between trials).

Ray's own files are under `ray/pbt/`: `pbt_global.txt` and `pbt_policy_<trial>.txt`
(Ray's log of every exploit: the two trials, the parent's config and the child's
new one; `read_perturbations` parses it), and one directory per trial with
`progress.csv`, `result.json`, TensorBoard events and its last checkpoints. Ray's
session logs go to its temporary directory (/tmp/ray), not to the workdir.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pathlib
import random
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import ray
from ray import tune
from ray.tune.schedulers import PopulationBasedTraining

from pathnet_tf.files import atomic_io
from pathnet_tf.pbt.config import HYPERPARAMETER_NAMES, ConfigError, RunConfig
from pathnet_tf.pbt.decisions import Hyperparameter
from pathnet_tf.pbt.outputs import best_worker, write_history, write_results
from pathnet_tf.pbt.population import Population
from pathnet_tf.pbt.ray_history import history_from_results, read_perturbations
from pathnet_tf.pbt.ray_member import MnistMember, read_checkpoint
from pathnet_tf.pbt.runner import initial_hyperparameters

logger = logging.getLogger(__name__)

EXPERIMENT_NAME = "pbt"
CHECKPOINTS_TO_KEEP = 4  # Tune warns below 3: a parent's checkpoint must outlive its copy.
# Ray >= 2.41 has these in ray.tune; older releases (>= 2.7) only in ray.train.
TuneRunConfig = getattr(tune, "RunConfig", None) or ray.train.RunConfig
CheckpointConfig = getattr(tune, "CheckpointConfig", None) or ray.train.CheckpointConfig


class ClipToBounds:
    """Ray PBT's `custom_explore_fn`: clips each searched value to its bounds."""

    def __init__(self, space: Sequence[Hyperparameter]):
        self.space = tuple(space)

    def __call__(self, config: dict) -> dict:
        for hyperparameter in self.space:
            config[hyperparameter.name] = hyperparameter.clip(config[hyperparameter.name])
        return config


def _domain(hyperparameter: Hyperparameter):
    if hyperparameter.prior == "log_uniform":
        return tune.loguniform(hyperparameter.low, hyperparameter.high)
    return tune.uniform(hyperparameter.low, hyperparameter.high)



def _check(config: RunConfig) -> None:
    if config.pbt is not None and config.pbt.exploit != "truncation":
        raise ConfigError(
            f"pbt.exploit {config.pbt.exploit!r} is not available with --backend=ray: Ray "
            "Tune's PopulationBasedTraining does truncation selection only."
        )


def _scheduler(config: RunConfig) -> PopulationBasedTraining | None:
    if config.pbt is None:
        return None  # Random search (or one vanilla model): no exploit, no explore.
    return PopulationBasedTraining(
        time_attr="training_iteration",
        perturbation_interval=config.pbt.ready_steps,
        hyperparam_mutations={h.name: _domain(h) for h in config.searched},
        quantile_fraction=config.pbt.truncation_fraction,
        resample_probability=config.pbt.resample_probability,
        perturbation_factors=tuple(config.pbt.perturb_factors),
        custom_explore_fn=ClipToBounds(config.searched),
        synch=True,
    )


def _initial_hyperparameters(config: RunConfig) -> list[dict[str, float]]:
    """Drawn exactly as the default backend draws them (same seed, same values)."""
    pbt_seed, _ = np.random.SeedSequence(config.seed).spawn(2)
    rng = np.random.default_rng(pbt_seed)
    hyperparameters, _ = initial_hyperparameters(config, rng)
    return hyperparameters


def _param_space(config: RunConfig, cpus_per_trial: int) -> dict[str, Any]:
    initial = _initial_hyperparameters(config)
    resolved = config.to_dict()
    if config.data_dir is not None:  # Trials run in their own directories.
        resolved["data_dir"] = str(pathlib.Path(config.data_dir).resolve())
    space: dict[str, Any] = {
        "run_config": resolved,
        "threads": cpus_per_trial,
        "lineage": tune.grid_search(list(range(config.population_size))),
    }
    for name in HYPERPARAMETER_NAMES:
        space[name] = tune.sample_from(_InitialValue(initial, name))
    return space


class _InitialValue:
    """A trial's initial value of one hyperparameter, by its lineage (the grid value,
    resolved first). Ray >= 2.4x passes the trial's config; older Ray a spec holding
    it under "config"."""

    def __init__(self, initial: list[dict[str, float]], name: str):
        self.initial, self.name = initial, name

    def __call__(self, config):
        config = config["config"] if "config" in config else config
        return self.initial[config["lineage"]][self.name]


class ResultCollector(tune.Callback):
    """Keeps every result the driver receives, in arrival order (Ray's own result
    files of a trial can miss a round when its actor is switched between trials)."""

    KEYS = (
        "worker",
        "round",
        "score",
        "train_loss",
        "train_accuracy",
        "learning_rate",
        "keep_prob",
        "optimizer_iterations",
        "train_tracing_count",
        "test_accuracy",
        "restored_from_worker",
        "restored_round",
        "restored_optimizer_iterations",
        "restored_adam_slot_abs_sum",
    )

    def __init__(self):
        self.results: list[dict[str, Any]] = []

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.results.append({key: result[key] for key in self.KEYS if key in result})


def _best_model(config: RunConfig, checkpoint_dir):
    """The model of a Ray checkpoint, for ckpt/best.keras (`pbt_mnist.py -m test`)."""
    state, member = read_checkpoint(checkpoint_dir)
    population = Population(config.model, [member["hyperparameters"]], seed=config.seed)
    population.set_member_state(0, state)
    return population.load_member(0)


def _fit(config: RunConfig, workdir: pathlib.Path, num_cpus: int, cpus_per_trial: int):
    """Runs the trials; returns (Tune's ResultGrid, every result in arrival order)."""
    collector = ResultCollector()
    started = not ray.is_initialized()
    if started:
        repository = str(pathlib.Path(__file__).resolve().parents[2])
        python_path = os.pathsep.join(p for p in (repository, os.environ.get("PYTHONPATH")) if p)
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={
                "env_vars": {"PYTHONPATH": python_path, "TF_CPP_MIN_LOG_LEVEL": "2"}
            },
        )
    try:
        tuner = tune.Tuner(
            tune.with_resources(MnistMember, {"cpu": cpus_per_trial}),
            param_space=_param_space(config, cpus_per_trial),
            tune_config=tune.TuneConfig(
                metric="score",
                mode="max",
                scheduler=_scheduler(config),
                reuse_actors=True,
            ),
            run_config=TuneRunConfig(
                name=EXPERIMENT_NAME,
                storage_path=str(workdir / "ray"),
                stop={"training_iteration": config.rounds},
                checkpoint_config=CheckpointConfig(
                    num_to_keep=CHECKPOINTS_TO_KEEP, checkpoint_at_end=True
                ),
                callbacks=[collector],
                verbose=0,
            ),
        )
        # Tune prints its banner on stdout even when silent; keep stdout for results.
        with contextlib.redirect_stdout(sys.stderr):
            result_grid = tuner.fit()
    finally:
        if started:
            ray.shutdown()
    if result_grid.errors:
        raise RuntimeError(
            f"{len(result_grid.errors)} Ray trial(s) failed; first: {result_grid.errors[0]}"
        )
    return result_grid, collector.results


def run(
    config: RunConfig,
    workdir: str | os.PathLike,
    *,
    num_cpus: int = 2,
    cpus_per_trial: int = 2,
) -> dict[str, Any]:
    """Runs the population as Ray Tune trials; writes the outputs into `workdir`.

    Args:
      config: the run (a PBT config; `pbt: null` runs the trials without a
        scheduler, i.e. random search).
      workdir: output directory (created); Ray's files go to workdir/ray.
      num_cpus: CPUs of the local Ray instance (if this call starts it).
      cpus_per_trial: CPUs (and TensorFlow threads) per trial; trials run
        num_cpus // cpus_per_trial at a time.

    Returns:
      The contents of results.json.
    """
    _check(config)
    if not 1 <= cpus_per_trial <= num_cpus:
        raise ValueError(f"cpus_per_trial ({cpus_per_trial}) must be in [1, num_cpus={num_cpus}].")
    start = time.perf_counter()
    workdir = pathlib.Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    atomic_io.write_json(workdir / "config.json", config.to_dict())
    # Ray's scheduler and its search-space sampling draw from these global generators.
    random.seed(config.seed)
    np.random.seed(config.seed)
    result_grid, results = _fit(config, workdir, num_cpus, cpus_per_trial)

    atomic_io.write_text(
        workdir / "ray_results.jsonl", "".join(json.dumps(r) + "\n" for r in results)
    )
    history = history_from_results(results, config)
    write_history(workdir, history, config.population_size)
    experiment_dir = workdir / "ray" / EXPERIMENT_NAME
    perturbations = read_perturbations(experiment_dir)

    final = {}
    for result in results:
        if int(result["round"]) == config.rounds:
            final[int(result["worker"])] = result
    missing = sorted(set(range(config.population_size)) - set(final))
    if missing:
        raise RuntimeError(f"Ray reported no final round for worker(s) {missing}.")
    workers = [
        {
            "worker": worker,
            "val_accuracy": float(final[worker]["score"]),
            "test_accuracy": float(final[worker]["test_accuracy"]),
            **{name: float(final[worker][name]) for name in HYPERPARAMETER_NAMES},
        }
        for worker in range(config.population_size)
    ]
    best = best_worker(workers)
    trials = {int(result.metrics["worker"]): result for result in result_grid}
    best_checkpoint = trials[best].checkpoint.path
    summary = write_results(
        workdir,
        config,
        history,
        workers,
        _best_model(config, best_checkpoint),
        ray_checkpoint=best_checkpoint,
    )
    results_json = {
        "backend": "ray",
        **summary,
        "tracing_counts": {
            "train_max_per_trial": max(int(r["train_tracing_count"]) for r in results)
        },
        "ray": {
            "version": ray.__version__,
            "experiment_dir": str(experiment_dir.relative_to(workdir)),
            "perturbation_log": str((experiment_dir / "pbt_global.txt").relative_to(workdir)),
            "num_perturbations_logged": len(perturbations),
            "num_copies_restored": sum(w["times_copied_into"] for w in summary["workers"]),
            "trial_dirs": {
                worker: str(pathlib.Path(trials[worker].path).relative_to(workdir))
                for worker in sorted(trials)
            },
        },
        "wall_time_s": round(time.perf_counter() - start, 3),
    }
    atomic_io.write_json(workdir / "results.json", results_json)
    return results_json
