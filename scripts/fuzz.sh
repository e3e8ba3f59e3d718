#!/usr/bin/env bash
# Fuzzes the scenario loader with libFuzzer (clang, AddressSanitizer + UndefinedBehaviorSanitizer) for a
# bounded time, starting from the scenario catalogue. A crash is saved under tests/fuzz/regressions/,
# where test_scenario replays every file on each test run: commit it with the fix.
#   scripts/fuzz.sh [SECONDS]      (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

scripts/setup.sh clang libclang-rt-14-dev
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzz_scenario
corpus="build/fuzz/corpus"
mkdir -p "$corpus"
cp scenarios/*.yaml tests/fuzz/regressions/* "$corpus"/ 2>/dev/null || true
build/fuzz/tests/fuzz_scenario "$corpus" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
  -artifact_prefix=tests/fuzz/regressions/ -print_final_stats=1
