#!/usr/bin/env bash
# The MinAtar transfer experiment: PathNet and its two controls on game pairs, many
# seeds, one run at a time; then the report (summary.json, summary.md, curves.png).
#
#   ./auto_minatar_pathnet.sh                                   # 5 seeds, 3 pairs, 3 modes
#   SEEDS="0 1" PAIRS="breakout:breakout" FRAMES=200000 ./auto_minatar_pathnet.sh
#
# Settings (environment variables, all optional):
#   SEEDS        values of --seed, run seed by seed                          ("0 1 2 3 4")
#   PAIRS        game pairs A:B         ("breakout:space_invaders space_invaders:breakout
#                                         breakout:breakout")
#   MODES        values of --mode                          ("pathnet independent finetune")
#   FRAMES       --frames (per game)                                              (500000)
#   RESULTS_DIR  one folder for all runs                                (results/minatar)
#   EXTRA_FLAGS  more flags for every run, split on spaces                          (none)
#   PYTHON       the interpreter  (.venv/bin/python of this repository if present, else python3)
#
# A run writes RESULTS_DIR/runs/<a>_to_<b>/<mode>/seed_<k>/ (config.json, results.json,
# tb/ with scalars only, ckpt/, log.txt). The independent control never plays game A, so
# it runs once per game B (under the first pair ending with it) and the report uses it
# for every such pair. Safe to stop and rerun: a run with a results.json is skipped, an
# unfinished one resumes from its checkpoint.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SEEDS="${SEEDS:-0 1 2 3 4}"
PAIRS="${PAIRS:-breakout:space_invaders space_invaders:breakout breakout:breakout}"
MODES="${MODES:-pathnet independent finetune}"
FRAMES="${FRAMES:-500000}"
RESULTS_DIR="${RESULTS_DIR:-results/minatar}"
EXTRA_FLAGS="${EXTRA_FLAGS:-}"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

for seed in $SEEDS; do
  done_b=" "
  for pair in $PAIRS; do
    a="${pair%%:*}"; b="${pair##*:}"
    for mode in $MODES; do
      if [[ "$mode" == independent ]]; then
        [[ "$done_b" == *" $b "* ]] && continue
        done_b="$done_b$b "
      fi
      workdir="$RESULTS_DIR/runs/${a}_to_${b}/$mode/seed_$seed"
      [[ -f "$workdir/results.json" ]] && continue
      mkdir -p "$workdir"
      echo "$(date -u +%H:%M:%S) $a -> $b $mode seed $seed" >&2
      # shellcheck disable=SC2086
      "$PYTHON" "$ROOT/minatar_pathnet.py" --game_a="$a" --game_b="$b" --mode="$mode" \
        --seed="$seed" --frames="$FRAMES" --workdir="$workdir" --tensorboard=scalars \
        $EXTRA_FLAGS > "$workdir/log.txt" 2>&1
    done
  done
done
"$PYTHON" -m pathnet_tf.rl.report "$RESULTS_DIR"
