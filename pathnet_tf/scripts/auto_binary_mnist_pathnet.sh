#!/usr/bin/env bash
# Repeated binary MNIST runs: PathNet and its two controls, many seeds, every task
# ordering; then the report (summary.json, summary.md) and its figures.
#
#   ./auto_binary_mnist_pathnet.sh                      # 1000 seeds x 3 modes x 4 orderings
#   RUNS=20 MODES=pathnet ORDERINGS="1,3:1,2" ./auto_binary_mnist_pathnet.sh
#   BACKEND=ray ./auto_binary_mnist_pathnet.sh          # the batches as Ray tasks
#
# Settings (environment variables, all optional):
#   RUNS         seeds per mode and ordering: --seed=0 .. RUNS-1             (1000)
#   MODES        values of binary_mnist_pathnet.py --mode      ("pathnet independent finetune")
#   ORDERINGS    task orderings A:B                  ("1,3:1,2 1,2:1,3 4,5:6,7 6,7:4,5")
#   RESULTS_DIR  one folder for all runs, relative to the current directory
#                                                                (results/binary_mnist_runs)
#   EXTRA_FLAGS  more flags for every run, split on spaces, e.g. a tiny config
#                (--tensorboard=scalars --nofigures are added unless it sets them)
#   JOBS         processes at a time; each uses one core (--threads=1)          (2)
#   BATCH        seeds per process (binary_mnist_pathnet.py --seeds): start-up is paid
#                once per batch                                                 (25)
#   BACKEND      local (JOBS processes here) or ray (each batch a Ray task of one CPU;
#                on a cluster: `ray start`, RAY_ADDRESS, RESULTS_DIR on a shared disk)
#                                                                               (local)
#   PROGRESS     seconds between progress lines (runs done / total, runs per hour, ETA)
#                                                                               (30)
#   PYTHON       the interpreter (.venv/bin/python of the checkout if present, else python3)
#   REPORT_FLAGS more flags for `python -m pathnet_tf.reports.report`, e.g. --no-figures  (none)
#
# A run writes RESULTS_DIR/<mode>/<a>_to_<b>/seed_<k>/ (e.g. pathnet/1v3_to_1v2/seed_7):
# config.json, results.json, tb/, ckpt/, and log.txt (the run's log lines); each batch
# process's own output (TensorFlow's messages) goes to RESULTS_DIR/.batches/.
# Safe to stop (Ctrl-C) and rerun with the same settings: a run whose results.json exists
# is skipped; an unfinished one is started again in its workdir, where
# binary_mnist_pathnet.py resumes from its checkpoint. Batches go seed range by seed
# range over every ordering and mode, so a stopped campaign has about as many runs of
# every mode and ordering.
set -euo pipefail

# ROOT: the folder holding the package pathnet_tf (a checkout, or site-packages when
# installed); the runs start `python -m pathnet_tf.scripts.binary_mnist_pathnet` from it.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCRIPT=pathnet_tf.scripts.binary_mnist_pathnet
RUNS="${RUNS:-1000}"
ORDERINGS="${ORDERINGS:-1,3:1,2 1,2:1,3 4,5:6,7 6,7:4,5}"
RESULTS_DIR="${RESULTS_DIR:-results/binary_mnist_runs}"
EXTRA_FLAGS="${EXTRA_FLAGS:-}"
# A campaign keeps TensorBoard to scalars and draws no per-run figures unless told.
[[ " $EXTRA_FLAGS" == *" --tensorboard="* ]] || EXTRA_FLAGS="--tensorboard=scalars $EXTRA_FLAGS"
[[ " $EXTRA_FLAGS" =~ \ --(no)?figures ]] || EXTRA_FLAGS="--nofigures $EXTRA_FLAGS"
REPORT_FLAGS="${REPORT_FLAGS:-}"
JOBS="${JOBS:-2}"
BATCH="${BATCH:-25}"
BACKEND="${BACKEND:-local}"
PROGRESS="${PROGRESS:-30}"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

die() { echo "error: $*" >&2; exit 2; }

