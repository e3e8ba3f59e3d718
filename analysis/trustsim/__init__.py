"""TrustSim's Python side: load runs and sweeps into xarray/pandas, summarise them, and plot them.

    import trustsim
    ds = trustsim.open_run("run.h5")            # xarray.Dataset, dims (step, firm), one variable per metric
    trustsim.summary(ds)                        # per-firm table
    trustsim.to_frame(ds)                       # tidy pandas table
    trustsim.summarize_replicates(["r1.h5", "r2.h5", "r3.h5"], "trust")   # mean, std, 95% CI per firm
    sweep = trustsim.open_sweep("crossover/")   # dims (run, step, firm); parameters as coordinates
    trustsim.summarize_replicates(sweep)        # the same per sweep point
    stats = trustsim.open_statistics("crossover.h5")   # a merge's per-step mean, std, 95% CI across replicates
    trustsim.report("run.h5")                   # run.png, and the summary table

Every reader raises FormatError, with a message saying what is wrong, on a file it cannot read.
"""
from .io import (FormatError, METRICS, STATISTICS, open_customers, open_histograms, open_run, open_snapshots, open_statistics,
                 open_sweep, to_frame)
from .plots import plot_compare, plot_sweep_heatmap, plot_timeseries, plot_trust_heatmap, report, report_path
from .stats import interval, long_run, summarize_replicates, summary

__all__ = [
    "FormatError", "METRICS", "STATISTICS", "open_run", "open_histograms", "open_snapshots", "open_customers", "open_sweep",
    "open_statistics", "to_frame",
    "summary", "summarize_replicates", "long_run", "interval",
    "plot_timeseries", "plot_compare", "plot_trust_heatmap", "plot_sweep_heatmap", "report", "report_path",
]
