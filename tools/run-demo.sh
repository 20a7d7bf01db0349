#!/usr/bin/env bash
# The main job on the embedded default data, with 2 MPI ranks: installs
# everything, builds, generates the synthetic testbed (inputs/testbed.yaml)
# prepares training, validation and test sets from it and trains XGBoost and
# the MLP (both distributed over the ranks; OMP_NUM_THREADS=1 per rank).
# Output goes to ${1:-out/demo}.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/out/demo}"
ranks="${FLUXRECON_RANKS:-2}"
"$root/tools/build.sh"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
bin="${FLUXRECON_BUILD_DIR:-$root/build}/fluxrecon"
mpirun -n "$ranks" "$bin" synth --config "$root/inputs/testbed.yaml" --out "$out/data"
mpirun -n "$ranks" "$bin" prepare --config "$root/inputs/testbed.yaml" --data-dir "$out/data" --out "$out/samples"
mpirun -n "$ranks" "$bin" train --model xgboost --samples "$out/samples" \
  --params "$root/inputs/models/xgboost_gbtree.yaml" --out "$out/models"
mpirun -n "$ranks" "$bin" train --model mlp --samples "$out/samples" \
  --params "$root/inputs/models/mlp.yaml" --out "$out/models"
echo "demo: inputs in $out/data, sample stores in $out/samples, models in $out/models"
