"""open_sweep on a sweep directory and on its merge, and the statistics across replicates."""
from __future__ import annotations

import warnings
from functools import partial

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

import trustsim


def test_directory_and_merge_agree(sweep_dir):
    from_dir = trustsim.open_sweep(sweep_dir)
    merged = trustsim.open_sweep(sweep_dir.parent / "merged.h5")
    assert from_dir.sizes == merged.sizes == {"run": 12, "step": 30, "firm": 2}
    for coordinate in ["point", "replicate", "seed", "firms[0].control_customers", "customers.opportunist_share"]:
        np.testing.assert_array_equal(from_dir[coordinate].values, merged[coordinate].values, err_msg=coordinate)
    # Every metric, in the log's order (METRICS), equals the merge the C++ side wrote by name.
    for metric in trustsim.METRICS:
        np.testing.assert_array_equal(from_dir[metric].values, merged[metric].values, err_msg=metric)
    assert from_dir.attrs["missing_runs"] == []


def test_runs_of_different_lengths_are_padded_alike_in_directory_and_merge(tmp_path):
    """A sweep over simulation.steps: shorter runs end in NaN, read from the directory as from the merge."""
    from conftest import trustsim as binary

    (tmp_path / "steps.yaml").write_text("simulation: {steps: 8, seed: 2}\ncustomers: {count: 200}\nfirms: [{name: A}, {name: B}]\n"
                                         "sweep:\n  replicates: 2\n  grid: {simulation.steps: [5, 8]}\n")
    binary("sweep", tmp_path / "steps.yaml", "-o", tmp_path / "out", "-q")
    binary("merge", tmp_path / "out", "-o", tmp_path / "merged.h5")
    from_dir = trustsim.open_sweep(tmp_path / "out", metrics=["trust", "customers"])
    merged = trustsim.open_sweep(tmp_path / "merged.h5", metrics=["trust", "customers"])
    assert from_dir.sizes == merged.sizes == {"run": 4, "step": 8, "firm": 2}
    for metric in ["trust", "customers"]:
        np.testing.assert_array_equal(from_dir[metric].values, merged[metric].values, err_msg=metric)
        assert np.isnan(from_dir[metric].values[:2, 5:]).all()  # runs 0 and 1: the point of 5 steps
        assert not np.isnan(from_dir[metric].values[2:]).any()
        np.testing.assert_array_equal(from_dir["steps"].values, merged["steps"].values)
    assert list(from_dir["steps"].values) == [5, 5, 8, 8]
    # Long-run values come from each run's own last steps, not from the padding: the last 10% of 5 steps
    # is its last step (index 4), of 8 steps also its last (index 7).
    for sweep in (from_dir, merged):
        table = trustsim.summarize_replicates(sweep, metrics=["trust"])
        for point, last in [(0, 4), (1, 7)]:
            rows = table[table["point"] == point].set_index("firm")
            expected = sweep["trust"].where(sweep["point"] == point, drop=True).isel(step=last).mean("run")
            np.testing.assert_allclose(rows.loc[list(sweep["firm"].values), "mean"].values, expected.values, rtol=1e-12)
        # A selection of steps summarises its own last steps: of steps 0-3, step 3 for every run; of steps
        # 2-6, step 4 for runs of 5 steps (their last) and step 6 for runs of 8.
        for selection, lasts in [(slice(0, 4), [3, 3]), (slice(2, 7), [4, 6])]:
            table = trustsim.summarize_replicates(sweep.isel(step=selection), metrics=["trust"])
            for point, last in enumerate(lasts):
                rows = table[table["point"] == point].set_index("firm")
                expected = sweep["trust"].where(sweep["point"] == point, drop=True).isel(step=last).mean("run")
                np.testing.assert_allclose(rows.loc[list(sweep["firm"].values), "mean"].values, expected.values, rtol=1e-12)
    # summary() of one run takes that run's own last step, not the padding after it.
    for path in (tmp_path / "out", tmp_path / "merged.h5"):
        sweep = trustsim.open_sweep(path)
        one = trustsim.summary(sweep.sel(run=0))
        np.testing.assert_array_equal(one["trust"].values, sweep["trust"].sel(run=0).isel(step=4).values)
        assert np.isfinite(one.values).all()
    with pytest.raises(ValueError, match=r"summary\(\) is of one run"):
        trustsim.summary(merged)
    statistics = trustsim.open_statistics(tmp_path / "merged.h5", metrics=["trust"])
    assert list(statistics.data_vars) == ["trust"]
    assert list(statistics["simulation.steps"].values) == [5, 8]
    # Whole numbers are integers, in the directory and the merged file alike (a count of steps is no float).
    for path in (tmp_path / "out", tmp_path / "merged.h5"):
        assert trustsim.open_sweep(path)["simulation.steps"].dtype == np.int64
    assert np.isnan(statistics["trust"].sel(point=0).values[5:]).all()  # no replicate has these steps
    assert not np.isnan(statistics["trust"].sel(point=0).values[:5]).any()


