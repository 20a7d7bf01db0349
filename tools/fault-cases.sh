#!/usr/bin/env bash
# Issue 14: runs a table of bad inputs and faults per stage at 2 ranks and
# prints, as a markdown table, what each did: exit code, first error line,
# temporary files left, and whether a rerun with the fault removed completes.
# Needs root for the full-disk cases (a small tmpfs); they show "skipped"
# without it. Usage: tools/fault-cases.sh [BUILD_DIR]   (default build/)
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
bin="$build/fluxrecon"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1
work="$(mktemp -d)"; disk="$work/disk"; mkdir -p "$disk"
trap 'umount "$disk" 2>/dev/null; rm -rf "$work"' EXIT
mpi() { timeout "${LIMIT:-120}" mpiexec -n 2 "$bin" "$@"; }

# --- a small testbed, its samples, models and caches ----------------------
sed -e 's/^  nx: 90/  nx: 36/' -e 's/^  ny: 45/  ny: 18/' -e 's/^  last_year: 1967/  last_year: 1963/' \
    -e 's/^  train: \[1958, 1962\]/  train: [1958, 1960]/' -e 's/^  validation: \[1963, 1964\]/  validation: [1961, 1961]/' \
    -e 's/^  test: \[1965, 1967\]/  test: [1962, 1963]/' -e 's/^  fraction: 0.25/  fraction: 0.5/' \
    "$root/inputs/testbed.yaml" > "$work/testbed.yaml"
cfg="$work/testbed.yaml"
mpi synth --config "$cfg" --out "$work/data" > /dev/null 2>&1
mpi prepare --config "$cfg" --data-dir "$work/data" --out "$work/samples" > /dev/null 2>&1
printf 'num_boost_round: 5\nmax_depth: 4\ncollective_timeout_sec: 5\n' > "$work/xgb.yaml"
printf 'hidden_dims: [8]\nepochs: 1\nbatch_size: 64\n' > "$work/mlp.yaml"
mpi train --model xgboost --samples "$work/samples" --params "$work/xgb.yaml" --out "$work/models" > /dev/null 2>&1
recon_args=(--config "$cfg" --data-dir "$work/data" --models "$work/models" --experiment experiment_1
            --region global --years 1962:1963)
mpi reconstruct "${recon_args[@]}" --out "$work/caches" > /dev/null 2>&1
[ -f "$work/caches/xgboost_global_experiment_1_1962.nc" ] || { echo "setup failed" >&2; exit 1; }

# A tool that overwrites one float of a sample store (for NaN/Inf cases).
poke=""
if command -v h5pcc > /dev/null; then
  cat > "$work/poke.c" << 'EOF'
#include <hdf5.h>
#include <stdlib.h>
int main(int argc, char** argv) {  /* poke FILE DATASET ROW VALUE: column 3 of ROW */
  if (argc != 5) return 2;
  hid_t f = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, argv[2], H5P_DEFAULT);
  hid_t s = H5Dget_space(d);
  int rank = H5Sget_simple_extent_ndims(s);
  hsize_t start[3] = {strtoull(argv[3], 0, 10), 0, rank == 3 ? 3 : 0}, count[3] = {1, 1, 1}, one = 1;
  H5Sselect_hyperslab(s, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t m = H5Screate_simple(1, &one, NULL);
  float v = strtof(argv[4], NULL);
  return H5Dwrite(d, H5T_NATIVE_FLOAT, m, s, H5P_DEFAULT, &v) < 0 || H5Fclose(f) < 0;
}
EOF
  h5pcc -o "$work/poke" "$work/poke.c" > /dev/null 2>&1 && poke="$work/poke"
fi

can_mount=0
mount -t tmpfs -o size=64k tmpfs "$disk" 2> /dev/null && { can_mount=1; umount "$disk"; }

