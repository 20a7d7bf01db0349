#!/usr/bin/env bash
# Issue 16, several hosts: 2 and 3 "hosts" as Linux network namespaces on
# this machine (tools/netns-hosts.sh; mpirun runs in a head namespace fr-h0
# and starts each host's daemon through tools/netns-rsh.sh, no ssh), so MPI's
# TCP transport, the XGBoost tracker's address and collective file I/O run
# across addresses 10.77.0.K. Checks: synth, prepare, train mlp, train
# xgboost and reconstruct across 2 hosts equal a one-host run at 2 ranks;
# train xgboost across 3 hosts equals one host at 3 ranks, its tracker on a
# host address; a host cut off mid-training (its link down) ends the job,
# non-zero, within a bound, and a survivor names the lost rank's host.
# Skipped (77) without root or `ip netns`. Tears everything down on exit.
# About 1.5 minutes on 2 loaded cores (setup 0.5 s; synth across 2 hosts
# 12-50 s against ~1 s on one host, XGBoost across 3 hosts ~7 s, the cut-off
# cases ~10 s and ~15 s after the cut). Uses fixed names fr-h*, fr-br0 and
# 10.77.0.0/24: one run per machine at a time (RUN_SERIAL in ctest).
# Usage: test_hosts.sh FLUXRECON MPIEXEC SOURCE_DIR (KEEP=1 keeps the work folder)
set -u
bin="$1"; mpiexec="$2"; src="$3"
hosts="$src/tools/netns-hosts.sh"
if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
if ! ip netns list > /dev/null 2>&1 || ! ip netns add fr-probe 2> /dev/null; then
  echo "skipped: 'ip netns' is not available here"; exit 77
fi
ip netns del fr-probe
work="$(mktemp -d)"
cleanup() { "$hosts" down; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 143' TERM INT
. "$(dirname "$0")/cli_lib.sh"
export OMP_NUM_THREADS=1
echo "work: $work"
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

# on_hosts N ARGS...: fluxrecon (or $prog) on hosts 1..N, one rank each.
on_hosts() {
  local n="$1" k list="" prog="${prog:-$bin}"; shift
  for k in $(seq 1 "$n"); do list="$list${list:+,}10.77.0.$k:1"; done
  ip netns exec fr-h0 "$mpiexec" --host "$list" -n "$n" --mca plm_rsh_agent "$src/tools/netns-rsh.sh" \
    --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
    "$prog" "$@"
}
one_host() { local n="$1"; shift; "$mpiexec" -n "$n" "$bin" "$@"; }

small_testbed "$work/testbed.yaml"
printf 'num_boost_round: 8\nmax_depth: 4\n' > "$work/xgb.yaml"
printf 'hidden_dims: [16, 8]\nepochs: 2\nbatch_size: 32\n' > "$work/mlp.yaml"
stages=(synth prepare train_mlp train_xgboost reconstruct)
stage_args() {
  case "$1" in
    synth) echo "synth --config ../testbed.yaml --out data" ;;
    prepare) echo "prepare --config ../testbed.yaml --data-dir data --out samples" ;;
    train_mlp) echo "train --model mlp --params ../mlp.yaml --samples samples --out models" ;;
    train_xgboost) echo "train --model xgboost --params ../xgb.yaml --samples samples --out models" ;;
    reconstruct) echo "reconstruct --config ../testbed.yaml --data-dir data --models models --model all" \
                      "--experiment experiment_1 --region global --years 1962:1963 --out caches" ;;
  esac
}
# File contents as test_kill.sh compares them (HDF5 object times, timings,
# absolute folders, also in xgboost.json's metadata, and the model checksum
# that covers them aside).
content() {
  case "$1" in
    *_summary.json | *_losses.csv | *_loss.png | *_checkpoint.h5) echo "(not compared)" ;;
    *.h5) h5dump "$1" | tail -n +2 | grep -v STRSIZE | sed 's#"directory":"[^"]*"#"directory":""#g' ;;
    *.nc) ncdump "$1" | tail -n +2 | grep -v model_file_checksum ;;
    *.json) sed 's#\\"directory\\":\\"[^\\]*\\"#(directory)#g' "$1" ;;
    *) cat "$1" ;;
  esac
}
same_outputs() {  # same_outputs DIR_A DIR_B OUTPUT...
  local a="$1" b="$2" o f bad=0; shift 2
  for o in "$@"; do
    for f in $(cd "$a/$o" && find . -type f ! -name '.*' | sort); do
      [ -f "$b/$o/$f" ] || { echo "  missing: $b/$o/$f"; bad=1; continue; }
      cmp -s <(cd "$a" && content "$o/$f") <(cd "$b" && content "$o/$f") || { echo "  differs: $o/$f"; bad=1; }
    done
  done
  return $bad
}

