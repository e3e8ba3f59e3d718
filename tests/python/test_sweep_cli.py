"""`trustsim sweep` from the outside: kill -9 and SIGINT lose no finished run, resuming finishes the sweep
with results bitwise equal to an uninterrupted one, and changed scenarios are refused."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import METRICS, REPO, binary, peak_resident_bytes, trustsim

sys.path.insert(0, str(REPO / "tests" / "cluster"))
from compare_merged import first_difference  # noqa: E402

SWEEP = """\
simulation: {steps: 40, seed: 9}
customers: {count: 3000}
firms: [{name: A}, {name: B}]
network: {type: erdos_renyi, mean_degree: 8}
sweep:
  replicates: 5
  grid:
    firms[0].trust_first: [0.1, 0.5, 0.9]
    customers.opportunist_share: [0.05, 0.3]
"""
RUNS = 30


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep_cli") / "sweep.yaml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def reference(scenario) -> Path:
    out = scenario.parent / "reference"
    trustsim("sweep", scenario, "-o", out, "-q")
    trustsim("merge", out, "-o", scenario.parent / "reference.h5")
    return scenario.parent / "reference.h5"


def assert_same_results(a: Path, b: Path):
    assert first_difference(a, b) is None


def finished(outdir: Path) -> int:
    status = [line.split(",")[-2] for line in (outdir / "manifest.csv").read_text().splitlines()[1:]]
    return status.count("done")


def default_signals():
    """In the child before exec: the signals the tests send act as in a terminal, whatever this process
    inherited (a background job's SIGINT, or a nohup's SIGHUP, may be ignored, and that would carry over)."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


