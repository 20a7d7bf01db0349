#!/usr/bin/env bash
# How far 2 ranks can scale neural training on this machine: for each model,
# EPOCHS epochs (default 1) of the seed's configuration
#   alone : 1 rank, the machine otherwise idle;
#   pair  : two independent 1-rank trainings at the same time, one per core
#           (no MPI between them): what two processes get from the two cores'
#           shared caches and memory bandwidth, i.e. the ceiling of data
#           parallelism here;
#   np2   : mpirun -n 2 (bound to cores), the data-parallel run.
# Prints samples/s and the ratios pair/alone (ceiling) and np2/alone (reached),
# REPEATS times, interleaved so that the ratios share the machine's state.
# With EPOCHS > 1 the first epoch (primitive creation, first touch of the
# buffers) is left out of the rates.
# Needs the sample stores of tools/bench-train.sh (WORKDIR/samples).
# Usage: tools/bench-train-scaling.sh [WORKDIR] [REPEATS] [MODELS] [EPOCHS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/fluxrecon-bench-train}"
repeats="${2:-2}"
models="${3:-mlp lstm attention_lstm}"
epochs="${4:-1}"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
[ -f "$work/samples/train.h5" ] || {
  echo "bench-train-scaling: $work/samples/train.h5 is missing; run tools/bench-train.sh $work first" >&2
  exit 1
}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
run_dir="$work/scaling"
rm -rf "$run_dir"
mkdir -p "$run_dir"

rate() {  # losses csv -> mean samples/s over its epochs, the first left out when there are more
  /usr/bin/python3 -c "import csv,sys; r=[float(x['samples_per_second']) for x in csv.DictReader(open(sys.argv[1]))]; r=r[1:] or r; print(sum(r)/len(r))" "$1"
}
train() {  # model, params, out dir (1 rank)
  "$build/fluxrecon" --quiet train --model "$1" --samples "$work/samples" --params "$2" --out "$3" --force >/dev/null
}

printf "%-15s %3s %6s %10s %10s %10s %10s %8s %8s\n" model rep load alone pair_a pair_b np2 ceiling reached
for rep in $(seq 1 "$repeats"); do
  for m in $models; do
    p="$run_dir/params_$m.yaml"
    { grep -v -E "^(epochs|patience):" "$root/inputs/models/$m.yaml"; echo "epochs: $epochs"; echo "patience: 100"; } > "$p"
    load=$(cut -d' ' -f1 /proc/loadavg)
    d="$run_dir/$m.$rep"
    taskset -c 0 bash -c "$(declare -f train); build='$build' work='$work'; train $m $p $d/alone"
    taskset -c 0 bash -c "$(declare -f train); build='$build' work='$work'; train $m $p $d/pair_a" &
    a=$!
    taskset -c 1 bash -c "$(declare -f train); build='$build' work='$work'; train $m $p $d/pair_b" &
    b=$!
    wait $a $b
    mpirun -n 2 --bind-to core "$build/fluxrecon" --quiet train --model "$m" --samples "$work/samples" \
      --params "$p" --out "$d/np2" --force >/dev/null
    s1=$(rate "$d/alone/${m}_losses.csv")
    sa=$(rate "$d/pair_a/${m}_losses.csv")
    sb=$(rate "$d/pair_b/${m}_losses.csv")
    s2=$(rate "$d/np2/${m}_losses.csv")
    /usr/bin/python3 -c "import sys; m,r,l=sys.argv[1:4]; s1,sa,sb,s2=map(float,sys.argv[4:]); print(f'{m:<15} {r:>3} {l:>6} {s1:10.0f} {sa:10.0f} {sb:10.0f} {s2:10.0f} {(sa+sb)/s1:7.2f}x {s2/s1:7.2f}x')" \
      "$m" "$rep" "$load" "$s1" "$sa" "$sb" "$s2"
  done
done
