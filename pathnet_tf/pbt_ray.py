"""The PBT MNIST experiment on Ray Tune (`pbt_mnist.py CONFIG --backend=ray`).

Optional: needs `pip install -e .[ray]` (ray[tune] >= 2.9); the default backend
(`pbt_training.run`) never imports this module or Ray.

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

Each trial is one `MnistMember`: a `pbt_training.Population` of size one (the very
model, compiled epoch and Adam of the default backend). Its checkpoint (a directory)
holds `state.npz` (every model weight, BatchNorm statistics included, and every Adam
variable: iteration count, learning rate, first and second moments) and
`member.json` (the worker, round and hyperparameters it was trained with). On
exploit, Tune restores the parent's checkpoint into the child and gives it the
explored config: the child takes the parent's weights and Adam state, and the
explored hyperparameters. The first result after a restore records what was
restored (`restored_from_worker`, `restored_optimizer_iterations`,
`restored_adam_slot_abs_sum`).

Outputs in the workdir: the default backend's `config.json`, `history.csv`,
`workers/worker_XX.csv`, `results.csv`, `results.json`, `ckpt/best.keras`,
`ckpt/best.json` and figures, built from the results the driver received (kept in
`ray_results.jsonl`, in arrival order, by a Tune callback: a trial's own
`result.json` can miss a round when Tune switches its actor between trials).
`copied_from` is read off the child's first result after a copy (the checkpoint it
restored); `mutation` is inferred from the parent's and the child's values.

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
import math
import os
import pathlib
import random
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import ray
import tensorflow as tf
from ray import tune
from ray.tune.schedulers import PopulationBasedTraining

from pathnet_tf import atomic_io, pbt_plotting, pbt_training
from pathnet_tf.data import load_mnist
from pathnet_tf.pbt import Hyperparameter
from pathnet_tf.pbt_config import HYPERPARAMETER_NAMES, ConfigError, RunConfig, parse_config
from pathnet_tf.pbt_training import HISTORY_FIELDS, RESULTS_FIELDS, Population

logger = logging.getLogger(__name__)

EXPERIMENT_NAME = "pbt"
STATE_FILE = "state.npz"
MEMBER_FILE = "member.json"
CHECKPOINTS_TO_KEEP = 4  # Tune warns below 3: a parent's checkpoint must outlive its copy.
# Ray >= 2.41 has these in ray.tune; older releases (>= 2.7) only in ray.train.
TuneRunConfig = getattr(tune, "RunConfig", None) or ray.train.RunConfig
CheckpointConfig = getattr(tune, "CheckpointConfig", None) or ray.train.CheckpointConfig


def worker_index(trial_id: str) -> int:
    """The worker a trial is: Tune names trials "<prefix>_00003" in creation order."""
    try:
        return int(trial_id.rsplit("_", 1)[1])
    except (IndexError, ValueError):
        raise ValueError(f"trial id {trial_id!r} does not end in _<index>.") from None


def _tag_worker(tag: str) -> int:
    """The worker of an experiment tag as logged by PBT, "3_learning_rate=...": 3."""
    return int(str(tag).split("_", 1)[0])


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


def _set_threads(threads: int) -> None:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # A reused actor: TensorFlow already runs.
        pass


class MnistMember(tune.Trainable):
    """One PBT member as a Tune trainable: one round (epochs_per_round epochs, then
    the validation score) per `step`.

    config: "run_config" (a `RunConfig.to_dict()` with an absolute data_dir),
    "threads", "lineage" (the initial member whose weights a fresh trial starts
    from; a clone inherits its parent's) and every hyperparameter by name.
    """

    def setup(self, config: dict):
        _set_threads(int(config["threads"]))
        self._run_config = parse_config(config["run_config"], source="ray trial config")
        run_config = self._run_config
        self._splits = pbt_training.split_mnist(
            load_mnist(run_config.data_dir), run_config.validation_size, run_config.train_subset
        )
        self._num_train = int(self._splits.train_images.shape[0])
        self._population = Population(
            run_config.model,
            [self._hyperparameters(config)],
            weight_decay=run_config.weight_decay,
            seed=run_config.seed,
        )
        names = self._population.state_names
        self._num_weights = len(self._population.model.weights)
        self._iteration_index = next(
            i for i, name in enumerate(names) if name.endswith("iteration")
        )
        self._slot_indices = [
            i for i, name in enumerate(names) if "momentum" in name or "velocit" in name
        ]
        self._initial_optimizer_state = self._population.member_state(0)[self._num_weights :]
        self._restore_info: dict[str, Any] | None = None
        self._initial_weights: dict[int, list[np.ndarray]] = {}
        self._start(config)

    @property
    def worker(self) -> int:
        return worker_index(self.trial_id)

    def _hyperparameters(self, config: Mapping[str, Any]) -> dict[str, float]:
        return {name: float(config[name]) for name in HYPERPARAMETER_NAMES}

    def _start(self, config: Mapping[str, Any]) -> None:
        """A fresh member: the initial weights of its lineage, a fresh Adam."""
        lineage = int(config["lineage"])
        if lineage not in self._initial_weights:  # Built once per lineage, not per switch.
            run_config = self._run_config
            model = pbt_training.build_model(run_config.model, run_config.seed + lineage)
            self._initial_weights[lineage] = [np.asarray(w.numpy()) for w in model.weights]
        weights = self._initial_weights[lineage]
        self._population.set_member_state(0, weights + self._initial_optimizer_state)
        self._population.set_hyperparameters(0, self._hyperparameters(config))
        self._restore_info = None

    def reset_config(self, new_config: dict) -> bool:
        # Tune reuses this actor for another trial (or this one after a pause or an
        # exploit): start fresh; `load_checkpoint` follows if there is state to restore.
        self._start(new_config)
        return True

    def step(self) -> dict[str, Any]:
        run_config, population = self._run_config, self._population
        round_index = self.iteration + 1
        used = population.hyperparameters(0)
        # Shuffles depend only on (seed, worker, round): no data state to checkpoint.
        rng = np.random.default_rng([run_config.seed, self.worker, round_index])
        losses, accuracies = [], []
        for _ in range(run_config.epochs_per_round):
            batches = pbt_training.epoch_batches(self._num_train, run_config.batch_size, rng)
            loss, accuracy = population.train(
                0, self._splits.train_images, self._splits.train_labels, batches
            )
            losses.append(loss)
            accuracies.append(accuracy)
        score = population.evaluate(
            0, self._splits.validation_images, self._splits.validation_labels
        )
        state = population.member_state(0)
        result = {
            "worker": self.worker,
            "round": round_index,
            "score": score,
            "train_loss": float(np.mean(losses)),
            "train_accuracy": float(np.mean(accuracies)),
            "learning_rate": used["learning_rate"],
            "keep_prob": used["keep_prob"],
            "optimizer_iterations": int(state[self._iteration_index]),
            "train_tracing_count": population.tracing_counts()["train"],
        }
        if self._restore_info is not None:
            result.update(self._restore_info)
            self._restore_info = None
        if round_index >= run_config.rounds:
            result["test_accuracy"] = population.evaluate(
                0, self._splits.test_images, self._splits.test_labels
            )
        return result

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        state = self._population.member_state(0)
        directory = pathlib.Path(checkpoint_dir)
        np.savez(directory / STATE_FILE, **{f"{i:03d}": value for i, value in enumerate(state)})
        member = {
            "worker": self.worker,
            "round": self.iteration,
            "hyperparameters": self._population.hyperparameters(0),
            "lineage": int(self.config["lineage"]),
            "state_names": self._population.state_names,
        }
        (directory / MEMBER_FILE).write_text(json.dumps(member, indent=2) + "\n")

    def load_checkpoint(self, checkpoint_dir: str) -> None:
        state, member = read_checkpoint(checkpoint_dir)
        self._population.set_member_state(0, state)
        # The config's hyperparameters, not the checkpoint's: after an exploit Tune
        # hands the child the parent's state with the explored config.
        self._population.set_hyperparameters(0, self._hyperparameters(self.config))
        self._restore_info = {
            "restored_from_worker": int(member["worker"]),
            "restored_round": int(member["round"]),
            "restored_optimizer_iterations": int(state[self._iteration_index]),
            "restored_adam_slot_abs_sum": float(
                sum(np.abs(state[i]).sum() for i in self._slot_indices)
            ),
        }


def read_checkpoint(checkpoint_dir: str | os.PathLike) -> tuple[list[np.ndarray], dict]:
    """The arrays (in `Population.state_names` order) and member.json of a checkpoint."""
    directory = pathlib.Path(checkpoint_dir)
    with np.load(directory / STATE_FILE) as archive:
        state = [archive[key] for key in sorted(archive.files)]
    member = json.loads((directory / MEMBER_FILE).read_text())
    if len(state) != len(member["state_names"]):
        raise ValueError(f"checkpoint {directory} holds {len(state)} arrays for "
                         f"{len(member['state_names'])} names.")
    return state, member


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
    hyperparameters, _ = pbt_training.initial_hyperparameters(config, rng)
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


def _describe_mutation(
    old: Mapping[str, Any], new: Mapping[str, Any], config: RunConfig
) -> str:
    """The explore applied, inferred from the values: "learning_rate*1.2;keep_prob*0.8"."""
    parts = []
    for hyperparameter in config.searched:
        name = hyperparameter.name
        before, after = float(old[name]), float(new[name])
        factors = config.pbt.perturb_factors
        factor = next((f for f in factors if math.isclose(after, before * f, rel_tol=1e-9)), None)
        if factor is not None:
            parts.append(f"{name}*{factor:g}")
            continue
        clipped = next(
            (
                f
                for f in factors
                if after in hyperparameter.bounds
                and math.isclose(after, hyperparameter.clip(before * f), rel_tol=1e-9)
            ),
            None,
        )
        parts.append(f"{name}*{clipped:g}(clipped)" if clipped is not None else f"{name}=resampled")
    return ";".join(parts)


def read_perturbations(experiment_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Ray PBT's `pbt_global.txt`: one dict per exploit, in order: `worker` copied
    `copied_from`; `new_config` is the child's explored config.

    Ray logs each trial's last *recorded* iteration, and records a result only after
    the scheduler has seen it, so the trial whose result completed a synchronous
    round is logged one round early (0 for round 1). In synchronous mode the other
    one of the pair is always up to date, hence `round` = the larger of the two.
    """
    path = pathlib.Path(experiment_dir) / "pbt_global.txt"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        target_tag, clone_tag, target_round, clone_round, _, new_config = json.loads(line)
        rows.append(
            {
                "round": max(int(target_round), int(clone_round)),
                "worker": _tag_worker(target_tag),
                "copied_from": _tag_worker(clone_tag),
                "new_config": new_config,
            }
        )
    return rows


def _history(results: list[dict[str, Any]], config: RunConfig) -> list[dict[str, Any]]:
    """history.csv rows from the collected results: one per (round, worker).

    A copy is read off the child's first result after it: it restored the parent's
    checkpoint of the previous round (`restored_from_worker` != its own worker).
    """
    table: dict[tuple[int, int], dict[str, Any]] = {}
    for result in results:  # A round reported twice (never expected): keep the last.
        table[(int(result["round"]), int(result["worker"]))] = result
    history = []
    for (round_index, worker), result in sorted(table.items()):
        history.append(
            {
                "round": round_index,
                "worker": worker,
                "score": float(result["score"]),
                "train_loss": float(result["train_loss"]),
                "train_accuracy": float(result["train_accuracy"]),
                "learning_rate": float(result["learning_rate"]),
                "keep_prob": float(result["keep_prob"]),
                "ready": config.pbt is not None
                and round_index < config.rounds
                and round_index % config.pbt.ready_steps == 0,
                "copied_from": None,
                "mutation": "",
            }
        )
    rows = {(row["round"], row["worker"]): row for row in history}
    for (round_index, worker), result in table.items():
        parent = result.get("restored_from_worker")
        if parent is None or int(parent) == worker:
            continue
        after = int(result["restored_round"])
        child_row, parent_row = rows.get((after, worker)), rows.get((after, int(parent)))
        if child_row is None or parent_row is None:
            continue
        child_row["copied_from"] = int(parent)
        child_row["mutation"] = _describe_mutation(
            parent_row, rows[(round_index, worker)], config
        )
    return history


def _write_best_checkpoint(workdir: pathlib.Path, config: RunConfig, checkpoint_dir) -> None:
    """ckpt/best.keras from a Ray checkpoint, so `pbt_mnist.py -m test` works alike."""
    state, member = read_checkpoint(checkpoint_dir)
    population = Population(config.model, [member["hyperparameters"]], seed=config.seed)
    population.set_member_state(0, state)
    model = population.load_member(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        atomic_io.write_atomic(workdir / "ckpt" / "best.keras", model.save)


def _fit(config: RunConfig, workdir: pathlib.Path, num_cpus: int, cpus_per_trial: int):
    """Runs the trials; returns (Tune's ResultGrid, every result in arrival order)."""
    collector = ResultCollector()
    started = not ray.is_initialized()
    if started:
        repository = str(pathlib.Path(__file__).resolve().parent.parent)
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
    history = _history(results, config)
    atomic_io.write_csv(workdir / "history.csv", history, HISTORY_FIELDS)
    for worker in range(config.population_size):
        atomic_io.write_csv(
            workdir / "workers" / f"worker_{worker:02d}.csv",
            [row for row in history if row["worker"] == worker],
            HISTORY_FIELDS,
        )
    experiment_dir = workdir / "ray" / EXPERIMENT_NAME
    perturbations = read_perturbations(experiment_dir)

    final = {}
    for result in results:
        if int(result["round"]) == config.rounds:
            final[int(result["worker"])] = result
    missing = sorted(set(range(config.population_size)) - set(final))
    if missing:
        raise RuntimeError(f"Ray reported no final round for worker(s) {missing}.")
    copies_into = {worker: 0 for worker in range(config.population_size)}
    for row in history:
        if row["copied_from"] is not None:
            copies_into[row["worker"]] += 1
    workers = [
        {
            "worker": worker,
            "val_accuracy": float(final[worker]["score"]),
            "test_accuracy": float(final[worker]["test_accuracy"]),
            "learning_rate": float(final[worker]["learning_rate"]),
            "keep_prob": float(final[worker]["keep_prob"]),
            "times_copied_into": copies_into[worker],
        }
        for worker in range(config.population_size)
    ]
    atomic_io.write_csv(workdir / "results.csv", workers, RESULTS_FIELDS)
    best = max(range(config.population_size), key=lambda w: workers[w]["val_accuracy"])
    trials = {int(result.metrics["worker"]): result for result in result_grid}
    best_checkpoint = trials[best].checkpoint.path
    _write_best_checkpoint(workdir, config, best_checkpoint)
    atomic_io.write_json(
        workdir / "ckpt" / "best.json",
        {
            "worker": best,
            "round": config.rounds,
            "model": config.model,
            "val_accuracy": workers[best]["val_accuracy"],
            "test_accuracy": workers[best]["test_accuracy"],
            "hyperparameters": {name: workers[best][name] for name in HYPERPARAMETER_NAMES},
            "ray_checkpoint": best_checkpoint,
        },
    )
    lr_worker = best if config.lr_plot_worker is None else config.lr_plot_worker
    figures = pbt_plotting.plot_run(workdir, lr_worker)
    results_json = {
        "backend": "ray",
        "model": config.model,
        "population_size": config.population_size,
        "rounds": config.rounds,
        "pbt": config.pbt is not None,
        "best_worker": best,
        "best_val_accuracy": workers[best]["val_accuracy"],
        "best_test_accuracy": workers[best]["test_accuracy"],
        "workers": workers,
        "checkpoint": str(pathlib.Path("ckpt") / "best.keras"),
        "figures": [str(path.relative_to(workdir)) for path in figures],
        "tracing_counts": {
            "train_max_per_trial": max(int(r["train_tracing_count"]) for r in results)
        },
        "ray": {
            "version": ray.__version__,
            "experiment_dir": str(experiment_dir.relative_to(workdir)),
            "perturbation_log": str((experiment_dir / "pbt_global.txt").relative_to(workdir)),
            "num_perturbations_logged": len(perturbations),
            "num_copies_restored": sum(copies_into.values()),
            "trial_dirs": {
                worker: str(pathlib.Path(trials[worker].path).relative_to(workdir))
                for worker in sorted(trials)
            },
        },
        "wall_time_s": round(time.perf_counter() - start, 3),
    }
    atomic_io.write_json(workdir / "results.json", results_json)
    return results_json
