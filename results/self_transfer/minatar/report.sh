#!/usr/bin/env bash
# The table: each condition's PathNet runs beside this code's controls (controls/:
# fine-tune and independent), through the existing report (python -m
# pathnet_tf.rl.report), which groups by mode, so one staging directory per
# condition; its summary.md/json and curves.png land in <condition>/vs_controls/.
# Then the reuse diagnostics of every condition (reuse.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
HERE=results/self_transfer/minatar
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
for controls in "$HERE"/controls*/ "$HERE"/to_*/controls*/; do  # PathNet at the defaults
  [ -d "$controls" ] || continue                                # (at each layer_scale)
  "$PYTHON" -m pathnet_tf.rl.report "$controls" > /dev/null
done
# a condition against the controls beside it (to_<game>/: breakout -> <game>)
for condition in "$HERE"/seed_fraction_*/ "$HERE"/to_*/seed_fraction_*/; do
  [ -d "$condition" ] || continue
  name="$(basename "$condition")"
  base="$(dirname "$condition")"
  controls="$base/controls"  # a condition at another layer_scale: the controls at it
  case "$name" in *layer_scale_*) controls="$base/controls_layer_scale_${name##*layer_scale_}";; esac
  # a CONTROLS file in the condition names other controls (10 seeds: controls_10_seeds)
  [ -f "$condition/CONTROLS" ] && controls="$base/$(cat "$condition/CONTROLS")"
  pair="$(basename "$(ls -d "$condition"runs/*/ | head -n 1)")"
  stage="$(mktemp -d)"
  for mode in finetune independent; do
    mkdir -p "$stage/controls/$mode"
    cp -r "$controls/runs/$pair/$mode/." "$stage/controls/$mode/"
  done
  cp -r "$condition/runs" "$stage/runs"
  "$PYTHON" -m pathnet_tf.rl.report "$stage" > /dev/null
  mkdir -p "$condition/vs_controls"
  cp "$stage/summary.md" "$stage/summary.json" "$stage/curves.png" "$condition/vs_controls/"
  rm -rf "$stage"
  echo "## $name"; cat "$condition/vs_controls/summary.md"
done
"$PYTHON" "$HERE/reuse_table.py" "$HERE" | tee "$HERE/reuse.md"
for other in "$HERE"/to_*/; do
  [ -d "$other" ] || continue
  "$PYTHON" "$HERE/reuse_table.py" "$other" | tee "$other/reuse.md"
done
