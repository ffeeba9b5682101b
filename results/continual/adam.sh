#!/usr/bin/env bash
# EWC and SI with Adam (learning rate 0.001, the literature's optimizer) on BENCHMARK
# (split or permuted; permuted_adam.sh and split_adam.sh call this). Under SGD at 0.05
# the penalty's curvature times the learning rate can pass 2 (README): EWC and SI
# diverged on Permuted MNIST, and on Split MNIST the strengths that would protect more
# diverge; Adam's step is bounded by its learning rate. First the sweep of lambda and c
# (LAMBDAS, CS) on a validation split (the last tenth of each task's training images),
# seeds 100-101; then fine-tune, the sweep's best EWC and SI, at the test seeds, all
# with Adam, the fixed budget of 100 generations (10,000 steps) per task.
# Resumable (finished seeds are skipped).
#   LAMBDAS="..." CS="..." bash results/continual/adam.sh BENCHMARK [RUNS_DIR] [SEEDS] [LAMBDA] [C]
set -euo pipefail
cd "$(dirname "$0")/../.."
benchmark=$1; shift
runs=${1:-runs/continual}
sweep_runs=${runs}_sweep_${benchmark}_adam  # apart from the test runs (their summary)
seeds=${2:-0-9}
py="nice -n 10 .venv/bin/python continual_mnist_pathnet.py --benchmark=$benchmark --optimizer=adam --budget=fixed --max_generations=100 --tensorboard=none"
sweep=(--validation --nofigures --seeds=100-101)
for lambda in $LAMBDAS; do
  $py --mode=ewc --ewc_lambda=$lambda "${sweep[@]}" \
    --workdir=$sweep_runs/ewc_lambda_$lambda
done
for c in $CS; do
  $py --mode=si --si_c=$c "${sweep[@]}" --workdir=$sweep_runs/si_c_$c
done
$py --mode=finetune "${sweep[@]}" --workdir=$sweep_runs/finetune
.venv/bin/python -m pathnet_tf.reports.continual_summary $sweep_runs \
  --out results/continual/sweep_${benchmark}_adam
# The test seeds: the sweep's best (by validation ACC) are given as LAMBDA and C.
if [[ $# -ge 4 ]]; then
  $py --mode=finetune --seeds="$seeds" --workdir=$runs/$benchmark/finetune_adam_fixed100
  $py --mode=ewc --ewc_lambda="$3" --seeds="$seeds" --workdir=$runs/$benchmark/ewc_adam_lambda$3_fixed100
  $py --mode=si --si_c="$4" --seeds="$seeds" --workdir=$runs/$benchmark/si_adam_c$4_fixed100
fi
