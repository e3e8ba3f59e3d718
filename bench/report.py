"""Turns bench_model's JSON (--benchmark_format=json) into the results section of docs/performance.md and
docs/performance-scaling.png. Run by scripts/bench.sh; medians when the run has repetitions."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- results: written by scripts/bench.sh -->", "<!-- /results -->"


def runs(path: str) -> tuple[dict, dict]:
    """The context and, per benchmark, its median (or its only run)."""
    data = json.loads(Path(path).read_text())
    out: dict[str, dict] = {}
    for b in data["benchmarks"]:
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median":
            out[name] = b
        elif b.get("run_type", "iteration") == "iteration" and b.get("repetitions", 1) <= 1:
            out.setdefault(name, b)
    return data["context"], out


def short(name: str) -> str:
    return re.sub(r"/(min_time|iterations|real_time|repeats).*$", "", name)


def main(model_json: str, sweep_json: str | None) -> None:
    context, bench = runs(model_json)
    bench = {short(k): v for k, v in bench.items()}
    rate, ratio, speedup, alone = {}, {}, {}, {}
    for name, b in bench.items():
        if m := re.fullmatch(r"BM_(Model|Reference)/(\d+)/(\d)", name):
            key = (int(m.group(2)), int(m.group(3)))
            rate[(m.group(1), *key)] = b["items_per_second"]
            if m.group(1) == "Model":
                ratio[key] = b.get("vs_reference", float("nan"))
                alone[key] = (b.get("customers_vs_reference", float("nan")), b.get("word_of_mouth_vs_reference", float("nan")))
                if "vs_1_thread" in b:
                    speedup[key[0]] = b["vs_1_thread"]
    sizes = sorted({n for _, n, _ in rate})

    table = ["| customers | threads | model (customer-steps/s) | reference kernel | model / reference | 2 threads / 1 thread "
             "| customers' phase alone / reference | word of mouth alone / reference |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        for t in (1, 2):
            if ("Model", n, t) in rate:
                s = f"{speedup[n]:.2f}" if t == 2 and n in speedup else ""
                table.append(f"| {n:,} | {t} | {rate[('Model', n, t)] / 1e6:.2f} M | {rate.get(('Reference', n, t), float('nan')) / 1e6:.1f} M "
                             f"| {100 * ratio[(n, t)]:.1f}% | {s} | {100 * alone[(n, t)][0]:.0f}% | {100 * alone[(n, t)][1]:.0f}% |")

    memory = ["| customers | peak RSS | bytes per customer (net of the process) | edge ends per customer | of the budget (150 B + 4 B per edge end) |",
              "|---:|---:|---:|---:|---:|"]
    for name, b in sorted(bench.items()):
        if m := re.fullmatch(r"BM_PeakMemory/(\d+)", name):
            memory.append(f"| {int(m.group(1)):,} | {b['peak_GiB']:.2f} GiB | {b['bytes_per_customer']:.0f} | {b['edge_ends_per_customer']:.1f} "
                          f"| {100 * b['vs_budget']:.0f}% |")

    facts = []
    if "BM_Recording" in bench:
        facts.append(f"- Recording at the default cadence to HDF5 (10^5 customers, 200 steps, 2 threads): "
                     f"**{100 * bench['BM_Recording']['cost']:.1f}%** of run time (target < 5%).")
    if "BM_Hdf5Write/100000" in bench:
        b = bench["BM_Hdf5Write/100000"]
        facts.append(f"- Writing that run's output alone (HDF5, {b['file_MiB']:.1f} MiB): {b['real_time']:.0f} ms.")
    for kind, title in (("erdos_renyi", "an Erdős–Rényi"), ("watts_strogatz", "a Watts–Strogatz"), ("barabasi_albert", "a Barabási–Albert")):
        if (b := bench.get(f"BM_BuildNetwork/{kind}/1000000")):
            target = " (target < 2 s)" if kind == "barabasi_albert" else ""
            facts.append(f"- Building {title} network of 10^6 customers, mean degree "
                         f"{b['mean_degree']:.1f}, 2 threads: **{b['real_time'] / 1000:.2f} s**{target}.")
    if (b := bench.get("BM_BuildMarket/barabasi_albert/1000000")):
        facts.append(f"- Building a whole market of 10^6 customers with a Barabási–Albert network (customers, employees and network, "
                     f"2 threads): **{b['real_time'] / 1000:.2f} s** (target < 2 s).")
    for name, what in (("BM_StreamDraw", "64-bit draws of one Philox4x32-10 stream"), ("BM_StreamPerAgent", "a new agent stream and its first draw"),
                       ("BM_PerceptionUpdate", "perception updates (4 moving averages and the trust equation)")):
        if name in bench:
            facts.append(f"- {what}: {bench[name]['items_per_second'] / 1e6:.0f} M/s.")
    if versions := {name.removeprefix("BM_PhiloxLanes/"): b["vs_baseline"] for name, b in bench.items()
                    if name.startswith("BM_PhiloxLanes/") and "vs_baseline" in b}:
        facts.append("- Philox blocks of 256 streams at once, by the versions this processor runs, as a ratio to the baseline's rate: "
                     + ", ".join(f"{name} {ratio:.2f}×" for name, ratio in sorted(versions.items())) + ".")
    if sweep_json and Path(sweep_json).exists():
        _, sweep = runs(sweep_json)
        if sweep:
            facts.append(f"- A 1,000-run sweep of small runs takes **{next(iter(sweep.values()))['overhead_ratio']:.3f}×** the sum of its runs' "
                         "own times (target ≤ 1.10).")

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for kind, style in (("Model", "-o"), ("Reference", "--s")):
        for t in (1, 2):
            xs = [n for n in sizes if (kind, n, t) in rate]
            left.plot(xs, [rate[(kind, n, t)] for n in xs], style, label=f"{'model' if kind == 'Model' else 'reference kernel'}, {t} thread{'s' * (t > 1)}")
    left.set(xscale="log", yscale="log", xlabel="customers", ylabel="customer-steps per second",
             title="3 firms, Erdős–Rényi network, mean degree 10")
    left.legend(fontsize=8)
    left.grid(alpha=0.3, which="both")
    for t in (1, 2):
        xs = [n for n in sizes if (n, t) in ratio]
        right.plot(xs, [100 * ratio[(n, t)] for n in xs], "-o", label=f"model / reference, {t} thread{'s' * (t > 1)}")
    right.axhline(40, color="grey", ls=":", label="target: 40% (10^6, 2 threads)")
    highest = max([50.0] + [100 * r for r in ratio.values()])
    right.set(xscale="log", xlabel="customers", ylabel="% of the reference kernel's rate", ylim=(0, 1.1 * highest))
    twin = right.twinx()
    xs = sorted(speedup)
    twin.plot(xs, [speedup[n] for n in xs], "-^", color="tab:red", label="2 threads / 1 thread")
    twin.axhline(1.7, color="tab:red", ls=":", lw=0.8, label="target: 1.7")
    twin.set(ylabel="speed-up of 2 threads", ylim=(0, max([2.2] + [1.1 * s for s in speedup.values()])))
    lines = right.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    right.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=8, loc="upper left")
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "performance-scaling.png", dpi=100)

    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    field = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lscpu.splitlines())}
    details = [f"{field.get('CPU(s)', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz"]
    details += [f"{level} {field[level + ' cache']}" for level in ("L2", "L3") if level + " cache" in field]
    if "Hypervisor vendor" in field:
        details.append(f"{field['Hypervisor vendor']} virtual machine")
    machine = f"{field.get('Model name', '?')} ({field.get('Vendor ID', '?')}, family {field.get('CPU family', '?')}), {', '.join(details)}"
    section = f"""{BEGIN}
Measured {context.get('date', '')[:16].replace('T', ' ')} on {machine}, shared with other work;
{'medians of 3 repetitions' if any(b.get('run_type') == 'aggregate' for b in bench.values()) else 'one repetition'} of a Release build.

{chr(10).join(table)}

{chr(10).join(memory)}

{chr(10).join(facts)}

![scaling](performance-scaling.png)
{END}"""
    text = DOC.read_text()
    text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):] if BEGIN in text else text + "\n" + section + "\n"
    DOC.write_text(text)
    print("\n".join(table + [""] + memory + [""] + facts))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
