#!/usr/bin/env bash
# Tile generation speed at 1 and 2 ranks on a synthetic LES set (16 scenes of
# 512 x 512 cells): regridded megapixels/s (GenerateRegriddedScenes: crop,
# bilinear regridding, netCDF + PNG) and tiles/s (GenerateTiles: 200 triplets
# of 64 x 64 tiles, nearest regridding, netCDF + PNG + YAML). The synthetic
# sources are made once and shared; each run starts from an empty dataset.
# Usage: tools/bench-tiles.sh [build-dir] [repeats]
set -euo pipefail
build="${1:-build}"; repeats="${2:-3}"
bin="$(cd "$build" && pwd)/fluxrecon"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1
cat > "$work/meta.yaml" <<'YAML'
source: LES
type: singlechannel__rlut
sampling:
  resolution: 100.0
  triplets: {N_triplets: {train: 160, study: 40}, tile_N: 64, neigh_dist_scaling: 1.0}
seed: 1
synthetic_les: {nx: 512, ny: 512, nt: 16, dx: 100.0, files: 4}
YAML
mkdir -p "$work/src"; cp "$work/meta.yaml" "$work/src/"
mpiexec -n 2 "$bin" -q tiles GenerateSceneIDs --meta "$work/src/meta.yaml" > /dev/null
summary() { grep "done:" "$1" | sed 's/.*done: //'; }
for r in $(seq 1 "$repeats"); do
  for np in 1 2; do
    d="$work/run_${np}_$r"; mkdir -p "$d/source_data/LES"
    cp "$work/meta.yaml" "$d/"
    ln -s "$work/src/source_data/LES/source_files" "$d/source_data/LES/source_files"
    mpiexec -n "$np" "$bin" tiles GenerateRegriddedScenes --meta "$d/meta.yaml" > "$d/regrid.log"
    mpiexec -n "$np" "$bin" tiles GenerateTiles --meta "$d/meta.yaml" > "$d/tiles.log"
    echo "repeat $r, $np rank(s): regrid: $(summary "$d/regrid.log")"
    echo "repeat $r, $np rank(s): tiles:  $(summary "$d/tiles.log")"
    rm -rf "$d"
  done
done
