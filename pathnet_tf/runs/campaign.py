"""Many runs in one process: `--seeds=0-99` runs seed after seed, start-up paid once.

A campaign of one process per run spends most of its time starting up (importing
TensorFlow, tracing and compiling the tournament: more than a default run's
arithmetic). `run_seeds` runs many seeds of one experiment in one process: the data
set is read once, TensorFlow imported once, and the runs share one model and one
trainer per task (`task_run.TrainerPool`: restarted with each run's initial values,
data and fresh optimizer state), so every compiled function is traced and compiled
once per process, and memory stays flat (XLA keeps every program it compiles: new
functions each run would cost seconds and tens of MB a run). Each run is exactly the
run `--seed=K` would be (the same `results.json`, timings aside: tested for every
mode and the TF1 protocol), in its own workdir `PARENT/seed_K/` with its own
`log.txt`; a run whose `results.json` exists is skipped, an unfinished one resumes
from its checkpoint. A run that fails is recorded and the next seed goes on.

Why seed after seed and not runs stacked on a leading axis in one batched
computation: measured here (`benchmarks/bench_stacked_runs.py`), stacking R runs'
products makes a generation at most ≈ 1.5× cheaper per run on this CPU (R = 4; less
for more: XLA runs a batched product as R thin products), while a run's start-up
(tracing and compiling its functions) costs more than its arithmetic. Batches of
seeds across processes or machines are `auto_binary_mnist_pathnet.sh`'s (local
processes or Ray, `campaign_ray.py`).

NumPy and the standard library only at import: TensorFlow is imported by the
experiment the caller passes in.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
import sys
import time
import traceback
from collections.abc import Callable

from pathnet_tf.files.workdir import RunTerminated

MAX_SEEDS = 1_000_000


def parse_seeds(text: str) -> list[int]:
    """"0-99", "3", "0,5,7-9" -> the seeds, in order, each once; or ValueError."""
    seeds: list[int] = []
    for part in str(text).split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise ValueError(f"seeds ({text!r}) must be seeds and ranges of non-negative "
                             "integers, e.g. 0-99 or 0,5,7-9")
        first = int(match.group(1))
        last = first if match.group(2) is None else int(match.group(2))
        if last < first:
            raise ValueError(f"seeds ({text!r}): the range {part.strip()} is empty "
                             "(write first-last with first <= last)")
        seeds.extend(range(first, last + 1))
        if len(seeds) > MAX_SEEDS:
            raise ValueError(f"seeds ({text!r}) names more than {MAX_SEEDS} runs")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds ({text!r}) names a seed twice")
    return seeds


def seed_workdir(parent, seed: int) -> pathlib.Path:
    """Where seed `seed` of a batch writes: PARENT/seed_<seed> (the campaign layout)."""
    return pathlib.Path(parent) / f"seed_{seed}"


@dataclasses.dataclass
class BatchOutcome:
    """What `run_seeds` did: the seeds finished now, skipped (already finished) and
    failed (with the first line of their error)."""

    finished: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    failed: dict = dataclasses.field(default_factory=dict)
    wall_seconds: float = 0.0


def rss_mb() -> float | None:
    """This process's resident memory in MB (Linux), or None where /proc is not."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _RunLog:
    """A run's log.txt, appended line by line (flushed: a killed run keeps its lines)."""

    def __init__(self, path: pathlib.Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def __call__(self, line: str) -> None:
        self.file.write(line + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def run_seeds(experiment: Callable, config, seeds, parent, *, label: str = "",
              command: str = "", out: Callable[[str], None] = print,
              **options) -> BatchOutcome:
    """Runs `experiment(config_k, workdir_k, log=..., **options)` for every seed k of
    `seeds`, one after another in this process: `config_k` is `config` with
    `seed=k`, `workdir_k` is `seed_workdir(parent, k)`, and the run's log lines go to
    `workdir_k/log.txt` (headed by `command` and the run's own `--seed/--workdir`).

    A seed whose `results.json` exists is skipped; an unfinished one resumes from its
    checkpoint if `options` say so (`resume`, the experiment's default). A run that
    raises is recorded in `failed` (its traceback in its log.txt) and the next seed
    goes on; `RunTerminated` (SIGTERM) stops the batch and propagates. `out` gets one
    line per run: `label seed k: finished in S s [i/n of this batch, runs/hour, ETA,
    the process's RSS]`.
    """
    seeds = list(seeds)
    from pathnet_tf.runs.task_run import TrainerPool  # TensorFlow: imported by the caller anyway

    options.setdefault("pool", TrainerPool())  # one set of compiled functions for all runs
    outcome = BatchOutcome()
    start = time.perf_counter()
    finished = {seed for seed in seeds if (seed_workdir(parent, seed) / "results.json").exists()}
    todo = [seed for seed in seeds if seed not in finished]
    outcome.skipped = [seed for seed in seeds if seed in finished]
    prefix = f"{label} " if label else ""
    if outcome.skipped:
        out(f"{prefix}skipped {len(outcome.skipped)} finished seed(s); {len(todo)} to run")
    for done, seed in enumerate(todo, 1):
        workdir = seed_workdir(parent, seed)
        begun = time.perf_counter()
        resumed = (workdir / "ckpt" / "checkpoint.npz").exists()
        log = None
        try:
            log = _RunLog(workdir / "log.txt")
            log(f"=== {time.strftime('%F %T')} {command} (this run: --seed={seed} "
                f"--workdir={workdir})".replace("  ", " "))
            experiment(dataclasses.replace(config, seed=seed), workdir, log=log, **options)
        except RunTerminated as stopped:
            log(str(stopped))
            raise
        except Exception as error:  # noqa: BLE001 (one run's failure must not end the batch)
            outcome.failed[seed] = f"{type(error).__name__}: {error}".splitlines()[0]
            where = "no log: its workdir is unusable"
            if log is not None:
                log(traceback.format_exc().rstrip())
                where = f"see {workdir / 'log.txt'}"
            out(f"{prefix}seed {seed}: FAILED ({outcome.failed[seed]}); {where}")
            continue
        finally:
            if log is not None:
                log.close()
        outcome.finished.append(seed)
        elapsed = time.perf_counter() - start
        rate = done / elapsed * 3600
        left = (len(todo) - done) * elapsed / done
        memory = rss_mb()
        out(f"{prefix}seed {seed}: finished in {time.perf_counter() - begun:.1f} s"
            f"{' (resumed)' if resumed else ''} [{done}/{len(todo)} of this batch, "
            f"{rate:.0f} runs/hour, ETA {_duration(left)}"
            f"{'' if memory is None else f', RSS {memory:.0f} MB'}]")
    outcome.wall_seconds = time.perf_counter() - start
    return outcome


def command_line() -> str:
    """This process's command, for the runs' log.txt headers."""
    return " ".join([pathlib.Path(sys.executable).name, *sys.argv])
