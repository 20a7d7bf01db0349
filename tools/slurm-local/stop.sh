#!/usr/bin/env bash
# Stops the private SLURM that tools/slurm-local/start.sh DIR started: cancels
# its jobs, then ends slurmd, the job steps it started, slurmctld and munged.
# Only processes whose pid file is under DIR and whose command line names DIR,
# and job steps writing DIR's slurmd log, are signalled. Safe to call twice, and on a
# DIR where start failed half-way. DIR and its logs are kept.
#   tools/slurm-local/stop.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
if [ ! -d "$1" ]; then
  echo "slurm-local: $1 does not exist: nothing to stop" >&2
  exit 0
fi
dir="$(cd "$1" && pwd)"

# pid_of NAME: the live pid of DIR's daemon NAME, or nothing. The command line
# must name DIR, so a recycled pid or another slurm-local is never touched.
pid_of() {
  local f="$dir/pids/$1.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  [ -r "/proc/$pid/cmdline" ] || return 0
  if tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$1.*$dir/"; then echo "$pid"; fi
}

# descendants PID: every process below PID.
descendants() {
  local parent="$1" child
  for child in $(ps -o pid= --ppid "$parent" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

# steps: DIR's slurmstepd processes and what runs below them (the job
# scripts, srun, the tasks). slurmd double-forks them, so they are no
# children of slurmd; they are known by their open DIR/log/slurmd.log.
steps() {
  local pid
  for pid in $(pgrep -x slurmstepd 2>/dev/null || true); do
    if ls -l "/proc/$pid/fd" 2>/dev/null | grep -qF -- "-> $dir/log/slurmd.log"; then
      echo "$pid"
      descendants "$pid"
    fi
  done
}

# end PID...: SIGTERM, then SIGKILL to what is left after 10 s.
end() {
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  local i alive
  for i in $(seq 100); do
    alive=()
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
    [ ${#alive[@]} -gt 0 ] || return 0
    sleep 0.1
  done
  echo "slurm-local: killing ${alive[*]} (still alive 10 s after SIGTERM)" >&2
  kill -KILL "${alive[@]}" 2>/dev/null || true
}

ctld="$(pid_of slurmctld)"
slurmd_pid="$(pid_of slurmd)"
munged_pid="$(pid_of munged)"
if [ -z "$ctld$slurmd_pid$munged_pid" ]; then
  echo "slurm-local: nothing running under $dir" >&2
  exit 0
fi

# Jobs first, so that their steps end through SLURM (10 s at most).
if [ -n "$ctld" ] && [ -n "$slurmd_pid" ] && [ -f "$dir/slurm.conf" ]; then
  export SLURM_CONF="$dir/slurm.conf"
  timeout 10 scancel --full --partition debug 2>/dev/null || true
  for _ in $(seq 40); do
    [ -z "$(steps)" ] && break
    sleep 0.25
  done
fi
# Whatever job process is left would outlive slurmd: ended with it.
mapfile -t stray < <(steps)
# shellcheck disable=SC2086  # an empty pid drops out
end $slurmd_pid "${stray[@]}"
end $ctld
end $munged_pid
rm -f "$dir"/pids/*.pid "$dir/munge/munge.socket" "$dir/munge/munge.socket.lock"
echo "slurm-local: stopped (${ctld:+slurmctld $ctld }${slurmd_pid:+slurmd $slurmd_pid }${munged_pid:+munged $munged_pid}${stray[*]:+, job processes ${stray[*]}})" >&2
