"""The continual-learning metrics of a task sequence, from what a run records. No
TensorFlow (NumPy and the standard library only).

A run records (`accuracy_matrix.AccuracyMatrix`, results.json key `accuracy_matrix`):

- `R[i][j]`: test accuracy on task j after learning task i, every i and j. For j <= i
  it is task j's own head on task j's best path (the path it was learned with). For
  j > i task j has no trained head yet: `R[i][j]` is the accuracy of a *probe*, a
  fixed random head of task j (drawn once from the seed, Glorot-uniform, zero bias) on
  a fixed probe path (the controls' fixed path; for PathNet a path drawn from the
  seed), on the network as task i left it (docs/continual.md says why).
- `b[j]`: the same probe of task j on the freshly initialised network, before any
  task was learned (Lopez-Paz & Ranzato 2017's `b̄`).

From them (`metrics`), with T tasks (Lopez-Paz & Ranzato 2017, arXiv:1706.08840):

- ACC = mean_j R[T-1][j]: the average test accuracy after the last task;
- BWT = mean_{j<T-1} (R[T-1][j] - R[j][j]): backward transfer (negative: forgetting);
- FWT = mean_{j>0} (R[j-1][j] - b[j]): forward transfer;
- forgetting of task j < T-1 (Chaudhry et al. 2018): max_{j<=l<T-1} R[l][j] - R[T-1][j].

A task a mode did not train (`independent` learns the last task only) has no row and
no column entries: its R entries are None, and a metric that needs one is None.
`python -m pathnet_tf.reports.continual_summary RUNS_DIR` summarises many runs
(`reports/continual_summary.py`).
"""

from __future__ import annotations


def mean_or_none(values) -> float | None:
    values = list(values)
    if not values or any(v is None for v in values):
        return None
    return sum(values) / len(values)


def check_matrix(matrix, baseline=None) -> int:
    """T, after checking that `matrix` is T lists of T entries (floats in [0, 1] or
    None) and `baseline` (if given) T such entries; ValueError otherwise."""
    count = len(matrix)
    if count == 0:
        raise ValueError("the accuracy matrix must have at least one row")
    rows = list(matrix) + ([baseline] if baseline is not None else [])
    for index, row in enumerate(rows):
        if len(row) != count:
            raise ValueError(f"row {index} of the accuracy matrix has {len(row)} entries, "
                             f"not {count}")
        for value in row:
            if value is not None and not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"accuracy {value!r} (row {index}) must be in [0, 1]")
    return count


def acc(matrix) -> float | None:
    """Average accuracy after the last task."""
    return mean_or_none(matrix[-1])


def bwt(matrix) -> float | None:
    """Backward transfer; None for one task."""
    count = len(matrix)
    if count < 2:
        return None
    return mean_or_none(None if matrix[-1][j] is None or matrix[j][j] is None
                 else matrix[-1][j] - matrix[j][j] for j in range(count - 1))


def fwt(matrix, baseline) -> float | None:
    """Forward transfer against the fresh network's accuracies `baseline`."""
    count = len(matrix)
    if count < 2 or baseline is None:
        return None
    return mean_or_none(None if matrix[j - 1][j] is None or baseline[j] is None
                 else matrix[j - 1][j] - baseline[j] for j in range(1, count))


def forgetting(matrix) -> list:
    """Per task j < T-1: the most it lost from its best accuracy before the last task
    to its accuracy after it (None where an entry is missing)."""
    count = len(matrix)
    out = []
    for j in range(count - 1):
        earlier = [matrix[row][j] for row in range(j, count - 1)]
        if matrix[-1][j] is None or any(value is None for value in earlier):
            out.append(None)
        else:
            out.append(max(earlier) - matrix[-1][j])
    return out


def metrics(matrix, baseline=None) -> dict:
    """ACC, BWT, FWT and the forgetting per task of one run's accuracy matrix."""
    check_matrix(matrix, baseline)
    forgotten = forgetting(matrix)
    return {"acc": acc(matrix), "bwt": bwt(matrix), "fwt": fwt(matrix, baseline),
            "forgetting": forgotten, "mean_forgetting": mean_or_none(forgotten)}


def steps_per_generation(config: dict, population: bool) -> dict:
    """Training steps (gradient steps of one path) and examples seen per generation of
    a task, from a config.json dict: a population mode trains B candidates for T steps
    on the same T minibatches (B·T steps, T·batch examples); a fixed path trains B·T
    steps on B·T minibatches (B·T·batch examples): the same compute per generation."""
    evo = config["evolution"]
    steps = evo["tournament_size"] * evo["steps_per_candidate"]
    batches = evo["steps_per_candidate"] * (1 if population and evo.get(
        "tournament", "fair") == "fair" else evo["tournament_size"])
    return {"steps": steps, "examples": batches * evo["batch_size"]}


def generations_to_threshold(task: dict, threshold: float) -> int | None:
    """The first generation whose winner reached `threshold` (None: never), from the
    task's fitness history (under a fixed budget the task goes on past it)."""
    for generation, fitness in enumerate(task.get("fitness_history") or [], start=1):
        if fitness >= threshold:
            return generation
    return None


def run_metrics(results: dict, config: dict, population: bool,
                num_layers: int, num_modules: int) -> dict:
    """The `continual` entry of results.json: `metrics` of the run's accuracy matrix,
    and per task its training steps, generations to the threshold and modules left
    free after it (None for a task the mode did not train)."""
    per = steps_per_generation(config, population)
    threshold = config["evolution"]["threshold"]
    tasks = results["tasks"]
    out = metrics(results["accuracy_matrix"], results["accuracy_baseline"])
    out["steps"] = [None if t is None else t["generations"] * per["steps"] for t in tasks]
    out["examples"] = [None if t is None else t["generations"] * per["examples"]
                       for t in tasks]
    out["generations_to_threshold"] = [None if t is None else
                                       generations_to_threshold(t, threshold) for t in tasks]
    out["free_modules"] = [num_layers * num_modules - frozen
                           for frozen in results["frozen_modules"]]
    return out
