#!/usr/bin/env bash
# The pipeline on a private one-node SLURM (tools/slurm-local): a small
# pipeline submitted as a chain of jobs by tools/submit-pipeline.sh (train
# jobs in parallel, reconstruct as an array over years) and, beside it, as one
# job through jobscripts/run.sbatch (fluxrecon run). Both end with the report,
# and their models and caches are equal. Time limits: the MLP's train job gets
# SLURM's warning signal mid-training (sent by the test, as SLURM does it,
# for a test that does not depend on SLURM's 30 s timer): it requeues itself,
# the next attempt resumes from the checkpoint, the chain goes on and the
# model equals the uninterrupted one; and a job of tools/slurm-stage.sh that
# runs past a real 1-minute limit is warned by SLURM, requeued and completes.
# A dry run submits nothing; a jobscript without a binary names the path it
# tried. Skips (77) without SLURM's binaries or root. Always stops its SLURM.
# Usage: test_slurm.sh FLUXRECON MPIEXEC SOURCE_DIR (KEEP=1 keeps the work folder).
set -u
bin="$1"; mpiexec="$2"; src="$3"
for b in sbatch squeue scontrol slurmctld slurmd munged; do
  if ! command -v "$b" > /dev/null; then
    echo "skip: '$b' not found (tools/install-deps.sh installs slurm-wlm and munge)"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "skip: tools/slurm-local needs root (slurmd and munged run as root)"
  exit 77
