#!/usr/bin/env bash
# Repeated binary MNIST runs: PathNet and its two controls, many seeds, every task
# ordering; then the report (summary.json, summary.md) and its figures.
#
#   ./auto_binary_mnist_pathnet.sh                      # 1000 seeds x 3 modes x 4 orderings
#   RUNS=20 MODES=pathnet ORDERINGS="1,3:1,2" ./auto_binary_mnist_pathnet.sh
#
# Settings (environment variables, all optional):
#   RUNS         seeds per mode and ordering: --seed=0 .. RUNS-1             (1000)
#   MODES        values of binary_mnist_pathnet.py --mode      ("pathnet independent finetune")
#   ORDERINGS    task orderings A:B                  ("1,3:1,2 1,2:1,3 4,5:6,7 6,7:4,5")
#   RESULTS_DIR  one folder for all runs, relative to the current directory
#                                                                (results/binary_mnist_runs)
#   EXTRA_FLAGS  more flags for every run, split on spaces, e.g. a tiny config
#                (--tensorboard=scalars --nofigures are added unless it sets them)
#   JOBS         runs at a time; each run uses one core (--threads=1)             (2)
#   PYTHON       the interpreter    (.venv/bin/python of this repository if present, else python3)
#   REPORT_FLAGS more flags for `python -m pathnet_tf.report`, e.g. --no-figures  (none)
#
# A run writes RESULTS_DIR/<mode>/<a>_to_<b>/seed_<k>/ (e.g. pathnet/1v3_to_1v2/seed_7):
# config.json, results.json, tb/, ckpt/, and log.txt (the run's stdout and stderr).
# Safe to stop (Ctrl-C) and rerun with the same settings: a run whose results.json exists
# is skipped; an unfinished one is started again in its workdir, where
# binary_mnist_pathnet.py resumes from its checkpoint. Runs go seed by seed, so a stopped
# campaign has about as many runs of every mode and ordering.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT="$ROOT/binary_mnist_pathnet.py"
RUNS="${RUNS:-1000}"
ORDERINGS="${ORDERINGS:-1,3:1,2 1,2:1,3 4,5:6,7 6,7:4,5}"
RESULTS_DIR="${RESULTS_DIR:-results/binary_mnist_runs}"
EXTRA_FLAGS="${EXTRA_FLAGS:-}"
# A campaign keeps TensorBoard to scalars and draws no per-run figures unless told.
[[ " $EXTRA_FLAGS" == *" --tensorboard="* ]] || EXTRA_FLAGS="--tensorboard=scalars $EXTRA_FLAGS"
[[ " $EXTRA_FLAGS" =~ \ --(no)?figures ]] || EXTRA_FLAGS="--nofigures $EXTRA_FLAGS"
REPORT_FLAGS="${REPORT_FLAGS:-}"
JOBS="${JOBS:-2}"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

die() { echo "error: $*" >&2; exit 2; }

