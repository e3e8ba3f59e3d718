"""The figures researchers ask for: time series with replicate bands, scenarios side by side, the trust
distribution over time, and sweep heatmaps."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence, Union

import matplotlib

if not hasattr(matplotlib, "_called_from_pytest") and "MPLBACKEND" not in __import__("os").environ:
    matplotlib.use("Agg")  # headless by default; notebooks pick their own backend before importing us
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from .io import PathLike, open_histograms, open_run
from .stats import interval, summarize_replicates, summary

LABELS = {"trust": "trust of own customers", "share": "market share", "nps": "NPS of buyers", "profit": "profit per step",
          "employee_trust": "employees' trust", "revenue": "revenue per step", "trust_all": "trust of all customers"}


def _as_runs(data) -> list[xr.Dataset]:
    if isinstance(data, xr.Dataset):
        return [data]
    return [d if isinstance(d, xr.Dataset) else open_run(d) for d in data]


def plot_timeseries(data: Union[xr.Dataset, Sequence], metrics: Sequence[str] = ("trust", "share", "nps", "profit"), axes=None,
                    smooth: int = 1, label_prefix: str = ""):
    """One panel per metric, one line per firm. Several runs (replicates) give their mean and a 95% band."""
    runs = _as_runs(data)
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.2), squeeze=False)
        axes = axes[0]
    stacked = xr.concat(runs, dim="replicate")
    for ax, metric in zip(axes, metrics):
        values = stacked[metric]
        if smooth > 1:
            values = values.rolling(step=smooth, min_periods=1).mean()
        for f, firm in enumerate(stacked["firm"].values):
            mean, _, low, high = interval(values.isel(firm=f).values, axis=0)
            line, = ax.plot(stacked["step"], mean, label=f"{label_prefix}{firm}")
            if len(runs) > 1:
                ax.fill_between(stacked["step"], low, high, color=line.get_color(), alpha=0.25, linewidth=0)
        ax.set_title(LABELS.get(metric, metric))
        ax.set_xlabel("step (week)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    return axes


def plot_compare(scenarios: Mapping[str, Union[xr.Dataset, Sequence]], metric: str = "trust", firm: Union[int, str] = 0, smooth: int = 1, ax=None):
    """Scenarios side by side on one metric of one firm (by index or name), with replicate bands."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, data in scenarios.items():
        stacked = xr.concat(_as_runs(data), dim="replicate")
        series = stacked[metric].isel(firm=firm) if isinstance(firm, int) else stacked[metric].sel(firm=firm)
        if smooth > 1:
            series = series.rolling(step=smooth, min_periods=1).mean()
        mean, _, low, high = interval(series.values, axis=0)
        line, = ax.plot(stacked["step"], mean, label=name)
        if stacked.sizes["replicate"] > 1:
            ax.fill_between(stacked["step"], low, high, color=line.get_color(), alpha=0.25, linewidth=0)
    ax.set_title(LABELS.get(metric, metric))
    ax.set_xlabel("step (week)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_trust_heatmap(histograms: xr.DataArray, firm: Union[int, str] = 0, ax=None):
    """The distribution of all customers' trust in one firm over time (share of customers per bin)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    h = histograms.isel(firm=firm) if isinstance(firm, int) else histograms.sel(firm=firm)
    shares = h / h.sum("bin")
    edges = histograms.attrs["bin_edges"]
    steps = h["step"].values
    step_edges = np.append(steps, steps[-1] + (steps[-1] - steps[-2] if len(steps) > 1 else 1))
    mesh = ax.pcolormesh(step_edges, edges, shares.values.T, cmap="viridis", shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label="share of customers")
    ax.set_title(f"trust in {h['firm'].values}")
    ax.set_xlabel("step (week)")
    ax.set_ylabel("trust")
    return ax


def plot_sweep_heatmap(sweep: xr.Dataset, x: str, y: str, metric: str = "profit", firm: Union[int, str] = 0, tail: float = 0.2, ax=None):
    """Long-run `metric` (mean across replicates) over two swept parameters, e.g. control level x opportunist share."""
    table = summarize_replicates(sweep, [metric], tail=tail)
    firm_name = sweep["firm"].values[firm] if isinstance(firm, int) else firm
    grid = table[table["firm"] == firm_name].pivot_table(index=y, columns=x, values="mean")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    mesh = ax.imshow(grid.values, origin="lower", aspect="auto", cmap="RdYlGn")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for (i, j), value in np.ndenumerate(grid.values):
        ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize="x-small")
    ax.figure.colorbar(mesh, ax=ax, label=f"long-run {metric}")
    ax.set_title(f"{metric} of {firm_name}")
    return ax


def report(path: PathLike, output: PathLike | None = None) -> Path:
    """One PNG summarising a run: trust, share, NPS, cumulative profit, employees' trust and the trust
    distribution over time. Returns the PNG's path (default: the run's path with .png)."""
    ds = open_run(path)
    output = Path(output) if output else Path(path).with_suffix(".png")
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5))
    plot_timeseries(ds, ["trust", "share", "nps"], axes=axes[0], smooth=5)
    cumulative = ds.assign(profit=ds["profit"].cumsum("step"))
    plot_timeseries(cumulative, ["profit", "employee_trust"], axes=axes[1][:2])
    axes[1][0].set_title("cumulative profit")
    histograms = open_histograms(path)
    if histograms.sizes["step"] > 0:
        plot_trust_heatmap(histograms, 0, ax=axes[1][2])
    else:
        axes[1][2].set_axis_off()
    table = summary(ds)
    fig.suptitle(f"{Path(path).name} — seed {ds.attrs.get('seed')}, {ds.sizes['step']} steps, {ds.attrs.get('customers')} customers")
    fig.tight_layout()
    fig.savefig(output, dpi=110)
    plt.close(fig)
    return output
