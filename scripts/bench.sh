#!/usr/bin/env bash
# Builds and runs the benchmarks (medians of 3 repetitions), then rewrites the results section of
# docs/performance.md and docs/performance-scaling.png from their JSON.
#   scripts/bench.sh            10^4 to 10^6 customers (a few minutes)
#   scripts/bench.sh --all      also 10^7 customers (about 2 GiB and a few more minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=build/bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRUSTSIM_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target bench_model bench_sweep
filter=()
[ "${1:-}" = "--all" ] && filter=(--benchmark_filter=.)
"$build"/bench/bench_model "${filter[@]}" --benchmark_repetitions=3 \
  --benchmark_out="$build"/model.json --benchmark_out_format=json
"$build"/bench/bench_sweep --benchmark_out="$build"/sweep.json --benchmark_out_format=json
/usr/bin/python3 bench/report.py "$build"/model.json "$build"/sweep.json
