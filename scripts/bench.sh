#!/usr/bin/env bash
# Runs the benchmarks and rewrites docs/performance-results.md and docs/performance-scaling.png from them.
#   scripts/bench.sh            10^4 to 10^6 customers (a few minutes)
#   scripts/bench.sh --all      also 10^7 customers (needs about 2.5 GiB and several more minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target bench_model bench_sweep trustsim
filter=()
[ "${1:-}" = "--all" ] && filter=(--benchmark_filter=.)
build/release/bench/bench_model "${filter[@]}" --benchmark_out=build/release/bench/model.json --benchmark_out_format=json
build/release/bench/bench_sweep --benchmark_out=build/release/bench/sweep.json --benchmark_out_format=json
PYTHONPATH=analysis /usr/bin/python3 scripts/performance.py build/release/bench/model.json build/release/bench/sweep.json "$@"
