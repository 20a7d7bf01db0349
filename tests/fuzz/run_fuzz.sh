#!/usr/bin/env bash
# Runs one target of fuzz_inputs (tests/fuzz/fuzz_inputs.cpp) for a fixed
# number of inputs from a fixed seed, so a CI run is bounded and repeatable.
# Seeds: the project's own inputs of that kind (and a small netCDF file and
# sample store that the target writes). A finding fails the test and leaves
# the input as fuzz-<target>-crash-* (or -timeout-, -oom-) in the working
# folder: rerun it with `FLUXRECON_FUZZ_TARGET=<target> fuzz_inputs FILE`.
# Usage: run_fuzz.sh TARGET FUZZ_INPUTS SOURCE_DIR [RUNS]
set -u
target="$1"; bin="$2"; src="$3"; runs="${4:-20000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
corpus="$work/corpus"
mkdir -p "$corpus"
max_len=8192
case "$target" in
  dataset | run) cp "$src"/inputs/*.yaml "$corpus/" ;;
  model) cp "$src"/inputs/models/*.yaml "$corpus/" ;;
  space) cp "$src"/inputs/tune/*.yaml "$corpus/" ;;
  meta) find "$src/inputs/tiles" -name '*.yaml' -exec cp {} "$corpus/" \; ;;
  netcdf | store) export FLUXRECON_FUZZ_WRITE_SEEDS="$corpus"; max_len=65536 ;;
  *) echo "unknown fuzz target '$target'"; exit 2 ;;
esac
# Open MPI's own signal handlers would hide libFuzzer's (and its artifacts).
export OMPI_MCA_opal_signal=""
# HDF5 asks malloc for absurd sizes read from damaged headers and handles the
# NULL it gets; under ASan that request would otherwise count as a finding.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"
echo "fuzz:$target: $runs inputs, seed ${FLUXRECON_FUZZ_SEED:-1}, from $(ls "$corpus" | wc -l) seed file(s) (netcdf, store: the target writes its own)"
FLUXRECON_FUZZ_TARGET="$target" "$bin" -runs="$runs" -seed="${FLUXRECON_FUZZ_SEED:-1}" -max_len="$max_len" -timeout=20 \
  -rss_limit_mb=2048 -detect_leaks=0 -print_final_stats=1 \
  -artifact_prefix="$PWD/fuzz-$target-" "$corpus" 2>&1 | tail -40
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && echo "fuzz:$target: no finding" || echo "fuzz:$target: FINDING (exit $rc)"
exit "$rc"
