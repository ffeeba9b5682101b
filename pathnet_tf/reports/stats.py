"""Bootstrap statistics of generations to threshold, for `pathnet_tf.reports.report`.

What belongs here: the seeded resampling (`stream`, `resampled`), percentile intervals
(`interval`), and the statistics built on them: `describe` (mean, median and their
95% CIs), `ratio_of_means` (speedups, stratified) and `task_stats` (one group of task
records). Plain numbers in, plain dicts out; nothing here reads files or knows about
modes or orderings. NumPy only.

Every statistic draws from its own stream keyed by its name (`stream(seed, key)`), so
the output is deterministic and adding a statistic changes no other number.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 2000
_CHUNK = 256  # bootstrap resamples drawn at a time (bounds memory for 1000s of runs)


def stream(seed: int, key: str) -> np.random.Generator:
    """The bootstrap stream of one statistic: fixed by `seed` and the statistic's name."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def resampled(strata: Sequence[np.ndarray], rng: np.random.Generator, resamples: int,
              statistic=np.mean) -> np.ndarray:
    """`[resamples]` bootstrap replicates: each stratum resampled with replacement on
    its own, `statistic` taken per stratum, then averaged over strata."""
    out = np.zeros(resamples)
    for values in strata:
        values = np.asarray(values, dtype=np.float64)
        for start in range(0, resamples, _CHUNK):
            count = min(_CHUNK, resamples - start)
            index = rng.integers(0, len(values), size=(count, len(values)))
            out[start:start + count] += statistic(values[index], axis=1)
    return out / len(strata)


def interval(replicates: np.ndarray, confidence: float = CONFIDENCE) -> list[float]:
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return [float(low), float(high)]


def describe(values: Sequence[float], seed: int, key: str,
             resamples: int = RESAMPLES) -> dict | None:
    """Mean, median, their 95% bootstrap CIs, std, min, max of `values` (None if empty)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    rng = stream(seed, key)
    return {
        "n": int(values.size),
        "mean": float(values.mean()),
        "mean_ci95": interval(resampled([values], rng, resamples)),
        "median": float(np.median(values)),
        "median_ci95": interval(resampled([values], rng, resamples, np.median)),
        "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "min": float(values.min()),
        "max": float(values.max()),
    }


def ratio_of_means(numerator: Sequence[Sequence[float]], denominator: Sequence[Sequence[float]],
                   seed: int, key: str, resamples: int = RESAMPLES) -> dict | None:
    """mean(numerator) / mean(denominator) with a 95% bootstrap CI.

    Each argument is a list of strata (e.g. one array per digit pair); a side's mean
    is the average of its strata's means. Both sides are resampled independently,
    within each stratum. None if a side has no values.
    """
    return _ratio(numerator, denominator, seed, key, resamples, np.mean, "mean")


def ratio_of_medians(numerator: Sequence[Sequence[float]],
                     denominator: Sequence[Sequence[float]], seed: int, key: str,
                     resamples: int = RESAMPLES) -> dict | None:
    """`ratio_of_means` with medians: a side's statistic is the average of its strata's
    medians. Robust to right-censored values (runs stopped at a generation limit count
    at the limit) as long as fewer than half of a stratum's runs are censored."""
    return _ratio(numerator, denominator, seed, key, resamples, np.median, "median")


def _ratio(numerator, denominator, seed, key, resamples, statistic, name) -> dict | None:
    numerator = [np.asarray(s, dtype=np.float64) for s in numerator if len(s)]
    denominator = [np.asarray(s, dtype=np.float64) for s in denominator if len(s)]
    if not numerator or not denominator:
        return None
    top = float(np.mean([statistic(s) for s in numerator]))
    bottom = float(np.mean([statistic(s) for s in denominator]))
    if bottom == 0:
        return None
    rng = stream(seed, key)
    replicates = (resampled(numerator, rng, resamples, statistic)
                  / resampled(denominator, rng, resamples, statistic))
    return {"ratio": top / bottom, "ci95": interval(replicates), f"numerator_{name}": top,
            f"denominator_{name}": bottom, "numerator_runs": int(sum(map(len, numerator))),
            "denominator_runs": int(sum(map(len, denominator)))}


def task_stats(tasks: Sequence[dict], seeds: Sequence[int], seed: int, key: str,
               resamples: int = RESAMPLES) -> dict:
    """Generations-to-threshold statistics of one group of task records."""
    generations = np.array([t["generations"] for t in tasks], dtype=np.float64)
    solved = np.array([t["solved"] for t in tasks], dtype=bool)
    accuracies = [t["test_accuracy"] for t in tasks if t["test_accuracy"] is not None]
    return {
        "runs": len(tasks),
        "solved": int(solved.sum()),
        "unsolved": int((~solved).sum()),
        "solved_fraction": float(solved.mean()) if len(tasks) else None,
        # unsolved counted at the generations they ran (max_generations): a lower bound
        "generations": describe(generations, seed, key + "|all", resamples),
        "median_exact": bool(solved.mean() > 0.5) if len(tasks) else False,
        "generations_solved_only": describe(generations[solved], seed, key + "|solved",
                                            resamples),
        "unsolved_seeds": sorted(int(s) for s, ok in zip(seeds, solved) if not ok),
        "test_accuracy_mean": float(np.mean(accuracies)) if accuracies else None,
    }


def add_bootstrap_arguments(parser) -> None:
    """`--seed` and `--resamples` of a report's command line (argparse)."""
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    parser.add_argument("--resamples", type=int, default=RESAMPLES,
                        help="bootstrap resamples per statistic")


def check_bootstrap_arguments(parser, args) -> None:
    """Stops the command (argparse's error) if `--resamples` is not positive."""
    if args.resamples < 1:
        parser.error(f"--resamples ({args.resamples}) must be a positive integer")
