#!/usr/bin/env bash
# The C++ tests under sanitizers (CI runs this after scripts/test.sh):
#   AddressSanitizer + UndefinedBehaviorSanitizer: every fast test (the statistical claims exercise the same
#   code as test_simulation, at a hundred times the cost, so they are left to the optimised build);
#   ThreadSanitizer (clang with LLVM's OpenMP and its Archer tool, so OpenMP's synchronisation is visible):
#   the parallel and determinism tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh clang libclang-rt-14-dev libomp-dev
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan -j 2 -L fast
cmake --preset tsan >/dev/null
cmake --build --preset tsan --target test_determinism test_simulation test_network test_sweep trustsim
ctest --preset tsan -j 2 -R 'test_(determinism|simulation|network|sweep)$'
