#!/usr/bin/env bash
# Sampler quality (issue 20): fluxrecon's TPE (default, as Optuna 3.1; and with
# the normalised truncated-normal density of Optuna >= 3.5) and random search against Debian's python3-optuna
# 3.1 TPESampler with the same budget, on Branin (2-D), Hartmann-6 and a noisy
# function with a categorical and a conditional parameter. For each, the best
# value after each checkpoint over SEEDS seeds; prints a markdown table of the
# mean and median (bench/RESULTS.md, "tune: TPE against Optuna").
# Usage: tools/bench-tune.sh [TRIALS] [SEEDS]   (default 50,100 trials, 20 seeds)
# Needs the bench_tune target in $FLUXRECON_BUILD_DIR (default build/), or an
# executable named by BENCH_TUNE_BIN.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
trials="${1:-50,100}"
seeds="${2:-20}"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
bin="${BENCH_TUNE_BIN:-}"
if [ -z "$bin" ]; then
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target bench_tune >"$build/bench_tune.build.log" 2>&1 ||
    { echo "bench-tune: building bench_tune failed, see $build/bench_tune.build.log" >&2; exit 1; }
  bin="$build/bench_tune"
fi
if ! /usr/bin/python3 -c "import optuna" 2>/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends python3-optuna >/dev/null
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
start=$(date +%s)
"$bin" --trials "$trials" --seeds "$seeds" >"$out/fluxrecon.csv"
mid=$(date +%s)
/usr/bin/python3 "$root/tools/bench_tune.py" optuna --trials "$trials" --seeds "$seeds" >"$out/optuna.csv"
end=$(date +%s)
echo "tools/bench-tune.sh $trials $seeds: fluxrecon $((mid - start)) s (3 samplers), Optuna $(/usr/bin/python3 -c 'import optuna; print(optuna.__version__)') $((end - mid)) s"
echo
/usr/bin/python3 "$root/tools/bench_tune.py" table "$out/optuna.csv" "$out/fluxrecon.csv"
