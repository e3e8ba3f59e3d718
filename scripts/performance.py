"""Turns the benchmarks' JSON into docs/performance-results.md (tables of rates and the ratios the targets
are stated in) and docs/performance-scaling.png. Run by scripts/bench.sh."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]


def load(path: str) -> dict:
    data = json.loads(Path(path).read_text())
    return data["context"], {b["name"]: b for b in data["benchmarks"] if b.get("run_type", "iteration") == "iteration"}


def peak_memory(customers: int) -> float:
    """Peak resident bytes of a whole `trustsim run` (3 firms, Erdős–Rényi network of mean degree 10, 2 steps)."""
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "memory.yaml"
        scenario.write_text(f"simulation: {{steps: 2}}\ncustomers: {{count: {customers}}}\nfirms: [{{name: A}}, {{name: B}}, {{name: C}}]\n"
                            "network: {type: erdos_renyi, mean_degree: 10}\nrecord: {histogram_every: 0, snapshot_customers: false}\n")
        result = subprocess.run(["/usr/bin/time", "-f", "%M", str(ROOT / "build" / "release" / "trustsim"), "run", str(scenario), "-o",
                                 str(Path(tmp) / "out.h5"), "-q"], capture_output=True, text=True, check=True)
    return float(result.stderr.strip().splitlines()[-1]) * 1024


def main(model_json: str, sweep_json: str, all_sizes: bool = False) -> None:
    context, runs = load(model_json)
    _, sweep = load(sweep_json)
    rate = {}
    for name, b in runs.items():
        if m := re.match(r"BM_(Model|Reference)/(\d+)/(\d)/", name):
            rate[(m.group(1), int(m.group(2)), int(m.group(3)))] = b["items_per_second"]
    sizes = sorted({n for _, n, _ in rate})
    rows = ["| customers | threads | model (customer-steps/s) | reference kernel | model / reference | 2 threads / 1 thread |",
            "|---|---|---|---|---|---|"]
    for n in sizes:
        for t in (1, 2):
            if ("Model", n, t) not in rate:
                continue
            model, reference = rate[("Model", n, t)], rate.get(("Reference", n, t), float("nan"))
            speedup = f"{model / rate[('Model', n, 1)]:.2f}" if t == 2 and ("Model", n, 1) in rate else ""
            rows.append(f"| {n:,} | {t} | {model:,.0f} | {reference:,.0f} | {model / reference:.2f} | {speedup} |")
    recording = {int(k.split("/")[1]): v for k, v in runs.items() if k.startswith("BM_Recording/")}
    recording_cost = recording[1]["real_time"] / recording[0]["real_time"] - 1 if len(recording) == 2 else float("nan")
    ba = next((v for k, v in runs.items() if k.startswith("BM_BuildBarabasiAlbert/")), None)
    overhead = next(iter(sweep.values()))["overhead_ratio"]

    memory = ["| customers | peak memory of the whole run | bytes per customer | of which edges (4 bytes x 10 edge ends) |", "|---|---|---|---|"]
    for n in ([10**6, 10**7] if all_sizes else [10**6]):
        peak = peak_memory(n)
        memory.append(f"| {n:,} | {peak / 2**30:.2f} GiB | {peak / n:.0f} | 40 |")

    fig, ax = plt.subplots(figsize=(6, 4))
    for kind, style in (("Model", "-o"), ("Reference", "--s")):
        for t in (1, 2):
            xs = [n for n in sizes if (kind, n, t) in rate]
            ax.plot(xs, [rate[(kind, n, t)] for n in xs], style, label=f"{kind.lower()}, {t} thread{'s' if t > 1 else ''}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("customers (3 firms, Erdős–Rényi network, mean degree 10)")
    ax.set_ylabel("customer-steps per second")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "performance-scaling.png", dpi=110)

    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model_name = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "unknown")
    text = f"""# Performance results

Written by `scripts/bench.sh` on {context.get('date', '')}: {model_name}, {context.get('num_cpus')} CPUs at
{context.get('mhz_per_cpu')} MHz, shared with other work (the ratios are measured within one run for that reason).
Do not edit by hand.

{chr(10).join(rows)}

{chr(10).join(memory)}

- Recording at the default cadence (histograms every 10 steps, snapshots of the last step; 10^5 customers,
  200 steps, 2 threads): **{100 * recording_cost:.1f}%** of run time (target < 5%).
- Building 10^6 customers with a Barabási–Albert network (mean degree 10): **{ba['real_time'] / 1000 if ba else float('nan'):.2f} s** (target < 2 s).
- A 1,000-run sweep of small runs spends **{overhead:.3f}×** the sum of its runs' own times (target ≤ 1.10).

![scaling](performance-scaling.png)
"""
    (ROOT / "docs" / "performance-results.md").write_text(text)
    print("wrote docs/performance-results.md and docs/performance-scaling.png")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], "--all" in sys.argv)
