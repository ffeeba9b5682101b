#!/usr/bin/env bash
# The sweep of EWC's lambda and SI's c on a validation split (the last tenth of each
# task's training images; the test images are never seen), Split MNIST, fixed budget
# of 100 generations per task, seeds 100-101 (not the campaign's). Resumable: finished
# seeds are skipped. Usage: bash results/continual/sweep.sh [RUNS_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/continual_sweep}
py=".venv/bin/python"
common=(--budget=fixed --max_generations=100 --validation --tensorboard=none --nofigures
        --seeds=100-101)
for lambda in 10 30 100 300 1000 10000 100000; do
  nice -n 10 $py continual_mnist_pathnet.py --mode=ewc --ewc_lambda=$lambda "${common[@]}" \
    --workdir=$runs/split/ewc_lambda_$lambda
done
for c in 0.03 0.1 0.3 1 10 100; do
  nice -n 10 $py continual_mnist_pathnet.py --mode=si --si_c=$c "${common[@]}" \
    --workdir=$runs/split/si_c_$c
done
$py -m pathnet_tf.reports.continual_summary $runs --out results/continual/sweep
