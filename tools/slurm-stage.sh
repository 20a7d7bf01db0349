#!/bin/bash
# One stage of a pipeline as a SLURM job: the job script that
# tools/submit-pipeline.sh submits (read that script's header first).
#   sbatch [--signal=B:USR1@LEAD --requeue --open-mode=append ...] tools/slurm-stage.sh \
#          [--max-requeues N] [--year-groups A:B,C:D,...] [--stale-caches MODELS CACHES m1,m2] \
#          [--force-if-stale MODELS EXPLAIN m1,m2] [--fresh-start MODELS MODEL] \
#          -- SUBCOMMAND [fluxrecon options...]
# It runs `srun fluxrecon SUBCOMMAND ...` and requeues itself when SLURM's
# warning signal (USR1, --signal=B:USR1@LEAD) says the time limit is near:
# every stage skips its complete outputs and training resumes from its last
# checkpoint, so the requeued job (same job id: the jobs that depend on it
# keep waiting) goes on where this one stopped. At most --max-requeues times
# (SLURM_RESTART_COUNT counts them); after that the job ends TIMEOUT and the
# jobs after it are cancelled.
# The binary: FLUXRECON_BIN, else $FLUXRECON_ROOT/build/fluxrecon, else
# $SLURM_SUBMIT_DIR/build/fluxrecon (the script itself runs from SLURM's
# spool folder, so its own path says nothing about the repository).
# Array jobs (--year-groups): task i reconstructs the i-th group of years,
# which replaces @YEARS@ in the fluxrecon options.
set -euo pipefail
log() { echo "slurm-stage [$(date '+%F %T')] $*"; }
die() { echo "slurm-stage: error: $*" >&2; exit 1; }

# SLURM's warning may come at any time (with a short limit even before the
# step starts), so its handler is set first: a step that finished needs
# nothing; else the job is requeued and this attempt ends.
job="${SLURM_JOB_ID:-none}"
[ -n "${SLURM_ARRAY_TASK_ID:-}" ] && job="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
attempt=$(( ${SLURM_RESTART_COUNT:-0} + 1 ))
max_requeues=3 step="" requeued=0
near_time_limit() {
  if [ -n "$step" ] && ! kill -0 "$step" 2>/dev/null; then return 0; fi
  if [ "$attempt" -le "$max_requeues" ]; then
    log "time limit near: requeueing job $job (requeue $attempt of $max_requeues); the next attempt resumes"
    if scontrol requeue "$job"; then
      requeued=1
      [ -n "$step" ] || exit 0  # nothing started: SLURM ends this attempt
    else
      log "scontrol requeue $job failed: the job will end TIMEOUT; submit the stage again"
    fi
  else
    log "time limit near after $max_requeues requeue(s): giving up; the job ends TIMEOUT and the jobs after it are cancelled. Raise its time limit (or --max-requeues) and submit the pipeline again: complete outputs are kept"
  fi
}
trap near_time_limit USR1

year_groups="" stale=() explain_stale=() fresh=()
while [ $# -gt 0 ]; do
  case "$1" in
    --max-requeues) max_requeues="$2"; shift 2 ;;
    --year-groups) year_groups="$2"; shift 2 ;;
    --stale-caches) stale=("$2" "$3" "$4"); shift 4 ;;
    --force-if-stale) explain_stale=("$2" "$3" "$4"); shift 4 ;;
    --fresh-start) fresh=("$2" "$3"); shift 3 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (before the -- that starts the fluxrecon command)" ;;
  esac
