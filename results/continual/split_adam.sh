#!/usr/bin/env bash
# Split MNIST with Adam (learning rate 0.001, the optimizer of van de Ven & Tolias 2019):
# under SGD at 0.05 the strengths that would protect more diverge (README: the penalty's
# curvature times the learning rate passes 2); Adam's step is bounded by its learning
# rate. Does the optimizer explain our EWC's 3.7 points below the published 98.64? First the sweep of
# lambda and c on a validation split (the last tenth of each task's training images),
# seeds 100-101; then fine-tune, the sweep's best EWC and SI, at the test seeds, all
# with Adam, the fixed budget of 100 generations (10,000 steps) per task.
# Resumable (finished seeds are skipped).
#   bash results/continual/split_adam.sh [RUNS_DIR] [SEEDS] [LAMBDA] [C]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/continual}
sweep_runs=${runs}_sweep_split_adam  # apart from the test runs (their summary)
seeds=${2:-0-9}
py="nice -n 10 .venv/bin/python continual_mnist_pathnet.py --benchmark=split --optimizer=adam --budget=fixed --max_generations=100 --tensorboard=none"
sweep=(--validation --nofigures --seeds=100-101)
for lambda in 10 100 1000 10000; do
  $py --mode=ewc --ewc_lambda=$lambda "${sweep[@]}" \
    --workdir=$sweep_runs/ewc_lambda_$lambda
done
for c in 0.1 1 10; do
  $py --mode=si --si_c=$c "${sweep[@]}" --workdir=$sweep_runs/si_c_$c
done
$py --mode=finetune "${sweep[@]}" --workdir=$sweep_runs/finetune
.venv/bin/python -m pathnet_tf.reports.continual_summary $sweep_runs \
  --out results/continual/sweep_split_adam
# The test seeds: the sweep's best (by validation ACC) are given as LAMBDA and C.
if [[ $# -ge 4 ]]; then
  $py --mode=finetune --seeds="$seeds" --workdir=$runs/split/finetune_adam_fixed100
  $py --mode=ewc --ewc_lambda="$3" --seeds="$seeds" --workdir=$runs/split/ewc_adam_lambda$3_fixed100
  $py --mode=si --si_c="$4" --seeds="$seeds" --workdir=$runs/split/si_adam_c$4_fixed100
fi
