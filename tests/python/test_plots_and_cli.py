"""Replicate statistics, the figures, report() and `python -m trustsim`."""
from __future__ import annotations

import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import xarray as xr

import trustsim
from conftest import REPO, trustsim as trustsim_cli, write_run

PNG = b"\x89PNG\r\n\x1a\n"
# Student-t quantile for a 95% interval with 4 degrees of freedom (5 replicates), from tables.
T_975_4 = 2.7764451051977987
T_975_2 = 4.302652729911275  # and 2 (3 replicates)


@pytest.fixture(scope="module")
def replicates(tmp_path_factory):
    base = tmp_path_factory.mktemp("replicates")
    return [write_run(base / f"r{seed}.h5", seed=seed) for seed in range(5)]


def test_backend_is_headless():
    assert matplotlib.get_backend().lower() == "agg"


def test_summarize_replicates_by_hand(replicates):
    table = trustsim.summarize_replicates(replicates, "trust")
    assert list(table.columns) == ["firm", "metric", "aggregate", "n", "mean", "std", "ci_low", "ci_high"]
    assert (table["aggregate"] == "mean over the last 10% of steps").all()
    assert list(table["firm"]) == ["Alpha", "Beta", "Gamma"]
    long_run = np.array([[trustsim.open_run(p)["trust"].values[-2:, f].mean() for f in range(3)] for p in replicates])  # last tenth of 20 steps
    mean, std = long_run.mean(axis=0), long_run.std(axis=0, ddof=1)
    half = T_975_4 * std / np.sqrt(5)
    np.testing.assert_allclose(table["mean"], mean)
    np.testing.assert_allclose(table["std"], std)
    np.testing.assert_allclose(table["ci_low"], mean - half)
    np.testing.assert_allclose(table["ci_high"], mean + half)
    assert (table["n"] == 5).all()


def test_summarize_replicates_money_is_cumulative(replicates):
    datasets = [trustsim.open_run(p) for p in replicates]
    table = trustsim.summarize_replicates(datasets, ["trust", "profit"]).set_index(["metric", "firm"])
    totals = [ds["profit"].sel(firm="Beta").values.sum() for ds in datasets]
    assert table.loc[("profit", "Beta"), "mean"] == pytest.approx(np.mean(totals))
    assert table.loc[("profit", "Beta"), "aggregate"] == "sum over all steps"
    assert trustsim.summarize_replicates(datasets, "nps", tail=0.25)["aggregate"].iloc[0] == "pooled over the buyers of the last 25% of steps"


def test_plot_timeseries_with_replicate_bands(replicates, tmp_path):
    axes = trustsim.plot_timeseries(replicates, ["trust", "nps"])
    assert len(axes) == 2
    assert len(axes[0].lines) == 3 and len(axes[0].collections) == 3  # a line and a band per firm
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), np.mean([trustsim.open_run(p)["trust"].values[:, 0] for p in replicates], axis=0))
    axes[0].figure.savefig(tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:8] == PNG


def test_plot_compare_and_heatmap(replicates, synthetic_run):
    ax = trustsim.plot_compare({"first": replicates[:2], "rest": replicates[2:]}, "share", firm="Gamma")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["first", "rest"]
    ax = trustsim.plot_trust_heatmap(trustsim.open_histograms(synthetic_run))
    assert "Alpha" in ax.get_title()


def test_plots_take_one_run_by_its_path_and_keep_their_labels_in_the_figure(replicates):
    axes = trustsim.plot_timeseries(replicates[0], ["trust"])  # a path: one run, not a sequence of characters
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), trustsim.open_run(replicates[0])["trust"].values[:, 0])
    ax = trustsim.plot_compare({"one": str(replicates[0]), "all": replicates}, "share")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one", "all"]
    for figure in (axes[0].figure, ax.figure):  # as saved: no label clipped at the edge
        figure.canvas.draw()
        edge = figure.bbox
        for label in (figure.axes[0].xaxis.label, figure.axes[0].title):
            box = label.get_window_extent()
            assert edge.x0 <= box.x0 and box.x1 <= edge.x1 and edge.y0 <= box.y0 and box.y1 <= edge.y1


