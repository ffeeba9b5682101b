#!/usr/bin/env bash
# The issue-28 campaign: Split MNIST (then Permuted MNIST), every method, seeds 0-9,
# one niced process at a time; resumable (finished seeds are skipped, an unfinished
# one resumes from its checkpoint). Then the summary into results/continual/.
#   bash results/continual/campaign.sh [RUNS_DIR] [SEEDS] [PERMUTED_SEEDS]
# EWC's lambda and SI's c: the best of results/continual/sweep/ (validation split).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/continual}
seeds=${2:-0-9}
permuted_seeds=${3:-0-2}
lambda=300
c=0.3
py="nice -n 10 .venv/bin/python continual_mnist_pathnet.py --tensorboard=none"
fixed=(--budget=fixed --max_generations=100)
split() {  # WORKDIR FLAGS... (seeds: $pass_seeds)
  local workdir=$1; shift
  $py --seeds="$pass_seeds" --workdir="$runs/split/$workdir" "$@"
}
for pass_seeds in 0-2 "$seeds"; do  # three seeds of everything first, then the rest
  split finetune_fixed100 --mode=finetune "${fixed[@]}"
  split ewc_fixed100 --mode=ewc --ewc_lambda=$lambda "${fixed[@]}"
  split si_fixed100 --mode=si --si_c=$c "${fixed[@]}"
  split pathnet_fixed100 --mode=pathnet "${fixed[@]}"
  split pathnet_threshold --mode=pathnet
done
# The sweep's runners-up (SI at c=0.3 diverged on a test seed, SGD's stability limit):
pass_seeds=$seeds
split ewc_lambda100_fixed100 --mode=ewc --ewc_lambda=100 "${fixed[@]}"
split si_c0.1_fixed100 --mode=si --si_c=0.1 "${fixed[@]}"
split ewc_online_lambda300_fixed100 --mode=ewc --ewc_lambda=300 --ewc_gamma=1.0 "${fixed[@]}"
# The bounds (docs/continual.md): a separate fresh network per task, and joint
# training (every task's data at once, the same 5 x 10,000 steps in total).
split separate_fixed100 --mode=separate "${fixed[@]}"
split joint_fixed100 --mode=joint "${fixed[@]}"
permuted() {  # WORKDIR SEEDS FLAGS...
  local workdir=$1 some=$2; shift 2
  $py --benchmark=permuted --seeds="$some" --workdir="$runs/permuted/$workdir" "$@"
}
if [[ "${PERMUTED:-1}" == 1 ]]; then  # EWC and SI diverge here (README): fewer seeds
  permuted finetune_fixed100 "$seeds" --mode=finetune "${fixed[@]}"
  permuted pathnet_fixed100 "$seeds" --mode=pathnet "${fixed[@]}"
  permuted ewc_fixed100 "$permuted_seeds" --mode=ewc --ewc_lambda=$lambda "${fixed[@]}"
  permuted si_fixed100 "$permuted_seeds" --mode=si --si_c=$c "${fixed[@]}"
  # λ=300 and c=0.3 diverge from task 3 on (SGD's stability limit): a tenth of each.
  permuted ewc_lambda30_fixed100 "$permuted_seeds" --mode=ewc --ewc_lambda=30 "${fixed[@]}"
  permuted si_c0.03_fixed100 "$permuted_seeds" --mode=si --si_c=0.03 "${fixed[@]}"
  # The bounds; joint holds all ten tasks' 600,000 training images at once: 3 seeds.
  permuted separate_fixed100 "$seeds" --mode=separate "${fixed[@]}"
  permuted joint_fixed100 "$permuted_seeds" --mode=joint "${fixed[@]}"
fi
# EWC and SI with Adam on Permuted MNIST (their sweep first): permuted_adam.sh.
.venv/bin/python -m pathnet_tf.reports.continual_summary "$runs" --out results/continual
