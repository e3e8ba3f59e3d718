"""Regenerates docs/validation.md and its figures from fresh runs of the built binary: calibration targets
versus the lab games, the Bass curve and the mean-field recursions versus simulation, the source
material's claims with their effect sizes, and the crossover sweep. Run it with scripts/validation.sh."""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import trustsim

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "release"
BINARY = BUILD / "trustsim"
DOCS = ROOT / "docs"
FIGURES = DOCS / "validation"


# The hidden-costs-of-control targets (Falk & Kosfeld 2006): result key of `trustsim lab control --json`,
# published value, and the tolerance, which for the shares is MODEL's one standard error (binomial, 72
# subjects). scripts/fit_reciprocity.py fits the employees' reciprocity to them.
CONTROL_TARGETS = [
    ("control game: mean choice, trusted", "mean_choice_trusted", 22.99, 1.4),
    ("control game: mean choice, controlled", "mean_choice_controlled", 17.53, 1.4),
    *((f"control game: share responding {response}ly", f"share_{response}", published, math.sqrt(published * (1 - published) / 72))
      for response, published in [("negative", 0.57), ("neutral", 0.18), ("positive", 0.25)]),
]


def cli(*args) -> str:
    result = subprocess.run([str(BINARY), *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"trustsim {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result.stdout


def calibration() -> str:
    investment = json.loads(cli("lab", "investment", "--json"))
    control = json.loads(cli("lab", "control", "--json"))
    rows = [
        ("investment: mean fraction sent", investment["mean_sent_fraction"], 0.50, 0.05),
        ("investment: mean fraction returned", investment["mean_returned_fraction"], 0.37, 0.05),
        *((name, control[key], published, tolerance) for name, key, published, tolerance in CONTROL_TARGETS),
    ]
    table = ["| target | simulated | published | tolerance | residual | within |", "|---|---|---|---|---|---|"]
    for name, value, target, tolerance in rows:
        table.append(f"| {name} | {value:.3f} | {target} | ± {tolerance:.3g} | {value - target:+.3f} | {'yes' if abs(value - target) <= tolerance else '**no**'} |")
    slope = investment["return_slope"]
    table.append(f"| investment: slope of returned on sent fraction | {slope:.3f} (SE {investment['se_return_slope']:.4f}) | > 0 | — | — | "
                 f"{'yes' if slope > 0 else '**no**'} |")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    labels = [r[0].replace("control game: ", "").replace("investment: ", "") for r in rows]
    residuals = [(v - t) / tol for _, v, t, tol in rows]
    ax.barh(labels, residuals, color=["tab:green" if abs(r) <= 1 else "tab:red" for r in residuals])
    ax.axvline(-1, color="grey", ls="--")
    ax.axvline(1, color="grey", ls="--")
    ax.set_xlabel("(simulated − published) / tolerance")
    ax.set_title("calibration residuals")
    fig.tight_layout()
    fig.savefig(FIGURES / "calibration.png", dpi=110)
    plt.close(fig)
    return "\n".join(table)


def bass(work: Path) -> str:
    p, q, steps = 0.03, 0.38, 40
    scenario = work / "bass.yaml"
    scenario.write_text(f"""simulation: {{steps: {steps}, seed: 1}}
customers: {{count: 100000}}
firms: [{{name: A}}]
network: {{type: well_mixed, mean_degree: 10}}
events: [{{type: scandal, step: 0, firm: A, duration: {steps}, media: {p}, contagion: {q}}}]
""")
    cli("run", scenario, "-o", work / "bass.h5", "-q")
    simulated = trustsim.open_run(work / "bass.h5")["scandal_awareness"].isel(firm=0).values
    expected = trustsim.bass_diffusion(p, q, steps)
    t = np.arange(1, steps + 1)
    continuous = (1 - np.exp(-(p + q) * t)) / (1 + q / p * np.exp(-(p + q) * t))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(t, simulated, "o", ms=3, label="simulated (N = 100,000, well mixed)")
    ax.plot(t, expected, label="discrete-time Bass recursion")
    ax.plot(t, continuous, ls=":", label="continuous Bass curve")
    ax.set_xlabel("steps since the scandal began")
    ax.set_ylabel("aware share")
    ax.legend()
    fig.tight_layout()
    fig.savefig(FIGURES / "bass.png", dpi=110)
    plt.close(fig)
    return f"largest gap between simulation and the discrete recursion over {steps} steps: **{np.abs(simulated - expected).max():.4f}** (tolerance 0.02)"


def mean_field(work: Path) -> str:
    scenario = work / "mean_field.yaml"
    honesty, kc, phi, sigma, competence, visit = 0.8, 0.3, 0.4, 0.5, 0.8, 0.5
    scenario.write_text(f"""simulation: {{steps: 40, seed: 1}}
customers: {{count: 100000, opportunist_share: 0, visit_rate: {visit}, propensity_to_trust: 0.5, honesty: 0.9, reciprocity: 0.5}}
employees: {{propensity_to_trust: 0.5, honesty: {honesty}, reciprocity: 0}}
firms: [{{name: A, control_customers: {kc}, trust_first: {phi}, sales_pressure: {sigma}, triggers: 0, competence: {competence}}}]
behaviour: {{purchase_beta: 0}}
network: {{type: none}}
record: {{snapshot_every: 5, snapshot_employees: false}}
""")
    cli("run", scenario, "-o", work / "mf.h5", "-q")
    snapshots = trustsim.open_snapshots(work / "mf.h5")["customer_perception"].isel(firm=0)
    a, rate = visit / 2, 0.2
    targets = [competence * honesty, honesty, (1 - kc) * phi + 0.5 * (1 - kc) * (1 - phi), 1 - (1 - kc) * (1 - sigma * (1 - honesty))]
    start = [0.5, 0.5, 0.5, 0.25]
    steps = snapshots["step"].values + 1
    fig, ax = plt.subplots(figsize=(6, 3.5))
    rows = ["| component | step | simulated mean | expected | standard error | gap / SE |", "|---|---|---|---|---|---|"]
    for c, name in enumerate("CRIS"):
        values = snapshots.isel(component=c).values  # (snapshot, customer)
        mean, se = values.mean(axis=1), values.std(axis=1) / np.sqrt(values.shape[1])
        expected = targets[c] + (start[c] - targets[c]) * (1 - a * rate) ** steps
        ax.errorbar(steps, mean, yerr=3 * se, fmt="o", ms=3, label=f"{name} simulated (±3 SE)")
        grid = np.arange(0, steps.max() + 1)
        ax.plot(grid, targets[c] + (start[c] - targets[c]) * (1 - a * rate) ** grid, lw=1)
        for s, m, e, x in zip(steps, mean, se, expected):
            if s % 10 == 0:
                rows.append(f"| {name} | {s} | {m:.4f} | {x:.4f} | {e:.5f} | {(m - x) / e:+.2f} |")
    ax.set_xlabel("step")
    ax.set_ylabel("population mean")
    ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    fig.savefig(FIGURES / "mean_field.png", dpi=110)
    plt.close(fig)
    return "\n".join(rows)


def claims() -> str:
    out = subprocess.run([str(BUILD / "tests" / "test_claims")], capture_output=True, text=True).stdout
    pattern = re.compile(r"claim: (.*?): mean difference (\S+) .*?lower (\S+), upper (\S+)")
    rows = ["| claim and measure (treatment − control) | mean difference | one-sided 99% bounds |", "|---|---|---|"]
    for line in out.splitlines():
        if m := pattern.search(line):
            rows.append(f"| {m.group(1)} | {float(m.group(2)):.4g} | [{float(m.group(3)):.4g}, {float(m.group(4)):.4g}] |")
    return "\n".join(rows)


def crossover(work: Path) -> str:
    cli("sweep", ROOT / "scenarios" / "crossover.yaml", "-o", work / "crossover", "--jobs", os.cpu_count() or 1, "-q")
    cli("merge", work / "crossover", "-o", work / "crossover.h5")
    sweep = trustsim.open_sweep(work / "crossover.h5")
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.5))
    for ax, metric in zip(axes, ["profit", "share", "nps"]):
        trustsim.plot_sweep_heatmap(sweep, "firms[0].control_customers", "customers.opportunist_share", metric, ax=ax)
    fig.tight_layout()
    fig.savefig(FIGURES / "crossover.png", dpi=100)
    plt.close(fig)
    table = trustsim.summarize_replicates(sweep, ["profit"])
    table = table[table["firm"] == sweep["firm"].values[0]]  # the firm whose control is swept
    control, share = "firms[0].control_customers", "customers.opportunist_share"
    rows = ["| opportunist share | most profitable control level | its cumulative profit (95% CI) | profit without control |", "|---|---|---|---|"]
    crossing = None
    for value, group in table.groupby(share):
        best = group.loc[group["mean"].idxmax()]
        none = group[group[control] == 0].iloc[0]
        rows.append(f"| {value:g} | {best[control]:g} | {best['mean']:,.0f} ({best['ci_low']:,.0f} – {best['ci_high']:,.0f}) | {none['mean']:,.0f} |")
        if crossing is None and best[control] > 0:
            crossing = value
    finding = (f"Control starts to pay at an opportunist share of about **{crossing:g}**: below it the most profitable policy checks "
               "nobody; from it on, checking pays." if crossing is not None else "In this range, checking never pays: the most profitable policy checks nobody.")
    return finding + "\n\n" + "\n".join(rows)


