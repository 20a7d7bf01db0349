#!/usr/bin/env bash
# Skill on unseen data (issue 19): the whole pipeline of each run config
# (every model, reconstruct, analyze with the climatology baseline) and a
# summary per model of the global set over the test years: R^2 of the model
# and of the climatology, the largest yearly integrated-uptake error (% of
# the simulated), the error of the uptake trend; then the MLP against
# PyTorch (../shared/bench/torch_models.py train, Debian's python3-torch) on
# the same spatial-design samples with the seed's 14 features (the PyTorch
# script knows only those).
# With LONG=1 it also trains the models longer on the bling30 spatial stores
# (MLP with the seed's 100 epochs, LSTM 60, attention LSTM 45, XGBoost
# gbtree) and runs the temporal design with the spatial design's extra
# features (MLP 20 epochs, XGBoost gbtree), each reconstructed and analysed.
# When CONFIGS holds <data>_spatial_run and <data>_pco2_run (bling30 or
# testbed; the pCO2 route: the models learn the surface pCO2, the flux comes
# from the bulk formula), both routes' caches are analysed together with the
# climatology of the direct route's samples (WORKDIR/<data>_routes).
# Usage: [LONG=1] tools/bench-designs.sh [WORKDIR] [CONFIGS] [TORCH_EPOCHS]
#   CONFIGS: run configs in inputs/ (default: bling30_spatial_run bling30_pco2_run
#            bling30_run testbed_spatial_run testbed_pco2_run demo; "" runs none);
#            TORCH_EPOCHS 0 skips PyTorch.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/fluxrecon-bench-designs}"
configs="${2-bling30_spatial_run bling30_pco2_run bling30_run testbed_spatial_run testbed_pco2_run demo}"
torch_epochs="${3:-60}"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
[ -x "$build/fluxrecon" ] || "$root/tools/build.sh" >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1
mkdir -p "$work"

summarise() {  # analysis dir
  /usr/bin/python3 - "$1" <<'PY'
import csv, sys
d = sys.argv[1]
rows = [r for r in csv.DictReader(open(f"{d}/metrics.csv")) if r["region"] == "global"]
import os
skill_csv = f"{d}/skill_vs_climatology.csv"  # absent without a baseline (the pCO2 route's own run)
skill = {(r["model"], r["experiment"]): r for r in csv.DictReader(open(skill_csv))
         if r["region"] == "global"} if os.path.exists(skill_csv) else {}
print(f"{'model':<16}{'experiment':<14}{'cells':<15}{'R^2':>8}{'R^2 clim':>10}"
      f"{'max |yearly uptake err| %':>27}{'trend err PgC/yr2':>19}{'clim trend err':>16}")
models = sorted({(r["model"], r["experiment"]) for r in rows})
for m, e in models:
    years = [r for r in rows if r["model"] == m and r["experiment"] == e and r["year"] != "all"]
    every = [r for r in rows if r["model"] == m and r["experiment"] == e and r["year"] == "all"][0]
    worst = max(abs(float(r["error_pgc_per_yr"]) / float(r["simulated_pgc_per_yr"])) for r in years)
    s = skill.get((m, e))
    trend = f"{float(s['trend_error_pgc_per_yr2']):+.4f}" if s else "-"
    ctrend = f"{float(s['trend_error_climatology_pgc_per_yr2']):+.4f}" if s else "-"
    clim = f"{float(s['r2_climatology']):.4f}" if s else "-"
    print(f"{m:<16}{e:<14}{every.get('scored_cells', 'all'):<15}{float(every['r2']):>8.4f}{clim:>10}"
          f"{100 * worst:>27.1f}{trend:>19}{ctrend:>16}")
PY
}

for c in $configs; do
  start=$(date +%s)
  mpirun -n 2 "$build/fluxrecon" --quiet run --config "$root/inputs/$c.yaml" --out "$work/$c" >"$work/$c.log" 2>&1 ||
    { tail -20 "$work/$c.log"; exit 1; }
  echo "== $c ($(($(date +%s) - start)) s, mpirun -n 2): global, test years"
  summarise "$work/$c/analysis"
done

