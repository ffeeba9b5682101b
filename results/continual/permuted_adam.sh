#!/usr/bin/env bash
# Permuted MNIST with Adam: EWC and SI diverged there under SGD at 0.05 (adam.sh).
#   bash results/continual/permuted_adam.sh [RUNS_DIR] [SEEDS] [LAMBDA] [C]
LAMBDAS="1 3 10 100 1000 10000" CS="0.01 0.03 0.1 1 10" \
  exec bash "$(dirname "$0")/adam.sh" permuted "$@"
