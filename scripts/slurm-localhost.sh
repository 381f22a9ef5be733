#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the cluster tests:
#   scripts/slurm-localhost.sh start DIR   writes DIR/slurm.conf, starts munged, slurmctld and slurmd
#   scripts/slurm-localhost.sh stop DIR    stops the daemons it started
# Needs root and Debian's slurm-wlm and munge (apt-get install slurm-wlm munge). Exits with 77
# (CTest's "skipped") when either is missing. Tests find the cluster through SLURM_CONF=DIR/slurm.conf.
set -euo pipefail
action=${1:?start or stop}
dir=$(realpath -m "${2:?folder for the configuration and state of the cluster}")

if [[ $(id -u) -ne 0 ]] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "skipped: a localhost Slurm needs root and the slurm-wlm and munge packages"
  exit 77
fi

if [[ "$action" == stop ]]; then
  for daemon in slurmd slurmctld; do
    if [[ -f "$dir/$daemon.pid" ]]; then kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true; fi
  done
  # munged too, when this script started it.
  if [[ -f "$dir/munged.ours" && -f /run/munge/munged.pid ]]; then kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true; fi
  rm -f "$dir/munged.ours"
  exit 0
fi

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$dir/state" "$dir/spool"
cat > "$dir/slurm.conf" <<CONF
ClusterName=growthstudio-test
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

# munge: one key for the machine, the daemon running as root when no munge user can run it.
if [[ ! -f /etc/munge/munge.key ]]; then mungekey --create >/dev/null 2>&1 || create-munge-key >/dev/null; fi
mkdir -p /run/munge /var/lib/munge /var/log/munge
if ! munge -n >/dev/null 2>&1; then
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  munged --force >/dev/null 2>&1 || true
  started_munge=1
fi
export SLURM_CONF="$dir/slurm.conf"
"$0" stop "$dir" >/dev/null
if [[ -n "${started_munge:-}" ]]; then touch "$dir/munged.ours"; fi
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 60); do
  if sinfo -h -o %t 2>/dev/null | grep -q idle; then
    echo "Slurm is up: SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 1
done
echo "Slurm did not come up; see $dir/slurmctld.log and $dir/slurmd.log" >&2
exit 1