# One host, 2 ranks: the reference.
mkdir -p "$work/one2" "$work/hosts2"
for s in "${stages[@]}"; do
  t0=$(now); (cd "$work/one2" && one_host 2 $(stage_args "$s")) > "$work/one2_$s.log" 2>&1
  check "one host, 2 ranks: $s" test $? -eq 0; echo "  $(since "$t0") s"
done

t0=$(now); "$hosts" up 3; check "3 hosts up" test $? -eq 0; echo "  setup $(since "$t0") s"
check "3 hosts: one rank in each namespace, named fr-h1..fr-h3" \
  test "$(prog=sh on_hosts 3 -c 'echo "$(hostname) $(ip -o -4 addr show scope global | awk "{print \$4}")"' | sort | tr '\n' ' ')" \
  = "fr-h1 10.77.0.1/24 fr-h2 10.77.0.2/24 fr-h3 10.77.0.3/24 "
for s in "${stages[@]}"; do
  t0=$(now); (cd "$work/hosts2" && on_hosts 2 --log-all-ranks $(stage_args "$s")) > "$work/hosts2_$s.log" 2>&1
  check "2 hosts: $s" test $? -eq 0; echo "  $(since "$t0") s"
done
check "2 hosts: the XGBoost tracker on host 1's address" \
  grep -q "^\[1\] XGBoost collective: 2 workers, rabit tracker at 10\.77\.0\.1:[0-9]*$" "$work/hosts2_train_xgboost.log"
check "2 hosts: outputs equal one host's" same_outputs "$work/one2" "$work/hosts2" data samples models caches

# 3 hosts, 3 ranks: XGBoost (a tree and a ring across three addresses).
mkdir -p "$work/one3/models" "$work/hosts3/models"
ln -s ../one2/samples "$work/one3/samples"; ln -s ../one2/samples "$work/hosts3/samples"
t0=$(now); (cd "$work/one3" && one_host 3 $(stage_args train_xgboost)) > "$work/one3.log" 2>&1
check "one host, 3 ranks: train xgboost" test $? -eq 0; echo "  $(since "$t0") s"
t0=$(now); (cd "$work/hosts3" && on_hosts 3 --log-all-ranks $(stage_args train_xgboost)) > "$work/hosts3.log" 2>&1
check "3 hosts: train xgboost" test $? -eq 0; echo "  $(since "$t0") s"
check "3 hosts: the tracker on host 1's address" \
  grep -q "^\[2\] XGBoost collective: 3 workers, rabit tracker at 10\.77\.0\.1:[0-9]*$" "$work/hosts3.log"
check "3 hosts: the model equals one host's at 3 ranks" \
  cmp -s "$work/one3/models/xgboost.json" "$work/hosts3/models/xgboost.json"

# Host 2 cut off (link down) in the middle of XGBoost training at 2 hosts.
timeout_s=3
bound_s=30  # the collective timeout, then mpirun giving up on host 2's daemon (tcp_retries2 4: ~6 s)
printf 'num_boost_round: 100000\nmax_depth: 6\nbooster: gbtree\ncollective_timeout_sec: %s\n' "$timeout_s" > "$work/xgb_long.yaml"
(cd "$work/hosts2" && exec timeout -s KILL 300 bash -c "$(declare -f on_hosts); mpiexec='$mpiexec' src='$src' bin='$bin' \
  on_hosts 2 --log-all-ranks train --model xgboost --params ../xgb_long.yaml --samples samples --out models_cut") \
  > "$work/cut.log" 2>&1 &
