"""history.csv of a Ray run, rebuilt from the results Tune reported and Ray's PBT log.

No Ray import: these read what a run left behind. `copied_from` is read off the
child's first result after a copy (the checkpoint it restored); `mutation` is
inferred from the parent's and the child's values. `read_perturbations` parses Ray's
own log of every exploit (`pbt_global.txt`).
"""

from __future__ import annotations

import json
import math
import os
import pathlib
from collections.abc import Mapping
from typing import Any

from pathnet_tf.pbt.config import RunConfig
from pathnet_tf.pbt.outputs import HISTORY_FIELDS


def _tag_worker(tag: str) -> int:
    """The worker of an experiment tag as logged by PBT, "3_learning_rate=...": 3."""
    return int(str(tag).split("_", 1)[0])



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


def history_from_results(results: list[dict[str, Any]], config: RunConfig) -> list[dict[str, Any]]:
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
                **{key: float(result[key]) for key in HISTORY_FIELDS[2:7]},
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


