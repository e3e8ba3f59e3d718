"""Fixtures: results produced by the C++ binary (the loader is tested on what trustsim really writes) and
a synthetic file for what a short run does not exercise."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
REPO = Path(__file__).resolve().parents[2]

SMALL = """\
simulation: {steps: 30, seed: 3}
customers: {count: 400}
firms:
  - name: A
    control_customers: 0.6
  - name: B
    trust_first: 0.8
network: {type: erdos_renyi, mean_degree: 6}
record: {histogram_every: 10, snapshot_every: 15}
"""


def binary() -> Path:
    path = Path(os.environ.get("TRUSTSIM_BINARY", REPO / "build" / "release" / "trustsim"))
    if not path.exists():
        pytest.fail(f"the trustsim binary is not built at {path}: run scripts/test.sh (or set TRUSTSIM_BINARY)")
    return path


def trustsim(*args, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(binary()), *map(str, args)], capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"trustsim {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "small.yaml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="session")
def run_file(scenario, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "small.h5"
    trustsim("run", scenario, "-o", out, "-q")
    return out


SWEEP = SMALL + """\
sweep:
  replicates: 3
  grid:
    firms[0].control_customers: [0.1, 0.8]
    customers.opportunist_share: [0.05, 0.4]
"""


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sweep")
    (base / "sweep.yaml").write_text(SWEEP)
    trustsim("sweep", base / "sweep.yaml", "-o", base / "out", "--jobs", "2", "-q")
    trustsim("merge", base / "out", "-o", base / "merged.h5")
    return base / "out"


@pytest.fixture
def foreign_h5(tmp_path) -> Path:
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f["data"] = np.arange(3)
    return path


def copy_with_version(source: Path, target: Path, version: int) -> Path:
    target.write_bytes(source.read_bytes())
    with h5py.File(target, "r+") as f:
        f.attrs["format_version"] = np.int32(version)
    return target
