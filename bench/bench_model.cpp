// Throughput of the model against a reference kernel with the same memory traffic, measured in one process
// so that their ratio is meaningful on a shared, noisy machine (targets in docs/performance.md); the parts a
// step is made of; recording; peak memory; network construction.
//   bench_model                                  everything but 10^7 customers (about a minute)
//   bench_model --benchmark_filter=10000000      the 10^7 cases (minutes, about 2 GiB)
// Ratios are user counters (vs_reference, vs_1_thread, cost) and are summarised after the run.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "trustsim/io/hdf5_output.hpp"
#include "trustsim/network.hpp"
#include "trustsim/parallel.hpp"
#include "trustsim/random.hpp"
#include "trustsim/simulation.hpp"

extern char** environ;

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

constexpr long long big = 10'000'000;

// Rates measured so far in this process, by (benchmark, customers, threads): the model's ratios are taken
// against the median of them, so the reference must be registered (and run) before the model.
std::map<std::tuple<std::string, std::int64_t, int>, std::vector<double>> measured;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// Times the loop itself (real time) and keeps the rate for later ratios; returns it.
template <class Body>
double timed_steps(benchmark::State& state, const char* name, std::int64_t customers, int threads, Body body) {
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) body();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = static_cast<double>(state.iterations() * customers) / seconds;
    measured[{name, customers, threads}].push_back(rate);
    state.SetItemsProcessed(state.iterations() * customers);
    return rate;
}

// The model: customer-steps per second over whole steps (events, employees, customers, word of mouth,
// firms and the end-of-step measurement).
void model(benchmark::State& state, std::int64_t customers, int threads) {
    Simulation simulation(market(customers), Context{threads});
    simulation.step();  // warm up
    const PhaseSeconds before = simulation.phase_seconds();
    const double rate = timed_steps(state, "model", customers, threads, [&] { benchmark::DoNotOptimize(simulation.step()); });
    if (const double reference = median(measured[{"reference", customers, threads}]); reference > 0) {
        state.counters["vs_reference"] = rate / reference;
        // Each phase's own rate against the reference kernel's: what a step could reach if the other phases
        // cost nothing, so what bounds the whole.
        const auto steps = static_cast<double>(state.iterations()) * static_cast<double>(customers);
        const auto& after = simulation.phase_seconds();
        state.counters["customers_vs_reference"] = steps / (after.customers - before.customers) / reference;
        state.counters["word_of_mouth_vs_reference"] = steps / (after.word_of_mouth - before.word_of_mouth) / reference;
    }
    if (const double one = median(measured[{"model", customers, 1}]); threads > 1 && one > 0) state.counters["vs_1_thread"] = rate / one;
}

// The reference kernel: what one step must at least move — each customer streams its own state
// (perceptions of 3 firms, dispositions, its experience record) and gathers its neighbours' experience
// records through the same CSR network — with trivial arithmetic, in the same blocks and threads.
void reference(benchmark::State& state, std::int64_t customers, int threads) {
    constexpr std::size_t firms = 3;
    const auto n = static_cast<std::size_t>(customers);
    std::vector<Perception> perception(n * firms);
    std::vector<float> dispositions(3 * n, 0.5f);
    // Experience records of 4 bytes, as the model's: read and written apart, as the model's phases do.
    std::vector<std::uint32_t> experience(n, 1), told(n);
    const Network network = build_network(market(customers).network, customers, 1, threads);
    timed_steps(state, "reference", customers, threads, [&] {
        const auto total = reduce_in_blocks(customers, 1, threads, [&](std::int64_t k, double* sum) {
            const auto i = static_cast<std::size_t>(k);
            std::uint32_t heard = 0;
            for (auto it = network.neighbours_begin(k); it != network.neighbours_end(k); ++it) heard += experience[static_cast<std::size_t>(*it)];
            float x = dispositions[3 * i] + dispositions[3 * i + 1] + dispositions[3 * i + 2];
            for (std::size_t f = 0; f < firms; ++f) {
                auto& p = perception[i * firms + f];
                p.credibility += 1e-6f * x;
                x += p.reliability + p.intimacy + p.self_orientation;
            }
            told[i] = heard;
            sum[0] += x;
        });
        benchmark::DoNotOptimize(total);
    });
}

struct Nothing final : Recorder {
    void begin(const ModelSpec&, const CustomerDispositions&) override {}
    void record_step(const StepMetrics&) override {}
    void record_histogram(const TrustHistogram&) override {}
    void record_snapshot(const Snapshot&) override {}
    void end(const RunInfo&) override {}
};

