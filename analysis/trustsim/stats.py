"""Long-run summaries of runs and sweeps, with confidence intervals across replicates.

Intervals are Student-t intervals of the mean (scipy.stats.t, from Debian's python3-scipy)."""
from __future__ import annotations

import os
import warnings
from typing import Iterable, Mapping, Union

import numpy as np
import pandas as pd
import xarray as xr
import yaml
from scipy import stats as _stats

from .io import PathLike, is_sweep, open_run, open_sweep

# Flows of money, reported cumulative over the run rather than averaged over its end.
MONEY = ("revenue", "costs", "profit", "fraud_loss")
# Ratios over each step's buyers (its respondents), pooled over the tail's buyers rather than averaged over
# its steps: a step with a handful of buyers counts for no more than they are.
POOLED_OVER_BUYERS = ("nps",)


def _tail_length(steps, fraction: float):
    """Steps in the last `fraction` of `steps` steps, rounded down but at least one: the tail `trustsim run`
    averages its NPS over (for the default tenth, steps // 10)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"tail must be a fraction of the steps in (0, 1], e.g. 0.1 for the last 10%; got {fraction}")
    # The small margin keeps a product such as 29 x 0.01 x 100 from rounding down below the whole number it is.
    return np.maximum(1, np.floor(np.asarray(steps) * fraction + 1e-9).astype(int))


def _tail(ds: xr.Dataset, fraction: float) -> xr.Dataset:
    """The last `fraction` of the steps in `ds`; where runs differ in length (coordinate `steps`, as
    open_sweep gives), of each run's own steps within the selection, the rest NaN. Steps are numbered from
    0, so a run's own steps are those numbered below its length, also after a selection of steps."""
    if "steps" in ds.coords:
        own = ds["step"] < ds["steps"]
        length = own.sum("step")
        rank = own.cumsum("step")  # 1 for the first of a run's own steps in the selection, ...
        return ds.where(own & (rank > length - _tail_length(length, fraction)))
    steps = ds.sizes["step"]
    return ds.isel(step=slice(steps - int(_tail_length(steps, fraction)), None))


def _differences(a, b, path: str = "") -> list[str]:
    """Key paths at which two parsed scenarios differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b), key=str) for d in _differences(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def _check_replicates(datasets: list[xr.Dataset]) -> None:
    """Runs pooled as replicates must be one scenario run with different seeds: a ValueError says otherwise."""
    def label(i: int) -> str:
        return datasets[i].attrs.get("path", f"run {i}")
    scenarios = [yaml.safe_load(d.attrs["scenario"]) if "scenario" in d.attrs else None for d in datasets]
    for parsed in scenarios:
        if isinstance(parsed, dict):
            parsed.get("simulation", {}).pop("seed", None)
    for i in range(1, len(scenarios)):
        if scenarios[0] is not None and scenarios[i] is not None and (differences := _differences(scenarios[0], scenarios[i])):
            raise ValueError(f"{label(0)} and {label(i)} are runs of different scenarios (they differ in {', '.join(differences[:5])}), "
                             "not replicates: summarise each scenario's replicates on its own, or run a sweep")
    seeds = [d.attrs.get("seed") for d in datasets]
    for i, seed in enumerate(seeds):
        if seed is not None and seed in seeds[:i]:
            raise ValueError(f"{label(seeds.index(seed))} and {label(i)} have the same seed {seed}: they are one run, not two replicates; "
                             "give runs with different seeds (trustsim run --seed 1, --seed 2, ...)")
    if len({d.sizes["step"] for d in datasets}) > 1:
        raise ValueError("the runs differ in length, so they are not replicates of one scenario")


def check_metric(ds: xr.Dataset, metric: str) -> None:
    """A ValueError listing the metrics there are, when `metric` is not one of them."""
    if metric not in ds.data_vars:
        raise ValueError(f"unknown metric '{metric}'; this data has: {', '.join(ds.data_vars)}")


def _nanmean(values: xr.DataArray, dim: str) -> xr.DataArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN slice (no buyers at all) gives NaN, as intended
        return values.mean(dim, skipna=True)


def summary(data: Union[xr.Dataset, PathLike], tail: float = 0.1) -> pd.DataFrame:
    """Per firm: final trust and share, the NPS of all the buyers of the last `tail` of the steps (long_run),
    and cumulative revenue and profit — the table `trustsim run` prints.
    `data` is one run: a run's file or dataset, or one run of a sweep (sweep.sel(run=...)), whose own last
    step is taken when the sweep's runs differ in length."""
    ds = data if isinstance(data, xr.Dataset) else open_run(data)
    if "run" in ds.dims:
        raise ValueError("summary() is of one run; select one (sweep.sel(run=0)) or summarise the sweep with summarize_replicates(sweep)")
    last = ds.isel(step=int(ds["steps"]) - 1 if "steps" in ds.coords else -1)
    return pd.DataFrame(
        {
            "trust": last["trust"].values,
            "share": last["share"].values,
            "nps": long_run(ds, "nps", tail).values,
            "cumulative_revenue": ds["revenue"].sum("step").values,
            "cumulative_profit": ds["profit"].sum("step").values,
        },
        index=pd.Index(ds["firm"].values, name="firm"),
    )


