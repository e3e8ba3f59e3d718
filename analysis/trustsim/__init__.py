"""TrustSim's Python side: load runs and sweeps into xarray/pandas, summarise them, and plot them.

    import trustsim
    ds = trustsim.open_run("run.h5")            # xarray.Dataset, dims (step, firm), one variable per metric
    trustsim.summary(ds)                        # per-firm table
    trustsim.to_frame(ds)                       # tidy pandas table
    trustsim.summarize_replicates(["r1.h5", "r2.h5", "r3.h5"], "trust")   # mean, std, 95% CI per firm
    sweep = trustsim.open_sweep("crossover/")   # dims (run, step, firm); parameters as coordinates
    trustsim.summarize_replicates(sweep)        # the same per sweep point
    trustsim.summarize_differences(sweep, {"firms[0].control_customers": 0})   # each point minus its baseline, paired by replicate
    trustsim.compare_scenarios({"base": ["b1.h5", "b2.h5"], "tight": ["t1.h5", "t2.h5"]}, "base")  # paired by seed
    stats = trustsim.open_statistics("crossover.h5")   # a merge's per-step mean, std, 95% CI across replicates
    trustsim.report("run.h5")                   # run.png, and the summary table

Every reader raises FormatError, with a message saying what is wrong, on a file it cannot read. Importing
the package in a Python without its dependencies (h5py, xarray, ...: DEPENDENCIES) raises
MissingDependencyError, an ImportError that names the missing package and says how to get it.
"""
import importlib.util
import sys

# What the package imports, with Debian's package for each.
DEPENDENCIES = {"numpy": "python3-numpy", "h5py": "python3-h5py", "pandas": "python3-pandas", "xarray": "python3-xarray",
                "matplotlib": "python3-matplotlib", "scipy": "python3-scipy", "yaml": "python3-yaml"}


class MissingDependencyError(ModuleNotFoundError):
    """This Python cannot import a package trustsim needs (its name is the missing module's)."""


try:
    from .io import (FormatError, METRICS, STATISTICS, open_customers, open_histograms, open_run, open_snapshots, open_statistics,
                     open_sweep, to_frame)
    from .plots import plot_compare, plot_events, plot_sweep_heatmap, plot_timeseries, plot_trust_heatmap, report, report_path
    from .stats import (bass_diffusion, compare_scenarios, interval, long_run, select_firm, summarize_differences, summarize_replicates,
                        summary)
except ModuleNotFoundError as e:
    missing = (e.name or "").partition(".")[0]
    if missing not in DEPENDENCIES:
        raise
    absent = [m for m in DEPENDENCIES if m == missing or importlib.util.find_spec(m) is None]
    error = MissingDependencyError(
        f"trustsim needs {', '.join(absent)} ({' '.join(DEPENDENCIES[m] for m in absent)}), which this Python "
        f"({sys.executable}) cannot import.\nUse Debian's /usr/bin/python3, e.g. `PYTHONPATH=analysis /usr/bin/python3 -m trustsim "
        f"report RUN.h5`, with its packages: sudo apt-get install {' '.join(DEPENDENCIES.values())} (scripts/setup.sh does);\n"
        f"or a virtual environment made from it, which sees them: /usr/bin/python3 -m venv --system-site-packages VENV",
        name=missing)
    run = sys.orig_argv
    if "-m" in run and run[run.index("-m") + 1:][:1] == [__name__]:  # `python -m trustsim`: the message, not a traceback
        sys.exit(str(error))
    raise error from None

__all__ = [
    "MissingDependencyError", "DEPENDENCIES", "FormatError", "METRICS", "STATISTICS",
    "open_run", "open_histograms", "open_snapshots", "open_customers", "open_sweep", "open_statistics", "to_frame",
    "summary", "summarize_replicates", "summarize_differences", "compare_scenarios", "long_run", "interval", "bass_diffusion",
    "plot_timeseries", "plot_compare", "plot_events", "plot_trust_heatmap", "plot_sweep_heatmap", "report", "report_path", "select_firm",
]