def main() -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sections = {
            "calibration": calibration(),
            "bass": bass(work),
            "mean_field": mean_field(work),
            "claims": claims(),
            "crossover": crossover(work),
        }
    version = cli("--version").strip()
    text = f"""# Validation

Regenerated by `scripts/validation.sh` from fresh runs ({version}). Every number below comes from that run;
do not edit this file by hand.

## Calibration: the lab games against published experiments

The default population plays the investment game (Berg, Dickhaut & McCabe 1995; targets from the
meta-analysis of Johnson & Mislin 2011) and the hidden-costs-of-control game (Falk & Kosfeld 2006) with the
market's behavioural rules (`trustsim lab`; the mapping rules are in docs/model.md, "Calibration"). The
tolerance of each share responding to control is MODEL's criterion, one standard error of the published
share (binomial, 72 subjects); the others are the calibration's judgement.

{sections['calibration']}

![calibration residuals](validation/calibration.png)

## The scandal's diffusion against the Bass model

A scandal in a well-mixed population (p = 0.03, q = 0.38 per step, 10 contacts per step) should follow the
discrete-time Bass recursion F(t+1) = F(t) + (p + q F(t))(1 − F(t)).

{sections['bass']}

![Bass](validation/bass.png)

## The perception means against their exact recursions

A homogeneous market (one firm, no network, constant policy, identical agents, a purchase probability that
does not depend on trust) has exact expected recursions X(t+1) = X(t) + a η (x* − X(t)) for the population
means of C, R, I and S (a = visit rate / 2).

{sections['mean_field']}

![mean field](validation/mean_field.png)

## The source material's claims

From `tests/cpp/test_claims.cpp` (paired replicates with common random numbers; each claim holds when its
one-sided 99% bound excludes zero in the claimed direction).

{sections['claims']}

## The crossover: where controlling customers starts to pay

`scenarios/crossover.yaml`: Firm against a default Rival, Firm's 5 control levels × 5 opportunist shares × 4 replicates (profit is Firm's
cumulative profit over 200 steps; share is averaged over the last tenth of the steps, and NPS is that of all the buyers of that tenth).

{sections['crossover']}

![crossover](validation/crossover.png)
"""
    (DOCS / "validation.md").write_text(text)
    print(f"wrote {DOCS / 'validation.md'} and {FIGURES}/")


if __name__ == "__main__":
    main()
