#!/usr/bin/env bash
# The installed package, not the checkout: builds the wheel (`pip wheel --no-deps .`),
# installs it into a fresh virtual environment outside the checkout, and from a
# directory outside the checkout (so the checkout is not on sys.path) imports every
# module of every subpackage, starts each script's `python -m` entry point, checks that
# a run without --data_dir names it, and runs the smallest binary MNIST run end to end.
#
#   tools/check_wheel.sh            # `make wheel-check`; part of .ci/run
#
# The fresh environment reuses the dependencies already installed in .venv (a .pth file
# puts .venv's site-packages after its own), so nothing is downloaded but the build's
# own setuptools; pathnet_tf itself comes only from the wheel (the .venv's editable
# finder is not activated: .pth files are read only in the environment's own
# site-packages).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="$(mktemp -d)"
built_here=0
[[ -e "$ROOT/build" ]] || built_here=1
cleanup() {
  rm -rf "$WORK"
  ((built_here)) && rm -rf "$ROOT/build"  # setuptools' build/ of this wheel, not a user's
  return 0
}
trap cleanup EXIT
start=$SECONDS
step() { echo "check_wheel: $* ($((SECONDS - start)) s)"; }

step "building the wheel"
(cd "$ROOT" && "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" .)
wheel=("$WORK"/dist/pathnet_tf-*.whl)
[[ -f "${wheel[0]}" ]] || { echo "check_wheel: no wheel built" >&2; exit 1; }

step "installing $(basename "${wheel[0]}") into a fresh environment in $WORK/venv"
"$PYTHON" -m venv --without-pip "$WORK/venv"
VENV_PY="$WORK/venv/bin/python"
site="$("$VENV_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
deps="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$deps" > "$site/zz_pathnet_tf_deps.pth"  # .venv's packages, after the venv's own
"$VENV_PY" -m pip install --quiet --no-deps --no-index "${wheel[0]}"

mkdir -p "$WORK/outside"
cd "$WORK/outside"  # neither the checkout nor its parent on sys.path from here on
export XDG_CACHE_HOME="$WORK/cache" TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH=""

step "importing every module of the installed package"
"$VENV_PY" - "$ROOT" <<'EOF'
import importlib
import pathlib
import pkgutil
import sys

root = pathlib.Path(sys.argv[1])
import pathnet_tf

where = pathlib.Path(pathnet_tf.__file__).resolve()
assert root not in where.parents, f"pathnet_tf imported from the checkout: {where}"
assert "tensorflow" not in sys.modules, "import pathnet_tf started TensorFlow"
checkout = {p.relative_to(root).with_suffix("").as_posix().replace("/", ".")
            for p in (root / "pathnet_tf").rglob("*.py")}
checkout = {name.removesuffix(".__init__") for name in checkout}
installed = {"pathnet_tf"} | {m.name for m in pkgutil.walk_packages(
    pathnet_tf.__path__, "pathnet_tf.")}
missing = sorted(checkout - installed)
assert not missing, f"modules of the checkout missing from the wheel: {missing}"
skipped = []
for name in sorted(installed):
    if name.startswith("pathnet_tf.scripts."):
        continue  # each defines its flags on import: started one by one below
    if name.startswith("pathnet_tf.pbt.ray_") and importlib.util.find_spec("ray") is None:
        skipped.append(name)  # the optional Ray extra
        continue
    module = importlib.import_module(name)
    assert root not in pathlib.Path(module.__file__).resolve().parents, module.__file__
print(f"check_wheel: imported {len(installed) - len(skipped)} modules from {where.parent}"
      + (f" (skipped without Ray: {', '.join(skipped)})" if skipped else ""))
EOF

step "starting every script's entry point, and the modules the shell scripts start"
for script in binary_mnist_pathnet split_mnist_pathnet continual_mnist_pathnet \
              cifar_svhn_pathnet minatar_pathnet atari_pathnet pathnet_pbt pbt_mnist; do
  status=0
  help=--helpfull  # absl: every flag, --workdir (cli.py's) among them; exits with 1
  [[ "$script" == pbt_mnist ]] && help=--help  # argparse: exits with 0
  "$VENV_PY" -m "pathnet_tf.scripts.$script" "$help" > "$WORK/help.txt" 2>&1 || status=$?
  if ((status > 1)) || ! grep -q -- "--workdir" "$WORK/help.txt"; then
    echo "check_wheel: python -m pathnet_tf.scripts.$script $help failed ($status):" >&2
    cat "$WORK/help.txt" >&2
    exit 1
  fi
