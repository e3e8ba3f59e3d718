#!/usr/bin/env bash
# Regenerates docs/validation.md and docs/validation/*.png from fresh runs (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
PYTHONPATH=analysis /usr/bin/python3 scripts/validation.py
