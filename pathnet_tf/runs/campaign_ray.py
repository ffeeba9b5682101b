"""`BACKEND=ray` of `auto_binary_mnist_pathnet.sh`: the campaign's batches as Ray tasks.

    python -m pathnet_tf.runs.campaign_ray --queue=FILE --state=DIR --total=N --skipped=K \\
        --batch_logs=DIR

Called by the campaign script, which has built the queue (NUL-separated records
`mode, a, b, seeds, parent`: one batch of seeds of one mode and ordering, finished
runs already left out). Each batch becomes one Ray task of one CPU that runs the same
command as the local backend (`binary_mnist_pathnet.py --seeds=... --workdir=parent`,
with the script's EXTRA_FLAGS, from the environment): many runs in one process
there too, writing into the same folder layout, so the report reads it unchanged.

Where the tasks run is Ray's usual choice: a cluster if `RAY_ADDRESS` names one
(`ray start --head` on one machine, `ray start --address=...` on the others; the
results folder must be on a disk every node sees), else a Ray instance started here
with this machine's CPUs (JOBS of them if set). Ray is the optional extra
(`requirements-ray.txt`); without it this stops with one line.

As batches end, each run's line is printed as `[done/total] line`, as the local
backend prints it; a seed of a batch without `results.json` at the end is a failure
(written to `STATE/failed`), and the script's progress monitor counts `STATE/done`.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import subprocess
import sys

RUN_LINE = re.compile(r" seed \d+: (finished in|FAILED)")


def read_queue(path) -> list[dict]:
    """The campaign script's queue file -> batches `{mode, a, b, seeds, parent}`."""
    fields = pathlib.Path(path).read_bytes().decode().split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    if len(fields) % 5:
        raise ValueError(f"queue {str(path)!r} holds {len(fields)} fields, not records of 5")
    names = ("mode", "a", "b", "seeds", "parent")
    return [dict(zip(names, fields[i:i + 5])) for i in range(0, len(fields), 5)]


def batch_command(batch: dict, environ=os.environ) -> list[str]:
    """The batch's command line, as the local backend's `run_batch` builds it."""
    command = [environ.get("PYTHON", sys.executable), "-m", environ["SCRIPT"],
               *environ.get("EXTRA_FLAGS", "").split()]
    if environ.get("MODE_FLAG", "1") == "1":
        command.append(f"--mode={batch['mode']}")
    return command + [f"--task_a={batch['a']}", f"--task_b={batch['b']}",
                      f"--seeds={batch['seeds']}", f"--workdir={batch['parent']}"]


def batch_log(batch: dict, folder) -> pathlib.Path:
    name = (f"{batch['mode']}_{batch['a'].replace(',', 'v')}_to_"
            f"{batch['b'].replace(',', 'v')}_seeds_{batch['seeds'].split(',')[0]}.txt")
    return pathlib.Path(folder) / name


def run_batch(command: list[str], log_path: str) -> tuple[int, list[str]]:
    """Runs one batch's process; its stderr goes to `log_path`. Returns its exit
    status and its stdout lines (one per run, `campaign.run_seeds`)."""
    pathlib.Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        log.write("=== " + " ".join(command) + "\n")
        log.flush()
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True,
                              env=dict(os.environ, PYTHONUNBUFFERED="1"))
        log.write(done.stdout)
    return done.returncode, done.stdout.splitlines()


def missing_results(batch: dict) -> list[str]:
    """The seeds' workdirs of `batch` that have no results.json."""
    parent = pathlib.Path(batch["parent"])
    return [str(parent / f"seed_{seed}") for seed in batch["seeds"].split(",")
            if not (parent / f"seed_{seed}" / "results.json").exists()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--total", type=int, required=True)
    parser.add_argument("--skipped", type=int, default=0)
    parser.add_argument("--batch_logs", required=True)
    args = parser.parse_args(argv)
    try:
        import ray
    except ImportError:
        print("error: BACKEND=ray needs Ray: pip install -r requirements-ray.txt",
              file=sys.stderr)
        return 2
    batches = read_queue(args.queue)
    state = pathlib.Path(args.state)
    if not os.environ.get("RAY_ADDRESS"):
        jobs = int(os.environ.get("JOBS") or os.cpu_count() or 1)
        ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(log_to_driver=False)
    remote = ray.remote(num_cpus=1)(run_batch)
    pending = {remote.remote(batch_command(batch), str(batch_log(batch, args.batch_logs))): batch
               for batch in batches}
    done = args.skipped
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            batch = pending.pop(ready[0])
            status, lines = ray.get(ready[0])
            for line in lines:
                if RUN_LINE.search(line):
                    done += 1
                    with open(state / "done", "a") as counter:
                        counter.write("\n")
                    print(f"[{done}/{args.total}] {line}", flush=True)
            for workdir in missing_results(batch):
                with open(state / "failed", "a") as failed:
                    failed.write(f"{workdir} (exit {status}; see its log.txt and "
                                 f"{batch_log(batch, args.batch_logs)})\n")
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
