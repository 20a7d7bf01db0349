#!/usr/bin/env bash
# Runs one target of fuzz_inputs (tests/fuzz/fuzz_inputs.cpp) for a fixed
# number of inputs from a fixed seed, so a CI run is bounded and repeatable.
# Seeds: the project's own inputs of that kind (and a small netCDF file and
# sample store that the target writes), plus tests/fuzz/known/TARGET-*: the
# inputs of earlier findings. A finding fails the test and leaves
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
rss_mb=2048
case "$target" in
  dataset | run) cp "$src"/inputs/*.yaml "$corpus/" ;;
  model) cp "$src"/inputs/models/*.yaml "$corpus/" ;;
  space) cp "$src"/inputs/tune/*.yaml "$corpus/" ;;
  meta) find "$src/inputs/tiles" -name '*.yaml' -exec cp {} "$corpus/" \; ;;
  netcdf) export FLUXRECON_FUZZ_WRITE_SEEDS="$corpus"; max_len=65536 ;;
  # Each input opens a store through MPI-IO, and the process grows by about
  # 350 KB per open inside Open MPI and HDF5 (LeakSanitizer finds no leak of
  # ours; a store is opened a handful of times per real run): at most 5,000
  # inputs per process, under a larger memory limit.
  store) export FLUXRECON_FUZZ_WRITE_SEEDS="$corpus"; max_len=65536
         rss_mb=4096; [ "$runs" -gt 5000 ] && runs=5000 ;;
  *) echo "unknown fuzz target '$target'"; exit 2 ;;
esac
# Inputs that once found something are replayed first, every run.
for known in "$src"/tests/fuzz/known/"$target"-*; do
  [ -e "$known" ] && cp "$known" "$corpus/"
done
# Open MPI's own signal handlers would hide libFuzzer's (and its artifacts).
export OMPI_MCA_opal_signal=""
# HDF5 asks malloc for absurd sizes read from damaged headers and handles the
# NULL it gets; under ASan that request would otherwise count as a finding.
# The over-read inside libhdf5 on damaged attribute messages is the library's
# (tests/fuzz/hdf5_overread.supp says why; the test suite runs without it).
# A smaller quarantine of freed memory (use after free is still found within
# 64 MB of frees) so that it does not count 256 MB against the memory limit.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1:quarantine_size_mb=64:suppressions=$src/tests/fuzz/hdf5_overread.supp"
echo "fuzz:$target: $runs inputs, seed ${FLUXRECON_FUZZ_SEED:-1}, from $(ls "$corpus" | wc -l) seed file(s) (netcdf, store: the target writes its own)"
FLUXRECON_FUZZ_TARGET="$target" "$bin" -runs="$runs" -seed="${FLUXRECON_FUZZ_SEED:-1}" -max_len="$max_len" -timeout=20 \
  -rss_limit_mb="$rss_mb" -detect_leaks=0 -print_final_stats=1 \
  -artifact_prefix="$PWD/fuzz-$target-" "$corpus" 2>&1 | tail -40
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && echo "fuzz:$target: no finding" || echo "fuzz:$target: FINDING (exit $rc)"
exit "$rc"