job=$!
waited=0
until grep -q "round 11/" "$work/cut.log" 2>/dev/null; do
  sleep 0.2; waited=$((waited + 1))
  if [ $waited -gt 600 ] || ! kill -0 "$job" 2>/dev/null; then echo "training did not reach round 11:"; tail -5 "$work/cut.log"; break; fi
done
t0=$(now)
"$hosts" cut 2
ticks=0
while kill -0 "$job" 2>/dev/null && [ $ticks -lt $((bound_s * 10 + 100)) ]; do sleep 0.1; ticks=$((ticks + 1)); done
took=$(since "$t0")
if kill -0 "$job" 2>/dev/null; then echo "HANG: job still running $took s after the cut"; kill -KILL "$job"; fi
wait "$job"; rc=$?
echo "cut off: exit $rc, $took s after host 2's link went down"
grep -m1 "error" "$work/cut.log"
check "host cut off: non-zero exit" test "$rc" -gt 0 -a "$rc" -ne 137
check "host cut off: ends within $bound_s s" test "$(echo "$took < $bound_s" | bc)" = 1
check "host cut off: host 1 names host 2" grep -q \
  "training stopped on rank 0 (host fr-h1) in XGBoost[A-Za-z]* (round [0-9]*): rank 1 (host fr-h2) sent nothing for $timeout_s s" \
  "$work/cut.log"

# The same for neural training: MPI_Allreduce has no timeout of its own; the
# trainer's watchdog (collective_timeout_sec) ends the job naming the rank and
# host that waited and, from the neighbours' heartbeats, the host cut off.
# (Then, as above, mpirun waits for the lost host's daemon
# until TCP gives up: tcp_retries2 4 in the namespaces.)
"$hosts" up 2 > /dev/null
printf 'hidden_dims: [16, 8]\nepochs: 100000\nbatch_size: 32\ncollective_timeout_sec: %s\n' \
  "$timeout_s" > "$work/mlp_long.yaml"
(cd "$work/hosts2" && exec timeout -s KILL 120 bash -c "$(declare -f on_hosts); mpiexec='$mpiexec' src='$src' bin='$bin' \
  on_hosts 2 --log-all-ranks train --model mlp --params ../mlp_long.yaml --samples samples --out models_mlp_cut") \
  > "$work/cut_mlp.log" 2>&1 &
job=$!
for _ in $(seq 1 300); do grep -q "epoch 3/" "$work/cut_mlp.log" 2>/dev/null && break; kill -0 "$job" 2>/dev/null || break; sleep 0.2; done
t0=$(now); "$hosts" cut 2
wait "$job"; rc=$?
took=$(since "$t0")
echo "neural training, host 2 cut off: exit $rc, $took s after the cut (137: still running at 120 s)"
grep -E "error|failed|timed out" "$work/cut_mlp.log" | head -3
check "neural, host cut off: non-zero exit" test "$rc" -gt 0 -a "$rc" -ne 137
check "neural, host cut off: ends within $bound_s s" test "$(echo "$took < $bound_s" | bc)" = 1
check "neural, host cut off: a rank on fr-h1 says which exchange it waited in" grep -Eq \
  "error on rank 0 \(host fr-h1\): train mlp waited [0-9]+ s in the (gradient allreduce|validation exchange)" "$work/cut_mlp.log"
check "neural, host cut off: rank 0 names rank 1 on fr-h2 as silent" grep -q \
  "error on rank 0 (host fr-h1): train mlp waited .*; its neighbour rank 1 (host fr-h2) silent for [0-9]* s" \
  "$work/cut_mlp.log"

echo "$passed passed, $failed failed"
test "$failed" -eq 0
