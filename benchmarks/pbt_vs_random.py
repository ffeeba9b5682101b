"""PBT against random search with the same budget, on the reference protocol.

One invocation runs both, one after the other, from the same JSON config
(`config/fc_PBT.json` by default: 10 workers, 50 rounds of 1 epoch):

- PBT: the config as it is (exploit and explore after every round);
- random search: the same config with `pbt` set to null, so each worker keeps the
  hyperparameters it drew from the same priors, with the same seed (the very
  population PBT starts from), and no exploit.

Both train the same number of epochs (workers x rounds x epochs_per_round). Prints
one JSON line: each method's best worker (chosen on the validation split), its test
accuracy, the best test accuracy of any worker, and wall times. The runs' outputs
(history.csv, results.json, figures, ...) stay in WORKDIR/pbt and WORKDIR/random.

    nice -n 10 python benchmarks/pbt_vs_random.py                         # fc, 10 x 50
    python benchmarks/pbt_vs_random.py --config=config/conv_PBT.json --rounds=3
"""

import dataclasses
import json
import logging
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags  # noqa: E402

from pathnet_tf.pbt.config import load_config  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
FLAGS = flags.FLAGS
flags.DEFINE_string("config", str(REPO / "config" / "fc_PBT.json"),
                    "A PBT run config (its `pbt` section must be set).")
flags.DEFINE_integer("population_size", None, "Override: workers (default: the config's).")
flags.DEFINE_integer("rounds", None, "Override: rounds (default: the config's).")
flags.DEFINE_integer("train_subset", None, "Override: training images (default: all).")
flags.DEFINE_integer("seed", None, "Override: the seed (default: the config's).")
flags.DEFINE_string("workdir", "runs/pbt_vs_random", "Outputs go to WORKDIR/{pbt,random}.")


def _summary(results: dict) -> dict:
    return {
        "best_worker": results["best_worker"],
        "best_val_accuracy": results["best_val_accuracy"],
        "test_accuracy_of_best_val_worker": results["best_test_accuracy"],
        "max_test_accuracy_any_worker": max(w["test_accuracy"] for w in results["workers"]),
        "wall_time_s": results["wall_time_s"],
    }


def main(argv):
    if len(argv) > 1:
        sys.exit(f"error: unexpected arguments {argv[1:]}")
    config = load_config(FLAGS.config)
    if config.pbt is None:
        sys.exit(f"error: config {FLAGS.config} has pbt: null; give a PBT config")
    overrides = {
        key: getattr(FLAGS, key)
        for key in ("population_size", "rounds", "train_subset", "seed")
        if getattr(FLAGS, key) is not None
    }
    pbt_config = dataclasses.replace(config, **overrides)
    random_config = dataclasses.replace(pbt_config, pbt=None)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from pathnet_tf.experiments.data import load_mnist
    from pathnet_tf.pbt import runner

    mnist = load_mnist(config.data_dir)
    workdir = pathlib.Path(FLAGS.workdir)
    line = {
        "config": FLAGS.config,
        "model": pbt_config.model,
        "population_size": pbt_config.population_size,
        "rounds": pbt_config.rounds,
        "epochs_per_round": pbt_config.epochs_per_round,
        "train_subset": pbt_config.train_subset,
        "seed": pbt_config.seed,
    }
    for name, run_config in (("pbt", pbt_config), ("random_search", random_config)):
        folder = "random" if name == "random_search" else name
        results = runner.run(run_config, workdir / folder, mnist=mnist)
        line[name] = _summary(results)
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    app.run(main)
