# Shared by the CLI test scripts (sourced after `bin` and `mpiexec` are set):
# MPI as root, run2 (the binary at 2 ranks) and check NAME CONDITION... that
# counts passes and failures.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
run2() { "$mpiexec" -n 2 "$bin" "$@"; }
passed=0; failed=0
check() {  # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}
# small_testbed OUT [REGIONS]: the testbed on a coarse grid over 6 years (train
# 1958-1960, validate 1961, test 1962-1963) for quick pipelines; REGIONS
# replaces its test_regions list (e.g. "global, North_Atlantic").
small_testbed() {
  local regions=()
  [ $# -ge 2 ] && regions=(-e "s/^  test_regions: .*/  test_regions: [$2]/")
  sed -e 's/^  nx: 90/  nx: 36/' -e 's/^  ny: 45/  ny: 18/' -e 's/^  last_year: 1967/  last_year: 1963/' \
      -e 's/^  train: \[1958, 1962\]/  train: [1958, 1960]/' -e 's/^  validation: \[1963, 1964\]/  validation: [1961, 1961]/' \
      -e 's/^  test: \[1965, 1967\]/  test: [1962, 1963]/' -e 's/^  fraction: 0.25/  fraction: 0.5/' \
      "${regions[@]}" "$src/inputs/testbed.yaml" > "$1"
}
