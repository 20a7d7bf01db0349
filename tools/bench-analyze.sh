#!/usr/bin/env bash
# fluxrecon analyze on a folder of caches at 1 and 2 ranks, back to back:
# time reading + reducing the caches vs drawing the figures and the report.
#   tools/bench-analyze.sh CACHES_DIR [WORK_DIR]
# ORCA025-size caches come from tools/bench-reconstruct.sh (WORK/caches_np1).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
caches="${1:?usage: tools/bench-analyze.sh CACHES_DIR [WORK_DIR]}"
work="${2:-/tmp/fr-bench-analyze}"
bin="${FLUXRECON_BUILD_DIR:-$root/build}/fluxrecon"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$work"
echo "commit $(git -C "$root" rev-parse --short HEAD), caches: $(ls "$caches"/*.nc | wc -l) in $caches"
for ranks in 1 2; do
  echo "ranks $ranks, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  mpirun -n "$ranks" "$bin" analyze --caches "$caches" --out "$work/np$ranks" --force \
    >"$work/analyze_np$ranks.log" 2>&1
  grep "^analyze: read" "$work/analyze_np$ranks.log"
done
for f in metrics.csv annual_means.csv seasonal_cycle.csv; do
  cmp -s "$work/np1/$f" "$work/np2/$f" && echo "$f: identical at 1 and 2 ranks" ||
    { echo "$f differs between 1 and 2 ranks"; exit 1; }
done