def grid_sweep(cumulative_profit: list[float], replicates: int = 2, steps: int = 10) -> xr.Dataset:
    """A sweep as open_sweep gives it: a 2 x 2 grid over parameters a and b, one firm, whose runs make the
    given cumulative profit at each point (evenly over the steps) and hold a share of 0.1 + point / 10."""
    points = np.repeat(np.arange(4), replicates)
    profit = np.broadcast_to(np.array(cumulative_profit)[points, None, None] / steps, (len(points), steps, 1))
    share = np.broadcast_to(0.1 + points[:, None, None] / 10, profit.shape)
    return xr.Dataset({"profit": (("run", "step", "firm"), profit), "share": (("run", "step", "firm"), share)},
                      coords={"run": np.arange(len(points)), "point": ("run", points), "step": np.arange(steps), "firm": ["A"],
                              "a": ("run", (points // 2).astype(float)), "b": ("run", (points % 2).astype(float))},
                      attrs={"parameters": ["a", "b"]})


def test_sweep_heatmap_of_profit_says_cumulative_and_centres_on_zero():
    """A small loss next to a large profit: the scale is symmetric about 0, so the loss is as pale as a profit of 1."""
    ax = trustsim.plot_sweep_heatmap(grid_sweep([-1, 2, 5, 10]), "a", "b", "profit")
    image = ax.images[0]
    np.testing.assert_allclose(image.get_array(), [[-1, 5], [2, 10]])  # rows b, columns a
    assert image.colorbar.ax.get_ylabel() == "cumulative profit"
    assert (image.norm.vmin, image.norm.vmax) == pytest.approx((-10, 10))
    assert image.norm(-1) == pytest.approx(0.45)


def test_replicates_must_be_one_scenario_with_different_seeds(replicates, tmp_path):
    runs = [trustsim.open_run(p) for p in replicates[:3]]
    with pytest.raises(ValueError, match="same seed"):
        trustsim.summarize_replicates([runs[0], runs[1], runs[0]], "trust")
    other = runs[2].copy()
    other.attrs["scenario"] = runs[2].attrs["scenario"].replace("count: 50", "count: 60")
    with pytest.raises(ValueError, match=r"different scenarios \(they differ in customers.count\)"):
        trustsim.summarize_replicates([runs[0], runs[1], other], "trust")
    other.attrs["seed"] = runs[0].attrs["seed"]  # two scenarios that share a seed: the scenarios are what differs
    with pytest.raises(ValueError, match=r"different scenarios \(they differ in customers.count\)"):
        trustsim.summarize_replicates([runs[0], other], "trust")
    with pytest.raises(ValueError, match="differ in length"):
        trustsim.summarize_replicates([runs[0], runs[1].isel(step=slice(0, 10))], "trust")
    with pytest.raises(ValueError, match="unknown metric 'profits'"):
        trustsim.summarize_replicates(runs, ["profits"])
    with pytest.raises(ValueError, match=r"tail must be a fraction of the steps in \(0, 1\]"):
        trustsim.summarize_replicates(runs, ["trust"], tail=0)


def test_a_firm_that_is_not_there_is_named_with_the_firms(replicates):
    with pytest.raises(ValueError, match="no firm 'Acme' here; the firms are Alpha, Beta, Gamma"):
        trustsim.plot_compare({"all": replicates}, "share", firm="Acme")
    with pytest.raises(ValueError, match="no firm 3"):
        trustsim.plot_sweep_heatmap(grid_sweep([1, 2, 3, 4]), "a", "b", "share", firm=3)


def test_sweep_heatmap_needs_a_grid_over_its_two_parameters():
    sweep = grid_sweep([1, 2, 3, 4])
    with pytest.raises(ValueError, match="'c' is not a swept parameter of this sweep; its parameters are a, b"):
        trustsim.plot_sweep_heatmap(sweep, "a", "c", "share")
    # A third parameter that varies would be averaged over: refused, with how to select one value.
    third = sweep.assign_coords(c=("run", (sweep["point"].values >= 2).astype(float)), a=("run", np.zeros(8)))
    third.attrs["parameters"] = ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"also varies c.*sweep.where\(sweep\['c'\] == 0.0, drop=True\)"):
        trustsim.plot_sweep_heatmap(third, "a", "b", "share")
    trustsim.plot_sweep_heatmap(third.where(third["c"] == 0, drop=True), "a", "b", "share")
    # A point not run yet refuses the grid it belongs to, not another slice of the sweep.
    unfinished = third.copy()
    unfinished.attrs["missing_points"] = [{"point": 9, "a": 0.0, "b": 9.0, "c": 1.0}]
    trustsim.plot_sweep_heatmap(unfinished.where(unfinished["c"] == 0, drop=True), "a", "b", "share")
    with pytest.raises(ValueError, match="1 points of this grid have no finished run yet"):
        trustsim.plot_sweep_heatmap(unfinished.where(unfinished["c"] == 1, drop=True), "a", "b", "share")
    # Sampled points (each with its own values) are no grid.
    sampled = sweep.assign_coords(a=("run", sweep["point"].values * 0.1), b=("run", sweep["point"].values * 0.2))
    with pytest.raises(ValueError, match="not a grid over a x b .* as a scatter"):
        trustsim.plot_sweep_heatmap(sampled, "a", "b", "share")


def test_sweep_heatmap_labels_a_swept_choice_by_its_name():
    sweep = grid_sweep([1, 2, 3, 4])
    sweep = sweep.assign_coords(a=("run", np.where(sweep["a"].values == 0, "well_mixed", "erdos_renyi").astype(object)))
    ax = trustsim.plot_sweep_heatmap(sweep, "a", "b", "share")
    assert sorted(t.get_text() for t in ax.get_xticklabels()) == ["erdos_renyi", "well_mixed"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1"]


def test_sweep_heatmap_of_a_sampled_design_advises_a_scatter():
    sweep = grid_sweep([1, 2, 3, 4])
    sweep.attrs["scenario"] = "sweep:\n  latin_hypercube: {samples: 4, parameters: {a: {low: 0, high: 1}, b: {low: 0, high: 1}}}\n"
    with pytest.raises(ValueError, match=r"Latin-hypercube sweep's points are not a grid: plot summarize_replicates\(sweep, \['share'\]\) as a scatter"):
        trustsim.plot_sweep_heatmap(sweep, "a", "b", "share")


def paired_sweep(replicates: int = 6) -> xr.Dataset:
    """A 2 x 2 grid over a and b whose cumulative profits share a large effect of the replicate (its seed),
    as common random numbers give: profit = 100 a + 10 b + 1000 x noise(replicate) + small noise(run)."""
    rng = np.random.default_rng(4)
    sweep = grid_sweep([0, 0, 0, 0], replicates=replicates, steps=5)
    replicate = np.tile(np.arange(replicates), 4)
    common, own = rng.normal(size=replicates), rng.normal(size=len(replicate))
    total = 100 * sweep["a"].values + 10 * sweep["b"].values + 1000 * common[replicate] + own
    profit = np.broadcast_to(total[:, None, None] / 5, sweep["profit"].shape)
    return sweep.assign(profit=(("run", "step", "firm"), profit)).assign_coords(replicate=("run", replicate)), total


def test_summarize_differences_pairs_each_run_with_its_baseline_in_the_same_replicate():
    sweep, total = paired_sweep()
    table = trustsim.summarize_differences(sweep, {"a": 0}, "profit")
    assert list(table["point"]) == [0, 1, 2, 3]  # the baselines (a = 0) differ from themselves by 0
    assert list(table.columns) == ["point", "firm", "metric", "aggregate", "n", "mean", "std", "ci_low", "ci_high", "a", "b"]
    for point, baseline in [(2, 0), (3, 1)]:  # a = 1 against a = 0 at the same b
        differences = total[sweep["point"].values == point] - total[sweep["point"].values == baseline]
        row = table.set_index("point").loc[point]
        mean, std, low, high = trustsim.interval(differences)
        assert (row["n"], row["mean"], row["std"], row["ci_low"], row["ci_high"]) == pytest.approx((6, mean, std, low, high))
        assert row["ci_low"] < 100 < row["ci_high"] and row["ci_high"] - row["ci_low"] < 20  # the replicates' common noise cancels
    assert (table.set_index("point").loc[[0, 1], ["mean", "std"]] == 0).all().all()
    # Unpaired, the two points' own intervals are a thousand times wider.
    own = trustsim.summarize_replicates(sweep, "profit").set_index("point")
    assert own.loc[2, "ci_high"] - own.loc[2, "ci_low"] > 500


def test_summarize_differences_errors():
    sweep, _ = paired_sweep()
    with pytest.raises(ValueError, match="c: not a swept parameter of this sweep; its parameters are a, b"):
        trustsim.summarize_differences(sweep, {"c": 0})
    with pytest.raises(ValueError, match=r"no point of this sweep has a = 0.5; its values are: a: \[0.0, 1.0\]"):
        trustsim.summarize_differences(sweep, {"a": 0.5})
    with pytest.raises(ValueError, match="unknown metric 'profits'"):
        trustsim.summarize_differences(sweep, {"a": 0}, "profits")
    with pytest.raises(ValueError, match=r"confidence is a probability between 0 and 1, e\.g\. 0\.95 .* got 95"):
        trustsim.summarize_differences(sweep, {"a": 0}, confidence=95)
    # A point without its baseline (a = 0 at its own b) is left out, and said to be: here point 3 (a = 1, b = 1).
    without = sweep.where(sweep["point"] != 1, drop=True)
    with pytest.warns(UserWarning, match=r"1 of 3 points have no baseline point .* points 3; point 3 has b = 1\.0"):
        table = trustsim.summarize_differences(without, {"a": 0}, "profit")
    assert list(table["point"]) == [0, 2]


def test_plot_timeseries_of_one_sweep_point():
    sweep, total = paired_sweep()
    axes = trustsim.plot_timeseries(sweep.where(sweep["point"] == 2, drop=True), ["profit"])
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), np.full(5, total[sweep["point"].values == 2].mean() / 5))
    assert len(axes[0].collections) == 1  # the replicates' band
    with pytest.raises(ValueError, match="these runs are of 4 sweep points, not replicates of one: select one point first"):
        trustsim.plot_timeseries(sweep, ["profit"])


def test_a_run_of_one_step_is_drawn_with_markers(tmp_path):
    one = trustsim.open_run(write_run(tmp_path / "one.h5")).isel(step=slice(0, 1))
    axes = trustsim.plot_timeseries(one, ["trust"])
    assert axes[0].lines[0].get_marker() == "o"
    assert trustsim.plot_timeseries(trustsim.open_run(tmp_path / "one.h5"), ["trust"])[0].lines[0].get_marker() in ("None", None, "")


def test_sweep_heatmap_of_a_tail_mean_says_so_and_spans_the_values():
    ax = trustsim.plot_sweep_heatmap(grid_sweep([1, 2, 3, 4]), "a", "b", "share", tail=0.2)
    image = ax.images[0]
    assert image.colorbar.ax.get_ylabel() == "share, mean over the last 20% of steps"
    assert (image.norm.vmin, image.norm.vmax) == pytest.approx((0.1, 0.4))
    ax = trustsim.plot_sweep_heatmap(grid_sweep([1, 2, 3, 4]), "a", "b", "profit")  # one sign: not centred either
    assert (ax.images[0].norm.vmin, ax.images[0].norm.vmax) == pytest.approx((1, 4))


def test_report_writes_a_png_and_returns_the_summary(run, tmp_path):
    out = tmp_path / "r.png"
    table = trustsim.report(run, out)
    assert out.read_bytes()[:8] == PNG and out.stat().st_size > 10_000
    assert table.equals(trustsim.summary(run))


def test_events_are_marked_where_they_apply(tmp_path):
    """A policy change at step 50 and a scandal over steps 60-69: a line at 50 and a span 60-70 on every panel,
    named on the first."""
    from conftest import trustsim as binary
    import matplotlib.pyplot as plt

    (tmp_path / "events.yaml").write_text(
        "simulation: {steps: 80}\ncustomers: {count: 300}\nfirms: [{name: A}, {name: B}]\nevents:\n"
        "  - {type: policy, step: 50, firm: A, set: {control_customers: 0.8}}\n"
        "  - {type: scandal, step: 60, firm: B, duration: 10}\n")
    binary("run", tmp_path / "events.yaml", "-o", tmp_path / "events.h5", "-q")
    ds = trustsim.open_run(tmp_path / "events.h5")
    fig, axes = plt.subplots(1, 2)
    trustsim.plot_events(ds, axes)
    for ax in axes:
        assert [line.get_xdata()[0] for line in ax.lines] == [50]
        spans = [patch.get_xy() for patch in ax.patches]
        assert len(spans) == 1 and np.ptp(np.asarray(spans[0])[:, 0]) == 10 and np.min(np.asarray(spans[0])[:, 0]) == 60
    assert [t.get_text() for t in axes[0].texts] == ["policy A", "scandal B"]
    assert len(axes[1].texts) == 0
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    trustsim.plot_events(trustsim.open_run(write_run(tmp_path / "none.h5")), axes)  # a run without events: nothing
    assert all(not ax.lines and not ax.patches and not ax.texts for ax in axes)
    plt.close(fig)


def test_report_without_histograms_next_to_the_run(tmp_path):
    path = write_run(tmp_path / "nohist.h5", histograms=0)
    trustsim.report(path)
    assert (tmp_path / "nohist.png").read_bytes()[:8] == PNG


def _cli(*args) -> subprocess.CompletedProcess:
    package_root = Path(trustsim.__file__).resolve().parents[1]  # the package under test, wherever it was found
    env = {"PYTHONPATH": str(package_root), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["/usr/bin/python3", "-m", "trustsim", *map(str, args)], capture_output=True, text=True, env=env)


def test_report_command(run, tmp_path):
    firms = list(trustsim.open_run(run)["firm"].values)
    result = _cli("report", run, "-o", tmp_path / "cli.png")
    assert result.returncode == 0, result.stderr
    assert all(firm in result.stdout for firm in firms) and "nps" in result.stdout
    assert (tmp_path / "cli.png").read_bytes()[:8] == PNG


def test_report_command_default_output(tmp_path):
    path = write_run(tmp_path / "default.h5")
    result = _cli("report", path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "default.png").read_bytes()[:8] == PNG


def test_report_command_keeps_an_existing_png_unless_forced(synthetic_run, tmp_path):
    out = tmp_path / "mine.png"
    out.write_bytes(b"my figure")
    result = _cli("report", synthetic_run, "-o", out)
    assert result.returncode == 1 and "already exists" in result.stderr and "--force" in result.stderr
    assert out.read_bytes() == b"my figure"
    assert _cli("report", synthetic_run, "-o", out, "--force").returncode == 0
    assert out.read_bytes()[:8] == PNG


def test_summary_command_prints_what_trustsim_run_prints(tmp_path):
    """29 steps: the NPS tail is 2 steps (29 // 10, as the engine takes it); money rounds halves away from zero."""
    from conftest import TINY, trustsim as binary

    (tmp_path / "tiny.yaml").write_text(TINY)
    for steps in (25, 29):
        out = tmp_path / f"s{steps}.h5"
        printed = binary("run", tmp_path / "tiny.yaml", "-o", out, "--set", f"simulation.steps={steps}").stdout
        engine = {line.split()[0]: line.split()[1:] for line in printed.splitlines() if line.startswith(("A ", "B "))}
        result = _cli("summary", out)
        assert result.returncode == 0, result.stderr
        python = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.startswith(("A ", "B "))}
        assert python == engine and set(engine) == {"A", "B"}