[[ "$RUNS" =~ ^[0-9]+$ ]] || die "RUNS ($RUNS) must be a non-negative integer"
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "JOBS ($JOBS) must be a positive integer"
[[ "$BATCH" =~ ^[1-9][0-9]*$ ]] || die "BATCH ($BATCH) must be a positive integer"
[[ "$PROGRESS" =~ ^[1-9][0-9]*$ ]] || die "PROGRESS ($PROGRESS) must be a positive integer"
[[ "$BACKEND" == local || "$BACKEND" == ray ]] ||
  die "BACKEND ($BACKEND) must be local or ray"
read -r -a orderings <<< "$ORDERINGS"
((${#orderings[@]})) || die "ORDERINGS is empty"
for ordering in "${orderings[@]}"; do
  [[ "$ordering" =~ ^[0-9]+(,[0-9]+)+:[0-9]+(,[0-9]+)+$ ]] ||
    die "ordering '$ordering' in ORDERINGS is not of the form A:B with digit lists, e.g. 1,3:1,2"
done
for flag in $EXTRA_FLAGS; do
  [[ "$flag" =~ ^--(no)?(mode|seeds?|task_a|task_b|workdir)(=|$) ]] &&
    die "EXTRA_FLAGS must not set $flag: this script sets it for every run"
done
command -v "$PYTHON" > /dev/null || die "PYTHON ($PYTHON) not found"
# Default: every mode of the one table (pathnet_tf/runs/modes.py; it imports no TensorFlow).
if [[ -z "${MODES:-}" ]]; then
  MODES="$(cd "$ROOT" && "$PYTHON" -c 'from pathnet_tf.runs.modes import MODES; print(*MODES)')" ||
    die "could not read the modes from pathnet_tf/runs/modes.py"
fi
read -r -a modes <<< "$MODES"
((${#modes[@]})) || die "MODES is empty"

# Does binary_mnist_pathnet.py know --mode? (Its help needs no TensorFlow: fast.)
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # this pathnet_tf, first
help_text="$("$PYTHON" -m "$SCRIPT" --helpfull 2>&1)" || true  # absl's help exits with 1
grep -q -- "--workdir:" <<< "$help_text" ||
  die "$PYTHON -m $SCRIPT --helpfull did not list the script's flags: $help_text"
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

# The queue: batches of seeds (BATCH a batch) over every ordering and mode; finished runs
# are skipped here, so a batch holds only seeds still to run.
skipped=0 resumed=0 queued=0 batches=0
: > "$STATE/queue"
for ((first = 0; first < RUNS; first += BATCH)); do
  last=$((first + BATCH < RUNS ? first + BATCH : RUNS))
  for ordering in "${orderings[@]}"; do
    a="${ordering%%:*}" b="${ordering#*:}"
    for mode in "${modes[@]}"; do
      parent="$RESULTS_DIR/$mode/${a//,/v}_to_${b//,/v}"
      seeds=()
      for ((seed = first; seed < last; seed++)); do
        if [[ -f "$parent/seed_$seed/results.json" ]]; then
          skipped=$((skipped + 1))
          continue
        fi
        [[ -d "$parent/seed_$seed" ]] && resumed=$((resumed + 1))
        seeds+=("$seed")
      done
      ((${#seeds[@]})) || continue
      list="${seeds[*]}"
      printf '%s\0%s\0%s\0%s\0%s\0' "$mode" "$a" "$b" "${list// /,}" "$parent" >> "$STATE/queue"
      queued=$((queued + ${#seeds[@]}))
      batches=$((batches + 1))
    done
  done
done
total=$((skipped + queued))
echo "binary MNIST runs: ${#modes[@]} mode(s) (${modes[*]}) x ${#orderings[@]} ordering(s)" \
  "(${orderings[*]}) x $RUNS seed(s) = $total runs in $RESULTS_DIR"
echo "skipped $skipped finished run(s) (results.json present); $queued to run" \
  "($resumed of them unfinished: rerun in their workdir, resuming from a checkpoint)," \
  "in $batches batch(es) of up to $BATCH seeds, $JOBS at a time" \
  "($BACKEND)${EXTRA_FLAGS:+; extra flags: $EXTRA_FLAGS}"

# One batch (a process running its seeds one after another); called with:
# mode a b seeds parent. Each run's line becomes "[done/total] <line>".
run_batch() {
  local mode="$1" a="$2" b="$3" seeds="$4" parent="$5" status=0 line
  local flags=(--task_a="$a" --task_b="$b" --seeds="$seeds" --workdir="$parent")
  ((MODE_FLAG)) && flags=(--mode="$mode" "${flags[@]}")
  local log="$BATCH_LOGS/${mode}_${a//,/v}_to_${b//,/v}_seeds_${seeds%%,*}.txt"
  mkdir -p "$parent"
  echo "=== $(date '+%F %T') $PYTHON -m $SCRIPT $EXTRA_FLAGS ${flags[*]}" >> "$log"
  # EXTRA_FLAGS first: the batch's own flags come last and cannot be overridden.
  # shellcheck disable=SC2086
  "$PYTHON" -m "$SCRIPT" $EXTRA_FLAGS "${flags[@]}" 2>> "$log" | while IFS= read -r line; do
    echo "$line" >> "$log"
    case "$line" in
      *" seed "*": finished in "* | *" seed "*": FAILED"*)
        echo >> "$STATE/done"
        echo "[$(($(wc -l < "$STATE/done") + SKIPPED))/$TOTAL] $line" ;;
    esac
  done
  status=${PIPESTATUS[0]}
  local seed
  for seed in ${seeds//,/ }; do  # a run without results.json failed, however it ended
    [[ -f "$parent/seed_$seed/results.json" ]] ||
      echo "$parent/seed_$seed (exit $status; see its log.txt and $log)" >> "$STATE/failed"
  done
}
export -f run_batch
export PYTHON SCRIPT EXTRA_FLAGS MODE_FLAG STATE JOBS
export PYTHONUNBUFFERED=1  # each run's line as it finishes
export TOTAL="$total" SKIPPED="$skipped" BATCH_LOGS="$RESULTS_DIR/.batches"
mkdir -p "$BATCH_LOGS"

# Every PROGRESS seconds: runs done / total, runs per hour (this invocation), an ETA.
progress() {
  local began=$SECONDS done rate eta sleeper=""
  # Stopped with TERM: end the sleep too (bash runs a trap only once its child is done).
  trap 'kill "$sleeper" 2> /dev/null; exit 0' TERM
  while true; do
    sleep "$PROGRESS" > /dev/null 2>&1 &
    sleeper=$!
    wait "$sleeper"
    done=$(($(wc -l < "$STATE/done" 2> /dev/null || echo 0)))
    ((done)) || continue
    rate=$((done * 3600 / (SECONDS - began > 0 ? SECONDS - began : 1)))
    eta=$(((queued - done) * (SECONDS - began) / done))
    printf 'progress: %d/%d runs, %d runs/hour, ETA %d:%02d:%02d\n' "$((done + skipped))" \
      "$total" "$rate" $((eta / 3600)) $((eta / 60 % 60)) $((eta % 60))
  done
}

if ((queued)); then
  : > "$STATE/done"
  progress &
  monitor=$!
  # The runner in its own process group (job control), so a stop reaches every run.
  set -m
  if [[ "$BACKEND" == ray ]]; then
    "$PYTHON" -m pathnet_tf.runs.campaign_ray \
      --queue="$STATE/queue" --state="$STATE" --total="$total" --skipped="$skipped" \
      --batch_logs="$BATCH_LOGS" &
  else
    xargs -0 -n 5 -P "$JOBS" bash -c 'run_batch "$@"' run_batch < "$STATE/queue" &
  fi
  runner=$!
  set +m
  stop() {
    kill -TERM -- "-$runner" 2> /dev/null || true
    wait "$runner" 2> /dev/null || true
    kill "$monitor" 2> /dev/null || true
    echo "stopped: rerun the same command to continue (finished runs are skipped," \
      "unfinished ones resume from their checkpoints)" >&2
    exit 130
  }
  trap stop INT TERM
  wait "$runner" || true
  trap - INT TERM
  kill "$monitor" 2> /dev/null || true
  wait "$monitor" 2> /dev/null || true
fi

failed=0
[[ -f "$STATE/failed" ]] && failed=$(wc -l < "$STATE/failed")
echo "runs: $((queued - failed)) finished now, $skipped skipped, $failed failed"
if ((failed)); then
  sed 's/^/  failed: /' "$STATE/failed"
fi

echo "aggregating: $PYTHON -m pathnet_tf.reports.report $RESULTS_DIR $REPORT_FLAGS"
# shellcheck disable=SC2086
"$PYTHON" -m pathnet_tf.reports.report "$RESULTS_DIR" \
  $REPORT_FLAGS
((failed == 0)) || exit 1