fi
bin="$(realpath "$bin")"
# A short path: munged's socket lives under it.
work="$(mktemp -d /tmp/fr-slurm.XXXXXX)"; echo "work: $work"
cleanup() {
  "$src/tools/slurm-local/stop.sh" "$work/slurm" || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # a stopped test stops its SLURM too
. "$(dirname "$0")/cli_lib.sh"
export OMP_NUM_THREADS=1
started=$SECONDS

# 8 declared CPUs on this (maybe 2-core) machine: both pipelines' 2-rank jobs
# run at once, oversubscribed; a requeued job may start again after 11 s.
SLURM_LOCAL_CPUS=8 SLURM_LOCAL_CRED_EXPIRE=10 "$src/tools/slurm-local/start.sh" "$work/slurm" > "$work/start.log" 2>&1
rc=$?
check "slurm-local starts" test $rc -eq 0
if [ $rc -ne 0 ]; then cat "$work/start.log"; exit 1; fi
. "$work/slurm/env.sh"
check "the node is idle" sh -c "sinfo -h -o %t | grep -qx idle"

# The testbed of test_run.sh (a 6-year coarse grid, test years 1962-1963).
small_testbed "$work/testbed.yaml" "global, North_Atlantic"
# The MLP trains for 10 s or more (0.1 s per epoch at 2 ranks on 2 idle
# cores), long enough to be warned mid-training; the others are tiny.
cat > "$work/pipeline.yaml" <<EOF
dataset: testbed.yaml
output: out
synthesize: true
models:
  mlp: {overrides: {hidden_dims: [128, 128], epochs: 100, patience: 1000, batch_size: 64}}
  lstm: {overrides: {hidden_dim: 8, num_layers: 1, epochs: 1, batch_size: 64}}
  xgboost:
    params: $src/inputs/models/xgboost_gbtree.yaml
    overrides: {num_boost_round: 8, max_depth: 4}
reconstruct:
  experiments: [experiment_1]
analyze:
  map_months: [1]
EOF

# A dry run prints every sbatch command and writes nothing.
"$src/tools/submit-pipeline.sh" "$work/pipeline.yaml" "$work/dry" --bin "$bin" --dry-run \
  > "$work/dry.out" 2> "$work/dry.err"
rc=$?
check "dry run exits 0" test $rc -eq 0
check "dry run prints 7 sbatch commands" test "$(grep -c '^sbatch ' "$work/dry.out")" -eq 7
check "dry run: reconstruct is an array over the 2 years" grep -q -- "--array=0-1 .*--year-groups 1962:1962\\\\,1963:1963" "$work/dry.out"
check "dry run: the train jobs wait for prepare" test "$(grep -c -- '--job-name=fluxrecon-train.*--dependency=afterok:JOB_prepare ' "$work/dry.out")" -eq 3
check "dry run writes nothing" test ! -e "$work/dry"
check "dry run submits nothing" test -z "$(squeue -h)"
check "dry run: every job is warned before its limit and requeueable" \
  test "$(grep -c -- '--requeue --signal=B:USR1@300 ' "$work/dry.out")" -eq 7

# A real time limit: a job of slurm-stage.sh with submit-pipeline.sh's
# options whose "stage" outlasts its 1-minute limit on the first attempt and
# ends at once on the second (a stand-in for fluxrecon, using no CPU).
cat > "$work/slow_stage.sh" <<EOF
#!/bin/bash
n=\$(( \$(cat "$work/slow_stage.count" 2> /dev/null || echo 0) + 1 ))
echo \$n > "$work/slow_stage.count"
echo "slow stage: attempt \$n"
[ \$n -ge 2 ] || sleep 600
EOF
chmod +x "$work/slow_stage.sh"
limit_job="$(sbatch --parsable --job-name=limit --time=1 --ntasks=1 --requeue --signal=B:USR1@20 \
  --open-mode=append --output="$work/limit.out" --export="ALL,FLUXRECON_BIN=$work/slow_stage.sh" \
  "$src/tools/slurm-stage.sh" --max-requeues 2 -- train)"

# The reference: the whole pipeline in one job (fluxrecon run at 2 ranks).
FLUXRECON_BIN="$bin" sbatch --wait --parsable --nodes=1 --ntasks-per-node=2 --time=15 \
  --output="$work/run_sbatch.out" "$src/jobscripts/run.sbatch" "$work/pipeline.yaml" "$work/ref" \
  > "$work/run_sbatch.id" 2>&1 &
run_pid=$!

# The chain: 2 ranks per stage as the reference (training depends on the rank
# count). Once the MLP has a checkpoint, its job gets SLURM's warning.
"$src/tools/submit-pipeline.sh" "$work/pipeline.yaml" "$work/sub" --bin "$bin" --ranks 2 \
  --time 15 --years-per-task 1 --wait > "$work/submit.out" 2> "$work/submit.err" &
submit_pid=$!
mlp_job="" warned=0
for _ in $(seq 1500); do
  [ -n "$mlp_job" ] || mlp_job="$(awk -F'\t' '$1 == "train mlp" {print $2}' "$work/sub/slurm/jobs.tsv" 2> /dev/null)"
  if [ -n "$mlp_job" ] && [ -f "$work/sub/models/mlp_checkpoint.h5" ]; then
    scancel --batch --signal=USR1 "$mlp_job" && warned=1
    break
  fi
  kill -0 $submit_pid 2> /dev/null || break
  sleep 0.2
done
check "the MLP's job got the warning mid-training" test $warned -eq 1
wait $submit_pid
rc=$?
check "submit-pipeline --wait exits 0" test $rc -eq 0
[ $rc -eq 0 ] || tail -n 20 "$work/submit.err"
wait $run_pid
rc=$?
check "sbatch --wait run.sbatch exits 0" test $rc -eq 0
[ $rc -eq 0 ] || tail -n 20 "$work/run_sbatch.out"
echo "both pipelines done after $((SECONDS - started)) s"

sub="$work/sub" ref="$work/ref"
check "the chain's report exists" test -s "$sub/analysis/index.html"
check "run.sbatch's report exists" test -s "$ref/analysis/index.html"
check "jobs.tsv lists synth, prepare, 3 train, reconstruct, analyze" test "$(wc -l < "$sub/slurm/jobs.tsv")" -eq 7
check "one log per array task" test "$(ls "$sub"/slurm/logs/reconstruct-*_[01].out 2> /dev/null | wc -l)" -eq 2
check "the same caches" test "$(cd "$sub/caches" && ls *.nc)" = "$(cd "$ref/caches" && ls *.nc)"
check "3 models x 2 regions x 2 years" test "$(ls "$sub"/caches/*.nc | wc -l)" -eq 12
# Equal content: the output folders' names and the model files' checksums
# (the files name their folders) aside.
same_nc() {
  cmp -s <(ncdump "$sub/caches/$1" | sed -e "s#$sub#OUT#g" -e '/model_file_checksum/d') \
         <(ncdump "$ref/caches/$1" | sed -e "s#$ref#OUT#g" -e '/model_file_checksum/d')
}
for f in "$ref"/caches/*.nc; do
  check "cache $(basename "$f") equals run.sbatch's" same_nc "$(basename "$f")"
done
same_h5() {
  cmp -s <(h5dump "$sub/models/$1" | sed -e "s#$sub#OUT#g" -e 1d -e '/STRSIZE/d') \
         <(h5dump "$ref/models/$1" | sed -e "s#$ref#OUT#g" -e 1d -e '/STRSIZE/d')
}
check "the resumed MLP equals the uninterrupted one" same_h5 mlp.h5
check "the LSTMs are equal" same_h5 lstm.h5
check "the XGBoost models are equal" cmp -s <(sed "s#$sub#OUT#g" "$sub/models/xgboost.json") <(sed "s#$ref#OUT#g" "$ref/models/xgboost.json")

# The MLP's job requeued itself when warned, resumed and completed.
mlp_log="$(ls "$sub"/slurm/logs/train-mlp-*.out 2> /dev/null | head -n 1)"
check "the MLP's job requeued itself" grep -q "time limit near: requeueing job $mlp_job" "$mlp_log"
check "its next attempt resumed training" grep -q "^train mlp: resuming after epoch [1-9]" "$mlp_log"
check "it completed" grep -q "job $mlp_job: fluxrecon train complete" "$mlp_log"
check "SLURM counts its restarts" sh -c "scontrol show job $mlp_job | grep -q 'Restarts=[1-9]'"
check "SLURM says COMPLETED" sh -c "scontrol show job $mlp_job | grep -q 'JobState=COMPLETED'"
echo "MLP job: $(grep -c 'attempt [0-9]' "$mlp_log") attempt(s)"

# The job past its real time limit: warned by SLURM, requeued, completed.
while [ -n "$(squeue -h -j "$limit_job" 2> /dev/null)" ]; do sleep 1; done
check "SLURM warned the job near its limit and it requeued itself" grep -q "time limit near: requeueing job $limit_job (requeue 1 of 2)" "$work/limit.out"
check "its second attempt completed" grep -q "job $limit_job: fluxrecon train complete" "$work/limit.out"
check "SLURM says COMPLETED after 1 restart" sh -c "scontrol show job $limit_job | grep -q 'JobState=COMPLETED' &&
  scontrol show job $limit_job | grep -q 'Restarts=1'"

# A jobscript that finds no binary names the path and the variables.
(cd "$work" && env -u FLUXRECON_BIN FLUXRECON_ROOT="$work/nowhere" bash "$src/jobscripts/prepare.sbatch" a b) > "$work/nobin.log" 2>&1
rc=$?
check "a jobscript without a binary exits non-zero" test $rc -ne 0
check "it names the path and the variables" grep -q "binary not found at '$work/nowhere/build/fluxrecon'; set FLUXRECON_BIN .* or FLUXRECON_ROOT" "$work/nobin.log"

# stop.sh ends every daemon and job process of this SLURM and may run twice.
"$src/tools/slurm-local/stop.sh" "$work/slurm" > "$work/stop.log" 2>&1
check "stop.sh exits 0" test $? -eq 0
check "no daemon of it is left" sh -c "! ps -eo args | grep -v grep | grep -q '$work/slurm/'"
"$src/tools/slurm-local/stop.sh" "$work/slurm" > "$work/stop2.log" 2>&1
check "stop.sh twice is safe" sh -c "test $? -eq 0 && grep -q 'nothing running' '$work/stop2.log'"

echo "$passed passed, $failed failed ($((SECONDS - started)) s)"
test "$failed" -eq 0
