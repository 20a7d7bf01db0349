#!/usr/bin/env bash
# Benchmark of `fluxrecon reconstruct` (issue 7) on one ORCA025-size synthetic
# year (1442 x 1021, 12 months, ORCA halo and north fold; 1999 is written too
# for January's windows): for each seed-size model (MLP 207-248-198, LSTM
# 3 x 128, attention LSTM 256, XGBoost 400 trees of depth 14), at 1 and 2
# ranks, the whole stage (read, windows, predict, write the CDF-5 cache) and
# the prediction calls alone, in samples/s, from the run's own summary line.
# Each model runs at 1 then 2 ranks back to back (the machine may be shared:
# the 1-minute load average before each run is in the table); the input
# files are read once (cat) before each run, so that every run finds them in
# the page cache.
# The model files come from `fluxrecon train` on a small sample of 1999-2000
# (one epoch: the weights' values do not change the cost).
# Usage: tools/bench-reconstruct.sh [WORKDIR] [REGION] [MODELS]
#   REGION: global (default) or a smaller region to shorten the run;
#   MODELS: space-separated subset of "mlp lstm attention_lstm xgboost".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/fluxrecon-bench-reconstruct}"
region="${2:-global}"
models="${3:-mlp lstm attention_lstm xgboost}"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
[ -x "$build/fluxrecon" ] || { echo "bench-reconstruct: no $build/fluxrecon (set FLUXRECON_BUILD_DIR)" >&2; exit 1; }
cores=$(nproc)  # before OMP_NUM_THREADS, which nproc honours
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
mkdir -p "$work"

# The ORCA025-size testbed, 1999-2000, one experiment; training draws 0.2 %.
/usr/bin/python3 - "$root/inputs/testbed.yaml" "$work/orca025.yaml" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r"  experiment_2:\n.*\n.*\n", "", s)
for old, new in [("nx: 90", "nx: 1442"), ("ny: 45", "ny: 1021"), ("first_year: 1958", "first_year: 1999"),
                 ("last_year: 1967", "last_year: 2000"), ("seed: 42\ngrid:", "seed: 42\n  orca_halo: true\ngrid:"),
                 ("train: [1958, 1962]", "train: [1999, 1999]"), ("validation: [1963, 1964]", "validation: [2000, 2000]"),
                 ("test: [1965, 1967]", "test: [2000, 2000]"), ("fraction: 0.25", "fraction: 0.002")]:
    assert old in s, old
    s = s.replace(old, new)
open(sys.argv[2], "w").write(s)
PY
[ -f "$work/data/testbed_experiment_1_2000.nc" ] ||
  mpirun -n 2 "$build/fluxrecon" synth --config "$work/orca025.yaml" --out "$work/data" >"$work/synth.log"
[ -f "$work/samples/validation.h5" ] ||
  mpirun -n 2 "$build/fluxrecon" prepare --config "$work/orca025.yaml" --data-dir "$work/data" \
    --out "$work/samples" --only train validation >"$work/prepare.log"
for model in $models; do
  params="$work/$model.params.yaml"
  if [ "$model" = xgboost ]; then
    cp "$root/inputs/models/xgboost_gbtree.yaml" "$params"
  else
    sed -e 's/^epochs:.*/epochs: 1/' "$root/inputs/models/$model.yaml" >"$params"
  fi
  file="$work/models/$model.h5"
  [ "$model" = xgboost ] && file="$work/models/xgboost.json"
  [ -f "$file" ] ||
    mpirun -n 2 "$build/fluxrecon" train --model "$model" --samples "$work/samples" \
      --params "$params" --out "$work/models" >"$work/train_$model.log" 2>&1
done

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $cores cores," \
  "load $(cut -d' ' -f1-3 /proc/loadavg); binary $build/fluxrecon; checkout $(git -C "$root" rev-parse --short HEAD); region $region"
: >"$work/runs.txt"
for model in $models; do
  for np in 1 2; do
    log="$work/reconstruct_${model}_np$np.log"
    cat "$work"/data/testbed_experiment_1_*.nc >/dev/null  # every run starts with the inputs cached
    load=$(cut -d' ' -f1 /proc/loadavg)
    mpirun -n $np "$build/fluxrecon" reconstruct --config "$work/orca025.yaml" --data-dir "$work/data" \
      --models "$work/models" --model "$model" --experiment experiment_1 --region "$region" \
      --years 2000:2000 --out "$work/caches_np$np" --force >"$log" 2>&1
    echo "$np $model $load $(grep 'reconstruct: wrote' "$log") $(grep 'reconstruct: read ' "$log")" \
      >>"$work/runs.txt"
  done
done
/usr/bin/python3 - "$work/runs.txt" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    np, model, load, rest = line.split(" ", 3)
    d = r"(\d+h\d+m|\d+m\d+s|[\d.]+ s)"  # log::seconds: "12.3 s", "4m05s", "1h02m"
    m = re.search(r"in " + d + r": (\d+) windows, (\d+) samples/s overall, (\d+) samples/s in prediction; "
                  r"read " + d + r", write " + d, rest)
    if not m:
        print("unparsed:", line.strip()); continue
    def sec(t):
        if t.endswith(" s"): return float(t[:-2])
        a, b = re.match(r"(\d+)[hm](\d+)[ms]", t).groups()
        return (int(a) * 60 + int(b)) * (60 if t.endswith("m") else 1)
    b = re.search(r"reconstruct: read ([\d.]+) (B|KiB|MiB|GiB|TiB) of input", rest)
    scale = {"B": 2**-30, "KiB": 2**-20, "MiB": 2**-10, "GiB": 1.0, "TiB": 2**10}
    gib = f"{float(b[1]) * scale[b[2]]:.2f}" if b else "?"
    rows[(int(np), model)] = dict(total=sec(m[1]), samples=int(m[2]), overall=int(m[3]), predict=int(m[4]),
                                  read=sec(m[5]), write=sec(m[6]), load=load, gib=gib)
print("| model | ranks | load | windows | total s | read s | read GiB | write s | whole stage samples/s | prediction alone samples/s | prediction / whole | 2 ranks / 1 (whole) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for (np, model), r in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    one = rows.get((1, model))
    speedup = f"{r['overall'] / one['overall']:.2f}x" if np == 2 and one else ""
    print(f"| {model} | {np} | {r['load']} | {r['samples']} | {r['total']:.1f} | {r['read']:.1f} | {r['gib']} | {r['write']:.1f} | {r['overall']} | "
          f"{r['predict']} | {r['predict'] / r['overall']:.2f} | {speedup} |")
PY