[[ "$RUNS" =~ ^[0-9]+$ ]] || die "RUNS ($RUNS) must be a non-negative integer"
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "JOBS ($JOBS) must be a positive integer"
read -r -a orderings <<< "$ORDERINGS"
((${#orderings[@]})) || die "ORDERINGS is empty"
for ordering in "${orderings[@]}"; do
  [[ "$ordering" =~ ^[0-9]+(,[0-9]+)+:[0-9]+(,[0-9]+)+$ ]] ||
    die "ordering '$ordering' in ORDERINGS is not of the form A:B with digit lists, e.g. 1,3:1,2"
done
for flag in $EXTRA_FLAGS; do
  [[ "$flag" =~ ^--(no)?(mode|seed|task_a|task_b|workdir)(=|$) ]] &&
    die "EXTRA_FLAGS must not set $flag: this script sets it for every run"
done
command -v "$PYTHON" > /dev/null || die "PYTHON ($PYTHON) not found"
# Default: every mode of the one table (pathnet_tf/modes.py; it imports no TensorFlow).
if [[ -z "${MODES:-}" ]]; then
  MODES="$(cd "$ROOT" && "$PYTHON" -c 'from pathnet_tf.modes import MODES; print(*MODES)')" ||
    die "could not read the modes from pathnet_tf/modes.py"
fi
read -r -a modes <<< "$MODES"
((${#modes[@]})) || die "MODES is empty"

# Does binary_mnist_pathnet.py know --mode? (Its help needs no TensorFlow: fast.)
help_text="$("$PYTHON" "$SCRIPT" --helpfull 2>&1)" || true  # absl's help exits with 1
grep -q -- "--workdir:" <<< "$help_text" ||
  die "$PYTHON $SCRIPT --helpfull did not list the script's flags: $help_text"
if grep -q -- "--mode:" <<< "$help_text"; then
  MODE_FLAG=1
  for mode in "${modes[@]}"; do
    grep -q -- "--mode: <[a-z|]*\b$mode\b" <<< "$help_text" ||
      die "mode '$mode' in MODES is not one of binary_mnist_pathnet.py's --mode values"
  done
else
  MODE_FLAG=0
  [[ "${modes[*]}" == pathnet ]] ||
    die "binary_mnist_pathnet.py has no --mode flag yet: only MODES=pathnet can run"
fi

mkdir -p "$RESULTS_DIR"
RESULTS_DIR="$(cd "$RESULTS_DIR" && pwd)"
if command -v flock > /dev/null; then  # two campaigns in one folder would run runs twice
  exec 9> "$RESULTS_DIR/.auto_binary_mnist_pathnet.lock"
  flock -n 9 || die "another auto_binary_mnist_pathnet.sh is running in $RESULTS_DIR"
fi
STATE="$(mktemp -d)"
trap 'rm -rf "$STATE"' EXIT

# The queue: seed by seed, every ordering and mode; finished runs are skipped here.
skipped=0 resumed=0 queued=0
: > "$STATE/queue"
for ((seed = 0; seed < RUNS; seed++)); do
  for ordering in "${orderings[@]}"; do
    a="${ordering%%:*}" b="${ordering#*:}"
    for mode in "${modes[@]}"; do
      dir="$RESULTS_DIR/$mode/${a//,/v}_to_${b//,/v}/seed_$seed"
      if [[ -f "$dir/results.json" ]]; then
        skipped=$((skipped + 1))
        continue
      fi
      [[ -d "$dir" ]] && resumed=$((resumed + 1))
      printf '%s\0%s\0%s\0%s\0%s\0' "$mode" "$a" "$b" "$seed" "$dir" >> "$STATE/queue"
      queued=$((queued + 1))
    done
  done
done
total=$((skipped + queued))
echo "binary MNIST runs: ${#modes[@]} mode(s) (${modes[*]}) x ${#orderings[@]} ordering(s)" \
  "(${orderings[*]}) x $RUNS seed(s) = $total runs in $RESULTS_DIR"
echo "skipped $skipped finished run(s) (results.json present); $queued to run" \
  "($resumed of them unfinished: rerun in their workdir, resuming from a checkpoint)," \
  "$JOBS at a time${EXTRA_FLAGS:+; extra flags: $EXTRA_FLAGS}"

# One run; called by xargs with: mode a b seed workdir.
run_one() {
  local mode="$1" a="$2" b="$3" seed="$4" dir="$5"
  local label="$mode ${a/,/v}->${b/,/v} seed $seed" note="" status=0 start=$SECONDS
  local flags=(--task_a="$a" --task_b="$b" --seed="$seed" --workdir="$dir")
  ((MODE_FLAG)) && flags=(--mode="$mode" "${flags[@]}")
  mkdir -p "$dir"
  [[ -f "$dir/ckpt/checkpoint.npz" ]] && note=" (resumed)"
  echo "=== $(date '+%F %T') $PYTHON $SCRIPT $EXTRA_FLAGS ${flags[*]}" >> "$dir/log.txt"
  # EXTRA_FLAGS first: this run's own flags come last and cannot be overridden.
  # shellcheck disable=SC2086
  "$PYTHON" "$SCRIPT" $EXTRA_FLAGS "${flags[@]}" >> "$dir/log.txt" 2>&1 || status=$?
  echo >> "$STATE/done"
  local count
  count=$(($(wc -l < "$STATE/done") + SKIPPED))
  if ((status == 0)) && [[ -f "$dir/results.json" ]]; then
    echo "[$count/$TOTAL] $label: finished in $((SECONDS - start)) s$note"
  else
    echo "$dir" >> "$STATE/failed"
    echo "[$count/$TOTAL] $label: FAILED (exit $status), see $dir/log.txt"
  fi
}
export -f run_one
export PYTHON SCRIPT EXTRA_FLAGS MODE_FLAG STATE
export TOTAL="$total" SKIPPED="$skipped"

if ((queued)); then
  # xargs in its own process group (job control), so a stop reaches every run.
  set -m
  xargs -0 -n 5 -P "$JOBS" bash -c 'run_one "$@"' run_one < "$STATE/queue" &
  runner=$!
  set +m
  stop() {
    kill -TERM -- "-$runner" 2> /dev/null || true
    wait "$runner" 2> /dev/null || true
    echo "stopped: rerun the same command to continue (finished runs are skipped," \
      "unfinished ones resume from their checkpoints)" >&2
    exit 130
  }
  trap stop INT TERM
  wait "$runner" || true
  trap - INT TERM
fi

failed=0
[[ -f "$STATE/failed" ]] && failed=$(wc -l < "$STATE/failed")
echo "runs: $((queued - failed)) finished now, $skipped skipped, $failed failed"
if ((failed)); then
  sed 's/^/  failed: /' "$STATE/failed"
fi

echo "aggregating: $PYTHON -m pathnet_tf.report $RESULTS_DIR $REPORT_FLAGS"
# shellcheck disable=SC2086
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m pathnet_tf.report "$RESULTS_DIR" \
  $REPORT_FLAGS
((failed == 0)) || exit 1