def test_money_is_printed_as_the_engine_rounds_it():
    from trustsim.__main__ import _money

    assert [_money(x) for x in (2512.5, -2512.5, 0.4, -0.4, 1234567.49)] == ["2,513", "-2,513", "0", "0", "1,234,567"]


def test_summary_command(synthetic_run):
    result = _cli("summary", synthetic_run)
    assert result.returncode == 0, result.stderr
    for text in ("Alpha", "Beta", "Gamma", "trust", "cumulative_profit"):
        assert text in result.stdout


@pytest.mark.parametrize("command", ["summary", "report"])
def test_command_on_a_bad_file_is_one_clear_line(tmp_path, command):
    bad = tmp_path / "bad.h5"
    bad.write_text("junk")
    result = _cli(command, bad)
    assert result.returncode == 1
    assert result.stderr == f"trustsim: {bad}: not an HDF5 file; give a file written by `trustsim run` or `trustsim merge`\n"
    assert result.stdout == ""


def test_report_command_on_an_unwritable_output(synthetic_run, tmp_path):
    result = _cli("report", synthetic_run, "-o", tmp_path / "missing" / "r.png")
    assert result.returncode == 1
    assert "cannot write the report" in result.stderr and "Traceback" not in result.stderr


def test_bass_diffusion_is_the_discrete_recursion_and_reaches_everyone():
    """First step: the media hazard alone (nobody is aware yet); each later one adds (p + qF)(1 - F); the share
    rises to 1, along an S-curve whose steepest step lies near the continuous curve's inflection."""
    p, q = 0.03, 0.38
    shares = trustsim.bass_diffusion(p, q, 60)
    assert shares[0] == pytest.approx(p)
    assert shares[1] == pytest.approx(p + (p + q * p) * (1 - p))
    assert (np.diff(shares) > 0).all() and shares[-1] > 0.999
    steepest = int(np.argmax(np.diff(shares)))
    assert abs(steepest - np.log(q / p) / (p + q)) <= 2  # t* = ln(q/p) / (p + q), about 5.9 steps