def test_runs_match_single_runs_of_their_point(sweep_dir, tmp_path):
    """Run 5 of the sweep is the scenario at its point and seed: `trustsim run` with those values agrees."""
    from conftest import trustsim as binary

    sweep = trustsim.open_sweep(sweep_dir)
    run = sweep.sel(run=5)
    out = tmp_path / "five.h5"
    binary("run", sweep_dir.parent / "sweep.yaml", "-o", out, "-q", "--seed", int(run["seed"]),
           "--set", f"firms[0].control_customers={float(run['firms[0].control_customers'])}",
           "--set", f"customers.opportunist_share={float(run['customers.opportunist_share'])}")
    single = trustsim.open_run(out)
    np.testing.assert_array_equal(single["trust"].values, run["trust"].values)


def test_merged_statistics_match_pandas(sweep_dir):
    with h5py.File(sweep_dir.parent / "merged.h5") as f:
        mean = f["statistics/trust/mean"][()]
        low, high = f["statistics/trust/ci95_low"][()], f["statistics/trust/ci95_high"][()]
        series = f["timeseries/trust"][()]
        point = f["runs/point"][()]
    for p in range(4):
        np.testing.assert_allclose(mean[p], series[point == p].mean(axis=0), rtol=1e-12)
    assert (low <= mean).all() and (mean <= high).all()


def replicate_statistics(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Along the first axis (replicates), leaving NaN out: the mean, the standard deviation (n - 1) and the
    half-width of the Student-t 95% interval of the mean; the last two are NaN with fewer than two values."""
    n = np.isfinite(values).sum(axis=0)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN and single-value slices
        mean = np.nanmean(values, axis=0)
        std = np.where(n > 1, np.nanstd(values, axis=0, ddof=1), np.nan)
        return mean, std, scipy_stats.t.ppf(0.975, n - 1) * std / np.sqrt(n)


def test_open_statistics_matches_the_replicates(sweep_dir):
    """open_statistics reads what the merge wrote, per point, step and firm, as recomputed here from the
    replicates' series. Tolerances: mean and std to 1e-12 relative (the merge and numpy add in different
    orders), the interval's half-widths to 1e-9 relative (scipy's t quantile for 2 degrees of freedom is
    4e-11 off the exact value, which boost gives); all to 1e-12 of the metric's largest magnitude absolute."""
    merged = sweep_dir.parent / "merged.h5"
    statistics = trustsim.open_statistics(merged)
    sweep = trustsim.open_sweep(merged)
    assert statistics.sizes == {"point": 4, "step": 30, "firm": 2, "statistic": 4}
    assert list(statistics.data_vars) == list(trustsim.METRICS)
    assert list(statistics["statistic"].values) == ["mean", "std", "ci95_low", "ci95_high"]
    np.testing.assert_array_equal(statistics["firm"].values, sweep["firm"].values)
    assert statistics.attrs["parameters"] == sweep.attrs["parameters"] and statistics.attrs["replicates"] == 3
    assert statistics["trust"].attrs["unit"] == "trust"
    for point in range(4):
        runs = sweep.isel(run=sweep["point"].values == point)
        assert runs.sizes["run"] == 3
        for parameter in sweep.attrs["parameters"]:
            assert statistics[parameter].values[point] == runs[parameter].values[0], parameter
        for metric in trustsim.METRICS:
            values = runs[metric].values
            mean, std, half = replicate_statistics(values)
            read = {s: statistics[metric].sel(point=point, statistic=s).values for s in trustsim.STATISTICS}
            close = partial(np.testing.assert_allclose, atol=1e-12 * max(np.nanmax(np.abs(values), initial=0), 1), equal_nan=True,
                            err_msg=f"{metric}, point {point}")
            close(read["mean"], mean, rtol=1e-12)
            close(read["std"], std, rtol=1e-12)
            close(read["ci95_high"] - read["mean"], half, rtol=1e-9)
            close(read["mean"] - read["ci95_low"], half, rtol=1e-9)


