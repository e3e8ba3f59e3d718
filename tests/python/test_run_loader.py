"""open_run and friends on files written by `trustsim run`."""
from __future__ import annotations

import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

import trustsim
from conftest import REPO, copy_with_version


def test_open_run_matches_every_dataset(run_file):
    ds = trustsim.open_run(run_file)
    with h5py.File(run_file) as f:
        assert list(ds["firm"].values) == ["A", "B"]
        np.testing.assert_array_equal(ds["step"], f["timeseries/step"][()])
        names = [n for n in f["timeseries"] if n != "step"]
        assert sorted(names) == sorted(trustsim.METRICS)
        for name in names:
            assert ds[name].dims == ("step", "firm")
            np.testing.assert_array_equal(ds[name].values, f[f"timeseries/{name}"][()])
            assert ds[name].attrs["description"]
        assert ds.attrs["seed"] == 3
        assert ds.attrs["format"] == "trustsim-run"
        assert "control_customers: 0.6" in ds.attrs["scenario"]
    assert ds.sizes == {"step": 30, "firm": 2}
    assert ds["share"].sum("firm").values == pytest.approx(np.ones(30))


def test_to_frame_is_tidy(run_file):
    frame = trustsim.to_frame(run_file)
    assert list(frame.columns[:2]) == ["step", "firm"]
    assert len(frame) == 30 * 2
    assert set(trustsim.METRICS) <= set(frame.columns)


def test_summary_is_computed_from_the_series(run_file):
    ds = trustsim.open_run(run_file)
    table = trustsim.summary(ds)
    for firm in ["A", "B"]:
        series = ds.sel(firm=firm)
        assert table.loc[firm, "trust"] == series["trust"].values[-1]
        assert table.loc[firm, "cumulative_profit"] == pytest.approx(series["profit"].values.sum())
        assert table.loc[firm, "nps"] == pytest.approx(np.nanmean(series["nps"].values[-3:]))


def test_histograms_snapshots_and_customers(run_file):
    histograms = trustsim.open_histograms(run_file)
    assert list(histograms["step"].values) == [9, 19, 29]
    assert (histograms.sum("bin") == 400).all()
    assert len(histograms.attrs["bin_edges"]) == histograms.sizes["bin"] + 1

    snapshots = trustsim.open_snapshots(run_file)
    assert list(snapshots["step"].values) == [14, 29]
    assert snapshots["customer_perception"].shape == (2, 400, 2, 4)
    assert snapshots["customer_trust"].shape == (2, 400, 2)
    assert snapshots["employee_trust"].shape == (2, 100)
    # The last snapshot's customer firms agree with the time series' customer counts.
    ds = trustsim.open_run(run_file)
    counts = np.bincount(snapshots["customer_firm"].values[-1], minlength=2)
    np.testing.assert_array_equal(counts, ds["customers"].values[-1])

    customers = trustsim.open_customers(run_file)
    assert len(customers) == 400
    assert customers["honesty"].between(0, 1).all()
    assert customers["opportunist"].dtype == bool


@pytest.mark.parametrize("case", ["missing", "text", "foreign", "version", "truncated", "sweep"])
def test_format_errors_say_what_is_wrong(case, tmp_path, run_file, foreign_h5, sweep_dir):
    expected = {
        "missing": "no such file",
        "text": "not an HDF5 file",
        "foreign": "not a TrustSim output",
        "version": "format version 99",
        "truncated": "truncated or damaged",
        "sweep": "merged sweep",
    }[case]
    if case == "missing":
        path = tmp_path / "nothing.h5"
    elif case == "text":
        path = tmp_path / "notes.h5"
        path.write_text("not hdf5\n")
    elif case == "foreign":
        path = foreign_h5
    elif case == "version":
        path = copy_with_version(run_file, tmp_path / "v99.h5", 99)
    elif case == "truncated":
        path = tmp_path / "half.h5"
        data = run_file.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path = sweep_dir.parent / "merged.h5"
    with pytest.raises(trustsim.FormatError, match=expected) as error:
        trustsim.open_run(path)
    assert str(path) in str(error.value)
    if case == "version":
        assert "reads version 1" in str(error.value)


def test_report_writes_a_png(run_file, tmp_path):
    out = trustsim.report(run_file, tmp_path / "r.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _python_trustsim(*args):
    env = {"PYTHONPATH": str(REPO / "analysis"), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["/usr/bin/python3", "-m", "trustsim", *map(str, args)], capture_output=True, text=True, env=env)


def test_report_command(run_file, tmp_path):
    result = _python_trustsim("report", run_file, "-o", tmp_path / "cli.png")
    assert result.returncode == 0, result.stderr
    assert "A" in result.stdout and "B" in result.stdout and "nps" in result.stdout
    assert (tmp_path / "cli.png").stat().st_size > 10_000


def test_report_command_on_a_bad_file_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("junk")
    result = _python_trustsim("summary", bad)
    assert result.returncode == 1
    assert "not an HDF5 file" in result.stderr
    assert "Traceback" not in result.stderr


def test_output_format_documents_every_metric(run_file):
    """docs/output-format.md lists every metric with the unit and description the file carries."""
    text = (REPO / "docs" / "output-format.md").read_text()
    ds = trustsim.open_run(run_file)
    for metric in trustsim.METRICS:
        attrs = ds[metric].attrs
        assert f"| `{metric}` | {attrs.get('unit', '')} | {attrs['description']} |" in text, metric
