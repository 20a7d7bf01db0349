#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer,
# plus the libFuzzer targets (tests/fuzz: every YAML schema and the netCDF and
# HDF5 header paths, a bounded seeded run each), in a Clang build of its own
# (build-sanitize/, or $FLUXRECON_SANITIZE_BUILD_DIR).
# Extra arguments go to ctest (e.g. -L fuzz, -R np1:).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export CC=clang CXX=clang++
export FLUXRECON_BUILD_DIR="${FLUXRECON_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
# -O1: the sanitizers' usual trade of speed for exact reports.
"$root/tools/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DFLUXRECON_SANITIZE=address-undefined -DFLUXRECON_FUZZ=ON -DFLUXRECON_TESTS=ON -DFLUXRECON_WERROR=OFF
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# Every sanitizer report fails its test (the defaults are in
# src/core/sanitize_options.hpp; leak checks are off for Open MPI's globals).
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$FLUXRECON_BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" "$@"
