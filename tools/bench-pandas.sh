#!/usr/bin/env bash
# fluxrecon prepare against the seed's own pandas method
# (../shared/bench/pandas_prepare.py: per-location groupby and row windows) on
# the same real files: 10 years of ../shared/data/bling30 (1961-1970), the
# same location fraction, one core each, and fluxrecon at 2 ranks too.
# Usage: tools/bench-pandas.sh [FRACTION] (default 0.25)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
frac="${1:-0.25}"
data="$root/../shared/data/bling30"
script="$root/../shared/bench/pandas_prepare.py"
[ -d "$data" ] && [ -f "$script" ] || { echo "bench-pandas: needs $data and $script" >&2; exit 1; }
build="${FLUXRECON_BUILD_DIR:-$root/build}"
"$root/tools/build.sh" >/dev/null
if ! /usr/bin/python3 -c "import pandas, netCDF4" 2>/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-pandas python3-netcdf4 >/dev/null
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
files=(); for y in $(seq 1961 1970); do files+=("$data/bling_2p8deg_$y.nc"); done

sed -e "s/^  fraction: .*/  fraction: $frac/" -e "s|^  directory: .*|  directory: $data|" \
    "$root/inputs/bling30.yaml" > "$work/bling30.yaml"
pandas=$(/usr/bin/python3 "$script" --frac "$frac" --var co2flux=fgco2 "${files[@]}")
echo "pandas: $pandas"
for np in 1 2; do
  mpirun -n $np "$build/fluxrecon" prepare --config "$work/bling30.yaml" --out "$work/out$np" --only train >/dev/null
done
/usr/bin/python3 - "$pandas" "$work" <<'PY'
import json, sys
p = json.loads(sys.argv[1])
print("| method | cores | samples | seconds | samples/s | speed-up vs pandas |")
print("|---|---|---|---|---|---|")
print(f"| pandas (seed) | 1 | {p['samples']} | {p['seconds_total']:.2f} | {p['samples_per_s']:.0f} | 1 |")
for np in (1, 2):
    s = json.load(open(f"{sys.argv[2]}/out{np}/prepare_summary.json"))
    n = sum(x["samples"] for x in s["sets"]); t = s["timings_s"]["total"]
    print(f"| fluxrecon prepare | {np} | {n} | {t:.3f} | {n/t:.0f} | {(n/t)/p['samples_per_s']:.0f}x |")
PY
