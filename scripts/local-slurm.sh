#!/usr/bin/env bash
# Starts (or stops) a single-node Slurm cluster for the integration test: munged, then
# slurmctld and slurmd as root with a slurm.conf in a scratch folder. Usage:
#   scripts/local-slurm.sh start DIR   # prints "export SLURM_CONF=DIR/slurm.conf" when the node is idle
#   scripts/local-slurm.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?scratch folder}
mkdir -p "$dir"
host=$(hostname)
case "$cmd" in
start)
  mkdir -p /run/munge && chown munge /run/munge 2>/dev/null || true
  pgrep -x munged >/dev/null || munged --force
  cat > "$dir/slurm.conf" <<CONF
ClusterName=local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AuthType=auth/munge
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  mkdir -p "$dir/state" "$dir/spool"
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -c
  slurmd -c
  for _ in $(seq 1 30); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then echo "export SLURM_CONF=$SLURM_CONF"; exit 0; fi
    sleep 1
  done
  echo "local Slurm did not come up; see $dir/slurmctld.log and $dir/slurmd.log" >&2
  exit 1
  ;;
stop)
  pids=()
  for p in slurmd slurmctld; do
    if [ -f "$dir/$p.pid" ]; then pid=$(cat "$dir/$p.pid"); kill "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  # Wait until they are gone (or only zombies), so the folder can be removed afterwards.
  for _ in $(seq 1 20); do
    alive=0
    for pid in "${pids[@]}"; do
      state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
      [ -n "$state" ] && [ "${state:0:1}" != Z ] && alive=1
    done
    [ $alive = 0 ] && exit 0
    sleep 0.5
  done
  ;;
esac
