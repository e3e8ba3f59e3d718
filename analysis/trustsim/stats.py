"""Long-run summaries of runs and sweeps, with confidence intervals across replicates."""
from __future__ import annotations

import warnings
from typing import Iterable, Union

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats as _stats

from .io import PathLike, open_run


def _tail(ds: xr.Dataset, fraction: float) -> xr.Dataset:
    steps = ds.sizes["step"]
    return ds.isel(step=slice(steps - max(1, int(round(steps * fraction))), None))


def summary(data: Union[xr.Dataset, PathLike], tail: float = 0.1) -> pd.DataFrame:
    """Per firm: final trust and share, NPS of buyers averaged over the last `tail` of the run (it is noisy
    step to step), and cumulative revenue and profit — the table `trustsim run` prints."""
    ds = data if isinstance(data, xr.Dataset) else open_run(data)
    last = ds.isel(step=-1)
    table = pd.DataFrame(
        {
            "trust": last["trust"].values,
            "share": last["share"].values,
            "nps": _tail(ds, tail)["nps"].mean("step", skipna=True).values,
            "cumulative_revenue": ds["revenue"].sum("step").values,
            "cumulative_profit": ds["profit"].sum("step").values,
        },
        index=pd.Index(ds["firm"].values, name="firm"),
    )
    return table


def interval(values: np.ndarray, axis: int = 0, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation (n - 1) and the Student-t interval of the mean along `axis`, ignoring NaN."""
    values = np.asarray(values, dtype=float)
    n = np.sum(np.isfinite(values), axis=axis)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN or single-value slices give NaN, as intended
        mean = np.nanmean(values, axis=axis)
        sd = np.nanstd(values, axis=axis, ddof=1)
        half = _stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    return mean, sd, mean - half, mean + half


def long_run(ds: xr.Dataset, metric: str, tail: float = 0.2) -> xr.DataArray:
    """A metric averaged over the last `tail` of the steps (cumulative for flows of money)."""
    if metric in ("revenue", "costs", "profit", "fraud_loss"):
        return ds[metric].sum("step")
    return _tail(ds, tail)[metric].mean("step", skipna=True)


def summarize_replicates(runs: Union[xr.Dataset, Iterable[Union[xr.Dataset, PathLike]]], metrics: Iterable[str] = ("trust", "share", "nps", "profit"),
                         tail: float = 0.2, confidence: float = 0.95) -> pd.DataFrame:
    """Long-run value of each metric across replicates, with mean, sd and a Student-t interval.

    `runs` is either a sweep (from open_sweep: grouped by point, parameters as columns) or a list of
    replicate runs of one scenario (paths or datasets from open_run). Money is cumulative over the run;
    other metrics are averaged over its last `tail`."""
    if isinstance(runs, xr.Dataset):
        sweep = runs
    else:
        datasets = [r if isinstance(r, xr.Dataset) else open_run(r) for r in runs]
        sweep = xr.concat(datasets, dim="run").assign_coords(run=np.arange(len(datasets)), point=("run", np.zeros(len(datasets), int)))
    parameters = list(sweep.attrs.get("parameters", []))
    rows = []
    for point, group in sweep.groupby("point"):
        for metric in metrics:
            values = long_run(group, metric, tail)  # (run, firm)
            mean, sd, low, high = interval(values.values, axis=0, confidence=confidence)
            for f, firm in enumerate(sweep["firm"].values):
                row = {"point": int(point), "firm": firm, "metric": metric, "n": int(np.isfinite(values.values[:, f]).sum()),
                       "mean": mean[f], "sd": sd[f], "ci_low": low[f], "ci_high": high[f]}
                row.update({p: group[p].values[0] for p in parameters})
                rows.append(row)
    return pd.DataFrame(rows)
