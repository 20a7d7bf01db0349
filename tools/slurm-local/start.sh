#!/usr/bin/env bash
# Starts a private one-node SLURM (munged, slurmctld, slurmd of Debian 12's
# slurm-wlm 22.05) with ALL of its state under DIR: munge key and socket,
# slurm.conf, spool, state, logs and pid files. Nothing under /etc or /run is
# used, so it runs beside a system SLURM or another slurm-local on free ports.
#   tools/slurm-local/start.sh DIR      (then: . DIR/env.sh, or the printed export)
#   tools/slurm-local/stop.sh DIR
# It waits until the node is idle (SLURM_LOCAL_TIMEOUT seconds, default 60).
# The node gets this machine's CPUs and memory (slurmd -C); SLURM_LOCAL_CPUS=N
# declares N CPUs instead (more than there are: jobscripts asking for 16
# ranks run on a laptop, oversubscribed). Runs as root (slurmd starts the jobs
# as their users); SLURM_LOCAL_PORT, SLURM_LOCAL_CRED_EXPIRE: see below.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
usage="usage: $0 DIR   (a scratch folder for every file of the private SLURM)"
[ $# -eq 1 ] || { echo "$usage" >&2; exit 2; }
mkdir -p "$1"
dir="$(cd "$1" && pwd)"
timeout_s="${SLURM_LOCAL_TIMEOUT:-60}"

die() { echo "slurm-local: $*" >&2; exit 1; }
for b in munged slurmctld slurmd sinfo scontrol srun; do
  command -v "$b" >/dev/null ||
    die "'$b' not found: install Debian's slurm-wlm and munge (tools/install-deps.sh)"
done
# munged's socket path must fit a sockaddr_un (108 bytes).
[ ${#dir} -le 80 ] || die "DIR '$dir' is too long for munge's socket path (at most 80 characters)"
[ "$(id -u)" -eq 0 ] || die "needs root (slurmd and munged run as root here); run it with sudo"
if [ -f "$dir/pids/slurmctld.pid" ] && kill -0 "$(cat "$dir/pids/slurmctld.pid")" 2>/dev/null; then
  die "already running under $dir (pid $(cat "$dir/pids/slurmctld.pid")); stop it first: $here/stop.sh $dir"
fi

host="$(hostname -s)"
mkdir -p "$dir"/{munge,spool,state,log,pids}
chmod 700 "$dir/munge"  # munged refuses a key or socket folder that others can write
rm -f "$dir"/log/*.log "$dir"/pids/*.pid

# A fresh key per start: only this SLURM's daemons and clients share it.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"

# Two free TCP ports (slurmctld, slurmd); SLURM_LOCAL_PORT=P takes P and P+1.
port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
if [ -n "${SLURM_LOCAL_PORT:-}" ]; then
  port="$SLURM_LOCAL_PORT"
else
  port=""
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    if port_free "$p" && port_free $((p + 1)); then port="$p"; break; fi
  done
  [ -n "$port" ] || die "no two free TCP ports found in 20000-50000 (set SLURM_LOCAL_PORT)"
fi

# The node as slurmd sees it (CPUs, sockets, cores, threads, memory): a node
# declared bigger than it is would be drained at registration.
hw="$(slurmd -C | head -n 1 | sed -e 's/^NodeName=[^ ]* //')"
overrides=""
if [ -n "${SLURM_LOCAL_CPUS:-}" ]; then
  hw="CPUs=$SLURM_LOCAL_CPUS RealMemory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")"
  overrides="SlurmdParameters=config_overrides"  # trust the declared CPUs over the hardware
fi

conf="$dir/slurm.conf"
write_conf() {  # write_conf MPI_DEFAULT
  cat > "$conf" <<EOF
# slurm-local ($here/start.sh): a private one-node SLURM under $dir
ClusterName=fluxrecon-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job waits this long (+1 s) before it may start again
# (default 120 s; tests/cli/test_slurm.sh requeues a job that timed out).
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=${SLURM_LOCAL_CRED_EXPIRE:-20}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/pids/slurmctld.pid
SlurmdPidFile=$dir/pids/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MailProg=/bin/true
MpiDefault=$1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Quick turnaround for tests: the scheduler looks at pending jobs every 5 s,
# a timed-out job is killed 10 s after SIGTERM, and finished jobs stay
# visible to squeue/scontrol for 10 minutes (no accounting database here).
SchedulerParameters=sched_interval=5,bf_interval=5
KillWait=10
MinJobAge=600
$overrides
NodeName=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
}
# MpiDefault=pmix where Debian's mpi_pmix plugin is there (srun then starts
# Open MPI ranks itself), else none (mpirun inside the allocation still works).
write_conf none
mpi=none
if SLURM_CONF="$conf" srun --mpi=list 2>&1 | grep -qw pmix; then mpi=pmix; fi
write_conf "$mpi"
export SLURM_CONF="$conf"

started_ok=0
cleanup_on_failure() { [ "$started_ok" = 1 ] || "$here/stop.sh" "$dir" >/dev/null 2>&1 || true; }
trap cleanup_on_failure EXIT

# munged: --force as it runs as root with its files outside /etc/munge.
munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
  --log-file="$dir/log/munged.log" --pid-file="$dir/pids/munged.pid" \
  --seed-file="$dir/munge/munged.seed" ||
  die "munged did not start; see $dir/log/munged.log"
# -c: no job state from an earlier start; -i: ignore a stale state file.
slurmctld -f "$conf" -c -i || die "slurmctld did not start; see $dir/log/slurmctld.log"
slurmd -f "$conf" || die "slurmd did not start; see $dir/log/slurmd.log"

deadline=$((SECONDS + timeout_s))
state=""
while [ $SECONDS -lt $deadline ]; do
  state="$(sinfo -h -n "$host" -o %t 2>/dev/null | head -n 1 || true)"
  case "$state" in idle | mix | alloc) break ;; esac
  dead=""  # a daemon that died (a port taken, a bad line in slurm.conf) ends the wait
  for d in slurmctld slurmd; do
    if [ -f "$dir/pids/$d.pid" ] && ! kill -0 "$(cat "$dir/pids/$d.pid")" 2>/dev/null; then dead="$d"; fi
  done
  [ -z "$dead" ] || { state="$dead died"; break; }
  sleep 0.5
done
case "$state" in
  idle | mix | alloc) ;;
  *)
    echo "slurm-local: node $host is not idle after $((timeout_s + SECONDS - deadline)) s (state '${state:-unknown}')" >&2
    for f in slurmctld slurmd munged; do
      echo "--- last lines of $dir/log/$f.log:" >&2
      tail -n 5 "$dir/log/$f.log" >&2 2>/dev/null || true
    done
    die "start failed; logs: $dir/log/slurmctld.log, $dir/log/slurmd.log, $dir/log/munged.log"
    ;;
esac
started_ok=1

echo "export SLURM_CONF=$conf" > "$dir/env.sh"
echo "slurm-local: node $host idle ($hw, MpiDefault=$mpi, ports $port-$((port + 1))), logs in $dir/log" >&2
echo "export SLURM_CONF=$conf"
