#!/usr/bin/env bash
# Neural training against PyTorch (../shared/bench/torch_models.py, Debian's
# python3-torch) on this machine.
#  speed: training samples/s per epoch and inference samples/s of fluxrecon
#         train (1 and 2 ranks, 1 thread each) and of torch_models.py bench
#         (1 thread, the seed's batch sizes), each model, one after the other
#         in the same run so that the ratios share the machine's load;
#  skill: the seed's configuration of each model trained for EPOCHS epochs on
#         the real model output ../shared/data/bling30 (train 1961-1972,
#         validation 1973-1977, a FRACTION of the ocean points) by fluxrecon
#         and by torch_models.py train on the same sample stores, plus a
#         per-location monthly climatology baseline; validation R^2 (z-scored).
# Usage: tools/bench-train.sh [WORKDIR] [EPOCHS] [FRACTION] [MODELS]
#        (defaults: 8 epochs, fraction 0.1, models "mlp lstm attention_lstm")
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/fluxrecon-bench-train}"
epochs="${2:-8}"
fraction="${3:-0.1}"
models="${4:-mlp lstm attention_lstm}"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
data="$root/../shared/data/bling30"
[ -d "$data" ] || { echo "bench-train: $data is missing (the real data of ../shared/data)"; exit 1; }
"$root/tools/build.sh" >/dev/null
if ! /usr/bin/python3 -c "import torch, h5py" 2>/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-torch python3-h5py >/dev/null
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1
torch_py="$root/../shared/bench/torch_models.py"
mkdir -p "$work"
sed -e "s|directory: .*shared/data/bling30|directory: $data|" -e "s|train: \[1961, 1970\]|train: [1961, 1972]|" \
    -e "s|validation: \[1971, 1974\]|validation: [1973, 1977]|" -e "s|fraction: 0.25|fraction: $fraction|" \
    "$root/inputs/bling30.yaml" > "$work/bling30.yaml"
"$build/fluxrecon" prepare --config "$work/bling30.yaml" --out "$work/samples" --only train --only validation

params() {  # model, epochs, patience -> a params file with the seed's values
  local f="$work/params_$1_$2.yaml"
  { grep -v -E "^(epochs|patience):" "$root/inputs/models/$1.yaml"; echo "epochs: $2"; echo "patience: $3"; } > "$f"
  echo "$f"
}
mean_col() {  # csv, column name -> mean over the epochs
  /usr/bin/python3 -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(sum(float(x[sys.argv[2]]) for x in r)/len(r))" "$1" "$2"
}

echo "== speed (1 thread per process) =="
printf "%-15s %12s %12s %12s %10s %10s %12s %12s %10s\n" model torch_train fr_1rank fr_2ranks ratio_1r scale_2r torch_infer fr_infer ratio
for m in $models; do
  p=$(params "$m" 2 100)
  rm -rf "$work/speed_$m"
  "$build/fluxrecon" train --model "$m" --samples "$work/samples" --params "$p" --out "$work/speed_$m/np1" >/dev/null
  mpirun -n 2 "$build/fluxrecon" train --model "$m" --samples "$work/samples" --params "$p" --out "$work/speed_$m/np2" >/dev/null
  t=$(/usr/bin/python3 "$torch_py" bench --model "$m" --threads 1 --n 50000 --infer-batch 4096)
  tt=$(echo "$t" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['train_samples_per_s'])")
  ti=$(echo "$t" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['infer_samples_per_s'])")
  f1=$(mean_col "$work/speed_$m/np1/${m}_losses.csv" samples_per_second)
  f2=$(mean_col "$work/speed_$m/np2/${m}_losses.csv" samples_per_second)
  fi1=$(mean_col "$work/speed_$m/np1/${m}_losses.csv" inference_samples_per_second)
  /usr/bin/python3 -c "import sys; m,tt,f1,f2,ti,fi=sys.argv[1],*map(float,sys.argv[2:]); print(f'{m:<15} {tt:12.0f} {f1:12.0f} {f2:12.0f} {f1/tt:10.2f} {f2/f1:10.2f} {ti:12.0f} {fi:12.0f} {fi/ti:10.2f}')" \
    "$m" "$tt" "$f1" "$f2" "$ti" "$fi1"
done

echo "== skill: validation R^2 after $epochs epochs (z-scored target, same stores) =="
/usr/bin/python3 - "$work/samples" <<'PY'
import h5py, numpy as np, sys
d = sys.argv[1]
def load(n):
    with h5py.File(f"{d}/{n}.h5") as f:
        return f["location"][()], f["month"][()], f["target"][()].astype(np.float64)
lt, mt, yt = load("train"); lv, mv, yv = load("validation")
clim = {}
for key, y in zip(zip(lt, mt), yt):
    s = clim.setdefault(key, [0.0, 0]); s[0] += y; s[1] += 1
mean = yt.mean()
pred = np.array([clim[k][0] / clim[k][1] if k in clim else mean for k in zip(lv, mv)])
mse = ((pred - yv) ** 2).mean()
print(f"climatology (per location and month of the training years): R^2 {1 - mse / yv.var():.4f}  MSE {mse:.5f}  n_train {len(yt)} n_val {len(yv)}")
PY
for m in $models; do
  p=$(params "$m" "$epochs" 10)
  rm -rf "$work/skill_$m"
  "$build/fluxrecon" train --model "$m" --samples "$work/samples" --params "$p" --out "$work/skill_$m" >/dev/null
  fr=$(/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(f\"R^2 {s['validation_r2']:.4f}  MSE {s['best_validation_mse']:.5f}  best epoch {s['best_epoch']}\")" "$work/skill_$m/${m}_summary.json")
  tr=$(/usr/bin/python3 "$torch_py" train --model "$m" --train "$work/samples/train.h5" --val "$work/samples/validation.h5" --epochs "$epochs" --patience 10 --threads 1 | tail -1)
  tr=$(echo "$tr" | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"R^2 {s['val_r2']:.4f}  MSE {s['best_val_mse']:.5f}  ({s['seconds']} s)\")")
  echo "$m: fluxrecon $fr | torch $tr"
done
