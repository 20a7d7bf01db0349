#!/usr/bin/env bash
# Installs everything, builds with warnings as errors and runs the whole test
# suite (unit, MPI at 1 and 2 ranks, integration on ../shared/data when present).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/build.sh" -DFLUXRECON_WERROR=ON -DFLUXRECON_TESTS=ON
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
cd "${FLUXRECON_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" "$@"
