#!/bin/bash
# Does a change leave results alone? Default runs (binary MNIST at the paper's settings,
# modes pathnet, independent and finetune, seeds 0-2; a tiny MinAtar and a tiny PBT run)
# from one checkout into OUT; run it on the code before and after the change.
# usage: tools/run_default_runs.sh TREE OUT  (TREE: a checkout; OUT: a fresh folder;
# PYTHON: the interpreter, default TREE/.venv/bin/python). Then compare two such
# folders: .venv/bin/python tests/helpers/same_results.py BEFORE AFTER
set -e
TREE=$(cd "$1" && pwd); OUT=$(mkdir -p "$2" && cd "$2" && pwd); PY=${PYTHON:-$TREE/.venv/bin/python}
cd "$TREE"
for m in pathnet independent finetune; do
  nice -n 5 $PY binary_mnist_pathnet.py --mode=$m --seeds=0-2 --workdir="$OUT/$m" > "$OUT/$m.log" 2>&1
done
nice -n 5 $PY minatar_pathnet.py --frames=3000 --num_workers=4 --envs_per_worker=2 \
  --conv_layers=4:3:1 --units=8 --num_modules=3 --num_active=2 --evolve_every=5 \
  --workdir="$OUT/minatar" > "$OUT/minatar.log" 2>&1
nice -n 5 $PY pbt_mnist.py config/tiny_PBT.json --workdir "$OUT/pbt" > "$OUT/pbt.log" 2>&1
echo done > "$OUT.done"
