"""open_run and friends, checked against what h5py reads directly, on a synthetic and a real run."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
import xarray as xr

import trustsim
from conftest import METRICS, write_run


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def test_metrics_are_those_of_the_format():
    assert trustsim.METRICS == METRICS


def test_open_run_matches_every_dataset(run):
    ds = trustsim.open_run(run)
    with h5py.File(run) as f:
        names = [_text(n) for n in f["firms/name"][()]]
        steps = f["timeseries/step"][()]
        assert list(ds["firm"].values) == names
        np.testing.assert_array_equal(ds["step"].values, steps)
        assert ds.sizes == {"step": len(steps), "firm": len(names)}
        assert list(ds.data_vars) == list(METRICS)
        for name in METRICS:
            assert ds[name].dims == ("step", "firm")
            np.testing.assert_array_equal(ds[name].values, f[f"timeseries/{name}"][()], err_msg=name)
            assert ds[name].attrs["description"] == _text(f[f"timeseries/{name}"].attrs["description"])
            assert ds[name].attrs.get("unit", "") == _text(f[f"timeseries/{name}"].attrs.get("unit", ""))
        for key, value in f.attrs.items():
            expected = _text(value) if isinstance(value, (bytes, str)) else value
            assert ds.attrs[key] == expected, key
            assert type(ds.attrs[key]) in (str, int, float), key  # plain values, whatever h5py returned
        assert ds.attrs["scenario"] == _text(f["scenario"][()])
    assert ds.attrs["path"] == str(run)
    assert ds.attrs["format"] == "trustsim-run"
    assert "firms:" in ds.attrs["scenario"]


def test_real_run_attributes(real_run):
    ds = trustsim.open_run(real_run)
    assert ds.attrs["seed"] == 3 and ds.attrs["customers"] == 300 and ds.attrs["firms"] == 2
    assert list(ds["step"].values) == list(range(20))
    assert ds["share"].sum("firm").values == pytest.approx(np.ones(20))
    assert ds["customers"].sum("firm").values == pytest.approx(np.full(20, 300))


@pytest.mark.parametrize("fixed_length_strings", [True, False])
def test_both_kinds_of_strings_are_decoded(tmp_path, fixed_length_strings):
    ds = trustsim.open_run(write_run(tmp_path / "s.h5", fixed_length_strings=fixed_length_strings))
    assert list(ds["firm"].values) == ["Alpha", "Beta", "Gamma"]
    assert ds.attrs["format"] == "trustsim-run" and ds.attrs["build"] == "synthetic"
    assert ds.attrs["scenario"].startswith("simulation:")
    assert ds["trust"].attrs["description"] == "synthetic trust"


def test_to_frame_is_tidy(run):
    ds = trustsim.open_run(run)
    frame = trustsim.to_frame(run)
    assert list(frame.columns) == ["step", "firm", *METRICS]
    assert len(frame) == ds.sizes["step"] * ds.sizes["firm"]
    firm = ds["firm"].values[1]
    rows = frame[frame["firm"] == firm]
    np.testing.assert_array_equal(rows["step"].values, ds["step"].values)
    np.testing.assert_array_equal(rows["profit"].values, ds["profit"].sel(firm=firm).values)


def test_to_frame_of_replicates_has_a_run_column(synthetic_run):
    ds = trustsim.open_run(synthetic_run)
    both = trustsim.to_frame(xr.concat([ds, ds], dim="run").assign_coords(run=[0, 1]))
    assert list(both.columns) == ["run", "step", "firm", *METRICS]
    assert len(both) == 2 * 20 * 3


def test_summary_is_computed_from_the_file(run):
    table = trustsim.summary(trustsim.open_run(run))
    with h5py.File(run) as f:
        names = [_text(n) for n in f["firms/name"][()]]
        series = {m: f[f"timeseries/{m}"][()] for m in ("trust", "share", "nps", "purchases", "revenue", "profit")}
    steps = len(series["trust"])
    tail = max(1, steps // 10)
    assert list(table.index) == names
    assert list(table.columns) == ["trust", "share", "nps", "cumulative_revenue", "cumulative_profit"]
    for i, firm in enumerate(names):
        assert table.loc[firm, "trust"] == series["trust"][-1, i]
        assert table.loc[firm, "share"] == series["share"][-1, i]
        buyers = series["purchases"][-tail:, i]
        assert table.loc[firm, "nps"] == pytest.approx(np.nansum(series["nps"][-tail:, i] * buyers) / buyers[np.isfinite(series["nps"][-tail:, i])].sum())
        assert table.loc[firm, "cumulative_revenue"] == pytest.approx(series["revenue"][:, i].sum())
        assert table.loc[firm, "cumulative_profit"] == pytest.approx(series["profit"][:, i].sum())


def test_summary_nps_ignores_steps_without_buyers(tmp_path):
    path = write_run(tmp_path / "nan.h5")
    with h5py.File(path, "r+") as f:
        f["timeseries/nps"][-1, 0] = np.nan  # the last tenth of firm 0 is [value, NaN]
        f["timeseries/nps"][-2:, 2] = np.nan  # firm 2 had no buyers at the end
        expected = f["timeseries/nps"][-2, 0]
    table = trustsim.summary(path)
    assert table["nps"].iloc[0] == pytest.approx(expected)
    assert np.isnan(table["nps"].iloc[2])


def test_summary_nps_pools_the_buyers_of_the_tail(tmp_path):
    """NPS 100 from 1 buyer and -100 from 3 is the NPS of 4 buyers, 1 promoter and 3 detractors: -50, not 0."""
    path = write_run(tmp_path / "pooled.h5")
    with h5py.File(path, "r+") as f:
        f["timeseries/nps"][-2:, 0] = [100, -100]
        f["timeseries/purchases"][-2:, 0] = [1, 3]
    assert trustsim.summary(path)["nps"].iloc[0] == pytest.approx(-50)
    without_purchases = trustsim.open_run(path).drop_vars("purchases")
    with pytest.raises(ValueError, match="needs the metric 'purchases'"):
        trustsim.long_run(without_purchases, "nps")


def test_histograms(run):
    histograms = trustsim.open_histograms(run)
    with h5py.File(run) as f:
        counts, edges, steps = f["histograms/trust"][()], f["histograms/bin_edges"][()], f["histograms/step"][()]
        customers = int(f.attrs["customers"])
    assert histograms.dims == ("step", "firm", "bin")
    np.testing.assert_array_equal(histograms.values, counts)
    np.testing.assert_array_equal(histograms["step"].values, steps)
    np.testing.assert_array_equal(histograms.attrs["bin_edges"], edges)
    np.testing.assert_allclose(histograms["bin_center"].values, (edges[:-1] + edges[1:]) / 2)
    assert (histograms.sum("bin") == customers).all()  # every customer, in every firm's histogram


def test_no_histograms(tmp_path):
    histograms = trustsim.open_histograms(write_run(tmp_path / "none.h5", histograms=0))
    assert histograms.shape == (0, 3, 10)


def test_snapshots(run):
    snapshots = trustsim.open_snapshots(run)
    with h5py.File(run) as f:
        P, N, F, E = len(f["snapshots/step"]), int(f.attrs["customers"]), int(f.attrs["firms"]), int(f.attrs["employees"])
        np.testing.assert_array_equal(snapshots["customer_perception"].values, f["snapshots/customers/perception"][()])
        np.testing.assert_array_equal(snapshots["employee_trust"].values, f["snapshots/employees/trust"][()])
    assert snapshots["customer_firm"].dims == ("step", "customer")
    assert snapshots["customer_trust"].shape == (P, N, F)
    assert snapshots["customer_perception"].dims == ("step", "customer", "firm", "component")
    assert snapshots["customer_perception"].shape == (P, N, F, 4)
    assert list(snapshots["component"].values) == ["C", "R", "I", "S"]
    for name in ("firm", "trust", "trustworthiness", "honesty", "reciprocity", "propensity_to_trust"):
        assert snapshots[f"employee_{name}"].shape == (P, E)


def test_real_snapshot_agrees_with_the_time_series(real_run):
    snapshots, ds = trustsim.open_snapshots(real_run), trustsim.open_run(real_run)
    assert snapshots["step"].values[-1] == ds["step"].values[-1]  # always taken after the last step
    counts = np.bincount(snapshots["customer_firm"].values[-1], minlength=2)
    np.testing.assert_array_equal(counts, ds["customers"].values[-1])


def test_snapshots_without_employees(tmp_path):
    snapshots = trustsim.open_snapshots(write_run(tmp_path / "ne.h5", employees=False))
    assert not [v for v in snapshots.data_vars if v.startswith("employee_")]
    assert snapshots["customer_trust"].shape == (2, 50, 3)


def test_customers(run):
    customers = trustsim.open_customers(run)
    with h5py.File(run) as f:
        np.testing.assert_array_equal(customers["honesty"].values, f["customers/honesty"][()])
        np.testing.assert_array_equal(customers["opportunist"].values, f["customers/opportunist"][()] == 1)
        assert len(customers) == int(f.attrs["customers"])
    assert set(customers.columns) == {"propensity_to_trust", "honesty", "reciprocity", "opportunist"}
    assert customers["opportunist"].dtype == bool
