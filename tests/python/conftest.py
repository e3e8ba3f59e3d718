"""Fixtures: a synthetic run written with h5py exactly as docs/output-format.md lays it out (always
available, and exercising what a short real run does not: 1-based steps, NaN NPS, fixed-length strings),
and results produced by the C++ binary (the loader is tested on what trustsim really writes)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

os.environ["MPLBACKEND"] = "Agg"  # before anything imports matplotlib.pyplot
REPO = Path(__file__).resolve().parents[2]

# The metrics of format version 1, in order, as the format defines them (not taken from the package under test).
METRICS = (
    "customers", "share", "active", "purchases", "lost_sales", "churn_in", "churn_out",
    "trust", "trust_all", "credibility", "reliability", "intimacy", "self_orientation", "distrust_share", "nps",
    "checks", "fraud_attempts", "fraud_detected", "fraud_loss", "triggers", "oversold",
    "revenue", "costs", "profit",
    "employee_trust", "employee_trustworthiness", "quits", "wom_positive", "wom_negative",
    "control_customers", "trust_in_customers", "scandal_awareness",
)
FIRMS, STEPS, CUSTOMERS, EMPLOYEES, BINS = ["Alpha", "Beta", "Gamma"], 20, 50, 12, 10
SYNTHETIC_SCENARIO = "simulation: {steps: 20, seed: 7}\ncustomers: {count: 50}\nfirms:\n  - name: Alpha\n  - name: Beta\n  - name: Gamma\n"


def write_run(path: Path, seed: int = 7, histograms: int = 3, snapshots: int = 2, employees: bool = True,
              fixed_length_strings: bool = True) -> Path:
    """A synthetic trustsim-run file (3 firms, 20 steps from 1, 50 customers). Strings are fixed-length
    bytes or variable-length UTF-8, the two kinds h5py hands back differently."""
    rng = np.random.default_rng(seed)
    F, S, N, E, P, H = len(FIRMS), STEPS, CUSTOMERS, EMPLOYEES, snapshots, histograms
    text = (lambda s: np.bytes_(s.encode())) if fixed_length_strings else (lambda s: s)
    with h5py.File(path, "w") as f:
        for key, value in {"format": text("trustsim-run"), "trustsim_version": text("0.1.0"), "build": text("synthetic"),
                           "created": text("2026-01-01T00:00:00Z")}.items():
            f.attrs[key] = value
        f.attrs["format_version"] = np.int32(1)
        f.attrs["seed"] = np.uint64(seed)
        f.attrs["threads"] = np.int32(1)
        f.attrs["wall_seconds"] = 0.25
        f.attrs["steps"] = np.int64(S)
        f.attrs["firms"] = np.int32(F)
        f.attrs["customers"] = np.int64(N)
        f.attrs["employees"] = np.int64(E)
        if fixed_length_strings:
            f["scenario"] = np.bytes_(SYNTHETIC_SCENARIO.encode())
            f["firms/name"] = np.array([n.encode() for n in FIRMS], dtype="S8")
        else:
            f.create_dataset("scenario", data=SYNTHETIC_SCENARIO, dtype=h5py.string_dtype())
            f.create_dataset("firms/name", data=FIRMS, dtype=h5py.string_dtype())
        f["timeseries/step"] = np.arange(1, S + 1, dtype=np.int64)
        for m in METRICS:
            values = rng.random((S, F))
            if m == "nps":
                values = values * 200 - 100
                values[::4, 1] = np.nan  # steps without buyers
            dataset = f.create_dataset(f"timeseries/{m}", data=values)
            dataset.attrs["unit"] = "unit of " + m
            dataset.attrs["description"] = text("synthetic " + m)
        counts = rng.multinomial(N, np.full(BINS, 1 / BINS), size=(H, F)).astype(np.int64)
        f["histograms/step"] = np.arange(1, H + 1, dtype=np.int64) * (S // max(H, 1))
        f["histograms/bin_edges"] = np.linspace(0, 1, BINS + 1)
        f.create_dataset("histograms/trust", data=counts.reshape(H, F, BINS))
        f["customers/propensity_to_trust"] = rng.random(N, dtype=np.float32)
        f["customers/honesty"] = rng.random(N, dtype=np.float32)
        f["customers/reciprocity"] = rng.random(N, dtype=np.float32)
        f["customers/opportunist"] = (rng.random(N) < 0.2).astype(np.uint8)
        f["snapshots/step"] = np.arange(1, P + 1, dtype=np.int64) * (S // max(P, 1))
        f["snapshots/customers/firm"] = rng.integers(0, F, (P, N)).astype(np.int16)
        f["snapshots/customers/trust"] = rng.random((P, N, F), dtype=np.float32)
        f["snapshots/customers/perception"] = rng.random((P, N, F, 4), dtype=np.float32)
        if employees:
            f["snapshots/employees/firm"] = rng.integers(0, F, (P, E)).astype(np.int16)
            for name in ("trust", "trustworthiness", "honesty", "reciprocity", "propensity_to_trust"):
                f[f"snapshots/employees/{name}"] = rng.random((P, E), dtype=np.float32)
    return path


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory) -> Path:
    return write_run(tmp_path_factory.mktemp("synthetic") / "synthetic.h5")


def binary() -> Path:
    """The trustsim binary. Tests that need it skip while it is not built at the default place; a path set
    explicitly in TRUSTSIM_BINARY (as scripts/test.sh and CTest do) must exist, so CI cannot skip them."""
    explicit = os.environ.get("TRUSTSIM_BINARY")
    path = Path(explicit) if explicit else REPO / "build" / "release" / "trustsim"
    if not path.exists():
        if explicit:
            pytest.fail(f"TRUSTSIM_BINARY={explicit} does not exist")
        pytest.skip(f"the trustsim binary is not built at {path}: build it (cmake --preset release && "
                    f"cmake --build --preset release) or set TRUSTSIM_BINARY")
    return path


def trustsim(*args, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(binary()), *map(str, args)], capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"trustsim {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def peak_resident_bytes(*args) -> tuple[int, int, str]:
    """Runs trustsim with args; returns its exit code, peak resident bytes and stderr. Started from a small
    interpreter: a child's peak RSS includes the process it was forked from (pytest's)."""
    launcher = ("import os, sys\npid = os.fork()\nif pid == 0: os.execv(sys.argv[1], sys.argv[1:])\n"
                "_, status, usage = os.wait4(pid, 0)\nprint('exit', os.waitstatus_to_exitcode(status), 'peak_kib', usage.ru_maxrss)")
    launched = subprocess.run([sys.executable, "-c", launcher, str(binary()), *map(str, args)], capture_output=True, text=True, check=True)
    _, exit_code, _, peak_kib = launched.stdout.splitlines()[-1].split()
    return int(exit_code), int(peak_kib) * 1024, launched.stderr


TINY = "simulation: {steps: 20, seed: 3}\ncustomers: {count: 300}\nfirms:\n  - name: A\n  - name: B\n"


@pytest.fixture(scope="session")
def real_run(tmp_path_factory) -> Path:
    """A 20-step run of two firms and 300 customers written by the binary."""
    base = tmp_path_factory.mktemp("real")
    (base / "tiny.yaml").write_text(TINY)
    out = base / "tiny.h5"
    trustsim("run", base / "tiny.yaml", "-o", out, "-q", "--set", "simulation.steps=20", "--set", "customers.count=300")
    return out


@pytest.fixture(params=["synthetic", "real"])
def run(request) -> Path:
    """Each loader test runs on the synthetic file and on a real one."""
    return request.getfixturevalue(f"{request.param}_run")


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


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "small.yaml"
    path.write_text(SMALL)
    return path


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
    """An HDF5 file that is not a TrustSim output."""
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f["data"] = np.arange(3)
        f["results/x"] = np.zeros(2)
    return path
