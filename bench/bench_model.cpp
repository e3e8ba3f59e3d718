// Throughput of the model against a reference kernel with the same memory traffic, measured in one process
// so that their ratio is meaningful on a shared, noisy machine (targets in docs/performance.md).
//   bench_model                                   everything but 10^7 customers (a few minutes)
//   bench_model --benchmark_filter=10000000       the 10^7 cases
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "trustsim/io/hdf5_output.hpp"
#include "trustsim/network.hpp"
#include "trustsim/parallel.hpp"
#include "trustsim/random.hpp"
#include "trustsim/simulation.hpp"

namespace {

using namespace trustsim;

ModelSpec market(std::int64_t customers, NetworkSpec::Kind network = NetworkSpec::Kind::erdos_renyi) {
    ModelSpec spec;
    spec.customers.count = customers;
    spec.network.kind = network;
    spec.network.mean_degree = 10;
    for (const char* name : {"A", "B", "C"}) {
        FirmSpec firm;
        firm.name = name;
        spec.firms.push_back(firm);
    }
    return spec;
}

// The model: customer-steps per second over whole steps (all four phases and the measurement).
void BM_Model(benchmark::State& state) {
    const auto customers = state.range(0);
    const int threads = static_cast<int>(state.range(1));
    Simulation simulation(market(customers), Context{threads});
    simulation.step();  // warm up
    for (auto _ : state) benchmark::DoNotOptimize(simulation.step());
    state.SetItemsProcessed(state.iterations() * customers);
}

// The reference kernel: what one step must at least move — each customer streams its own state (perceptions
// of 3 firms, its experience record, dispositions) and gathers its neighbours' experience records through
// the same network — with trivial arithmetic, parallelised the same way.
struct ReferenceState {
    std::vector<Perception> perception;
    std::vector<std::uint64_t> experience;
    std::vector<float> dispositions;
    Network network;
};

void BM_Reference(benchmark::State& state) {
    const auto customers = state.range(0);
    const int threads = static_cast<int>(state.range(1));
    constexpr int firms = 3;
    const auto n = static_cast<std::size_t>(customers);
    ReferenceState s{std::vector<Perception>(n * firms), std::vector<std::uint64_t>(n, 1), std::vector<float>(3 * n, 0.5f),
                     build_network(market(customers).network, customers, 1, threads)};
    for (auto _ : state) {
        const auto total = reduce_in_blocks(customers, 1, threads, [&](std::int64_t k, double* sum) {
            const auto i = static_cast<std::size_t>(k);
            std::uint64_t heard = 0;
            for (auto it = s.network.neighbours_begin(k); it != s.network.neighbours_end(k); ++it) heard += s.experience[static_cast<std::size_t>(*it)];
            float x = s.dispositions[3 * i] + s.dispositions[3 * i + 1] + s.dispositions[3 * i + 2];
            for (int f = 0; f < firms; ++f) {
                auto& p = s.perception[i * firms + static_cast<std::size_t>(f)];
                p.credibility += 1e-6f * x;
                x += p.reliability + p.intimacy + p.self_orientation;
            }
            s.experience[i] = heard & 1;
            sum[0] += x;
        });
        benchmark::DoNotOptimize(total);
    }
    state.SetItemsProcessed(state.iterations() * customers);
}

// Recording at the default cadence (histograms every 10 steps, a snapshot at the end) against no recording,
// over a run of the default length.
void BM_Recording(benchmark::State& state) {
    const bool record = state.range(0) != 0;
    const auto path = (std::filesystem::temp_directory_path() / ("trustsim_bench_" + std::to_string(::getpid()) + ".h5")).string();
    const auto spec = market(100000);
    for (auto _ : state) {
        Simulation simulation(spec, Context{2});
        if (record) {
            io::Hdf5Recorder file(io::OutputOptions{path, true, "bench", 1});
            simulation.run(file);
            file.commit();
        } else {
            struct Nothing final : Recorder {
                void begin(const ModelSpec&, const CustomerDispositions&) override {}
                void record_step(const StepMetrics&) override {}
                void record_histogram(const TrustHistogram&) override {}
                void record_snapshot(const Snapshot&) override {}
                void end(const RunInfo&) override {}
            } nothing;
            simulation.run(nothing);
        }
    }
    std::filesystem::remove(path);
    state.SetItemsProcessed(state.iterations() * spec.customers.count * spec.simulation.steps);
}

void BM_BuildBarabasiAlbert(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(build_network(market(state.range(0), NetworkSpec::Kind::barabasi_albert).network, state.range(0), 1, 2));
}

void BM_Philox(benchmark::State& state) {
    Stream rng(1, Phase::customers, 0, 0);
    for (auto _ : state) benchmark::DoNotOptimize(rng());
    state.SetItemsProcessed(state.iterations());
}

void sizes(benchmark::internal::Benchmark* b) {
    for (const std::int64_t n : {10'000, 100'000, 1'000'000, 10'000'000})
        for (const std::int64_t threads : {1, 2}) b->Args({n, threads});
    b->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
}

BENCHMARK(BM_Model)->Apply(sizes);
BENCHMARK(BM_Reference)->Apply(sizes);
BENCHMARK(BM_Recording)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(6);
BENCHMARK(BM_BuildBarabasiAlbert)->Arg(1'000'000)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK(BM_Philox);

// Prints the ratios the targets are stated in, from the runs of this process.
class RatioReporter final : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& run : runs) {
            const auto items = run.counters.find("items_per_second");
            if (items != run.counters.end()) rate_[run.benchmark_name()] = items->second;
        }
    }
    void Finalize() override {
        ConsoleReporter::Finalize();
        std::printf("\nratios measured in this run:\n");
        for (const auto& [name, rate] : rate_) {
            if (name.rfind("BM_Model/", 0) != 0) continue;
            const auto args = name.substr(9);
            const auto reference = rate_.find("BM_Reference/" + args);
            if (reference != rate_.end()) std::printf("  model / reference kernel, %-28s %.2f\n", args.c_str(), rate / reference->second);
            const auto slash = args.find('/');
            if (args.substr(slash + 1, 1) == "2") {
                const auto one = rate_.find("BM_Model/" + args.substr(0, slash) + "/1" + args.substr(slash + 2));
                if (one != rate_.end()) std::printf("  2 threads / 1 thread,       %-28s %.2f\n", args.c_str(), rate / one->second);
            }
        }
        const auto with = rate_.find("BM_Recording/1/iterations:6/real_time"), without = rate_.find("BM_Recording/0/iterations:6/real_time");
        if (with != rate_.end() && without != rate_.end())
            std::printf("  recording cost (share of run time)                          %.1f%%\n", 100 * (without->second / with->second - 1));
    }

private:
    std::map<std::string, double> rate_;
};

}  // namespace

int main(int argc, char** argv) {
    bool filtered = false;  // looked for before Initialize, which consumes the flags it knows
    for (int i = 1; i < argc; ++i) filtered |= std::string(argv[i]).rfind("--benchmark_filter", 0) == 0;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    RatioReporter reporter;
    // Without a filter, leave out the 10^7 cases (they need minutes and 2 GiB): select them with a filter.
    if (filtered)
        benchmark::RunSpecifiedBenchmarks(&reporter);
    else
        benchmark::RunSpecifiedBenchmarks(&reporter, "-/10000000/");
    benchmark::Shutdown();
}