done
[ $# -ge 1 ] || die "no fluxrecon command after --"
args=("$@")

if [ -n "${FLUXRECON_BIN:-}" ]; then
  bin="$FLUXRECON_BIN" how="FLUXRECON_BIN"
elif [ -n "${FLUXRECON_ROOT:-}" ]; then
  bin="$FLUXRECON_ROOT/build/fluxrecon" how="FLUXRECON_ROOT"
else
  bin="${SLURM_SUBMIT_DIR:-$PWD}/build/fluxrecon" how="SLURM_SUBMIT_DIR"
fi
[ -x "$bin" ] || die "fluxrecon binary not found at '$bin' (from $how); set FLUXRECON_BIN to the binary or FLUXRECON_ROOT to the repository"

# The years of this array task.
years=""
if [ -n "$year_groups" ]; then
  IFS=, read -r -a groups <<< "$year_groups"
  task="${SLURM_ARRAY_TASK_ID:?--year-groups needs an array job (sbatch --array)}"
  [ "$task" -lt ${#groups[@]} ] || die "array task $task but only ${#groups[@]} year group(s): $year_groups"
  years="${groups[$task]}"
  args=("${args[@]//@YEARS@/$years}")
fi

model_file() {  # model_file MODELS_DIR MODEL
  case "$2" in xgboost | random_forest) echo "$1/$2.json" ;; *) echo "$1/$2.h5" ;; esac
}

# A model trained (again) after its caches were written made them stale:
# they are removed so that reconstruct writes them anew (fluxrecon run redoes
# the caches of the models it trained). Caches newer than the model stay, so
# a requeued job does not redo what it finished before.
if [ ${#stale[@]} -gt 0 ] && [ -n "$years" ]; then
  IFS=, read -r -a stale_models <<< "${stale[2]}"
  for y in $(seq "${years%%:*}" "${years##*:}"); do
    for m in "${stale_models[@]}"; do
      mf="$(model_file "${stale[0]}" "$m")"
      [ -f "$mf" ] || continue
      for c in "${stale[1]}/${m}_"*"_$y.nc"; do
        if [ -f "$c" ] && [ "$mf" -nt "$c" ]; then
          log "removing $c: older than $mf (the model was trained again)"
          rm -f "$c" "$(dirname "$c")/.$(basename "$c").seal"  # the file and its completeness seal
        fi
      done
    done
  done
fi
# Explanations older than their model are redone, all of them (as fluxrecon run).
if [ ${#explain_stale[@]} -gt 0 ]; then
  IFS=, read -r -a explain_models <<< "${explain_stale[2]}"
  for m in "${explain_models[@]}"; do
    mf="$(model_file "${explain_stale[0]}" "$m")" e="${explain_stale[1]}/explain_$m.nc"
    if [ -f "$e" ] && [ -f "$mf" ] && [ "$mf" -nt "$e" ]; then
      log "$e is older than $mf: explaining every model again (--force)"
      args+=(--force)
      break
    fi
  done
fi

# A model trained with other parameters than the pipeline's is trained
# afresh (fluxrecon run's --force): its files go on the first attempt only, so
# a requeued attempt resumes from the new checkpoint.
if [ ${#fresh[@]} -gt 0 ] && [ "${SLURM_RESTART_COUNT:-0}" = 0 ]; then
  for f in "$(model_file "${fresh[0]}" "${fresh[1]}")" "${fresh[0]}/${fresh[1]}_config.yaml" \
    "${fresh[0]}/${fresh[1]}_checkpoint.h5"; do
    [ -e "$f" ] && { log "removing $f: trained with other parameters"; rm -f "$f" "$(dirname "$f")/.$(basename "$f").seal"; }
  done
fi

export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"
export SRUN_CPUS_PER_TASK="${SLURM_CPUS_PER_TASK:-1}"  # srun >= 22.05 no longer inherits it
log "job $job attempt $attempt (at most $((max_requeues + 1))) on ${SLURM_JOB_NODELIST:-?}, ${SLURM_NTASKS:-?} rank(s) x $OMP_NUM_THREADS thread(s): $bin ${args[*]}"

srun "$bin" "${args[@]}" &
step=$!
# wait returns early when USR1 arrives; bash keeps the step's status for the last wait.
while kill -0 "$step" 2>/dev/null; do wait "$step" || true; done
wait "$step" && rc=0 || rc=$?
if [ "$requeued" = 1 ]; then
  log "job $job: this attempt ends here (status $rc); SLURM starts the next one"
  exit 0
fi
[ "$rc" -eq 0 ] || die "job $job: fluxrecon ${args[0]} exited with status $rc"
log "job $job: fluxrecon ${args[0]} complete"
