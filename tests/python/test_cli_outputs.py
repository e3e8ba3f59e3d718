"""What the binary writes, checked from the outside: determinism across threads, info on bad files, and
no half-written results."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import binary, peak_resident_bytes, trustsim

# Attributes that describe how a run was executed, not what it computed.
EXECUTION_ATTRIBUTES = {"threads", "wall_seconds", "created"}


def datasets(path):
    found = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: found.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
        attrs = {k: v for k, v in f.attrs.items() if k not in EXECUTION_ATTRIBUTES}
    return found, attrs


def assert_identical(a, b):
    (data_a, attrs_a), (data_b, attrs_b) = datasets(a), datasets(b)
    assert data_a.keys() == data_b.keys()
    for name in data_a:
        x, y = data_a[name], data_b[name]
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            assert x.tobytes() == y.tobytes(), f"{name} differs"  # bitwise, NaN included
        else:
            np.testing.assert_array_equal(x, y, err_msg=name)
    assert attrs_a.keys() == attrs_b.keys()
    for key in attrs_a:
        np.testing.assert_array_equal(attrs_a[key], attrs_b[key], err_msg=key)


def test_results_do_not_depend_on_the_thread_count(scenario, tmp_path):
    for threads in (1, 2, 3):
        trustsim("run", scenario, "-o", tmp_path / f"t{threads}.h5", "-q", "--threads", threads, "--set", "customers.count=5000")
    assert_identical(tmp_path / "t1.h5", tmp_path / "t2.h5")
    assert_identical(tmp_path / "t1.h5", tmp_path / "t3.h5")


@pytest.mark.parametrize("network", ["{type: none}", "{type: erdos_renyi, mean_degree: 10}", "{type: edge_list, file: edges.txt}"])
def test_a_runs_peak_memory_is_within_what_validate_estimates(tmp_path, network):
    """The estimate `validate` prints is the one the memory check uses: a run (3 firms, a snapshot of every
    customer and employee at the last step, as by default) must not exceed it, and it must not be so
    generous that it refuses runs that fit. An edge list's edges stay in the scenario for the whole run."""
    customers = 1_000_000
    if "edge_list" in network:
        customers = 500_000
        pairs = np.random.default_rng(1).integers(0, customers, (2_600_000, 2))
        np.savetxt(tmp_path / "edges.txt", pairs[pairs[:, 0] != pairs[:, 1]], fmt="%d")
    scenario = tmp_path / "big.yaml"
    scenario.write_text(f"simulation: {{steps: 3}}\ncustomers: {{count: {customers}}}\nnetwork: {network}\n"
                        "firms:\n  - {name: A, employees: 20000}\n  - name: B\n  - name: C\n")
    validated = trustsim("validate", scenario, env={**os.environ, "OMP_NUM_THREADS": "2"}).stdout
    amount, unit = re.search(r"`trustsim run` needs about ([\d.]+) (MiB|GiB) at its peak with 2 threads", validated).groups()
    estimate = float(amount) * 2 ** (20 if unit == "MiB" else 30)
    _, baseline, _ = peak_resident_bytes("run", scenario, "--set", "customers.count=10", "--set", "network={type: none}", "--set", "firms=[{name: A}, {name: B}, {name: C}]",
                                         "-o", tmp_path / "small.h5", "-q", "--threads", "2")
    exit_code, peak, stderr = peak_resident_bytes("run", scenario, "-o", tmp_path / "big.h5", "-q", "--threads", "2")
    assert exit_code == 0, stderr
    used = peak - baseline  # the process's own libraries and HDF5's buffers are there at any size
    assert 0.6 * estimate <= used <= 1.05 * estimate, f"peak {used / 2**20:.0f} MiB above the binary's own, estimate {estimate / 2**20:.0f} MiB"


def test_info_on_bad_files(tmp_path, foreign_h5, real_run):
    (tmp_path / "text.h5").write_text("hello")
    half = tmp_path / "half.h5"
    half.write_bytes(real_run.read_bytes()[: real_run.stat().st_size // 2])
    for path, message in [(tmp_path / "text.h5", "not an HDF5 file"), (foreign_h5, "not a TrustSim output"), (half, "truncated or damaged"),
                          (tmp_path / "none.h5", "no such file")]:
        result = trustsim("info", path, check=False)
        assert result.returncode == 1, path
        assert message in result.stderr, result.stderr


def test_info_on_arrays_where_single_values_belong(tmp_path, real_run):
    """Another file's array attributes are shown by their type, an array of scenarios refused: never read into one value."""
    arrays = tmp_path / "arrays.h5"
    arrays.write_bytes(real_run.read_bytes())
    with h5py.File(arrays, "a") as f:
        f.attrs["seed"] = np.arange(6000.0)
        f.attrs["note"] = np.array(["x"] * 3000, dtype=h5py.string_dtype())
    result = trustsim("info", arrays)
    assert "seed = (an array of" in result.stdout and "note = (an array of" in result.stdout
    with h5py.File(arrays, "a") as f:
        del f["scenario"]
        f["scenario"] = np.array(["a"] * 1000, dtype=h5py.string_dtype())
    result = trustsim("info", arrays, check=False)
    assert result.returncode == 1 and "its scenario cannot be read" in result.stderr, result.stderr
    with h5py.File(arrays, "a") as f:
        f.attrs["format"] = np.array(["trustsim-run"] * 3000, dtype=h5py.string_dtype())
    result = trustsim("info", arrays, check=False)
    assert result.returncode == 1 and "not a TrustSim output" in result.stderr, result.stderr
    assert "its 'format' attribute is (an array of" in result.stderr, result.stderr


def test_a_full_disk_leaves_no_file(scenario, tmp_path):
    """A file-size limit stands in for a full disk: the write fails, the message says so, nothing is left."""
    out = tmp_path / "full.h5"
    result = subprocess.run(
        ["bash", "-c", f"trap '' XFSZ; ulimit -f 64; exec {binary()} run {scenario} -o {out} -q --set customers.count=20000"],
        capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert "disk" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_directory_is_refused_up_front(scenario, tmp_path):
    result = trustsim("run", scenario, "-o", tmp_path / "missing" / "x.h5", check=False)
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_sigterm_leaves_no_output(scenario, tmp_path):
    out = tmp_path / "long.h5"
    process = subprocess.Popen([str(binary()), "run", str(scenario), "-o", str(out), "-q", "--set", "simulation.steps=1000000"],
                               stderr=subprocess.PIPE, text=True)
    try:
        process.wait(timeout=1.5)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted" in stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") < 4 * 2**30, reason="the market built takes about 1 GiB")
def test_a_second_signal_stops_at_once_even_while_the_market_is_built(scenario, tmp_path):
    """The first signal waits for the step under way, and building millions of customers' network takes
    seconds before the first; a second stops at once, leaving no file."""
    process = subprocess.Popen([str(binary()), "run", str(scenario), "-o", str(tmp_path / "big.h5"), "-q", "--set", "customers.count=5000000",
                                "--set", "network={type: barabasi_albert, mean_degree: 10}"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while not list(tmp_path.iterdir()) and time.time() < deadline:
        time.sleep(0.01)  # until the output's temporary file exists: the market is being built
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    sent = time.time()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert time.time() - sent < 1, "the second signal did not stop the run at once"
    assert "stopped at once" in stderr
    assert os.listdir(tmp_path) == []