def test_compare_scenarios_pairs_the_runs_of_each_seed(tmp_path):
    small = ["--set", "customers.count=400", "--set", "simulation.steps=30", "-q"]
    runs = {}
    for name in ("baseline", "tight_controls"):
        runs[name] = [tmp_path / f"{name}-{seed}.h5" for seed in (1, 2, 3)]
        for seed, path in zip((1, 2, 3), runs[name]):
            trustsim_cli("run", REPO / "scenarios" / f"{name}.yaml", "-o", path, "--seed", seed, *small)
    table = trustsim.compare_scenarios(runs, "baseline", ["share", "profit"]).set_index("metric")
    assert list(table["scenario"]) == ["tight_controls"] * 2 and list(table["firm"]) == ["Tight"] * 2
    assert (table["baseline_firm"] == "Alpha").all() and (table["n"] == 3).all()
    for metric in ("share", "profit"):  # by hand: firm 0's long-run value, seed by seed
        own = [[float(trustsim.long_run(trustsim.open_run(p), metric).isel(firm=0)) for p in runs[name]] for name in runs]
        differences = np.subtract(own[1], own[0])
        half = T_975_2 * differences.std(ddof=1) / np.sqrt(3)
        assert table.loc[metric, "mean"] == pytest.approx(differences.mean())
        assert (table.loc[metric, "ci_low"], table.loc[metric, "ci_high"]) == pytest.approx((differences.mean() - half, differences.mean() + half))
        assert table.loc[metric, "scenario_mean"] == pytest.approx(np.mean(own[1]))
    with pytest.raises(ValueError, match=r"'tight_controls' has runs of seeds \[1, 2\] and 'baseline' of seeds \[1, 2, 3\]"):
        trustsim.compare_scenarios({"baseline": runs["baseline"], "tight_controls": runs["tight_controls"][:2]}, "baseline")
    with pytest.raises(ValueError, match="no firm 'Tight' here; the firms are Alpha, Beta"):
        trustsim.compare_scenarios(runs, "baseline", firm="Tight")
    with pytest.raises(ValueError, match="no scenario named 'base'"):
        trustsim.compare_scenarios(runs, "base")
