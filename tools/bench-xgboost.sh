#!/usr/bin/env bash
# fluxrecon train --model xgboost against Debian's python3-xgboost on the same
# sample stores, parameters (inputs/models/xgboost_gbtree.yaml) and threads:
# boosting time for ROUNDS rounds and validation prediction rows/s, on about
# 200k and 1M training samples from a 1-degree synthetic ocean, with 1 rank x
# all cores as threads (as Python), 1 rank x 1 thread and N ranks x 1 thread
# (N = cores). All configurations run one after the other in each of REPEAT
# passes, so that the ratios are taken under the same machine load.
# Usage: tools/bench-xgboost.sh [WORKDIR] [ROUNDS] [REPEAT] [SIZES]
#        (defaults: 50 rounds, 1 pass, sizes "200k 1M")
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/fluxrecon-bench-xgboost}"
rounds="${2:-50}"
repeat="${3:-1}"
sizes="${4:-200k 1M}"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
"$root/tools/build.sh" >/dev/null
if ! /usr/bin/python3 -c "import xgboost, h5py" 2>/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-xgboost python3-h5py >/dev/null
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$work"
cores=$(nproc)

# A 1-degree testbed, 1958-1966: train 1958-1963, validation 1964-1965.
/usr/bin/python3 - "$root/inputs/testbed.yaml" "$work" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r"  experiment_2:\n.*\n.*\n", "", s)
for frac, name in ((0.085, "200k"), (0.43, "1M")):
    t = s
    for old, new in [("nx: 90", "nx: 360"), ("ny: 45", "ny: 180"), ("last_year: 1967", "last_year: 1965"),
                     ("train: [1958, 1962]", "train: [1958, 1963]"), ("validation: [1963, 1964]", "validation: [1964, 1965]"),
                     ("test: [1965, 1967]", "test: [1965, 1965]"), ("fraction: 0.25", f"fraction: {frac}")]:
        assert old in t, old
        t = t.replace(old, new)
    open(f"{sys.argv[2]}/testbed_{name}.yaml", "w").write(t)
PY
[ -f "$work/data/testbed_experiment_1_1965.nc" ] ||
  mpirun -n "$cores" "$build/fluxrecon" synth --config "$work/testbed_1M.yaml" --out "$work/data" >/dev/null
printf 'num_boost_round: %s\nbooster: gbtree\n' "$rounds" > "$work/params.yaml"
sed -n '/^eta/,$p' "$root/inputs/models/xgboost_gbtree.yaml" | grep -v '^booster' >> "$work/params.yaml"

echo "| samples | pass | method | ranks x threads | boosting s | predict rows/s | validation MSE | vs Python | vs 1 x 1 |"
echo "|---|---|---|---|---|---|---|---|---|"
printf 'nthread: 1\n' | cat "$work/params.yaml" - > "$work/params_1thread.yaml"
for size in $sizes; do
  [ -f "$work/samples_$size/train.h5" ] ||
    mpirun -n "$cores" "$build/fluxrecon" prepare --config "$work/testbed_$size.yaml" --data-dir "$work/data" \
      --out "$work/samples_$size" --only train --only validation >/dev/null
  for pass in $(seq 1 "$repeat"); do
    py=$(/usr/bin/python3 "$root/tools/bench_xgboost_py.py" "$work/samples_$size" "$rounds" "$cores")
    # name ranks params
    for run in "1x$cores 1 params" "1x1 1 params_1thread" "${cores}x1 $cores params"; do
      set -- $run
      rm -rf "$work/model_${size}_$1"
      mpirun -n "$2" "$build/fluxrecon" train --model xgboost --samples "$work/samples_$size" \
        --params "$work/$3.yaml" --out "$work/model_${size}_$1" >/dev/null
    done
    /usr/bin/python3 - "$py" "$work" "$size" "$cores" "$pass" <<'PY'
import json, sys
py, work, size, cores, p = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
n, nv = py["train_samples"], py["validation_samples"]
print(f"| {n} | {p} | python3-xgboost | 1 x {cores} | {py['boosting_s']:.2f} | "
      f"{nv/py['predict_s']:.0f} (DMatrix), {nv/py['inplace_predict_s']:.0f} (inplace) | "
      f"{py['validation_mse']:.4f} | 1 | |")
runs = {name: json.load(open(f"{work}/model_{size}_{name}/xgboost_summary.json"))
        for name in (f"1x{cores}", "1x1", f"{cores}x1")}
one = runs["1x1"]["seconds"]["boosting"]
for name, s in runs.items():
    t = s["seconds"]
    ranks, threads = name.split("x")
    print(f"| {n} | {p} | fluxrecon | {ranks} x {threads} | {t['boosting']:.2f} "
          f"(eval {t['evaluation_in_boosting']:.2f}) | "
          f"{s['validation_samples']/t['predict_validation']:.0f} | {s['validation_mse']:.4f} | "
          f"{py['boosting_s']/t['boosting']:.2f}x | {one/t['boosting']:.2f}x |")
PY
  done
done
