#!/usr/bin/env bash
# The neural models against PyTorch on the synthetic testbed's spatial-design
# samples (issue 19): inputs/testbed_spatial.yaml without its time features
# (../shared/bench/torch_models.py knows only the seed's 14), each model's
# seed configuration at EPOCHS (MLP) or LSTM_EPOCHS (both LSTMs), patience
# 10, seed 42; fluxrecon at 1 rank (a step averages the same batch as
# PyTorch's) beside torch_models.py train at one thread. Prints each side's
# best validation MSE and R^2 (z-scored target) and the time.
# Usage: tools/bench-torch-testbed.sh [WORKDIR] [EPOCHS] [LSTM_EPOCHS]
# Needs Debian's python3-torch and python3-h5py (not installed by
# tools/install-deps.sh: a reference, not a dependency).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/fluxrecon-bench-torch-testbed}"
epochs="${2:-60}"
lstm_epochs="${3:-20}"
bin="${FLUXRECON_BUILD_DIR:-$root/build}/fluxrecon"
[ -x "$bin" ] || "$root/tools/build.sh" >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1
mkdir -p "$work"
# The testbed's data, then the spatial design with the seed's features only.
[ -f "$work/data/testbed_experiment_1_1967.nc" ] ||
  "$bin" --quiet synth --config "$root/inputs/testbed_spatial.yaml" --out "$work/data"
sed -e "s#directory: ../out/demo/data#directory: $work/data#" -e '/^features:/,/^  time:/d' \
    -e 's/name: testbed_spatial$/name: testbed_spatial_seed/' \
    "$root/inputs/testbed_spatial.yaml" >"$work/testbed_spatial_seed.yaml"
"$bin" --quiet prepare --config "$work/testbed_spatial_seed.yaml" --out "$work/samples"
echo "| model | epochs | fluxrecon best val. MSE (R^2), s | PyTorch best val. MSE (R^2), s |"
echo "|---|---|---|---|"
for m in mlp lstm attention_lstm; do
  e=$lstm_epochs; [ "$m" = mlp ] && e=$epochs
  sed -e "s/^epochs: .*/epochs: $e/" -e "s/^patience: .*/patience: 10/" \
    "$root/inputs/models/$m.yaml" >"$work/P_$m.yaml"
  s=$(date +%s)
  "$bin" train --model "$m" --params "$work/P_$m.yaml" --samples "$work/samples" \
    --out "$work/fr_$m" --force >"$work/fr_$m.log" 2>&1
  fr_s=$(($(date +%s) - s))
  fr=$(python3 -c "import json; d=json.load(open('$work/fr_$m/${m}_summary.json')); print('%.5f (%.4f)' % (d['best_validation_mse'], d['validation_r2']))")
  s=$(date +%s)
  /usr/bin/python3 "$root/../shared/bench/torch_models.py" train --model "$m" \
    --train "$work/samples/train.h5" --val "$work/samples/validation.h5" --epochs "$e" \
    --patience 10 --threads 1 >"$work/torch_$m.log" 2>&1
  torch_s=$(($(date +%s) - s))
  torch=$(tail -1 "$work/torch_$m.log" | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print('%.5f (%.4f)' % (d['best_val_mse'], d['val_r2']))")
  echo "| $m | $e | $fr, $fr_s s | $torch, $torch_s s |"
done
