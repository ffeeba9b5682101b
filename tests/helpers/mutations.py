"""Breaks each promise on purpose and checks that a named test fails (mutation testing).

    .venv/bin/python tests/helpers/mutations.py            # every mutation
    .venv/bin/python tests/helpers/mutations.py seed adam  # those whose name has a word

Each mutation replaces one snippet of library code (it must occur exactly once), runs
the tests that guard the promise, and restores the file, whatever happens. Prints one
JSON line per mutation: its name, the tests run, and whether they failed (they must).
When the code a mutation names moves, update its snippet here: a snippet that is not
found is reported as an error, never silently skipped.
"""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

# (name, file, original snippet, mutated snippet, tests that must fail)
MUTATIONS = [
    ("no freeze between tasks", "pathnet_tf/runs/modes.py",
     "    model.freeze(best_path)\n", "",
     ["tests/test_transfer.py::test_pathnet_freezes_task_a_path_reinitialises_the_rest_new_head"]),
    ("no re-initialisation between tasks", "pathnet_tf/runs/modes.py",
     "    model.reinitialize_unfrozen()\n", "",
     ["tests/test_transfer.py::test_pathnet_freezes_task_a_path_reinitialises_the_rest_new_head"]),
    ("freeze a different path", "pathnet_tf/runs/modes.py",
     "    model.freeze(best_path)\n", "    model.freeze((best_path + 1) % model.num_modules)\n",
     ["tests/test_transfer.py::test_pathnet_freezes_task_a_path_reinitialises_the_rest_new_head"]),
    ("mask mode: modules off the path take an update", "pathnet_tf/core/model.py",
     "trainable = tf.logical_and(weights > 0, tf.logical_not(",
     "trainable = tf.logical_and(weights >= 0, tf.logical_not(",
     ["tests/test_training.py::test_modules_off_the_path_do_not_move[adam-mask]"]),
    ("Adam: wrong bias correction", "pathnet_tf/core/optimizers.py",
     "lr * tf.sqrt(1.0 - tf.pow(b2, step))", "lr * (1.0 - tf.pow(b2, step))",
     ["tests/test_optimizers.py::test_masked_adam_equals_keras_adam_when_nothing_is_masked"]),
    ("Adam: wrong epsilon", "pathnet_tf/core/optimizers.py",
     "epsilon: float = 1e-7", "epsilon: float = 1e-8",
     ["tests/test_optimizers.py::test_masked_adam_equals_keras_adam_when_nothing_is_masked"]),
    ("restore skips the optimizer slots", "pathnet_tf/runs/task_run.py",
     "                variable.assign(arrays[f\"slots/{i}/{k}\"])\n", "                pass\n",
     ["tests/test_checkpoint.py::test_killed_twice_and_resumed_equals_uninterrupted[adam]"]),
    ("restore skips the step counter", "pathnet_tf/runs/task_run.py",
     "        trainer.step.assign(arrays[\"trainer/step\"])\n", "",
     ["tests/test_checkpoint.py::test_killed_twice_and_resumed_equals_uninterrupted[adam]"]),
    ("resume starts task A afresh", "pathnet_tf/runs/run.py",
     "            prefix = \"task/\"\n            self.current.load_state(",
     "            prefix = \"task/\"\n            self.index > 0 and self.current.load_state(",
     ["tests/test_checkpoint.py::test_killed_twice_and_resumed_equals_uninterrupted[sgd]"]),
    ("the run ignores its seed", "pathnet_tf/experiments/binary_mnist.py",
     "    start = time.perf_counter()\n",
     "    start = time.perf_counter()\n    import dataclasses\n"
     "    config = dataclasses.replace(config, seed=0)\n",
     ["tests/test_script.py::test_same_seed_same_results_file_other_seed_other_results"]),
    ("fine-tune re-initialises between tasks", "pathnet_tf/runs/modes.py",
     "    del model, best_path\n", "    model.reinitialize_unfrozen()\n",
     ["tests/test_transfer.py::test_finetune_changes_nothing_between_tasks_but_the_head"]),
    ("fine-tune freezes task A's path", "pathnet_tf/runs/modes.py",
     "              between=keep_everything,\n              help=\"one fixed random path",
     "              between=lambda model, path: model.freeze(path),\n"
     "              help=\"one fixed random path",
     ["tests/test_transfer.py::test_finetune_changes_nothing_between_tasks_but_the_head"]),
    ("independent trains task A", "pathnet_tf/runs/modes.py",
     "\"tab:gray\", train_earlier=False,", "\"tab:gray\", train_earlier=True,",
     ["tests/test_transfer.py::test_independent_never_trains_task_a"]),
]


def run(name, relative, original, mutated, tests) -> dict:
    path = ROOT / relative
    source = path.read_text()
    if source.count(original) != 1:
        return {"mutation": name, "error": f"snippet found {source.count(original)} times "
                                           f"in {relative}"}
    try:
        path.write_text(source.replace(original, mutated))
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                               *tests], cwd=ROOT, capture_output=True, text=True)
    finally:
        path.write_text(source)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return {"mutation": name, "file": relative, "tests": tests,
            "failed": done.returncode != 0, "pytest": last}


def main(words) -> int:
    chosen = [m for m in MUTATIONS if not words or any(w in m[0] for w in words)]
    survived = 0
    for mutation in chosen:
        outcome = run(*mutation)
        print(json.dumps(outcome), flush=True)
        survived += not outcome.get("failed", False)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
