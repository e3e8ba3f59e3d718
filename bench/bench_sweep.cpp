// The cost of running runs as a sweep: the wall time of a whole local sweep (scenario loading per run, the
// run log, the manifest) against the sum of its runs' own simulation times, measured in the same process.
// Target: overhead_ratio = sweep wall time / sum of run times <= 1.10.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "trustsim/sweep.hpp"

namespace {

namespace fs = std::filesystem;

void BM_SweepOverhead(benchmark::State& state) {
    const auto runs = state.range(0);
    const fs::path dir = fs::temp_directory_path() / ("trustsim_bench_sweep_" + std::to_string(::getpid()));
    for (auto _ : state) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        std::ofstream(dir / "sweep.yaml") << "simulation: {steps: 100, seed: 1}\ncustomers: {count: 2000}\nfirms: [{name: A}, {name: B}]\n"
                                             "network: {type: erdos_renyi, mean_degree: 10}\nsweep:\n  replicates: "
                                          << runs / 10 << "\n  grid: {'firms[0].control_customers': [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]}\n";
        trustsim::sweep::SweepOptions options;
        options.scenario = (dir / "sweep.yaml").string();
        options.outdir = (dir / "out").string();
        options.quiet = true;
        const auto start = std::chrono::steady_clock::now();
        const auto scenario = trustsim::sweep::prepare_sweep(options);
        const auto pending = trustsim::sweep::pending_runs(scenario, options);
        std::size_t next = 0;
        trustsim::sweep::execute_runs(scenario, options, "local", static_cast<std::int64_t>(pending.size()),
                                      [&]() -> std::optional<std::int64_t> { return next < pending.size() ? std::optional(pending[next++]) : std::nullopt; },
                                      [] { return false; });
        trustsim::sweep::write_manifest(scenario, options.outdir);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double own = 0;
        for (const auto& r : trustsim::sweep::read_results(options.outdir)) own += r.wall_seconds;
        state.counters["runs"] = static_cast<double>(runs);
        state.counters["sweep_seconds"] = wall;
        state.counters["sum_of_run_seconds"] = own;
        state.counters["overhead_ratio"] = wall / own;
    }
    fs::remove_all(dir);
}
BENCHMARK(BM_SweepOverhead)->Arg(1000)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
