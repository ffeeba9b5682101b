#!/usr/bin/env bash
# The controls and PathNet at the defaults on breakout -> breakout with this code
# (200k + 200k frames, seeds 0-4, one run at a time, niced): the committed
# results/minatar runs came from the code of 2026-12-02, whose game A differs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
SEEDS="${SEEDS:-0 1 2 3 4}" PAIRS=breakout:breakout MODES="${MODES:-finetune independent pathnet}" \
  FRAMES=200000 RESULTS_DIR=results/self_transfer/minatar/controls nice -n 10 ./auto_minatar_pathnet.sh