def bass_diffusion(media: float, contagion: float, steps: int) -> np.ndarray:
    """The aware share after each of `steps` steps of the discrete-time Bass (1969) recursion
    F(t + 1) = F(t) + (p + q F(t)) (1 - F(t)) from F(0) = 0, with media hazard p and contagion q: what a
    scandal's awareness follows in a well-mixed market (docs/validation.md)."""
    shares, aware = np.empty(steps), 0.0
    for t in range(steps):
        aware += (media + contagion * aware) * (1 - aware)
        shares[t] = aware
    return shares


def interval(values: np.ndarray, axis: int = 0, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation (n - 1) and the Student-t interval of the mean along `axis`, ignoring NaN.
    The interval is NaN where fewer than two values are finite."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a probability between 0 and 1, e.g. 0.95 for a 95% interval; got {confidence!r}")
    values = np.asarray(values, dtype=float)
    n = np.sum(np.isfinite(values), axis=axis)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN or single-value slices give NaN, as intended
        mean = np.nanmean(values, axis=axis)
        sd = np.nanstd(values, axis=axis, ddof=1)
        half = _stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n > 1, half, np.nan)
    return mean, sd, mean - half, mean + half


def long_run(ds: xr.Dataset, metric: str, tail: float = 0.1) -> xr.DataArray:
    """A metric's long-run value per firm: its mean over the last `tail` of the steps, ignoring NaN; money
    (MONEY) summed over the whole run; NPS (POOLED_OVER_BUYERS) that of all the tail's buyers, each step's
    weighted by its purchases (NaN without any). As in summary()."""
    check_metric(ds, metric)
    if metric in MONEY:
        return ds[metric].sum("step")
    end = _tail(ds, tail)
    if metric in POOLED_OVER_BUYERS:
        if "purchases" not in ds:
            raise ValueError(f"the long-run {metric} pools the buyers of the last steps, so it needs the metric 'purchases' as well: "
                             f"open the sweep with it, e.g. open_sweep(path, ['{metric}', 'purchases'])")
        buyers = end["purchases"].where(np.isfinite(end[metric]))
        total = buyers.sum("step")
        return ((end[metric] * buyers).sum("step") / total).where(total > 0)
    return _nanmean(end[metric], "step")


def aggregate(metric: str, tail: float = 0.1) -> str:
    """How long_run reduces `metric` over the steps, in words: "sum over all steps" for money, "pooled over
    the buyers of the last 10% of steps" for NPS, otherwise e.g. "mean over the last 10% of steps"."""
    if metric in MONEY:
        return "sum over all steps"
    return f"{'pooled over the buyers of' if metric in POOLED_OVER_BUYERS else 'mean over'} the last {tail * 100:g}% of steps"


def long_run_label(metric: str, tail: float = 0.1) -> str:
    """What long_run(ds, metric, tail) is, as a label: "cumulative profit", "share, mean over the last 10% of steps"."""
    return f"cumulative {metric}" if metric in MONEY else f"{metric}, {aggregate(metric, tail)}"


