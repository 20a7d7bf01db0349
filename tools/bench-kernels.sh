#!/usr/bin/env bash
# Neural inference kernels (issue 7) against OpenBLAS sgemm and PyTorch, one
# thread: for the seed's MLP (44-207-248-198-1), LSTM (3 x 128) and attention
# LSTM (256), and the GRU (3 x 128; no PyTorch column: torch_models.py has
# none), samples/s of the Kokkos kernels alone on random windows, their
# GFLOP/s and share of the sgemm rate measured in the same run, and PyTorch's
# inference samples/s (../shared/bench/torch_models.py bench, 1 thread) right
# after; for the MLP, the LSTM and the GRU also the optional bf16 path through oneDNN
# and its difference from float32. The whole comparison runs RUNS times (the machine is shared and noisy:
# compare within one run).
# Usage: tools/bench-kernels.sh [SAMPLES] [RUNS]   (default 200000 samples, 2 runs)
# Needs the bench_kernels target in $FLUXRECON_BUILD_DIR (default build/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
samples="${1:-200000}"
runs="${2:-2}"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
torch_bench="$root/../shared/bench/torch_models.py"
[ -f "$build/CMakeCache.txt" ] ||
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bench_kernels >"$build/bench_kernels.build.log" 2>&1 ||
  { echo "bench-kernels: building bench_kernels failed, see $build/bench_kernels.build.log" >&2; exit 1; }
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends python3-torch >/dev/null
fi
cores=$(nproc)  # before OMP_NUM_THREADS, which nproc honours
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), ${cores} cores;" \
  "arch: $(grep -m1 '^FLUXRECON_ARCH' "$build/CMakeCache.txt" | cut -d= -f2); commit $(git -C "$root" rev-parse --short HEAD)"
for run in $(seq 1 "$runs"); do
  "$build/bench_kernels" "$samples" 3 >"$out/kernels.json"
  : >"$out/torch.json"
  for model in mlp lstm attention_lstm; do
    # PyTorch's bench also trains over --n samples first; 20000 keeps that short.
    /usr/bin/python3 "$torch_bench" bench --model "$model" --threads 1 --n 20000 >>"$out/torch.json"
  done
  /usr/bin/python3 - "$out/kernels.json" "$out/torch.json" "$run" <<'PY'
import json, sys
kernels = [json.loads(l) for l in open(sys.argv[1])]
torch = {j["model"]: j for j in map(json.loads, open(sys.argv[2]))}
sgemm = kernels[0]["sgemm_gflops"]
print(f"\nrun {sys.argv[3]}: OpenBLAS sgemm 1024^3, 1 thread: {sgemm:.1f} GFLOP/s; "
      f"Kokkos {kernels[0]['kokkos']}; {kernels[1]['samples']} samples per model")
print("| model | FLOP/sample | kernel samples/s | kernel GFLOP/s | share of sgemm | PyTorch samples/s | PyTorch GFLOP/s (same count) | kernel / PyTorch |")
print("|---|---|---|---|---|---|---|---|")
f32 = {k["model"]: k for k in kernels[1:] if not k["model"].endswith("_bf16")}
for k in f32.values():
    f = k["flops_per_sample"]
    row = f"| {k['model']} | {f:.0f} | {k['samples_per_s']:.0f} | {k['gflops']:.1f} | {100 * k['share_of_sgemm']:.0f} % | "
    if k["model"] not in torch:  # the GRU: no PyTorch model in torch_models.py
        print(row + "- | - | - |")
        continue
    t = torch[k["model"]]["infer_samples_per_s"]
    print(row + f"{t:.0f} | {t * f / 1e9:.1f} | {k['samples_per_s'] / t:.2f}x |")
bf16 = [k for k in kernels[1:] if k["model"].endswith("_bf16")]
if bf16:
    print(f"\nOptional bf16 path (oneDNN; native bf16: {bf16[0]['native_bf16']}), same windows:")
    print("| model | samples/s | GFLOP/s | share of sgemm | vs float32 kernel | rms(bf16 - f32) / rms(f32) | max abs diff / max abs f32 |")
    print("|---|---|---|---|---|---|---|")
    for k in bf16:
        base = f32[k["model"][:-5]]
        print(f"| {k['model']} | {k['samples_per_s']:.0f} | {k['gflops']:.1f} | {100 * k['share_of_sgemm']:.0f} % | "
              f"{k['samples_per_s'] / base['samples_per_s']:.2f}x | {k['rel_rms_vs_f32']:.2g} | {k['max_diff_over_max_f32']:.2g} |")
PY
done
