#!/usr/bin/env bash
# The README's second command and CI's: install what is missing, build, run every C++ test (CTest) and
# every Python test (pytest, with Debian's /usr/bin/python3).
#   scripts/test.sh            everything in the default suite
#   scripts/test.sh --fast     only the fast C++ tests and the Python tests (no statistical claims)
set -euo pipefail
cd "$(dirname "$0")/.."

label_args=()
[ "${1:-}" = "--fast" ] && label_args=(-L fast)

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release -j 2 "${label_args[@]}"
TRUSTSIM_BINARY="$PWD/build/release/trustsim" PYTHONPATH="$PWD/analysis" MPLBACKEND=Agg \
  /usr/bin/python3 -m pytest tests/python -q
