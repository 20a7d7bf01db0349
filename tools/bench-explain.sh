#!/usr/bin/env bash
# fluxrecon explain: explained instances per second and model evaluations per
# explanation of every method (KernelSHAP for the MLP, TreeSHAP for XGBoost,
# TimeSHAP for the LSTM, TimeSHAP + attention scores for the attention LSTM)
# at 1 and 2 ranks, on the models and validation set of the demo pipeline
# (inputs/demo.yaml, trained once into WORKDIR/demo), and whether the outputs
# of 1 and 2 ranks are the same bytes.
# Usage: tools/bench-explain.sh [WORKDIR] [INSTANCES] [BACKGROUND] [KMEANS]
#        (defaults: 40 instances per model, 200 background samples, no k-means)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/fluxrecon-bench-explain}"
instances="${2:-40}"
background="${3:-200}"
kmeans="${4:-0}"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$work"
[ -f "$work/demo/models/xgboost.json" ] ||
  mpirun -n 2 "$build/fluxrecon" run --config "$root/inputs/demo.yaml" --out "$work/demo" >/dev/null

echo "| model | method | ranks | instances | seconds | instances/s | model evaluations per instance |"
echo "|---|---|---|---|---|---|---|"
for ranks in 1 2; do
  log=$(mpirun -n "$ranks" "$build/fluxrecon" explain --models "$work/demo/models" \
    --samples "$work/demo/samples" --out "$work/explain_$ranks" --instances "$instances" \
    --background "$background" --kmeans "$kmeans" --force)
  # "explain mlp: 40 instance(s) in 1.2 s (33 instances/s, 427201 model evaluations per instance) -> ..."
  echo "$log" | sed -n 's/^explain \([a-z_]*\): \([0-9]*\) instance(s) in \(.*\) (\([0-9.e+-]*\) instances\/s, \([0-9]*\) model evaluations per instance).*/\1;\2;\3;\4;\5/p' |
    while IFS=';' read -r model n seconds rate evals; do
      case "$model" in
        mlp) method="KernelSHAP" ;;
        xgboost | random_forest) method="TreeSHAP (C API)" ;;
        lstm | gru) method="TimeSHAP (3 levels)" ;;
        attention_lstm) method="TimeSHAP + attention" ;;
      esac
      echo "| $model | $method | $ranks | $n | $seconds | $rate | $evals |"
    done
done
same=yes
for f in "$work"/explain_1/*.csv "$work"/explain_1/*.nc; do
  cmp -s "$f" "$work/explain_2/$(basename "$f")" || { same=no; echo "differs: $(basename "$f")"; }
done
echo
echo "outputs of 1 and 2 ranks identical: $same"
