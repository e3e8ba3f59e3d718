"""Fits the employees' default reciprocity rho_e ~ Beta(a, b) to the hidden-costs-of-control game: the
(a, b) of a grid whose default population, playing `trustsim lab control`, has the smallest sum of squared
standardised residuals against the published targets (validation.CONTROL_TARGETS). Prints the grid's best
fits; the chosen one goes into include/trustsim/spec.hpp and docs/model.md ("Calibration"). Run it with
PYTHONPATH=analysis /usr/bin/python3 scripts/fit_reciprocity.py after building (scripts/validation.sh builds)."""
from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path

from validation import CONTROL_TARGETS, cli

A_GRID = [0.22, 0.24, 0.26, 0.28, 0.30, 0.32]
B_GRID = [0.8, 0.9, 1.0, 1.1, 1.2]


def standardised_residuals(a: float, b: float, scenario: Path) -> dict[str, float]:
    scenario.write_text(f"firms: [{{name: A}}]\nemployees:\n  reciprocity: {{dist: beta, a: {a}, b: {b}}}\n")
    result = json.loads(cli("lab", "control", "--json", "--scenario", scenario))
    return {key: (result[key] - published) / tolerance for _, key, published, tolerance in CONTROL_TARGETS}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "reciprocity.yaml"
        fits = []
        for a, b in itertools.product(A_GRID, B_GRID):
            z = standardised_residuals(a, b, scenario)
            fits.append((sum(v * v for v in z.values()), a, b, z))
    fits.sort(key=lambda fit: fit[0])
    print("sum of squared z   a     b     " + "  ".join(key for _, key, _, _ in CONTROL_TARGETS))
    for total, a, b, z in fits[:5]:
        print(f"{total:17.3f}   {a:.2f}  {b:.2f}  " + "  ".join(f"{z[key]:+.2f}" for _, key, _, _ in CONTROL_TARGETS))


if __name__ == "__main__":
    main()
