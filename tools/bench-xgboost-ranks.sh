#!/usr/bin/env bash
# When do more ranks pay for XGBoost? Distributed hist training allreduces the
# gradient histograms of every node at every level (bins x features x nodes),
# whatever the rows per rank; this times ROUNDS rounds of each variant at 1
# and at 2 ranks (1 thread each, one right after the other, so that the ratio
# is taken under the same load) and prints boosting time, the 2-rank speed-up
# and the validation MSE of each.
# Usage: tools/bench-xgboost-ranks.sh SAMPLES_DIR [WORKDIR] [ROUNDS]
#   SAMPLES_DIR: a folder of fluxrecon prepare (train.h5, validation.h5)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
samples="${1:?usage: bench-xgboost-ranks.sh SAMPLES_DIR [WORKDIR] [ROUNDS]}"
work="${2:-/tmp/fluxrecon-bench-xgboost-ranks}"
rounds="${3:-40}"
bin="${FLUXRECON_BUILD_DIR:-$root/build}/fluxrecon"
[ -x "$bin" ] || "$root/tools/build.sh" >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1
mkdir -p "$work"
# name|overrides of inputs/models/xgboost_gbtree.yaml
variants=(
  "seed (hist, 256 bins, depth 14)|"
  "64 bins|max_bin: 64"
  "32 bins|max_bin: 32"
  "depth 8|max_depth: 8"
  "lossguide, 256 leaves|grow_policy: lossguide\nmax_leaves: 256"
  "approx|tree_method: approx"
)
echo "| variant | 1 rank (s) | 2 ranks (s) | 2-rank speed-up | validation MSE 1 / 2 ranks |"
echo "|---|---|---|---|---|"
for v in "${variants[@]}"; do
  name="${v%%|*}"; extra="${v#*|}"
  key=$(echo "$name" | tr -c 'a-z0-9' '_')
  params="$work/$key.yaml"
  grep -v -e '^num_boost_round:' -e '^#' "$root/inputs/models/xgboost_gbtree.yaml" |
    grep -v -e "^$(printf '%b' "$extra" | cut -d: -f1 | head -1):" > "$params"
  printf 'num_boost_round: %s\n%b\n' "$rounds" "$extra" >> "$params"
  row="| $name"; mses=""
  for np in 1 2; do
    out="$work/$key/np$np"
    rm -rf "$out"; mkdir -p "$work/$key"
    mpirun -n "$np" "$bin" --quiet train --model xgboost --params "$params" --samples "$samples" \
      --out "$out" > "$out.log" 2>&1 || { echo "failed: $name at $np rank(s), see $out.log" >&2; exit 1; }
    secs=$(/usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['seconds']['boosting'], j['validation_mse'])" "$out/xgboost_summary.json")
    t[$np]=${secs% *}; mses="$mses${mses:+ / }$(printf '%.4f' "${secs#* }")"
    row="$row | $(printf '%.1f' "${t[$np]}")"
  done
  echo "$row | $(/usr/bin/python3 -c "print(f'{${t[1]}/${t[2]}:.2f}x')") | $mses |"
done
