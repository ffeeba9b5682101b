"""Population Based Training (or one vanilla model) on MNIST from a JSON config.

    python pbt_mnist.py config/conv_PBT.json                 # train -> runs/conv_PBT
    python pbt_mnist.py config/conv_PBT.json -m test         # test accuracy of its
                                                             # best checkpoint
    python pbt_mnist.py config/tiny_PBT.json --workdir /tmp/tiny
    python pbt_mnist.py config/conv.json --rounds=20          # a smaller budget
    python pbt_mnist.py config/tiny_PBT.json --backend=ray   # the same members as
                                                             # Ray Tune trials (needs
                                                             # pip install -e .[ray])

Every key of a config is described in config/README.md. A bad config, data
directory or missing checkpoint stops with one line on stderr (exit status 2)
before any training.

The same from an installed package: `python -m pathnet_tf.scripts.pbt_mnist`
(`pbt_mnist.py` in the checkout is a thin wrapper around this module).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys

from pathnet_tf.experiments.data import DataError
from pathnet_tf.pbt.config import ConfigError, load_config, parse_config


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pbt_mnist.py", description=__doc__.split("\n")[0])
    parser.add_argument("config", help="JSON run config, e.g. config/conv_PBT.json")
    parser.add_argument(
        "-m",
        "--mode",
        choices=("train", "test"),
        default="train",
        help="train a run, or evaluate its best checkpoint on the test split",
    )
    parser.add_argument(
        "--workdir",
        default=None,
        help="output directory (default: runs/<config file name without .json>)",
    )
    parser.add_argument(
        "--backend",
        choices=("default", "ray"),
        default="default",
        help="train in this process (default) or as Ray Tune trials under its "
        "PopulationBasedTraining scheduler (ray; optional extra)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="train this many rounds instead of the config's (a smaller budget)",
    )
    parser.add_argument(
        "--ray_num_cpus", type=int, default=2, help="--backend=ray: CPUs of the local Ray"
    )
    parser.add_argument(
        "--ray_cpus_per_trial",
        type=int,
        default=2,
        help="--backend=ray: CPUs per trial; trials run ray_num_cpus // this at a time",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = pathlib.Path(args.workdir or pathlib.Path("runs") / pathlib.Path(args.config).stem)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        config = load_config(args.config)
        if args.rounds is not None:
            config = parse_config(
                {**config.to_dict(), "rounds": args.rounds},
                source=f"{args.config} with --rounds={args.rounds}",
            )
    except ConfigError as error:
        print(f"pbt_mnist.py: error: {error}", file=sys.stderr)
        return 2
    if args.backend == "ray" and config.batched:
        print(
            "pbt_mnist.py: error: batched (in the config) trains the population in one "
            "process; --backend=ray runs each member as its own trial. Set batched to "
            "false or use the default backend.",
            file=sys.stderr,
        )
        return 2
    if not 1 <= args.ray_cpus_per_trial <= args.ray_num_cpus:
        print(
            f"pbt_mnist.py: error: --ray_cpus_per_trial ({args.ray_cpus_per_trial}) must be "
            f"in [1, --ray_num_cpus ({args.ray_num_cpus})].",
            file=sys.stderr,
        )
        return 2
    # TensorFlow only once the config is known to be good: a bad one fails fast.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from pathnet_tf.pbt import runner

    try:
        if args.mode == "train" and args.backend == "ray":
            try:
                from pathnet_tf.pbt import ray_backend
            except ModuleNotFoundError as error:
                print(
                    f"pbt_mnist.py: error: --backend=ray needs Ray Tune ({error}); "
                    "install it with pip install -e .[ray]",
                    file=sys.stderr,
                )
                return 2
            results = ray_backend.run(
                config,
                workdir,
                num_cpus=args.ray_num_cpus,
                cpus_per_trial=args.ray_cpus_per_trial,
            )
        elif args.mode == "train":
            results = runner.run(config, workdir)
        if args.mode == "train":
            summary = {
                key: results[key]
                for key in (
                    "best_worker",
                    "best_val_accuracy",
                    "best_test_accuracy",
                    "wall_time_s",
                )
            }
        else:
            summary = runner.evaluate_checkpoint(workdir, data_dir=config.data_dir)
    except (ConfigError, DataError, runner.BestCheckpointError) as error:
        print(f"pbt_mnist.py: error: {error}", file=sys.stderr)
        return 2
    line = {"mode": args.mode, "workdir": str(workdir), **summary}
    if args.mode == "train":
        line["backend"] = args.backend
    print(json.dumps(line))
    return 0


def entry() -> None:
    """`python -m pathnet_tf.scripts.pbt_mnist`, `pbt_mnist.py`."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
