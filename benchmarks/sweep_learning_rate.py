"""Learning-rate sweep behind the default of `--learning_rate` (README.md).

Runs the default binary MNIST experiment (1v3 -> 1v2, the paper's sizes) for each
optimizer, learning rate and seed, and prints one JSON line per run and a summary
line per setting: mean generations of task A and task B, solved fraction.

    python benchmarks/sweep_learning_rate.py --optimizers=sgd,adam --seeds=3
"""

import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from pathnet_tf.evolution.config import EvolutionConfig  # noqa: E402
from pathnet_tf.experiments import binary_mnist  # noqa: E402
from pathnet_tf.experiments.config import BinaryMnistConfig

FLAGS = flags.FLAGS
flags.DEFINE_list("optimizers", ["sgd", "adam"], "Optimizers to sweep.")
flags.DEFINE_list("sgd_rates", ["0.01", "0.02", "0.05", "0.1", "0.2"], "SGD learning rates.")
flags.DEFINE_list("adam_rates", ["0.0003", "0.001", "0.003", "0.01"], "Adam learning rates.")
flags.DEFINE_integer("seeds", 3, "Runs per setting (seeds 0..seeds-1).")
flags.DEFINE_integer("max_generations", 1000, "Per task.")


def main(argv):
    del argv
    for optimizer in FLAGS.optimizers:
        rates = FLAGS.sgd_rates if optimizer == "sgd" else FLAGS.adam_rates
        for rate in map(float, rates):
            runs = []
            for seed in range(FLAGS.seeds):
                config = BinaryMnistConfig(
                    evolution=EvolutionConfig(optimizer=optimizer, learning_rate=rate,
                                              max_generations=FLAGS.max_generations),
                    seed=seed)
                with tempfile.TemporaryDirectory() as workdir:
                    results = binary_mnist.run(config, workdir, log=lambda _: None)
                run = {"optimizer": optimizer, "learning_rate": rate, "seed": seed}
                for task in ("task_a", "task_b"):
                    run[task] = {key: results[task][key] for key in
                                 ("generations", "solved", "test_accuracy")}
                print(json.dumps(run), flush=True)
                runs.append(run)
            summary = {"optimizer": optimizer, "learning_rate": rate, "runs": len(runs)}
            for task in ("task_a", "task_b"):
                summary[f"{task}_mean_generations"] = float(
                    np.mean([r[task]["generations"] for r in runs]))
                summary[f"{task}_solved"] = float(np.mean([r[task]["solved"] for r in runs]))
                summary[f"{task}_test_accuracy"] = float(
                    np.mean([r[task]["test_accuracy"] for r in runs]))
            print(json.dumps({"summary": summary}), flush=True)


if __name__ == "__main__":
    app.run(main)