def summarize_replicates(runs: Union[xr.Dataset, Iterable[Union[xr.Dataset, PathLike]]], metrics: Union[str, Iterable[str]] = ("trust", "share", "nps", "profit"),
                         tail: float = 0.1, confidence: float = 0.95) -> pd.DataFrame:
    """Long-run value (long_run) of each metric across replicates: one row per firm and metric with the
    column `aggregate` saying what that value is, then n, mean, std (n - 1) and the Student-t `confidence`
    interval of the mean (ci_low, ci_high).

    The long-run value of money (MONEY: revenue, costs, profit, fraud_loss) is its cumulative sum over the
    whole run (aggregate "sum over all steps"), so a "profit" row is the mean cumulative profit of a run;
    that of NPS is the NPS of all the buyers of the last `tail` of the steps (aggregate "pooled over the buyers
    of the last 10% of steps"), and that of any other metric (trust, share, ...) is its mean over the last
    `tail` of the steps (aggregate "mean over the last 10% of steps" for the default tail), ignoring NaN.

    `runs` is a list of replicate runs of one scenario (paths or datasets from open_run: the same resolved
    scenario with different seeds, or a ValueError says how they differ), or a sweep (from open_sweep, or
    the path of its directory or merged file), whose rows are then also per point, with the swept parameters
    as columns. A sweep with unfinished runs gives a warning: its points have fewer replicates."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if isinstance(runs, (str, os.PathLike)):
        runs = open_sweep(runs) if is_sweep(runs) else [runs]
    if isinstance(runs, xr.Dataset) and "run" in runs.dims:
        sweep, by_point = runs, True
        _warn_if_incomplete(sweep)
    else:
        runs = [runs] if isinstance(runs, xr.Dataset) else runs
        datasets = [r if isinstance(r, xr.Dataset) else open_run(r) for r in runs]
        if not datasets:
            raise ValueError("summarize_replicates needs at least one run")
        _check_replicates(datasets)
        sweep = xr.concat(datasets, dim="run", combine_attrs="drop").assign_coords(point=("run", np.zeros(len(datasets), int)))
        by_point = False
    parameters = list(sweep.attrs.get("parameters", []))
    rows = []
    for point, group in sweep.groupby("point"):
        for metric in metrics:
            rows += _rows(long_run(group, metric, tail).transpose("run", "firm").values, sweep["firm"].values, metric, tail, confidence,
                          {"point": int(point)} if by_point else {}, {p: group[p].values[0] for p in parameters})
    return pd.DataFrame(rows)


def _rows(values: np.ndarray, firms, metric: str, tail: float, confidence: float, first: dict, last: dict) -> list[dict]:
    """A table's rows for `values` (replicates x firms), one per firm: the `first` columns, the firm, the metric
    and its aggregate, then n, mean, std and the interval across the replicates, then the `last` columns."""
    mean, sd, low, high = interval(values, axis=0, confidence=confidence)
    return [{**first, "firm": firm, "metric": metric, "aggregate": aggregate(metric, tail), "n": int(np.isfinite(values[:, f]).sum()),
             "mean": mean[f], "std": sd[f], "ci_low": low[f], "ci_high": high[f], **last} for f, firm in enumerate(firms)]


def select_firm(data: Union[xr.Dataset, xr.DataArray], firm: Union[int, str]):
    """`data` of one firm, given by index or name; a ValueError lists the firms when there is no such firm."""
    names = [str(n) for n in data["firm"].values]
    if isinstance(firm, (int, np.integer)) and -len(names) <= firm < len(names):
        return data.isel(firm=int(firm))
    if isinstance(firm, str) and firm in names:
        return data.sel(firm=firm)
    raise ValueError(f"no firm {firm!r} here; the firms are {', '.join(names)} (give a name or an index from 0)")


def _warn_if_incomplete(sweep: xr.Dataset) -> None:
    if missing := sweep.attrs.get("missing_runs"):
        warnings.warn(f"{len(missing)} runs of this sweep are not finished (attrs['missing_runs']: {', '.join(map(str, missing[:10]))}"
                      f"{', ...' if len(missing) > 10 else ''}): its points are summarised over the replicates finished so far",
                      stacklevel=3)


def summarize_differences(sweep: Union[xr.Dataset, PathLike], baseline: Mapping[str, object], metrics: Union[str, Iterable[str]] = ("profit",),
                          tail: float = 0.1, confidence: float = 0.95) -> pd.DataFrame:
    """How each point of a sweep differs from a baseline point, replicate by replicate: per point, firm and
    metric, the long-run value (long_run) minus the baseline's in the same replicate, then n, mean, std
    (n - 1) and the Student-t `confidence` interval of those differences (ci_low, ci_high), with the swept
    parameters as columns.

    A point's baseline has the values `baseline` gives and the point's own values of every other swept
    parameter: {"firms[0].control_customers": 0} compares each control level with no control at the same
    opportunist share. The differences are paired: replicate r of every point runs with the same seed
    (common random numbers), so this interval is far narrower than one from the two points' own intervals.
    Points whose baseline is not in the sweep are left out, with a warning naming them; a ValueError says
    when none has one. `sweep` is
    a sweep dataset (open_sweep) or the path of its directory or merged file."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not isinstance(sweep, xr.Dataset):
        sweep = open_sweep(sweep)
    parameters = list(sweep.attrs.get("parameters", []))
    if unknown := [p for p in baseline if p not in parameters]:
        raise ValueError(f"{', '.join(unknown)}: not a swept parameter of this sweep; its parameters are {', '.join(parameters) or 'none'}")
    _warn_if_incomplete(sweep)
    others = [p for p in parameters if p not in baseline]
    runs = pd.DataFrame({"point": sweep["point"].values, "replicate": sweep["replicate"].values,
                         **{p: sweep[p].values for p in parameters}})
    is_baseline = np.logical_and.reduce([runs[p] == value for p, value in baseline.items()])
    if not is_baseline.any():
        raise ValueError(f"no point of this sweep has {', '.join(f'{p} = {v!r}' for p, v in baseline.items())}; "
                         f"its values are: {'; '.join(f'{p}: {sorted(runs[p].unique())}' for p in baseline)}")
    # For every run, the run of its baseline point in the same replicate.
    pairs = runs.reset_index().merge(runs[is_baseline].reset_index()[["index", "replicate", *others]], on=["replicate", *others],
                                     suffixes=("", "_baseline"))
    if pairs.empty:
        raise ValueError("no point has a baseline point with the same values of the other swept parameters in this sweep")
    if left_out := sorted(set(runs["point"]) - set(pairs["point"])):
        example = runs[runs["point"] == left_out[0]].iloc[0]
        warnings.warn(f"{len(left_out)} of {runs['point'].nunique()} points have no baseline point (the values of {', '.join(baseline)} given, "
                      f"the point's own of {', '.join(others)}) and are left out: points {', '.join(map(str, left_out[:10]))}"
                      f"{', ...' if len(left_out) > 10 else ''}; point {left_out[0]} has "
                      f"{', '.join(f'{p} = {example[p]!r}' for p in others)}. Give those parameters in `baseline` too to compare "
                      "every point with one baseline point", UserWarning, stacklevel=2)
    rows = []
    for metric in metrics:
        values = long_run(sweep, metric, tail).transpose("run", "firm").values
        differences = values[pairs["index"].values] - values[pairs["index_baseline"].values]
        for point, group in pairs.groupby("point"):
            rows += _rows(differences[group.index.values], sweep["firm"].values, metric, tail, confidence, {"point": int(point)},
                          {p: group[p].iloc[0] for p in parameters})
    return pd.DataFrame(rows)


