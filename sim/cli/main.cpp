// The `trustsim` command: run, validate and inspect scenarios.
#include <CLI/CLI.hpp>
#include <omp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "trustsim/errors.hpp"
#include "trustsim/io/hdf5_output.hpp"
#include "trustsim/io/scenario.hpp"
#include "trustsim/simulation.hpp"
#include "trustsim/summary.hpp"
#include "trustsim/version.hpp"

namespace {

using namespace trustsim;

enum ExitCode { ok = 0, user_error = 1, usage_error = 2, internal_error = 3, interrupted = 130 };

std::atomic<int> stop_signal{0};
extern "C" void request_stop(int signal) { stop_signal = signal; }

// A progress line on a terminal; nothing in logs and CI.
class ProgressLine {
public:
    explicit ProgressLine(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO)) {}
    void update(std::int64_t done, std::int64_t total) {
        if (!enabled_) return;
        const auto now = std::chrono::steady_clock::now();
        if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
        last_ = now;
        const double elapsed = std::chrono::duration<double>(now - start_).count();
        const double eta = done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0;
        std::fprintf(stderr, "\rstep %lld/%lld (%3.0f%%), %.0f s left   ", static_cast<long long>(done), static_cast<long long>(total),
                     100.0 * static_cast<double>(done) / static_cast<double>(total), eta);
        if (done == total) std::fprintf(stderr, "\r%60s\r", "");
    }

private:
    bool enabled_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_{};
};

struct RunOptions {
    std::string scenario;
    std::string output;
    std::vector<std::string> overrides;
    std::int64_t seed = -1;
    int threads = 0;
    bool force = false;
    bool quiet = false;
};

int run(const RunOptions& options) {
    std::signal(SIGINT, request_stop);  // from the start, so no signal can leave a temporary file behind
    std::signal(SIGTERM, request_stop);
    auto overrides = options.overrides;
    if (options.seed >= 0) overrides.push_back("simulation.seed=" + std::to_string(options.seed));
    auto scenario = io::load_scenario_file(options.scenario, overrides);
    const std::string output =
        options.output.empty() ? std::filesystem::path(options.scenario).stem().string() + ".h5" : options.output;
    const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();

    io::Hdf5Recorder file(io::OutputOptions{output, options.force, scenario.resolved_yaml,
                                            static_cast<std::uint64_t>(scenario.spec.simulation.seed)});
    SummaryRecorder summary;
    RecorderList recorders({&file, &summary});
    ProgressLine progress(!options.quiet);
    Simulation simulation(scenario.spec, Context{threads, [&](std::int64_t done, std::int64_t total) {
                                                     progress.update(done, total);
                                                     return stop_signal == 0;
                                                 }});
    if (!simulation.run(recorders)) {
        std::cerr << "trustsim: interrupted by signal " << stop_signal << " at step " << simulation.current_step()
                  << "; no output written (" << output << " is untouched)\n";
        return interrupted;
    }
    file.commit();
    if (!options.quiet) {
        std::cout << "wrote " << output << ": " << scenario.spec.simulation.steps << " steps, " << scenario.spec.customers.count
                  << " customers, " << scenario.spec.firms.size() << " firms, seed " << scenario.spec.simulation.seed << ", " << threads
                  << " threads\n\n"
                  << summary.table();
    }
    return ok;
}

int validate(const std::string& path, const std::vector<std::string>& overrides, bool resolved) {
    const auto scenario = io::load_scenario_file(path, overrides);
    if (resolved) {
        std::cout << scenario.resolved_yaml;
        return ok;
    }
    const auto& spec = scenario.spec;
    std::cout << path << ": valid (" << spec.simulation.steps << " steps, " << spec.customers.count << " customers, "
              << spec.firms.size() << " firms, " << spec.events.size() << " events)\n";
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"TrustSim: a parallel agent-based simulator of reciprocal trust among firms, employees and customers", "trustsim"};
    app.set_version_flag("--version", std::string("trustsim ") + trustsim::version + " (" + trustsim::build_description + ")");
    app.require_subcommand(1);

    RunOptions run_options;
    auto* run_cmd = app.add_subcommand("run", "Run a scenario and write its HDF5 result");
    run_cmd->add_option("scenario", run_options.scenario, "Scenario file (YAML)")->required();
    run_cmd->add_option("-o,--output", run_options.output, "Output file (default: <scenario name>.h5 here)");
    run_cmd->add_option("--set", run_options.overrides, "Override a scenario value: key.path=value (repeatable)");
    run_cmd->add_option("--seed", run_options.seed, "Root seed (overrides simulation.seed)")->check(CLI::NonNegativeNumber);
    run_cmd->add_option("--threads", run_options.threads, "Threads (default: all cores); results do not depend on it")
        ->check(CLI::NonNegativeNumber);
    run_cmd->add_flag("--force", run_options.force, "Overwrite an existing output file");
    run_cmd->add_flag("-q,--quiet", run_options.quiet, "No progress line and no summary");

    std::string validate_path;
    std::vector<std::string> validate_overrides;
    bool resolved = false;
    auto* validate_cmd = app.add_subcommand("validate", "Check a scenario; print it with every default filled in (--resolved)");
    validate_cmd->add_option("scenario", validate_path, "Scenario file (YAML)")->required();
    validate_cmd->add_option("--set", validate_overrides, "Override a scenario value: key.path=value (repeatable)");
    validate_cmd->add_flag("--resolved", resolved, "Print the resolved scenario");

    auto* keys_cmd = app.add_subcommand("keys", "Print every scenario key with its default, range, unit and meaning (Markdown)");

    std::string info_path;
    auto* info_cmd = app.add_subcommand("info", "Describe a TrustSim output file");
    info_cmd->add_option("file", info_path, "Output file (HDF5)")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? ok : usage_error;
    }

    try {
        if (*run_cmd) return run(run_options);
        if (*validate_cmd) return validate(validate_path, validate_overrides, resolved);
        if (*keys_cmd) {
            std::cout << trustsim::io::scenario_reference();
            return ok;
        }
        if (*info_cmd) {
            std::cout << trustsim::io::describe_output(info_path);
            return ok;
        }
    } catch (const trustsim::UserError& e) {
        std::cerr << "trustsim: " << trustsim::io::format_error(e) << "\n";
        return user_error;
    } catch (const std::bad_alloc&) {
        std::cerr << "trustsim: out of memory; reduce customers.count or the network's mean_degree\n";
        return user_error;
    } catch (const std::exception& e) {
        std::cerr << "trustsim: internal error (a bug; please report it with the scenario): " << e.what() << "\n";
        return internal_error;
    }
    return usage_error;
}