done
# The other modules the shell scripts start (auto_*.sh: the reports, Ray batches).
for module in reports.report reports.plotting runs.campaign_ray reports.ablation; do
  "$VENV_PY" -m "pathnet_tf.$module" --help > "$WORK/help.txt" 2>&1 || {
    echo "check_wheel: python -m pathnet_tf.$module --help failed:" >&2
    cat "$WORK/help.txt" >&2; exit 1; }
done
mkdir -p "$WORK/empty"
"$VENV_PY" -m pathnet_tf.rl.report "$WORK/empty" > "$WORK/help.txt" 2>&1 || true
grep -q "no finished results.json" "$WORK/help.txt" || {
  echo "check_wheel: python -m pathnet_tf.rl.report did not start:" >&2
  cat "$WORK/help.txt" >&2; exit 1; }
[[ -x "$WORK/venv/bin/binary-mnist-pathnet" ]] || {
  echo "check_wheel: the console script binary-mnist-pathnet was not installed" >&2; exit 1; }

TINY=(--num_layers=2 --num_modules=4 --num_active=2 --units=8 --population_size=4
      --steps_per_candidate=3 --batch_size=8 --max_generations=2 --max_train=200
      --threshold=0.9 --tensorboard=none --nofigures)
step "a run without --data_dir must stop naming --data_dir"
status=0
"$VENV_PY" -m pathnet_tf.scripts.binary_mnist_pathnet "${TINY[@]}" \
  --workdir="$WORK/nodata" > "$WORK/nodata.txt" 2>&1 || status=$?
if ((status == 0)) || ! grep -q -- "--data_dir" "$WORK/nodata.txt"; then
  echo "check_wheel: without --data_dir the run did not stop naming it ($status):" >&2
  cat "$WORK/nodata.txt" >&2
  exit 1
fi

step "the smallest binary MNIST run, from the installed package"
"$VENV_PY" -m pathnet_tf.scripts.binary_mnist_pathnet "${TINY[@]}" \
  --data_dir="$ROOT/data/mnist" --workdir="$WORK/run" > "$WORK/run.txt" 2>&1 || {
  echo "check_wheel: the run failed:" >&2; cat "$WORK/run.txt" >&2; exit 1; }
"$VENV_PY" -c '
import json, sys
results = json.load(open(sys.argv[1]))
assert [results[k]["digits"] for k in ("task_a", "task_b")] == [[1, 3], [1, 2]], results
' "$WORK/run/results.json"
step "the campaign script, as the installed package holds it (what reports.ablation runs)"
campaign="$("$VENV_PY" -c 'import pathlib, pathnet_tf.reports.ablation as a; print(a.CAMPAIGN_SCRIPT)')"
[[ "$campaign" != "$ROOT"/* && -f "$campaign" ]] || {
  echo "check_wheel: the campaign script is not in the installed package: $campaign" >&2; exit 1; }
RUNS=1 MODES=pathnet ORDERINGS=1,3:1,2 JOBS=1 BATCH=1 PYTHON="$VENV_PY" \
  RESULTS_DIR="$WORK/campaign" REPORT_FLAGS=--no-figures \
  EXTRA_FLAGS="${TINY[*]} --data_dir=$ROOT/data/mnist" \
  bash "$campaign" > "$WORK/campaign.txt" 2>&1 || {
  echo "check_wheel: the campaign failed:" >&2; cat "$WORK/campaign.txt" >&2; exit 1; }
[[ -f "$WORK/campaign/pathnet/1v3_to_1v2/seed_0/results.json" && -f "$WORK/campaign/summary.json" ]] || {
  echo "check_wheel: the campaign wrote no results.json or summary.json:" >&2
  cat "$WORK/campaign.txt" >&2; exit 1; }
step "ok: the installed wheel imports, starts its scripts and runs"
