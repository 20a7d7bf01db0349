#!/usr/bin/env bash
# Two builds of fluxrecon side by side in one run (this VM's speed drifts, so
# only ratios within one run are compared): tools/bench-reconstruct.sh with
# each build in turn, REPS times, alternating, on the same inputs and models.
# Usage: tools/bench-reconstruct-ab.sh OLD_BUILD NEW_BUILD [WORKDIR] [REGION] [MODELS] [REPS]
#   e.g. tools/bench-reconstruct-ab.sh /work/build-old build /tmp/fr-bench-recon North_Atlantic
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
old="${1:?old build directory}"
new="${2:?new build directory}"
work="${3:-/tmp/fluxrecon-bench-reconstruct}"
region="${4:-global}"
models="${5:-mlp lstm attention_lstm xgboost}"
reps="${6:-2}"
for rep in $(seq 1 "$reps"); do
  for which in old new; do
    dir="$old"
    [ "$which" = new ] && dir="$new"
    echo "=== $which ($dir) rep $rep, $region"
    FLUXRECON_BUILD_DIR="$dir" "$root/tools/bench-reconstruct.sh" "$work" "$region" "$models"
  done
done
