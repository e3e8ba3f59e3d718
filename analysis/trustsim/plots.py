"""The figures researchers ask for: time series with replicate bands, scenarios side by side, the trust
distribution over time, and sweep heatmaps."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping, Sequence, Union

import matplotlib

if "MPLBACKEND" not in os.environ and sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    matplotlib.use("Agg")  # headless (a cluster node, CI): never try a GUI backend; Jupyter sets MPLBACKEND itself
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
import yaml

from .io import PathLike, open_histograms, open_run, open_sweep
from .stats import check_metric, interval, long_run_label, select_firm, summarize_replicates, summary

LABELS = {"trust": "trust of own customers", "share": "market share", "nps": "NPS of buyers", "profit": "profit per step",
          "employee_trust": "employees' trust", "revenue": "revenue per step", "trust_all": "trust of all customers"}


def _replicates(data) -> xr.Dataset:
    """Runs stacked along a dimension `replicate`: from a run (a dataset or its file's path), a list of
    replicate runs (datasets or paths), or the runs of one point of a sweep (e.g. sweep.where(sweep.point == 3, drop=True))."""
    if isinstance(data, (str, os.PathLike)):  # one run's file, not a sequence of one-letter paths
        data = open_run(data)
    if isinstance(data, xr.Dataset) and "run" in data.dims:
        if len(points := np.unique(data["point"].values)) > 1:
            raise ValueError(f"these runs are of {len(points)} sweep points, not replicates of one: select one point first, "
                             "e.g. sweep.where(sweep.point == 3, drop=True)")
        return data.drop_vars("replicate").rename(run="replicate")
    runs = [data] if isinstance(data, xr.Dataset) else [d if isinstance(d, xr.Dataset) else open_run(d) for d in data]
    return xr.concat(runs, dim="replicate")


def _line(ax, steps, values, **style):
    """A line over the steps, with markers when there is a single step (a line of one point is invisible)."""
    return ax.plot(steps, values, marker="o" if len(steps) == 1 else None, **style)[0]


def plot_timeseries(data: Union[xr.Dataset, PathLike, Sequence], metrics: Sequence[str] = ("trust", "share", "nps", "profit"), axes=None,
                    smooth: int = 1, label_prefix: str = ""):
    """One panel per metric, one line per firm, from a run (a dataset or its file's path), a list of replicate
    runs (datasets or paths) or the runs of one sweep point. Replicates give their mean and, as a band, the 95% Student-t interval of
    the mean. `smooth` > 1 plots a trailing rolling mean over that many steps."""
    stacked = _replicates(data)
    if axes is None:  # a figure of its own, laid out so that saving it clips no label
        _, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.2), squeeze=False, layout="tight")
        axes = axes[0]
    for ax, metric in zip(axes, metrics):
        values = stacked[metric]
        if smooth > 1:
            values = values.rolling(step=smooth, min_periods=1).mean()
        for f, firm in enumerate(stacked["firm"].values):
            mean, _, low, high = interval(values.isel(firm=f).values, axis=0)
            line = _line(ax, stacked["step"], mean, label=f"{label_prefix}{firm}")
            if stacked.sizes["replicate"] > 1:
                ax.fill_between(stacked["step"], low, high, color=line.get_color(), alpha=0.25, linewidth=0)
        ax.set_title(LABELS.get(metric, metric) + (f" ({smooth}-step mean)" if smooth > 1 else ""))
        ax.set_xlabel("step (week)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    return axes


def plot_compare(scenarios: Mapping[str, Union[xr.Dataset, PathLike, Sequence]], metric: str = "trust", firm: Union[int, str] = 0, smooth: int = 1, ax=None):
    """Scenarios side by side on one metric of one firm (by index or name): `scenarios` maps a name to a run
    (a dataset or its file's path), a list of replicate runs or the runs of one sweep point, drawn as in
    plot_timeseries."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), layout="tight")
    for name, data in scenarios.items():
        stacked = _replicates(data)
        check_metric(stacked, metric)
        series = select_firm(stacked[metric], firm)
        if smooth > 1:
            series = series.rolling(step=smooth, min_periods=1).mean()
        mean, _, low, high = interval(series.values, axis=0)
        line = _line(ax, stacked["step"], mean, label=name)
        if stacked.sizes["replicate"] > 1:
            ax.fill_between(stacked["step"], low, high, color=line.get_color(), alpha=0.25, linewidth=0)
    ax.set_title(LABELS.get(metric, metric) + (f" ({smooth}-step mean)" if smooth > 1 else ""))
    ax.set_xlabel("step (week)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_trust_heatmap(histograms: xr.DataArray, firm: Union[int, str] = 0, ax=None):
    """The distribution of all customers' trust in one firm over time (share of customers per bin)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), layout="tight")
    if histograms.sizes["step"] == 0:
        raise ValueError("the run recorded no trust histograms (record.histogram_every)")
    h = select_firm(histograms, firm)
    shares = h / h.sum("bin")
    edges = histograms.attrs["bin_edges"]
    steps = h["step"].values
    # Each column is centred on its histogram's step, reaching halfway to its neighbours.
    gaps = np.diff(steps) if len(steps) > 1 else np.ones(1)
    step_edges = np.concatenate([[steps[0] - gaps[0] / 2], steps[:-1] + np.diff(steps) / 2, [steps[-1] + gaps[-1] / 2]])
    mesh = ax.pcolormesh(step_edges, edges, shares.values.T, cmap="viridis", shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label="share of customers")
    ax.set_title(f"all customers' trust in {h['firm'].values}")  # not only its own customers', as the trust metric is
    ax.set_xlabel("step (week)")
    ax.set_ylabel("trust")
    return ax


def _sampled(sweep: xr.Dataset) -> bool:
    """Whether the sweep's points were drawn (random, Latin hypercube) rather than given (grid, points)."""
    design = (yaml.safe_load(sweep.attrs.get("scenario") or "") or {}).get("sweep") or {}
    return "random" in design or "latin_hypercube" in design


def _tick(value) -> str:
    """A swept value as a tick label: numbers short (0.3, 1e+05), text (a network type) as it is."""
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)


def plot_sweep_heatmap(sweep: Union[xr.Dataset, PathLike], x: str, y: str, metric: str = "profit", firm: Union[int, str] = 0, tail: float = 0.1, ax=None):
    """Long-run `metric` (stats.long_run, mean across replicates) over two swept parameters, e.g. control
    level x opportunist share: for money (profit, revenue, ...) the cumulative sum over the whole run, for
    NPS that of all the buyers of the last `tail` of the steps, for other metrics their mean over those
    steps, as the colour bar says. Values of both signs
    (a profit here, a loss there) get a colour scale centred on 0, so a small loss looks as pale as a small
    profit.

    The sweep must be a grid over x and y alone: other swept parameters are to be fixed first (e.g.
    sweep.where(sweep["firms[0].trust_first"] == 0, drop=True)), and sampled designs (random, Latin
    hypercube) are better drawn as a scatter of summarize_replicates' table; a ValueError says which.
    `sweep` is a sweep dataset (open_sweep) or the path of its directory or merged file."""
    if not isinstance(sweep, xr.Dataset):
        sweep = open_sweep(sweep)
    parameters = list(sweep.attrs.get("parameters", []))
    for axis in (x, y):
        if axis not in parameters:
            raise ValueError(f"'{axis}' is not a swept parameter of this sweep; its parameters are {', '.join(parameters) or 'none'}")
    if _sampled(sweep):
        raise ValueError("a random or Latin-hypercube sweep's points are not a grid: plot summarize_replicates(sweep, "
                         f"[{metric!r}]) as a scatter of {x} against {y} instead")
    firm_name = str(select_firm(sweep["firm"], firm).values)
    table = summarize_replicates(sweep, [metric], tail=tail)
    table = table[table["firm"] == firm_name]
    if others := [p for p in parameters if p not in (x, y) and table[p].nunique() > 1]:
        raise ValueError(f"the sweep also varies {', '.join(others)}, which a heatmap of {x} x {y} would average over: select one "
                         f"value first, e.g. sweep.where(sweep[{others[0]!r}] == {table[others[0]].iloc[0]!r}, drop=True)")
    # Points not run yet that belong to this grid (the other parameters at the values drawn): the grid is not whole.
    fixed = {p: table[p].iloc[0] for p in parameters if p not in (x, y)}
    if missing := [m["point"] for m in sweep.attrs.get("missing_points", []) if all(m[p] == v for p, v in fixed.items())]:
        raise ValueError(f"{len(missing)} points of this grid have no finished run yet (points {', '.join(map(str, missing[:10]))}"
                         f"{', ...' if len(missing) > 10 else ''}): plot it when the sweep has finished")
    columns, rows = table[x].nunique(), table[y].nunique()
    if len(table) != columns * rows:
        missing = sweep.attrs.get("missing_runs")
        reason = (f"some points have no finished run yet ({len(missing)} runs missing): plot it when the sweep has finished"
                  if missing else "as a list of points may be: plot summarize_replicates' table as a scatter instead")
        raise ValueError(f"the points are not a grid over {x} x {y} ({columns} values of one, {rows} of the other, {len(table)} points), {reason}")
    grid = table.pivot_table(index=y, columns=x, values="mean", dropna=False)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4), layout="tight")
    low, high = np.nanmin(grid.values), np.nanmax(grid.values)
    limit = max(-low, high)
    centred = {"vmin": -limit, "vmax": limit} if low < 0 < high else {}  # both signs: 0 in the middle (yellow)
    mesh = ax.imshow(grid.values, origin="lower", aspect="auto", cmap="RdYlGn", **centred)
    ax.set_xticks(range(grid.shape[1]), [_tick(v) for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [_tick(v) for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for (i, j), value in np.ndenumerate(grid.values):
        ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize="x-small")
    ax.figure.colorbar(mesh, ax=ax, label=long_run_label(metric, tail))
    ax.set_title(f"{metric} of {firm_name}, mean across replicates")
    return ax


def plot_events(ds: xr.Dataset, axes) -> None:
    """Marks a run's scheduled events (from its resolved scenario, attrs['scenario']) on time-series panels:
    a dotted line at the step a policy change or breach applies, a shaded span while a scandal runs; the
    first panel names them."""
    events = (yaml.safe_load(ds.attrs.get("scenario") or "") or {}).get("events") or []
    for i, ax in enumerate(axes):
        for event in events:
            step = event["step"]
            if event["type"] == "scandal":
                ax.axvspan(step, step + event["duration"], color="grey", alpha=0.12, linewidth=0)
            else:
                ax.axvline(step, color="grey", linestyle=":", linewidth=1)
            if i == 0:
                ax.annotate(f"{event['type']} {event['firm']}", xy=(step, 0.98), xycoords=("data", "axes fraction"), rotation=90,
                            ha="right", va="top", fontsize="x-small", color="dimgrey")


def report_path(run: PathLike) -> Path:
    """Where report() writes by default: next to the run, with .png for .h5."""
    return Path(run).with_suffix(".png")


def report(path: PathLike, out_png: PathLike | None = None) -> pd.DataFrame:
    """Write one PNG summarising a run (default: report_path) — trust, share, NPS, cumulative profit,
    employees' trust, with the scenario's events marked (plot_events), and the distribution of trust in the
    first firm over time — and return the per-firm summary table (summary())."""
    ds = open_run(path)
    histograms = open_histograms(path)
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5))
    plot_timeseries(ds, ["trust", "share", "nps"], axes=axes[0], smooth=5)
    cumulative = ds.assign(profit=ds["profit"].cumsum("step"))
    plot_timeseries(cumulative, ["profit", "employee_trust"], axes=axes[1][:2])
    axes[1][0].set_title("cumulative profit")
    plot_events(ds, [*axes[0], *axes[1][:2]])
    if histograms.sizes["step"] > 0:
        plot_trust_heatmap(histograms, 0, ax=axes[1][2])
    else:
        axes[1][2].set_axis_off()
        axes[1][2].text(0.5, 0.5, "no trust histograms recorded", ha="center", va="center")
    steps = ds.sizes["step"]
    fig.suptitle(f"{Path(path).name} — seed {ds.attrs.get('seed')}, {steps} step{'s' if steps != 1 else ''}, {ds.attrs.get('customers')} customers")
    fig.tight_layout()
    try:
        fig.savefig(out_png or report_path(path), dpi=110)
    finally:
        plt.close(fig)
    return summary(ds)