echo "| stage | case | exit | first error line | temp files left | rerun completes |"
echo "|---|---|---|---|---|---|"
n=0
# row STAGE CASE RC LOG DIR RERUN
row() {
  local first temps
  first="$(grep -m1 -E "error|Error|ERROR|refus|cannot|does not exist" "$4" 2> /dev/null | cut -c1-150 | tr '|' '/')"
  [ -z "$first" ] && first="(none)"
  temps="$(find "$5" -name '.*.part-*' 2> /dev/null | wc -l)"
  echo "| $1 | $2 | $3 | \`${first//\`/\'}\` | $temps | $6 |"
  n=$((n + 1))
}
# bad STAGE CASE OUTDIR ARGS...: a bad input, nothing to rerun.
bad() {
  local stage="$1" name="$2" out="$3"; shift 3
  mpi "$@" > "$work/case.log" 2>&1
  row "$stage" "$name" $? "$work/case.log" "$out" "-"
}
# full STAGE CASE SIZE OUTDIR ARGS...: on a full disk of SIZE, then a rerun with room.
full() {
  local stage="$1" name="$2" size="$3" out="$4"; shift 4
  if [ $can_mount -eq 0 ]; then row "$stage" "$name" skipped /dev/null "$work/none" "(no tmpfs: needs root)"; return; fi
  umount "$disk" 2> /dev/null; mount -t tmpfs -o "size=$size" tmpfs "$disk"
  mpi "$@" > "$work/case.log" 2>&1
  local rc=$?
  local temps_dir="$disk"
  mount -o remount,size=256m "$disk"
  local left; left="$(find "$disk" -name '.*.part-*' | wc -l)"
  mpi "$@" > "$work/rerun.log" 2>&1
  local again=$?
  local first; first="$(grep -m1 -E "error|Error" "$work/case.log" | cut -c1-150 | tr '|' '/')"
  echo "| $stage | $name | $rc | \`${first:-(none)}\` | $left | $([ $again -eq 0 ] && echo yes || echo "no ($again)") |"
  n=$((n + 1))
  umount "$disk"
}
# killed STAGE CASE OUTDIR ARGS...: rank 1 killed (SIGKILL) after 1 s, then a rerun.
killed() {
  local stage="$1" name="$2" out="$3"; shift 3
  rm -rf "$out"
  mpi "$@" > "$work/case.log" 2>&1 &
  local job=$!
  sleep "${KILL_AFTER:-1}"
  local victim; victim="$(pgrep -f "$bin $1" | tail -1)"
  [ -n "$victim" ] && kill -9 "$victim"
  wait $job
  local rc=$?
  local left; left="$(find "$out" -name '.*.part-*' 2> /dev/null | wc -l)"
  mpi "$@" > "$work/rerun.log" 2>&1
  local again=$?
  local leftover; leftover="$(find "$out" -name '.*.part-*' 2> /dev/null | wc -l)"
  echo "| $stage | $name | $rc | (killed rank 1 at ${KILL_AFTER:-1} s) | $left, $leftover after the rerun | $([ $again -eq 0 ] && echo yes || echo "no ($again)") |"
  n=$((n + 1))
}
yaml() { sed -e "$1" "$cfg" > "$work/bad.yaml"; echo "$work/bad.yaml"; }

# --- synth -------------------------------------------------------------------
o="$work/o_synth"
bad synth "unknown key" "$o" synth --config "$(yaml 's/^  nx: 36/  nx: 36\n  nxx: 3/')" --out "$o"
bad synth "wrong type (nx: abc)" "$o" synth --config "$(yaml 's/^  nx: 36/  nx: abc/')" --out "$o"
bad synth "out of range (nx: -4)" "$o" synth --config "$(yaml 's/^  nx: 36/  nx: -4/')" --out "$o"
bad synth "missing config file" "$o" synth --config "$work/nowhere.yaml" --out "$o"
bad synth "YAML syntax error" "$o" synth --config "$(yaml 's/^  nx: 36/  nx: [36/')" --out "$o"
bad synth "output under /proc" "$o" synth --config "$cfg" --out /proc/fluxrecon_out
full synth "full disk" 1000k "$disk" synth --config "$cfg" --out "$disk/data"
killed synth "killed rank" "$o" synth --config "$cfg" --out "$o"

