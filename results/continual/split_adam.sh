#!/usr/bin/env bash
# Split MNIST with Adam (the optimizer of van de Ven & Tolias 2019): does the optimizer
# explain our EWC's 3.7 points below the published 98.64? (adam.sh)
#   bash results/continual/split_adam.sh [RUNS_DIR] [SEEDS] [LAMBDA] [C]
LAMBDAS="10 100 1000 10000" CS="0.1 1 10" \
  exec bash "$(dirname "$0")/adam.sh" split "$@"
