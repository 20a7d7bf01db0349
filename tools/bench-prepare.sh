#!/usr/bin/env bash
# Benchmark of `fluxrecon prepare` on one ORCA025-size synthetic year
# (1442 x 1021 x 12 months, every variable, ORCA halo and north fold):
# the training set of that year with every ocean location (fraction 1), at 1
# and at 2 ranks, side by side with a plain single read of all variables of
# the same file (tools/bench_read.cpp). Reports samples/s, read MB/s, the
# ratio to the plain read, the 2-rank speed-up and the peak memory per rank
# against its share of the data. Usage: tools/bench-prepare.sh [WORKDIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/fluxrecon-bench-prepare}"
build="${FLUXRECON_BUILD_DIR:-$root/build}"
"$root/tools/build.sh" >/dev/null
command -v /usr/bin/time >/dev/null || { echo "bench-prepare: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1
mkdir -p "$work"

# The ORCA025-size testbed: one experiment, one year, all locations.
/usr/bin/python3 - "$root/inputs/testbed.yaml" "$work/orca025.yaml" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r"  experiment_2:\n.*\n.*\n", "", s)
for old, new in [("nx: 90", "nx: 1442"), ("ny: 45", "ny: 1021"), ("first_year: 1958", "first_year: 2000"),
                 ("last_year: 1967", "last_year: 2000"), ("seed: 42\ngrid:", "seed: 42\n  orca_halo: true\ngrid:"),
                 ("train: [1958, 1962]", "train: [2000, 2000]"), ("validation: [1963, 1964]", "validation: [2000, 2000]"),
                 ("test: [1965, 1967]", "test: [2000, 2000]"), ("fraction: 0.25", "fraction: 1.0")]:
    assert old in s, old
    s = s.replace(old, new)
open(sys.argv[2], "w").write(s)
PY
file="$work/data/testbed_experiment_1_2000.nc"
[ -f "$file" ] || mpirun -n 2 "$build/fluxrecon" synth --config "$work/orca025.yaml" --out "$work/data"
size=$(stat -c %s "$file")

# This machine's page cache is reclaimed in the background, so every run is
# preceded by its own plain read of the file, and each configuration runs
# three times, alternating; medians are reported.
reps="${FLUXRECON_BENCH_REPS:-3}"
: > "$work/baseline.jsonl"
for rep in $(seq 1 "$reps"); do
  for np in 1 2; do
    rm -rf "$work/out$np.$rep"; sync
    "$build/bench_read" "$file" >> "$work/baseline.jsonl"
    rm -f "$work/rss$np.$rep"
    # One line per rank, appended (O_APPEND keeps the ranks' lines whole).
    mpirun -n $np /usr/bin/time -a -o "$work/rss$np.$rep" -f "peak_rss_kb %M" "$build/fluxrecon" prepare --config "$work/orca025.yaml" \
      --data-dir "$work/data" --out "$work/out$np.$rep" --only train > "$work/prepare$np.$rep.log" 2>&1
  done
done

/usr/bin/python3 - "$work" "$size" "$reps" <<'PY'
import json, re, statistics, sys
work, size, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = statistics.median(json.loads(l)["MB_per_s"] for l in open(f"{work}/baseline.jsonl"))
rows = {}
for np in (1, 2):
    runs = []
    for rep in range(1, reps + 1):
        s = json.load(open(f"{work}/out{np}.{rep}/prepare_summary.json"))
        rss = [int(x) * 1024 for x in re.findall(r"peak_rss_kb (\d+)", open(f"{work}/rss{np}.{rep}").read())]
        t = s["timings_s"]
        runs.append(dict(total=t["total"], read=t["read"], file_reads=t["file_reads"], store=t["store_writes"],
                         samples=sum(x["samples"] for x in s["sets"]), bytes=s["bytes_read"], rss=max(rss)))
    rows[np] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    rows[np]["share"] = size / np
    rows[np]["totals"] = [round(r["total"], 2) for r in runs]
print(f"\nfile {size/1e6:.0f} MB; plain single read of all variables (median of {2*reps}): {base:.0f} MB/s")
print("| ranks | total s (median; runs) | of which HDF5 writes s | samples/s | read phase MB/s | file reads MB/s | file reads / plain read | peak RSS per rank | RSS / share |")
print("|---|---|---|---|---|---|---|---|---|")
for np, r in rows.items():
    read_mbs = r["bytes"] / 1e6 / r["read"]
    io_mbs = r["bytes"] / 1e6 / r["file_reads"]
    print(f"| {np} | {r['total']:.2f} ({', '.join(map(str, r['totals']))}) | {r['store']:.2f} | {r['samples']/r['total']:.0f} | {read_mbs:.0f} | "
          f"{io_mbs:.0f} | {io_mbs/base:.2f} | {r['rss']/2**20:.0f} MiB | {r['rss']/r['share']:.2f} |")
print(f"\n2 ranks vs 1 (medians): {rows[1]['total']/rows[2]['total']:.2f}x faster in total, "
      f"{rows[1]['read']/rows[2]['read']:.2f}x in the read phase")
PY