def compare_scenarios(scenarios: Mapping[str, Iterable[Union[xr.Dataset, PathLike]]], baseline: str,
                      metrics: Union[str, Iterable[str]] = ("share", "nps", "profit"), firm: Union[int, str] = 0, tail: float = 0.1,
                      confidence: float = 0.95) -> pd.DataFrame:
    """How each scenario differs from `baseline` for one firm, seed by seed: per scenario and metric, the
    long-run value (long_run) of `firm` (an index, or a name every scenario has) minus the baseline's in its
    run of the same seed, then n, mean, std (n - 1) and the Student-t `confidence` interval of those paired
    differences, and each side's own mean (scenario_mean, baseline_mean).

    `scenarios` maps a name to its replicate runs (paths or datasets: one scenario, different seeds), `baseline`
    names one of them, and every scenario must have been run with the same seeds (--seed 1, --seed 2, ...):
    runs of one seed draw on the same random numbers (common random numbers), so the paired interval is far
    narrower than one from the two scenarios' own intervals."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if baseline not in scenarios:
        raise ValueError(f"no scenario named {baseline!r} to compare with; the scenarios are {', '.join(scenarios)}")
    runs = {}  # name: {seed: dataset}
    for name, replicates in scenarios.items():
        datasets = [r if isinstance(r, xr.Dataset) else open_run(r) for r in ([replicates] if isinstance(replicates, (str, os.PathLike, xr.Dataset)) else replicates)]
        if not datasets:
            raise ValueError(f"scenario {name!r} has no runs")
        _check_replicates(datasets)
        runs[name] = {int(d.attrs["seed"]): d for d in datasets}
        if len(runs[name]) < len(datasets):
            raise ValueError(f"scenario {name!r} has two runs of one seed; give each seed once")
    seeds = sorted(runs[baseline])
    rows = []
    for name, by_seed in runs.items():
        if name == baseline:
            continue
        if sorted(by_seed) != seeds:
            raise ValueError(f"scenario {name!r} has runs of seeds {sorted(by_seed)} and {baseline!r} of seeds {seeds}: "
                             "run every scenario with the same --seed values, so that its runs pair with the baseline's")
        try:
            pair = [(select_firm(by_seed[s], firm), select_firm(runs[baseline][s], firm)) for s in seeds]
        except ValueError as e:
            raise ValueError(f"scenarios {name!r} and {baseline!r}: {e}") from None
        for metric in metrics:
            values = np.array([[float(long_run(a, metric, tail)), float(long_run(b, metric, tail))] for a, b in pair])  # seeds x 2
            row = _rows(values[:, 0:1] - values[:, 1:2], [str(pair[0][0]["firm"].values)], metric, tail, confidence, {"scenario": name},
                        {"baseline_firm": str(pair[0][1]["firm"].values)})[0]
            rows.append({**row, "scenario_mean": np.nanmean(values[:, 0]), "baseline_mean": np.nanmean(values[:, 1])})
    return pd.DataFrame(rows)
