#!/usr/bin/env bash
# Runs a sweep on a real one-node SLURM cluster started here (munge + slurmctld + slurmd on loopback,
# from a temporary configuration) with `trustsim sweep --slurm --submit`, waits for the array and the
# dependent merge job, and requires the merged result to equal a local sweep's. Needs root and Debian's
# slurm-wlm and munge (scripts/setup.sh installs them). Cleans up every daemon and file it started.
set -euo pipefail
binary="${TRUSTSIM_BINARY:?set TRUSTSIM_BINARY to the trustsim executable}"
here="$(cd "$(dirname "$0")" && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "slurm_sweep: must run as root (it starts munged, slurmctld and slurmd)" >&2; exit 1; }
for tool in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$tool" >/dev/null || { echo "slurm_sweep: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done

work="$(mktemp -d /tmp/trustsim-slurm.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p "$work"/{munge,state,spool,log}
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/seed"
pids+=("$(cat "$work/munge/munged.pid")")

cpus="$(nproc)"
memory="$(awk '/^MemTotal/ {print int($2 / 1024)}' /proc/meminfo)"  # MiB: the tasks ask for theirs (--mem)
cat > "$work/slurm.conf" <<CONF
ClusterName=trustsim-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CryptoType=crypto/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 50); do
  [ -s "$work/slurmctld.pid" ] && [ -s "$work/slurmd.pid" ] && break
  sleep 0.2
done
pids+=("$(cat "$work/slurmctld.pid")" "$(cat "$work/slurmd.pid")")
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^idle' && break
  sleep 0.2
done
sinfo -h -o %T | grep -qE '^idle' || { echo "slurm_sweep: the node did not come up:" >&2; tail -20 "$work"/log/*.log >&2; exit 1; }

scenario="$here/sweep_scenario.yaml"
wait_for_merge() {
  for _ in $(seq 600); do
    [ -f "$work/slurm/sweep.h5" ] && [ -z "$(squeue -h 2>/dev/null)" ] && return 0
    sleep 0.2
  done
  echo "slurm_sweep: no merged result after 2 minutes; jobs:" >&2; squeue >&2 || true; cat "$work"/slurm/slurm/*.out >&2 || true; exit 1
}
"$binary" sweep "$scenario" -o "$work/slurm" --slurm --tasks 3 --time 00:05:00 --submit
wait_for_merge
ls "$work/slurm/results" | grep -q '^shard-2-of-3.tsr$' || { echo "slurm_sweep: the array tasks did not each write a shard" >&2; exit 1; }

# Task 1's runs lost (as if it had failed): the same command resubmits that task alone, and merges again.
rm "$work/slurm/results/shard-1-of-3.tsr" "$work/slurm/sweep.h5"
report="$("$binary" sweep "$scenario" -o "$work/slurm" --slurm --tasks 3 --time 00:05:00 --submit)"
grep -q '1 of 3 array tasks with runs left' <<<"$report" || { echo "slurm_sweep: the resubmission said: $report" >&2; exit 1; }
grep -qx '#SBATCH --array=1' "$work/slurm/slurm/sweep.sbatch" || { echo "slurm_sweep: the resubmitted array is not task 1 alone" >&2; exit 1; }
wait_for_merge

"$binary" sweep "$scenario" -o "$work/local" --jobs 2 -q
"$binary" merge "$work/local" -o "$work/local.h5"
/usr/bin/python3 "$here/compare_merged.py" "$work/slurm/sweep.h5" "$work/local.h5"
echo "slurm_sweep: the SLURM sweep equals the local sweep"
