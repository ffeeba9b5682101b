#!/usr/bin/env bash
# breakout -> breakout, 200k + 200k frames, PathNet with the RL transfer switches
# (issue 25), seeds 0-4, one run at a time, niced. Rerun to resume: finished runs
# (results.json present) are skipped, an interrupted one resumes from its checkpoint.
#   CONDITIONS="sf1:--seed_fraction=1 ..." results/self_transfer/minatar/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
SEEDS="${SEEDS:-0 1 2 3 4}"
CONDITIONS="${CONDITIONS:-seed_fraction_1:--seed_fraction=1 seed_fraction_0.25:--seed_fraction=0.25}"
for seed in $SEEDS; do
  for condition in $CONDITIONS; do
    name="${condition%%:*}"; flags="${condition#*:}"
    SEEDS="$seed" PAIRS=breakout:breakout MODES=pathnet FRAMES=200000 \
      RESULTS_DIR="results/self_transfer/minatar/$name" EXTRA_FLAGS="${flags//,/ }" \
      nice -n 10 ./auto_minatar_pathnet.sh
  done
done