def start(command, *arguments):
    return subprocess.Popen([str(binary()), command, *map(str, arguments)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)


def wait_for_records(outdir: Path, size: int, process, timeout=60):
    log = outdir / "results" / "local.tsr"
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if log.exists() and log.stat().st_size >= size:
            return
        time.sleep(0.01)
    pytest.fail("the sweep finished or stalled before it could be interrupted")


def test_kill_9_loses_only_runs_in_flight(scenario, reference, tmp_path):
    outdir = tmp_path / "killed"
    process = start("sweep", scenario, "-o", outdir, "-q")
    record = 40 + 40 * 2 * 32 * 8 + 4
    wait_for_records(outdir, 3 * record + 100, process)  # some runs done, one part-written
    process.kill()
    process.communicate()
    partial = trustsim("merge", outdir, "-o", tmp_path / "partial.h5", check=False)
    assert partial.returncode == 1
    missing = int(re.search(rf"(\d+) of {RUNS} runs are not finished", partial.stderr).group(1))
    assert 0 < missing <= RUNS - 3, partial.stderr  # at least the 3 runs seen in the log were kept
    trustsim("sweep", scenario, "-o", outdir, "-q")
    assert finished(outdir) == RUNS
    trustsim("merge", outdir, "-o", tmp_path / "resumed.h5")
    assert_same_results(tmp_path / "resumed.h5", reference)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_keeps_finished_runs_and_resume_finishes(scenario, reference, tmp_path, stop):
    outdir = tmp_path / "interrupted"
    process = start("sweep", scenario, "-o", outdir, "-q")
    wait_for_records(outdir, 1, process)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "finished and kept" in stderr and "same command again" in stderr
    kept = finished(outdir)
    assert 0 < kept < RUNS
    trustsim("sweep", scenario, "-o", outdir, "-q")
    trustsim("merge", outdir, "-o", tmp_path / "resumed.h5")
    assert_same_results(tmp_path / "resumed.h5", reference)


def test_jobs_and_threads_do_not_change_results(scenario, reference, tmp_path):
    trustsim("sweep", scenario, "-o", tmp_path / "parallel", "-q", "--jobs", "2", "--threads-per-run", "2")
    trustsim("merge", tmp_path / "parallel", "-o", tmp_path / "parallel.h5")
    assert_same_results(tmp_path / "parallel.h5", reference)


def test_shards_together_equal_the_whole(scenario, reference, tmp_path):
    for shard in range(3):
        trustsim("sweep", scenario, "-o", tmp_path / "sharded", "-q", "--shard", f"{shard}/3")
    trustsim("merge", tmp_path / "sharded", "-o", tmp_path / "sharded.h5")
    assert_same_results(tmp_path / "sharded.h5", reference)


def test_a_set_of_a_swept_parameter_is_refused(scenario, tmp_path):
    result = trustsim("sweep", scenario, "-o", tmp_path / "out", "--set", "customers.opportunist_share=0.2", check=False)
    assert result.returncode == 1 and "the sweep varies customers.opportunist_share" in result.stderr
    assert not (tmp_path / "out").exists()


def test_resuming_with_a_changed_scenario_is_refused(scenario, reference):
    outdir = reference.parent / "reference"
    result = trustsim("sweep", scenario, "-o", outdir, "--set", "customers.count=2000", check=False)
    assert result.returncode == 1
    assert "different scenario" in result.stderr and "count" in result.stderr


def test_validate_prints_the_run_table(scenario):
    out = trustsim("validate", scenario).stdout
    assert "grid, 6 points x 5 replicates = 30 runs" in out
    header = next(line for line in out.splitlines() if line.startswith("run\t"))
    assert header.split("\t") == ["run", "point", "replicate", "seed", "firms[0].trust_first", "customers.opportunist_share"]


def test_slurm_scripts_are_written_without_submitting(scenario, tmp_path):
    out = trustsim("sweep", scenario, "-o", tmp_path / "cluster", "--slurm", "--tasks", "4", "--partition", "short").stdout
    script = (tmp_path / "cluster" / "slurm" / "sweep.sbatch").read_text()
    assert "#SBATCH --array=0-3" in script and "#SBATCH --partition=short" in script and '--shard "$SLURM_ARRAY_TASK_ID/4"' in script
    assert "afterany" in out  # the merge runs, and says what is missing, even if a task fails
    assert "0 of" in out and "4 of 4 array tasks with runs left" in out
    assert "merge" in (tmp_path / "cluster" / "slurm" / "merge.sbatch").read_text()
    assert "#SBATCH --mem=" in script
    # The tasks read the sweep's own copy of the scenario, not the file that may be edited meanwhile.
    assert str(tmp_path / "cluster" / "scenario.yaml") in script and str(scenario) not in script


def test_slurm_tasks_ask_for_the_memory_of_the_largest_run(scenario, tmp_path):
    def requested(name: str, *options, scenario=scenario) -> str:
        trustsim("sweep", scenario, "-o", tmp_path / name, "--slurm", *options)
        return re.search(r"^#SBATCH --mem=(\S+)$", (tmp_path / name / "slurm" / "sweep.sbatch").read_text(), re.M).group(1)

    small, large = requested("small"), requested("large", "--set", "customers.count=1000000")
    # The points' sizes count, not the scenario's own when every point replaces it.
    replaced = tmp_path / "replaced.yaml"
    replaced.write_text(SWEEP.replace("count: 3000", "count: 1000000"))
    assert requested("points", "--set", "sweep={replicates: 1, grid: {customers.count: [1000, 2000]}}", scenario=replaced) == small
    # About 190 bytes a customer at mean degree 8, a quarter more, and the process's own 64 MiB.
    assert small.endswith("M") and large.endswith("M") and 64 < int(small[:-1]) < 100 and 200 < int(large[:-1]) < 400
    assert requested("given", "--mem", "8G") == "8G"
    result = trustsim("sweep", scenario, "-o", tmp_path / "bad", "--slurm", "--mem", "8GB", check=False)
    assert result.returncode != 0 and "not a SLURM memory size" in result.stderr and not (tmp_path / "bad").exists()


def test_slurm_tasks_run_the_build_the_sweeps_runs_started_with(scenario, tmp_path):
    outdir = tmp_path / "cluster"
    slurm = ("sweep", scenario, "-o", outdir, "--slurm", "--tasks", "2")
    trustsim(*slurm)
    copy = outdir / "slurm" / "trustsim"
    assert copy.read_bytes() == Path(binary()).read_bytes() and os.access(copy, os.X_OK)
    for script in ("sweep.sbatch", "merge.sbatch"):
        assert f"exec '{copy}' " in (outdir / "slurm" / script).read_text()
    other_build = copy.read_bytes() + b"\0"
    # Until a run has started, the scripts are rewritten for this build.
    copy.write_bytes(other_build)
    assert "differs" not in trustsim(*slurm).stdout and copy.read_bytes() == Path(binary()).read_bytes()
    # Once one has (here run locally), a rebuilt trustsim resubmitting keeps the build of those runs, and says so.
    trustsim("sweep", scenario, "-o", outdir, "-q", "--shard", f"0/{RUNS}")
    copy.write_bytes(other_build)
    out = trustsim(*slurm).stdout
    assert "the build the sweep's runs started with, which differs from this trustsim" in out
    assert copy.read_bytes() == other_build
    # A copy lost or emptied is made again, with a warning.
    copy.write_bytes(b"")
    assert "was missing or empty" in trustsim(*slurm).stdout and os.access(copy, os.X_OK) and copy.stat().st_size > 0


def test_a_sweep_point_too_large_for_memory_is_refused_before_any_run(tmp_path):
    scenario = tmp_path / "sizes.yaml"
    scenario.write_text(SWEEP.split("sweep:")[0] + "sweep:\n  points:\n    - {customers.count: 1000}\n    - {customers.count: 2000000000}\n")
    result = trustsim("sweep", scenario, "-o", tmp_path / "out", "-q", check=False)
    assert result.returncode == 1
    assert "sweep point 1 would need about" in result.stderr and "customers.count" in result.stderr
    assert not (tmp_path / "out").exists()


LONG_STEPS, LONG_POINTS, LONG_REPLICATES = 4000, 3, 50


@pytest.fixture(scope="module")
def long_sweep(tmp_path_factory) -> Path:
    """A sweep of many long runs of a tiny market: quick to run, seconds to merge."""
    base = tmp_path_factory.mktemp("long_sweep")
    (base / "long.yaml").write_text(f"""\
simulation: {{steps: {LONG_STEPS}, seed: 5}}
customers: {{count: 20}}
firms: [{{name: A}}]
network: {{type: none}}
sweep:
  replicates: {LONG_REPLICATES}
  random:
    samples: {LONG_POINTS}
    parameters:
      customers.opportunist_share: {{low: 0, high: 0.5}}
""")
    trustsim("sweep", base / "long.yaml", "-o", base / "long", "--jobs", "2", "-q")
    return base / "long"


def test_merge_memory_does_not_grow_with_the_runs(long_sweep, tmp_path):
    """merge reads one run at a time: its peak memory stays far below the series it merges, with many
    replicates of a point as with many points."""
    series_bytes = LONG_POINTS * LONG_REPLICATES * LONG_STEPS * 1 * len(METRICS) * 8  # every metric of every run and step, one firm
    exit_code, peak_bytes, stderr = peak_resident_bytes("merge", long_sweep, "-o", tmp_path / "long.h5")
    assert exit_code == 0, stderr
    assert peak_bytes < series_bytes / 2, f"merge peaked at {peak_bytes / 2**20:.0f} MiB for {series_bytes / 2**20:.0f} MiB of series"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_an_interrupted_merge_leaves_no_file(long_sweep, tmp_path, stop):
    process = start("merge", long_sweep, "-o", tmp_path / "merged.h5")
    deadline = time.time() + 60
    while not any(tmp_path.iterdir()) and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)  # until the merge has begun writing its temporary file
    if process.poll() is not None:
        pytest.fail("the merge finished before it could be interrupted")
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "merged.h5 is untouched" in stderr
    assert os.listdir(tmp_path) == []