std::string temporary_output(const char* what) {
    return (std::filesystem::temp_directory_path() / ("trustsim_bench_" + std::string(what) + std::to_string(::getpid()) + ".h5")).string();
}

// A run of the default length (200 steps, 10^5 customers, 2 threads) recording to HDF5 at the default
// cadence (histograms every 10 steps, a snapshot of the last step), against the same run recording nothing
// (no histograms, no snapshot). The two alternate within each iteration so that both see the same machine;
// `cost` is the share of run time recording adds.
void recording(benchmark::State& state) {
    const auto spec = market(100'000);
    auto silent_spec = spec;
    silent_spec.record.histogram_every = 0;
    silent_spec.record.snapshot_customers = silent_spec.record.snapshot_employees = false;
    const auto path = temporary_output("recording");
    // Seconds of one run, recording to HDF5 or not.
    const auto run_seconds = [&](bool recording) {
        const auto start = std::chrono::steady_clock::now();
        Simulation simulation(recording ? spec : silent_spec, Context{2});
        if (recording) {
            io::Hdf5Recorder file(io::OutputOptions{path, true, "bench", 1});
            simulation.run(file);
            file.commit();
        } else {
            Nothing nothing;
            simulation.run(nothing);
        }
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    // The cost of each pair of runs, one right after the other, in alternating order so that a machine
    // speeding up or slowing down favours neither; their median resists a slow spell during one run.
    std::vector<double> costs;
    for (auto _ : state) {
        const bool with_first = costs.size() % 2 == 1;
        const double first = run_seconds(with_first), second = run_seconds(!with_first);
        costs.push_back((with_first ? first / second : second / first) - 1);
    }
    std::filesystem::remove(path);
    state.counters["cost"] = median(costs);
}

// HDF5 writing alone: the output of a default-length run of 10^5 customers (200 steps of metrics,
// 20 histograms, dispositions, a snapshot of the last step), from values captured once.
void hdf5_write(benchmark::State& state) {
    const auto spec = market(100'000);
    Simulation simulation(spec, Context{2});
    const auto metrics = simulation.step();
    const auto histogram = simulation.histogram();
    const auto snapshot = simulation.snapshot(true, true);
    const auto dispositions = simulation.customer_dispositions();
    const auto path = temporary_output("write");
    for (auto _ : state) {
        io::Hdf5Recorder file(io::OutputOptions{path, true, "bench", 1});
        file.begin(spec, dispositions);
        for (std::int64_t step = 0; step < spec.simulation.steps; ++step) {
            file.record_step(metrics);
            if (step % spec.record.histogram_every == spec.record.histogram_every - 1) file.record_histogram(histogram);
        }
        file.record_snapshot(snapshot);
        file.end(RunInfo{2, 0});
        file.commit();
    }
    state.counters["file_MiB"] = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
    std::filesystem::remove(path);
}

void build(benchmark::State& state, NetworkSpec::Kind kind, std::int64_t customers) {
    const auto spec = market(customers, kind).network;
    std::int64_t ends = 0;
    for (auto _ : state) ends = build_network(spec, customers, 1, 2).edge_ends();
    state.counters["mean_degree"] = static_cast<double>(ends) / static_cast<double>(customers);
    state.SetItemsProcessed(state.iterations() * customers);
}

// A whole market built: customers and employees drawn, and the network.
void build_market(benchmark::State& state, NetworkSpec::Kind kind, std::int64_t customers) {
    const auto spec = market(customers, kind);
    for (auto _ : state) Simulation simulation(spec, Context{2});
    state.SetItemsProcessed(state.iterations() * customers);
}

// 64-bit draws of one agent's Philox4x32-10 stream.
void stream_draws(benchmark::State& state) {
    Stream rng(1, Phase::customers, 0, 0);
    for (auto _ : state) benchmark::DoNotOptimize(rng());
    state.SetItemsProcessed(state.iterations());
}

// What every agent pays per phase: a fresh stream and its first Bernoulli draw (one Philox block).
void stream_per_agent(benchmark::State& state) {
    std::uint64_t agent = 0, yes = 0;
    for (auto _ : state) {
        Stream rng(1, Phase::customers, 0, agent++);
        yes += rng.bernoulli(0.5);
    }
    benchmark::DoNotOptimize(yes);
    state.SetItemsProcessed(state.iterations());
}

// Philox blocks of 256 counters at once, as StreamBatch computes them, by each version this processor runs;
// the rate is also a ratio to the baseline's, which is registered, and so runs, first.
void philox_lanes(benchmark::State& state, PhiloxLanesVersion version) {
    constexpr auto lanes = static_cast<std::int64_t>(StreamBatch::agents);
    std::array<std::array<std::uint32_t, lanes>, 4> x{};
    const double rate = timed_steps(state, version.name, lanes, 1, [&] {
        version.run(x[0].data(), x[1].data(), x[2].data(), x[3].data(), lanes, {1, 2});
        benchmark::ClobberMemory();
    });
    if (const double baseline = median(measured[{"baseline", lanes, 1}]); std::string(version.name) != "baseline" && baseline > 0)
        state.counters["vs_baseline"] = rate / baseline;
}

// Perception updates alone: four moving averages and the trust equation, per customer and firm.
void perception_updates(benchmark::State& state) {
    std::vector<Perception> perceptions(300'000);
    const float signal = 0.7f;
    for (auto _ : state) {
        float sum = 0;
        for (auto& p : perceptions) {
            move_toward(p.credibility, signal, 0.2f);
            move_toward(p.reliability, 1.0f, 0.2f);
            move_toward(p.intimacy, 0.5f, 0.2f);
            move_toward(p.self_orientation, 0.0f, 0.2f);
            sum += trust(p, 1.0f);
        }
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(perceptions.size()));
}

// Peak resident memory of building a market and running two steps, in a fresh process (this binary,
// spawned with --memory-probe) so that nothing measured before counts. Bytes per customer are net of the
// process's own baseline; the budget is 150 bytes per customer (3 firms) plus 4 per edge end.
void peak_memory(benchmark::State& state, std::int64_t customers) {
    std::string line;
    for (auto _ : state) {
        int out[2];
        if (::pipe(out) != 0) return state.SkipWithError("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        const std::string n = std::to_string(customers);
        char arg0[] = "bench_model", arg1[] = "--memory-probe";
        char* argv[] = {arg0, arg1, const_cast<char*>(n.c_str()), nullptr};
        pid_t child = 0;
        const int spawned = posix_spawn(&child, "/proc/self/exe", &actions, nullptr, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        line.clear();
        char buffer[256];
        for (ssize_t got; (got = ::read(out[0], buffer, sizeof buffer)) > 0;) line.append(buffer, static_cast<std::size_t>(got));
        ::close(out[0]);
        int status = 0;
        if (spawned != 0 || ::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return state.SkipWithError("memory probe failed");
    }
    double base = 0, peak = 0, ends = 0, estimate = 0;
    if (std::sscanf(line.c_str(), "%lf %lf %lf %lf", &base, &peak, &ends, &estimate) != 4) return state.SkipWithError("memory probe output");
    const auto n = static_cast<double>(customers);
    state.counters["peak_GiB"] = peak / (1 << 30);
    state.counters["bytes_per_customer"] = (peak - base) / n;
    state.counters["edge_ends_per_customer"] = ends / n;
    state.counters["vs_budget"] = (peak - base) / (150 * n + 4 * ends);
    state.counters["vs_estimate"] = (peak - base) / estimate;
}

// Peak resident bytes of this process image. Not getrusage: its maximum carries over from the process
// that spawned this one (posix_spawn shares the parent's memory until exec), VmHWM starts afresh at exec.
double peak_resident_bytes() {
    std::FILE* status = std::fopen("/proc/self/status", "r");
    char line[256];
    double kib = 0;
    while (status && std::fgets(line, sizeof line, status))
        if (std::sscanf(line, "VmHWM: %lf kB", &kib) == 1) break;
    if (status) std::fclose(status);
    return kib * 1024;
}

int memory_probe(std::int64_t customers) {
    const double base = peak_resident_bytes();
    const auto spec = market(customers);
    Simulation simulation(spec, Context{2});
    simulation.step();
    simulation.step();
    std::printf("%.0f %.0f %lld %.0f\n", base, peak_resident_bytes(), static_cast<long long>(simulation.network().edge_ends()),
                Simulation::estimated_memory(spec).bytes(2));
    return 0;
}

void register_all() {
    using benchmark::RegisterBenchmark;
    const auto ms = benchmark::kMillisecond;
    for (const std::int64_t n : {10'000LL, 100'000LL, 1'000'000LL, big}) {
        // Reference first (the model's ratios need its rate); sizes in turn, so that each ratio's two
        // rates are measured close together.
        for (const int threads : {1, 2})
            RegisterBenchmark(("BM_Reference/" + std::to_string(n) + "/" + std::to_string(threads)).c_str(), reference, n, threads)
                ->UseRealTime()->Unit(ms)->MinTime(0.3);
        for (const int threads : {1, 2})
            RegisterBenchmark(("BM_Model/" + std::to_string(n) + "/" + std::to_string(threads)).c_str(), model, n, threads)
                ->UseRealTime()->Unit(ms)->MinTime(n >= big ? 2.0 : 0.5);
    }
    RegisterBenchmark("BM_Recording", recording)->UseRealTime()->Unit(ms)->Iterations(8);
    RegisterBenchmark("BM_Hdf5Write/100000", hdf5_write)->UseRealTime()->Unit(ms);
    for (const std::int64_t n : {1'000'000LL, big}) RegisterBenchmark(("BM_PeakMemory/" + std::to_string(n)).c_str(), peak_memory, n)->UseRealTime()->Unit(ms)->Iterations(1);
    using Kind = NetworkSpec::Kind;
    for (const auto& [name, kind] : {std::pair{"erdos_renyi", Kind::erdos_renyi}, {"watts_strogatz", Kind::watts_strogatz}, {"barabasi_albert", Kind::barabasi_albert}})
        RegisterBenchmark(("BM_BuildNetwork/" + std::string(name) + "/1000000").c_str(), build, kind, 1'000'000)->UseRealTime()->Unit(ms)->Iterations(2);
    RegisterBenchmark("BM_BuildMarket/barabasi_albert/1000000", build_market, Kind::barabasi_albert, 1'000'000)->UseRealTime()->Unit(ms)->Iterations(2);
    RegisterBenchmark("BM_StreamDraw", stream_draws);
    RegisterBenchmark("BM_StreamPerAgent", stream_per_agent);
    auto versions = philox_lanes_versions();
    std::reverse(versions.begin(), versions.end());
    for (const auto& version : versions) RegisterBenchmark(("BM_PhiloxLanes/" + std::string(version.name)).c_str(), philox_lanes, version);
    RegisterBenchmark("BM_PerceptionUpdate", perception_updates)->Unit(benchmark::kMicrosecond);
}

// The ratios the targets are stated in, from the medians of this process's runs.
class Summary final : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& run : runs)
            if (run.run_type == Run::RT_Iteration && !run.error_occurred)
                for (const auto& [name, counter] : run.counters) values_[run.run_name.function_name][name].push_back(counter.value);
    }
    void Finalize() override {
        ConsoleReporter::Finalize();
        std::printf("\nTargets, as medians of this run:\n");
        for (const auto& [name, counters] : values_) {
            if (name.rfind("BM_Model/", 0) == 0) {
                std::printf("  %-28s", name.c_str());
                if (counters.contains("vs_reference"))
                    std::printf(" %5.1f%% of the reference kernel (target >= 40%% at 10^6, 2 threads)", 100 * median(counters.at("vs_reference")));
                if (counters.contains("vs_1_thread")) std::printf(", %.2fx one thread (target >= 1.7)", median(counters.at("vs_1_thread")));
                if (counters.contains("customers_vs_reference"))
                    std::printf("; alone, the customers' phase %.0f%%, word of mouth %.0f%%", 100 * median(counters.at("customers_vs_reference")),
                                100 * median(counters.at("word_of_mouth_vs_reference")));
                std::printf("\n");
            } else if (counters.contains("vs_baseline")) {
                std::printf("  %-28s %.2fx the baseline generator\n", name.c_str(), median(counters.at("vs_baseline")));
            } else if (counters.contains("cost")) {
                std::printf("  %-28s %5.1f%% of run time (target < 5%%)\n", "recording", 100 * median(counters.at("cost")));
            } else if (counters.contains("bytes_per_customer")) {
                std::printf("  %-28s %.2f GiB peak, %.0f bytes per customer, %.2f of the budget (target <= 1)\n", name.c_str(),
                            median(counters.at("peak_GiB")), median(counters.at("bytes_per_customer")), median(counters.at("vs_budget")));
            }
        }
    }

private:
    std::map<std::string, std::map<std::string, std::vector<double>>> values_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--memory-probe") return memory_probe(std::atoll(argv[2]));
    bool filtered = false;  // looked for before Initialize, which consumes the flags it knows
    for (int i = 1; i < argc; ++i) filtered |= std::string(argv[i]).rfind("--benchmark_filter", 0) == 0;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    register_all();
    Summary summary;
    // Without a filter, leave out the 10^7 cases (minutes and 2 GiB): select them with a filter.
    benchmark::RunSpecifiedBenchmarks(&summary, filtered ? benchmark::GetBenchmarkFilter() : "-/10000000");
    benchmark::Shutdown();
}
