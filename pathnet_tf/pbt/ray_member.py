"""One PBT member as a Ray Tune trainable, and its checkpoint (`--backend=ray`).

Optional: needs `pip install -e .[ray]`. Each trial is one `MnistMember`: a
`population.Population` of size one (the very model, compiled epoch and Adam of the
default backend), one round (epochs_per_round epochs, then the validation score) per
`step`. Its checkpoint (a directory) holds `state.npz` (every model weight,
BatchNorm statistics included, and every Adam variable: iteration count, learning
rate, first and second moments) and `member.json` (the worker, round and
hyperparameters it was trained with). On exploit, Tune restores the parent's
checkpoint into the child and gives it the explored config: the child takes the
parent's weights and Adam state, and the explored hyperparameters. The first result
after a restore records what was restored (`restored_from_worker`,
`restored_optimizer_iterations`, `restored_adam_slot_abs_sum`).
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Mapping
from typing import Any

import numpy as np
from ray import tune

from pathnet_tf.evolution.training import set_threads
from pathnet_tf.experiments.data import load_mnist
from pathnet_tf.pbt.config import HYPERPARAMETER_NAMES, parse_config
from pathnet_tf.pbt.data import epoch_batches, split_mnist
from pathnet_tf.pbt.models import build_model
from pathnet_tf.pbt.outputs import round_row
from pathnet_tf.pbt.population import Population

STATE_FILE = "state.npz"
MEMBER_FILE = "member.json"


def worker_index(trial_id: str) -> int:
    """The worker a trial is: Tune names trials "<prefix>_00003" in creation order."""
    try:
        return int(trial_id.rsplit("_", 1)[1])
    except (IndexError, ValueError):
        raise ValueError(f"trial id {trial_id!r} does not end in _<index>.") from None



class MnistMember(tune.Trainable):
    """One PBT member as a Tune trainable: one round (epochs_per_round epochs, then
    the validation score) per `step`.

    config: "run_config" (a `RunConfig.to_dict()` with an absolute data_dir),
    "threads", "lineage" (the initial member whose weights a fresh trial starts
    from; a clone inherits its parent's) and every hyperparameter by name.
    """

    def setup(self, config: dict):
        set_threads(int(config["threads"]))  # False on a reused actor: TensorFlow runs.
        self._run_config = parse_config(config["run_config"], source="ray trial config")
        run_config = self._run_config
        self._splits = split_mnist(
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
            model = build_model(run_config.model, run_config.seed + lineage)
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
            batches = epoch_batches(self._num_train, run_config.batch_size, rng)
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
            **round_row(round_index, self.worker, score, losses, accuracies, used),
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

