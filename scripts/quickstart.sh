#!/usr/bin/env bash
# The README's first command: install what is missing, build, run the baseline scenario, and print its
# summary and the path of its report plot. Safe to run again (it rebuilds only what changed and
# replaces its own outputs in out/quickstart/).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/install-kernel.sh
cmake --preset release >/dev/null
cmake --build --preset release --target trustsim  # the tests and benchmarks are built by scripts/test.sh
mkdir -p out/quickstart
build/release/trustsim run scenarios/baseline.yaml -o out/quickstart/baseline.h5 --force
PYTHONPATH=analysis /usr/bin/python3 -m trustsim report out/quickstart/baseline.h5 -o out/quickstart/baseline.png --force >/dev/null
echo "report plot: out/quickstart/baseline.png"
