#!/usr/bin/env bash
# Configures and builds fluxrecon into build/ (after installing dependencies).
# The demo and the tests share this one configuration (warnings as errors,
# test suites configured), so that neither rebuilds what the other built;
# FLUXRECON_BUILD_TARGETS (e.g. "fluxrecon") limits what is built.
# Extra arguments go to cmake, e.g. -DFLUXRECON_SANITIZE=address-undefined.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/install-deps.sh"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DFLUXRECON_WERROR=ON -DFLUXRECON_TESTS=ON "$@"
elif [ $# -gt 0 ]; then
  cmake "$build" "$@"
fi
targets=()
for t in ${FLUXRECON_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