def test_open_statistics_errors(sweep_dir, synthetic_run):
    with pytest.raises(trustsim.FormatError, match="a sweep directory, which holds no statistics; merge it"):
        trustsim.open_statistics(sweep_dir)
    with pytest.raises(trustsim.FormatError, match="this file is a run"):
        trustsim.open_statistics(synthetic_run)
    with pytest.raises(ValueError, match="unknown metrics"):
        trustsim.open_statistics(sweep_dir.parent / "merged.h5", metrics=["trsut"])


def test_summarize_replicates(sweep_dir):
    table = trustsim.summarize_replicates(trustsim.open_sweep(sweep_dir), ["trust", "profit"])
    assert len(table) == 4 * 2 * 2
    assert (table["n"] == 3).all()
    assert ((table["ci_low"] <= table["mean"]) & (table["mean"] <= table["ci_high"])).all()
    assert set(table["firms[0].control_customers"]) == {0.1, 0.8}


def test_sweep_heatmap(sweep_dir, tmp_path):
    ax = trustsim.plot_sweep_heatmap(trustsim.open_sweep(sweep_dir), "firms[0].control_customers", "customers.opportunist_share", "profit")
    ax.figure.savefig(tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 5000
    # A path, as every summary takes: the same picture.
    from_path = trustsim.plot_sweep_heatmap(sweep_dir, "firms[0].control_customers", "customers.opportunist_share", "profit")
    np.testing.assert_array_equal(from_path.images[0].get_array(), ax.images[0].get_array())


def test_unfinished_directory_lists_missing_runs(sweep_dir, tmp_path):
    import shutil

    partial = tmp_path / "partial"
    shutil.copytree(sweep_dir, partial)
    log = partial / "results" / "local.tsr"
    log.write_bytes(log.read_bytes()[:-100])  # the last record torn
    ds = trustsim.open_sweep(partial)
    assert ds.sizes["run"] == 11
    assert len(ds.attrs["missing_runs"]) == 1  # run 10 or 11: with --jobs 2 either may be written last
    with pytest.warns(UserWarning, match=rf"1 runs of this sweep are not finished \(attrs\['missing_runs'\]: {ds.attrs['missing_runs'][0]}\)"):
        table = trustsim.summarize_replicates(ds, "trust")
    assert sorted(table["n"].unique()) == [2, 3]
    with pytest.warns(UserWarning, match="not finished"):
        trustsim.summarize_differences(ds, {"firms[0].control_customers": 0.1}, "trust")
    assert ds.attrs["missing_points"] == []  # every point has finished runs: a heatmap may be drawn
    with pytest.warns(UserWarning, match="not finished"):
        trustsim.plot_sweep_heatmap(ds, "firms[0].control_customers", "customers.opportunist_share", "trust")

    # One run finished of 12: three of the four points have none, and a heatmap of the one left is refused.
    log.write_bytes(log.read_bytes()[: log.stat().st_size // 11])
    ds = trustsim.open_sweep(partial)
    assert ds.sizes["run"] == 1 and len(ds.attrs["missing_points"]) == 3
    assert {m["firms[0].control_customers"] for m in ds.attrs["missing_points"]} <= {0.1, 0.8}
    with pytest.raises(ValueError, match="3 points of this grid have no finished run yet"), pytest.warns(UserWarning):
        trustsim.plot_sweep_heatmap(ds, "firms[0].control_customers", "customers.opportunist_share", "trust")


def test_damage_inside_a_log_loses_only_the_damaged_run(sweep_dir, tmp_path):
    """A flipped byte in a record in the middle of the log: that run is missing, with a warning naming the log
    and the bytes skipped, and every later record is read as before; a torn end after it is no damage."""
    import shutil

    damaged = tmp_path / "damaged"
    shutil.copytree(sweep_dir, damaged)
    log = damaged / "results" / "local.tsr"
    data = bytearray(log.read_bytes())
    record = len(data) // 12  # 12 records of the same size
    data[5 * record + record // 2] ^= 0xFF  # inside the values of the sixth record
    log.write_bytes(bytes(data) + b"TSR1 half a record")
    with pytest.warns(UserWarning) as caught:
        ds = trustsim.open_sweep(damaged)
    assert [str(w.message) for w in caught] == [
        f"{log}: bytes {5 * record}-{6 * record - 1} are damaged and were skipped; runs recorded only there are missing"]
    clean = trustsim.open_sweep(sweep_dir)
    assert ds.sizes["run"] == 11 and len(ds.attrs["missing_runs"]) == 1
    lost = ds.attrs["missing_runs"][0]
    kept = clean.drop_sel(run=lost)
    for metric in trustsim.METRICS:
        np.testing.assert_array_equal(ds[metric].values, kept[metric].values, err_msg=metric)
    # The damaged log beside an intact copy of every run (as another writer's resume leaves it): nothing is missing, and it says so.
    log.rename(damaged / "results" / "shard-0.tsr")
    shutil.copy(sweep_dir / "results" / "local.tsr", log)
    with pytest.warns(UserWarning, match="are damaged and were skipped; every run is recorded intact, so none is missing"):
        whole = trustsim.open_sweep(damaged)
    assert whole.sizes["run"] == 12 and whole.attrs["missing_runs"] == []


def test_summarize_replicates_and_open_sweep_take_a_path_and_one_metric(sweep_dir):
    merged = sweep_dir.parent / "merged.h5"
    from_path = trustsim.summarize_replicates(merged, "trust")
    pd.testing.assert_frame_equal(from_path, trustsim.summarize_replicates(trustsim.open_sweep(merged), ["trust"]))
    pd.testing.assert_frame_equal(trustsim.summarize_replicates(sweep_dir, "trust"), from_path)
    pd.testing.assert_frame_equal(trustsim.summarize_differences(merged, {"firms[0].control_customers": 0.1}, "trust"),
                                  trustsim.summarize_differences(trustsim.open_sweep(merged), {"firms[0].control_customers": 0.1}, "trust"))
    assert list(trustsim.open_sweep(merged, metrics="trust").data_vars) == ["trust"]
    assert list(trustsim.open_statistics(merged, metrics="trust").data_vars) == ["trust"]


def test_open_sweep_errors(tmp_path):
    with pytest.raises(trustsim.FormatError, match="not a sweep directory"):
        trustsim.open_sweep(tmp_path)


def test_sweep_to_frame(sweep_dir):
    frame = trustsim.to_frame(trustsim.open_sweep(sweep_dir))
    assert list(frame.columns[:5]) == ["run", "point", "replicate", "step", "firm"]
    assert len(frame) == 12 * 30 * 2
    assert {"firms[0].control_customers", "trust", "profit"} <= set(frame.columns)
