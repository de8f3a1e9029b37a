#!/usr/bin/env bash
# A one-machine Slurm cluster for trying and testing `--launcher slurm` (CI runs the Slurm tests against it):
#
#   scripts/slurm-single-node.sh start    # munged, slurmctld and slurmd on this machine; waits until the node is idle
#   scripts/slurm-single-node.sh stop     # stops the three daemons it started (by their pid files)
#   scripts/slurm-single-node.sh status   # sinfo, or why the cluster is not up
#
# Needs root and Debian's packages: apt-get install -y slurm-wlm munge. The node is this machine with all its cores
# (select/cons_tres, CR_Core: one array task per core at most), one partition 'debug' (the default), no accounting
# database (sacct is off; the kit then reads task states from squeue and the run folders). It writes
# /etc/slurm/slurm.conf, and refuses to replace one that it did not write, so a machine that is already a Slurm node
# is left alone. Logs: /var/log/slurm/slurmctld.log and slurmd.log.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK='# written by scripts/slurm-single-node.sh of the IntroLLM kit'
RUN=/run/introllm-slurm

die() { echo "slurm-single-node: $*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "run as root (the daemons run as root and write /etc/slurm, /var/spool and /run)"; }

write_conf() {
  if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; this machine looks like a configured Slurm node already (use it directly)"
  fi
  local host cpus mem_mb
  host=$(hostname -s)
  cpus=$(nproc)
  mem_mb=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm "$RUN"
  cat > "$CONF.tmp" <<EOF
$MARK
ClusterName=introllm
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay in squeue --states=all for 5 minutes: the kit reads a task's end state there.
MinJobAge=300
SchedulerParameters=sched_interval=1
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  need_root
  for b in munged slurmctld slurmd sinfo sbatch; do
    command -v "$b" > /dev/null || die "'$b' not found: apt-get install -y slurm-wlm munge"
  done
  write_conf
  # munge: the key the package made (or a new one), and the daemon as the munge user.
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  # (Left alone when a munged already answers, e.g. one the package's init script started.)
  if ! munge -n 2>/dev/null | unmunge > /dev/null 2>&1; then
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid
  fi
  munge -n | unmunge > /dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
  alive "$RUN/slurmctld.pid" || slurmctld
  alive "$RUN/slurmd.pid" || slurmd
  # Wait for the node to register and be idle (a node left DOWN by an earlier stop is resumed).
  local host state
  host=$(hostname -s)
  for _ in $(seq 1 60); do
    state=$(sinfo -h -n "$host" -o '%T' 2>/dev/null || true)
    case "$state" in
      idle*|mixed*|allocated*) echo "slurm-single-node: up: node $host ($(nproc) CPUs), partition debug"; return 0 ;;
      down*|drain*) scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 1
  done
  die "the node did not become idle in 60 s (state '${state:-none}'; see /var/log/slurm/slurmctld.log and slurmd.log)"
}

stop_one() {
  local pidfile=$1 name=$2
  if alive "$pidfile"; then
    local pid
    pid=$(cat "$pidfile")
    kill "$pid"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    echo "slurm-single-node: stopped $name ($pid)"
  fi
}

stop() {
  need_root
  # Cancel what is still queued, so a later start does not run it.
  if alive "$RUN/slurmctld.pid"; then scancel --full --quiet -u root 2>/dev/null || true; fi
  stop_one "$RUN/slurmd.pid" slurmd
  stop_one "$RUN/slurmctld.pid" slurmctld
  stop_one /run/munge/munged.pid munged
}

status() {
  sinfo 2>&1 || exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
