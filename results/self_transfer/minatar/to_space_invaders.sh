#!/usr/bin/env bash
# breakout -> space_invaders, 200k + 200k frames, seeds 0-4, seed by seed, niced: this
# code's controls (fine-tune, independent, PathNet at the defaults) and PathNet with the
# switches that did best on breakout -> breakout (game B's workers on game A's path,
# heads at 0.01, mutation 0.01), and (session 13) wider game-B pathways. Rerun to resume
# (finished runs are skipped).
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
  # session 13: game B's pathways wider than game A's (--num_active_b), kept on its path
  # with 2 or 4 trainable modules per layer, and wider without seeding
  for condition in "seed_fraction_1_mutation_b_0_num_active_b_6:--seed_fraction=1 --mutation_rate_b=0 --num_active_b=6" \
                   "seed_fraction_1_mutation_b_0_num_active_b_8:--seed_fraction=1 --mutation_rate_b=0 --num_active_b=8" \
                   "seed_fraction_0_num_active_b_6:--num_active_b=6"; do
    SEEDS="$seed" PAIRS=breakout:space_invaders MODES=pathnet FRAMES=200000 \
      RESULTS_DIR="$HERE/${condition%%:*}" EXTRA_FLAGS="${condition#*:}" \
      nice -n 10 ./auto_minatar_pathnet.sh
  done
done
