#!/usr/bin/env bash
# breakout -> space_invaders, 200k + 200k frames, seeds 0-4, seed by seed, niced: this
# code's controls (fine-tune, independent, PathNet at the defaults) and PathNet with the
# switches that did best on breakout -> breakout (game B's workers on game A's path,
# heads at 0.01, mutation 0.01). Rerun to resume (finished runs are skipped).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
HERE=results/self_transfer/minatar/to_space_invaders
for seed in ${SEEDS:-0 1 2 3 4}; do
  SEEDS="$seed" PAIRS=breakout:space_invaders MODES="finetune independent pathnet" FRAMES=200000 \
    RESULTS_DIR="$HERE/controls" nice -n 10 ./auto_minatar_pathnet.sh
  SEEDS="$seed" PAIRS=breakout:space_invaders MODES=pathnet FRAMES=200000 \
    RESULTS_DIR="$HERE/seed_fraction_1_head_lr_0.01_mutation_0.01" \
    EXTRA_FLAGS="--seed_fraction=1 --head_learning_rate=0.01 --mutation_rate=0.01" \
    nice -n 10 ./auto_minatar_pathnet.sh
done
