#!/usr/bin/env bash
# Runs a sweep over 2 MPI ranks and requires the merged result to equal a local sweep's, with both ranks
# having finished runs (a rank that finishes early takes more work); then the same sweep as two MPI jobs on
# two shards at once, into one directory, which must not share a log.
set -euo pipefail
binary="${TRUSTSIM_BINARY:?set TRUSTSIM_BINARY to the trustsim executable}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/trustsim-mpi.XXXXXX)"
trap 'rm -rf "$work"' EXIT
scenario="$here/sweep_scenario.yaml"

mpirun --allow-run-as-root --oversubscribe -np 2 "$binary" sweep "$scenario" -o "$work/mpi" --mpi -q
for rank in 0 1; do
  [ -s "$work/mpi/results/mpi-rank-$rank.tsr" ] || { echo "mpi_sweep: rank $rank finished no run" >&2; exit 1; }
done
"$binary" merge "$work/mpi" -o "$work/mpi.h5"
"$binary" sweep "$scenario" -o "$work/local" -q
"$binary" merge "$work/local" -o "$work/local.h5"
/usr/bin/python3 "$here/compare_merged.py" "$work/mpi.h5" "$work/local.h5"

jobs=()
for shard in 0 1; do
  mpirun --allow-run-as-root --oversubscribe -np 2 "$binary" sweep "$scenario" -o "$work/sharded" --mpi --shard "$shard/2" -q &
  jobs+=($!)
done
for job in "${jobs[@]}"; do wait "$job"; done  # each job's status (a bare wait would hide a failure)
"$binary" merge "$work/sharded" -o "$work/sharded.h5"
/usr/bin/python3 "$here/compare_merged.py" "$work/sharded.h5" "$work/local.h5"
echo "mpi_sweep: the MPI sweep, whole or in two shards at once, equals the local sweep"
