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