# --- prepare -----------------------------------------------------------------
o="$work/o_prep"
pargs=(--data-dir "$work/data" --out "$o")
bad prepare "unknown key" "$o" prepare --config "$(yaml 's/^  fraction: 0.5/  fraction: 0.5\n  fractoin: 1/')" "${pargs[@]}"
bad prepare "wrong type (fraction: half)" "$o" prepare --config "$(yaml 's/^  fraction: 0.5/  fraction: half/')" "${pargs[@]}"
bad prepare "fraction 0" "$o" prepare --config "$(yaml 's/^  fraction: 0.5/  fraction: 0/')" "${pargs[@]}"
bad prepare "fraction 2" "$o" prepare --config "$(yaml 's/^  fraction: 0.5/  fraction: 2/')" "${pargs[@]}"
bad prepare "period ends before it starts" "$o" prepare --config "$(yaml 's/^  train: \[1958, 1960\]/  train: [1960, 1958]/')" "${pargs[@]}"
bad prepare "train overlaps validation" "$o" prepare --config "$(yaml 's/^  train: \[1958, 1960\]/  train: [1958, 1961]/')" "${pargs[@]}"
bad prepare "missing data directory" "$o" prepare --config "$cfg" --data-dir "$work/nowhere" --out "$o"
bad prepare "unknown mask variable" "$o" prepare --config "$(yaml 's/^  mask: tmask/  mask: no_such_mask/')" "${pargs[@]}"
mkdir -p "$work/data_missing"; cp "$work/data"/*.nc "$work/data_missing/"; rm "$work/data_missing/testbed_experiment_1_1959.nc"
bad prepare "missing year file" "$o" prepare --config "$cfg" --data-dir "$work/data_missing" --out "$o"
mkdir -p "$work/data_trunc"; cp "$work/data"/*.nc "$work/data_trunc/"
truncate -s 20000 "$work/data_trunc/testbed_experiment_1_1959.nc"
bad prepare "truncated netCDF input" "$o" prepare --config "$cfg" --data-dir "$work/data_trunc" --out "$o"
mkdir -p "$work/data_empty"; cp "$work/data"/*.nc "$work/data_empty/"; : > "$work/data_empty/testbed_experiment_1_1959.nc"
bad prepare "empty netCDF input" "$o" prepare --config "$cfg" --data-dir "$work/data_empty" --out "$o"
mkdir -p "$work/data_text"; cp "$work/data"/*.nc "$work/data_text/"; echo "not netcdf" > "$work/data_text/testbed_experiment_1_1959.nc"
bad prepare "text file as netCDF" "$o" prepare --config "$cfg" --data-dir "$work/data_text" --out "$o"
full prepare "full disk" 3000k "$disk" prepare --config "$cfg" --data-dir "$work/data" --out "$disk/samples"
killed prepare "killed rank" "$o" prepare --config "$cfg" "${pargs[@]}"

# --- train -------------------------------------------------------------------
o="$work/o_train"
bad train "missing samples directory" "$o" train --model xgboost --samples "$work/nowhere" --out "$o"
printf 'colsample_by_tree: 0.5\n' > "$work/p_typo.yaml"
bad train "unknown XGBoost key" "$o" train --model xgboost --samples "$work/samples" --params "$work/p_typo.yaml" --out "$o"
printf 'max_depth: deep\n' > "$work/p_type.yaml"
bad train "wrong type (max_depth: deep)" "$o" train --model xgboost --samples "$work/samples" --params "$work/p_type.yaml" --out "$o"
printf 'hidden_dims: [8]\nnum_layers: 2\n' > "$work/p_other.yaml"
bad train "key of another model" "$o" train --model mlp --samples "$work/samples" --params "$work/p_other.yaml" --out "$o"
printf 'epochs: 0\n' > "$work/p_range.yaml"
bad train "out of range (epochs: 0)" "$o" train --model mlp --samples "$work/samples" --params "$work/p_range.yaml" --out "$o"
mkdir -p "$work/s_trunc"; cp "$work/samples"/{train,validation}.h5 "$work/s_trunc/"; truncate -s 50000 "$work/s_trunc/train.h5"
bad train "truncated train.h5" "$o" train --model xgboost --samples "$work/s_trunc" --params "$work/xgb.yaml" --out "$o"
mkdir -p "$work/s_text"; cp "$work/samples"/validation.h5 "$work/s_text/"; echo "no" > "$work/s_text/train.h5"
bad train "text file as train.h5" "$o" train --model xgboost --samples "$work/s_text" --params "$work/xgb.yaml" --out "$o"
if [ -n "$poke" ]; then
  for v in nan inf -inf; do
    mkdir -p "$work/s_$v"; cp "$work/samples"/{train,validation}.h5 "$work/s_$v/"
    "$poke" "$work/s_$v/train.h5" features 6000 "$v"
    bad train "$v feature, XGBoost" "$o" train --model xgboost --samples "$work/s_$v" --params "$work/xgb.yaml" --out "$o"
    bad train "$v feature, MLP" "$o" train --model mlp --samples "$work/s_$v" --params "$work/mlp.yaml" --out "$o"
  done
  mkdir -p "$work/s_tnan"; cp "$work/samples"/{train,validation}.h5 "$work/s_tnan/"
  "$poke" "$work/s_tnan/validation.h5" target 5 nan
  bad train "NaN target in validation.h5" "$o" train --model xgboost --samples "$work/s_tnan" --params "$work/xgb.yaml" --out "$o"
fi
FLUXRECON_INJECT_FAULT=xgboost_nan_rank0 bad train "NaN inside XGBoost on rank 0 (watchdog)" "$o" \
  train --model xgboost --samples "$work/samples" --params "$work/xgb.yaml" --out "$o"
mkdir -p "$work/m_trunc"; cp "$work/models"/* "$work/m_trunc/" 2> /dev/null
cp "$work/models"/.xgboost.json.seal "$work/m_trunc/" 2> /dev/null; truncate -s 100 "$work/m_trunc/xgboost.json"
mpi train --model xgboost --samples "$work/samples" --params "$work/xgb.yaml" --out "$work/m_trunc" > "$work/case.log" 2>&1
rc=$?; echo "| train | truncated model file, rerun without --force | $rc | \`$(grep -m1 -E "training|complete|error" "$work/case.log" | cut -c1-150)\` | $(find "$work/m_trunc" -name '.*.part-*' | wc -l) | $([ $rc -eq 0 ] && echo "yes (retrained)" || echo no) |"
n=$((n + 1))
full train "full disk, XGBoost" 16k "$disk" train --model xgboost --samples "$work/samples" --params "$work/xgb.yaml" --out "$disk/m"
full train "full disk, MLP" 12k "$disk" train --model mlp --samples "$work/samples" --params "$work/mlp.yaml" --out "$disk/m"
KILL_AFTER=2 killed train "killed rank, XGBoost" "$o" train --model xgboost --samples "$work/samples" --params "$work/xgb.yaml" --out "$o"

# --- reconstruct ---------------------------------------------------------------
o="$work/o_recon"
bad reconstruct "missing models directory" "$o" reconstruct --config "$cfg" --data-dir "$work/data" --models "$work/nowhere" --experiment experiment_1 --region global --years 1962:1963 --out "$o"
bad reconstruct "years reversed" "$o" reconstruct "${recon_args[@]/1962:1963/1963:1962}" --out "$o"
bad reconstruct "year without input file" "$o" reconstruct "${recon_args[@]/1962:1963/1990:1990}" --out "$o"
bad reconstruct "unknown region" "$o" reconstruct "${recon_args[@]/global/Atlantis}" --out "$o"
bad reconstruct "unknown experiment" "$o" reconstruct "${recon_args[@]/experiment_1/experiment_9}" --out "$o"
bad reconstruct "truncated netCDF input" "$o" reconstruct --config "$cfg" --data-dir "$work/data_trunc" --models "$work/models" --experiment experiment_1 --region global --years 1959:1959 --out "$o"
mkdir -p "$work/m_trunc_only"; head -c 100 "$work/models/xgboost.json" > "$work/m_trunc_only/xgboost.json"
bad reconstruct "truncated model file" "$o" reconstruct --config "$cfg" --data-dir "$work/data" --models "$work/m_trunc_only" --experiment experiment_1 --region global --years 1962:1963 --out "$o"
full reconstruct "full disk" 100k "$disk" reconstruct "${recon_args[@]}" --out "$disk/caches"
mkdir -p "$work/c_damaged"; cp -a "$work/caches/." "$work/c_damaged/"
printf '\0\0\0\0' | dd of="$work/c_damaged/xgboost_global_experiment_1_1963.nc" bs=1 seek=30000 conv=notrunc 2> /dev/null
mpi reconstruct "${recon_args[@]}" --out "$work/c_damaged" > "$work/case.log" 2>&1
rc=$?; echo "| reconstruct | cache damaged after completion, rerun | $rc | \`$(grep -m1 "reconstruct: wrote" "$work/case.log" | cut -c1-120)\` | $(find "$work/c_damaged" -name '.*.part-*' | wc -l) | $(grep -q "wrote 1 cache(s) (1 already complete)" "$work/case.log" && echo "yes (redone)" || echo no) |"
n=$((n + 1))
killed reconstruct "killed rank" "$o" reconstruct "${recon_args[@]}" --out "$o"

# --- analyze ---------------------------------------------------------------------
o="$work/o_an"
bad analyze "missing caches directory" "$o" analyze --caches "$work/nowhere" --out "$o"
mkdir -p "$work/c_empty"
bad analyze "empty caches directory" "$o" analyze --caches "$work/c_empty" --out "$o"
mkdir -p "$work/c_trunc"; cp "$work/caches"/*.nc "$work/c_trunc/"; truncate -s 5000 "$work/c_trunc/xgboost_global_experiment_1_1963.nc"
bad analyze "truncated cache" "$o" analyze --caches "$work/c_trunc" --out "$o"
bad analyze "years without caches" "$o" analyze --caches "$work/caches" --years 1990:1991 --out "$o"
full analyze "full disk" 200k "$disk" analyze --caches "$work/caches" --out "$disk/analysis"
killed analyze "killed rank" "$o" analyze --caches "$work/caches" --out "$o"

echo
echo "$n cases."