# Both routes of a dataset in one analysis, with the direct route's climatology.
for data in bling30 testbed; do
  [[ " $configs " == *" ${data}_spatial_run "* && " $configs " == *" ${data}_pco2_run "* ]] || continue
  routes="$work/${data}_routes"
  rm -rf "$routes/caches" && mkdir -p "$routes/caches"
  ln -s "$work/${data}_spatial_run"/caches/*.nc "$work/${data}_pco2_run"/caches/*.nc "$routes/caches/"
  mpirun -n 2 "$build/fluxrecon" --quiet analyze --caches "$routes/caches" --force \
    --samples "$work/${data}_spatial_run/samples" --out "$routes/analysis"
  echo "== $data, spatial design: direct flux models, pCO2 route (<model>_pco2) and the formula on the simulated pCO2"
  summarise "$routes/analysis"
done

if [ "$torch_epochs" -gt 0 ]; then
  torch_py="$root/../shared/bench/torch_models.py"
  if ! /usr/bin/python3 -c "import torch, h5py" 2>/dev/null; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-torch python3-h5py >/dev/null
  fi
  # bling30_spatial without its extra features, the directory made absolute.
  sed -e "s#directory: ../../shared/data/bling30#directory: $root/../shared/data/bling30#" \
      -e '/^features:/,/^  time:/d' "$root/inputs/bling30_spatial.yaml" >"$work/bling30_spatial_seed.yaml"
  "$build/fluxrecon" --quiet prepare --config "$work/bling30_spatial_seed.yaml" --out "$work/seed_samples" \
    --only train --only validation
  sed -e "s/^epochs: .*/epochs: $torch_epochs/" "$root/inputs/models/mlp.yaml" >"$work/mlp_params.yaml"
  mpirun -n 2 "$build/fluxrecon" --quiet train --model mlp --samples "$work/seed_samples" \
    --params "$work/mlp_params.yaml" --out "$work/seed_mlp" >/dev/null
  fr=$(/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(f\"R^2 {s['validation_r2']:.4f}  MSE {s['best_validation_mse']:.5f}  best epoch {s['best_epoch']}\")" "$work/seed_mlp/mlp_summary.json")
  tr=$(/usr/bin/python3 "$torch_py" train --model mlp --train "$work/seed_samples/train.h5" \
    --val "$work/seed_samples/validation.h5" --epochs "$torch_epochs" --patience 10 --threads 1 | tail -1)
  tr=$(echo "$tr" | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"R^2 {s['val_r2']:.4f}  MSE {s['best_val_mse']:.5f}\")")
  echo "== MLP on bling30_spatial samples, seed features, $torch_epochs epochs, validation (held-out years' observed cells, z-scored)"
  echo "fluxrecon (2 ranks): $fr"
  echo "PyTorch   (1 rank):  $tr"
fi

# Trains the models of $2 (MODEL:EPOCHS, 0 = the file's) on the stores of
# dataset $1 in $3, reconstructs years $4 of regions $5 and analyses them.
train_and_score() {
  local dataset="$1" models="$2" dir="$3" years="$4" regions="$5" m e regs=()
  mpirun -n 2 "$build/fluxrecon" --quiet prepare --config "$dataset" --out "$dir/samples"
  for me in $models; do
    m="${me%%:*}" e="${me##*:}"
    p="$root/inputs/models/$m.yaml"; [ "$m" = xgboost ] && p="$root/inputs/models/xgboost_gbtree.yaml"
    [ "$e" != 0 ] && { sed -e "s/^epochs: .*/epochs: $e/" "$p" >"$dir/$m.yaml"; p="$dir/$m.yaml"; }
    mpirun -n 2 "$build/fluxrecon" --quiet train --model "$m" --samples "$dir/samples" --params "$p" \
      --out "$dir/models"
  done
  for r in $regions; do regs+=(--region "$r"); done
  mpirun -n 2 "$build/fluxrecon" --quiet reconstruct --config "$dataset" --models "$dir/models" \
    --model all --experiment experiment_1 "${regs[@]}" --years "$years" --out "$dir/caches"
  mpirun -n 2 "$build/fluxrecon" --quiet analyze --caches "$dir/caches" --samples "$dir/samples" \
    --out "$dir/analysis"
  summarise "$dir/analysis"
}

if [ "${LONG:-0}" = 1 ]; then
  mkdir -p "$work/long" "$work/temporal_features"
  echo "== bling30_spatial, longer training"
  train_and_score "$root/inputs/bling30_spatial.yaml" "mlp:0 lstm:60 attention_lstm:45 xgboost:0" \
    "$work/long" 1968:1977 "global North_Atlantic Southern_Ocean"
  # bling30.yaml (temporal) with bling30_spatial.yaml's features block.
  sed -e "s#directory: ../../shared/data/bling30#directory: $root/../shared/data/bling30#" \
      -e "s/^time:/features:\n  variables:\n    wind_speed: {name: wind_speed}\n  time: [year, month]\ntime:/" \
      "$root/inputs/bling30.yaml" >"$work/temporal_features/bling30_features.yaml"
  echo "== bling30 temporal design with the extra features"
  train_and_score "$work/temporal_features/bling30_features.yaml" "mlp:20 xgboost:0" \
    "$work/temporal_features" 1975:1977 global
fi
