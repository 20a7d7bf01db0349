#!/usr/bin/env bash
# `fluxrecon train --model xgboost` at 2 ranks when one rank stops in the
# middle of training: stopped (SIGSTOP: alive but silent, its sockets open) or
# killed (SIGKILL). The job must end with a non-zero exit within a bounded
# time (collective_timeout_sec: 3), and a survivor must name a stopped rank.
# Usage: test_xgboost_lost_rank.sh FLUXRECON MPIEXEC SOURCE_DIR
set -u
bin="$1"; mpiexec="$2"; src="$3"
work="$(mktemp -d)"
pids_to_clean=()
cleanup() {
  for p in "${pids_to_clean[@]}"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
. "$(dirname "$0")/cli_lib.sh"
export OMP_NUM_THREADS=1
timeout_s=3
bound_s=20  # loose: the timeout, then MPI_Abort and mpirun ending the other rank

sed -e 's/^  nx: 90/  nx: 36/' -e 's/^  ny: 45/  ny: 18/' -e 's/^  last_year: 1967/  last_year: 1961/' \
    -e 's/^  train: \[1958, 1962\]/  train: [1958, 1960]/' -e 's/^  validation: \[1963, 1964\]/  validation: [1961, 1961]/' \
    -e 's/^  test: \[1965, 1967\]/  test: [1961, 1961]/' -e 's/^  fraction: 0.25/  fraction: 0.5/' \
    "$src/inputs/testbed.yaml" > "$work/testbed.yaml"
"$mpiexec" -n 2 "$bin" synth --config "$work/testbed.yaml" --out "$work/data" > "$work/synth.log" 2>&1 &&
  "$mpiexec" -n 2 "$bin" prepare --config "$work/testbed.yaml" --data-dir "$work/data" \
    --out "$work/samples" --only train --only validation > "$work/prepare.log" 2>&1
check "sample store prepared" test -f "$work/samples/train.h5" -a -f "$work/samples/validation.h5"
# Many rounds: the job cannot finish before the signal.
printf 'num_boost_round: 100000\nmax_depth: 6\nbooster: gbtree\ncollective_timeout_sec: %s\n' \
  "$timeout_s" > "$work/xgb.yaml"

rank_pid() {  # rank_pid MPIEXEC_PID RANK: the process of that rank among mpiexec's children
  local p
  for p in $(pgrep -P "$1"); do
    if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
      echo "$p"; return 0
    fi
  done
  return 1
}

# lose NAME RANK SIGNAL: trains $model with $params, sends SIGNAL to RANK once
# the log shows $marker, and records the exit status in $rc and the seconds
# from signal to exit in $took.
model=xgboost; params="$work/xgb.yaml"; marker="round 11/"
lose() {
  local name="$1" rank="$2" signal="$3" log="$work/$1.log"
  "$mpiexec" -n 2 "$bin" --log-all-ranks train --model "$model" --samples "$work/samples" \
    --params "$params" --out "$work/model_$name" > "$log" 2>&1 &
  local job=$!
  pids_to_clean+=("$job")
  local waited=0
  until grep -q "$marker" "$log" 2>/dev/null; do
    sleep 0.2; waited=$((waited + 1))
    if [ $waited -gt 600 ] || ! kill -0 "$job" 2>/dev/null; then
      echo "training did not reach '$marker':"; tail -5 "$log"; rc=-1; took=-1; return
    fi
  done
  local victim
  victim=$(rank_pid "$job" "$rank") || { echo "no process for rank $rank"; rc=-1; took=-1; return; }
  pids_to_clean+=("$victim")
  local t0; t0=$(date +%s.%N)
  kill "-$signal" "$victim"
  local ticks=0
  while kill -0 "$job" 2>/dev/null && [ $ticks -lt $((bound_s * 20 + 200)) ]; do
    sleep 0.05; ticks=$((ticks + 1))
  done
  took=$(echo "$(date +%s.%N) - $t0" | bc)
  if kill -0 "$job" 2>/dev/null; then
    echo "HANG: job still running $took s after $signal of rank $rank"; rc=-2
    kill -CONT "$victim"; kill -KILL "$job"; wait "$job" 2>/dev/null
    return
  fi
  wait "$job"; rc=$?
  echo "$name: exit $rc, ${took} s after SIGSTOP/SIGKILL"
  grep -m2 "error" "$log"
}

lose stop_rank1 1 STOP
check "stopped rank 1: non-zero exit" test "$rc" -gt 0
check "stopped rank 1: ends within $bound_s s" test "$(echo "$took < $bound_s" | bc)" = 1
check "stopped rank 1: rank 0 names it" grep -q \
  "training stopped on rank 0 (host .*) in XGBoost[A-Za-z]* (round [0-9]*): rank 1 (host .*) sent nothing for $timeout_s s" \
  "$work/stop_rank1.log"
check "XGBoost's 'got new rank' lines are silenced" sh -c "! grep -q 'got new rank' '$work/stop_rank1.log'"

# Rank 0 also runs the tracker: stopping it must not block rank 1 either.
lose stop_rank0 0 STOP
check "stopped rank 0: non-zero exit" test "$rc" -gt 0
check "stopped rank 0: ends within $bound_s s" test "$(echo "$took < $bound_s" | bc)" = 1
check "stopped rank 0: rank 1 names it" grep -q \
  "training stopped on rank 1 (host .*): rank 0 (host .*) sent nothing for $timeout_s s" \
  "$work/stop_rank0.log"

# A dead rank: mpirun ends the job; whoever is first says so.
lose kill_rank1 1 KILL
check "killed rank 1: non-zero exit" test "$rc" -gt 0
check "killed rank 1: ends within $bound_s s" test "$(echo "$took < $bound_s" | bc)" = 1
check "killed rank 1: named in the output" grep -Eq \
  "rank 1 \(host .*\) closed its connection|rank 1 .*(exited|killed|signal)" "$work/kill_rank1.log"

# The neural trainer's gradient allreduce has no timeout of MPI's own: its
# watchdog ends the job and names the waiting rank and its host, and the
# neighbour whose heartbeats stopped (the stopped rank).
model=mlp; params="$work/mlp.yaml"; marker="train mlp: epoch 2/"
printf 'hidden_dims: [16, 16]\nepochs: 100000\npatience: 100000\nbatch_size: 16\ncollective_timeout_sec: %s\n' \
  "$timeout_s" > "$params"
lose mlp_stop_rank1 1 STOP
check "mlp, stopped rank 1: non-zero exit" test "$rc" -gt 0
check "mlp, stopped rank 1: ends within $bound_s s" test "$(echo "$took < $bound_s" | bc)" = 1
# (Rank 1 stops wherever it is: rank 0 then waits in the gradient allreduce or,
# less often, in the validation exchange; both are watched.)
check "mlp, stopped rank 1: rank 0 says which exchange it waited in" grep -Eq \
  "error on rank 0 \(host .*\): train mlp waited [0-9]+ s in the (gradient allreduce|validation exchange) of epoch" \
  "$work/mlp_stop_rank1.log"
check "mlp, stopped rank 1: rank 0 names rank 1 as its silent neighbour" grep -q \
  "error on rank 0 (host .*): train mlp waited .*; its neighbour rank 1 (host .*) silent for [0-9]* s: that rank died, stalled or lost its network" \
  "$work/mlp_stop_rank1.log"

echo "$passed passed, $failed failed"
test $failed -eq 0
