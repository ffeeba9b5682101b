#!/usr/bin/env bash
# Is the network's size why our EWC and SI sit below the published Task-IL figures
# (van de Ven & Tolias 2019: a 2 x 400-unit MLP)? The same harness with 134-unit
# modules: the fixed path's 3 modules hold 402 units a layer (3 layers), SGD at 0.05,
# the strengths of the committed SGD table (EWC lambda=300, SI c=0.1), fine-tune beside
# them, seeds 0-4, the fixed budget. Resumable. Then the summary into results/continual/wide.
#   bash results/continual/wide.sh [RUNS_DIR] [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/continual_wide}
seeds=${2:-0-4}
py="nice -n 10 .venv/bin/python continual_mnist_pathnet.py --tensorboard=none --budget=fixed --max_generations=100 --units=134"
$py --mode=ewc --ewc_lambda=300 --seeds="$seeds" --workdir=$runs/split/ewc_lambda300_units134_fixed100
$py --mode=finetune --seeds="$seeds" --workdir=$runs/split/finetune_units134_fixed100
$py --mode=si --si_c=0.1 --seeds="$seeds" --workdir=$runs/split/si_c0.1_units134_fixed100
.venv/bin/python -m pathnet_tf.reports.continual_summary $runs --out results/continual/wide
