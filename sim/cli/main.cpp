// The `trustsim` command: run, validate and inspect scenarios.
#include <CLI/CLI.hpp>
#include <omp.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <regex>
#include <sstream>
#include <utility>

#ifdef TRUSTSIM_WITH_MPI
#include "mpi_sweep.hpp"
#endif
#include "trustsim/errors.hpp"
#include "trustsim/io/hdf5_output.hpp"
#include "trustsim/io/scenario.hpp"
#include "trustsim/lab.hpp"
#include "trustsim/progress.hpp"
#include "trustsim/simulation.hpp"
#include "trustsim/summary.hpp"
#include "trustsim/sweep.hpp"
#include "trustsim/version.hpp"

namespace {

using namespace trustsim;

enum ExitCode { ok = 0, user_error = 1, usage_error = 2, internal_error = 3, interrupted = 130 };

std::atomic<int> stop_signal{0};

// The first signal asks for a clean stop, at the end of the step or run under way (not during the
// construction of a large market, which takes seconds); a second one stops at once. Only
// async-signal-safe calls here.
extern "C" void request_stop(int signal) {
    const auto say = [](std::string_view text) { [[maybe_unused]] const auto n = ::write(STDERR_FILENO, text.data(), text.size()); };
    if (stop_signal.exchange(signal) == 0) return say("\ntrustsim: stopping cleanly; a second signal stops at once\n");
    if (const char* temporary = io::temporary_output_path()) ::unlink(temporary);
    say("trustsim: stopped at once; no output written (a sweep keeps its finished runs)\n");
    ::_exit(interrupted);
}
bool stop_requested() { return stop_signal != 0; }

// Commands that write results stop cleanly, removing their temporary files, on Ctrl-C, kill, and the hangup
// of a closed terminal or SSH session. A hangup ignored from the start (nohup) stays ignored.
void stop_on_signals() {
    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    struct sigaction hangup {};
    if (::sigaction(SIGHUP, nullptr, &hangup) == 0 && hangup.sa_handler != SIG_IGN) std::signal(SIGHUP, request_stop);
}

// Says when a signal stopped the command and what became of its output; returns the exit status.
int stopped(const std::string& when, const std::string& outcome) {
    std::cerr << "trustsim: interrupted by signal " << stop_signal << when << "; " << outcome << "\n";
    return interrupted;
}
std::string nothing_written(const std::string& output) { return "no output written (" + output + " is untouched)"; }

// CLI11 takes -o "" as given, and an empty path would quietly mean the current directory or a default name.
CLI::Validator non_empty_output(const std::string& example) {
    return {[example](const std::string& path) { return path.empty() ? "empty output path. Fix: give one, e.g. " + example : std::string(); }, ""};
}

// A value in one of SLURM's formats (`what`: "time"), checked here rather than after the scripts are written.
CLI::Validator slurm_format(const char* pattern, const std::string& what, const std::string& forms) {
    return {[format = std::regex(pattern), what, forms](const std::string& value) {
                return std::regex_match(value, format) ? std::string() : "'" + value + "' is not a SLURM " + what + ". Fix: " + forms;
            },
            ""};
}

// "i/K" exactly: two whole numbers around one slash.
bool parse_shard(std::string_view text, int& index, int& count) {
    const auto whole_number = [](std::string_view digits, int& value) {
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        return error == std::errc() && end == digits.data() + digits.size();
    };
    const auto slash = text.find('/');
    return slash != std::string_view::npos && whole_number(text.substr(0, slash), index) && whole_number(text.substr(slash + 1), count);
}

// "1 firm", "3 firms".
std::string counted(std::int64_t n, const std::string& noun) { return std::to_string(n) + " " + noun + (n == 1 ? "" : "s"); }

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
    stop_on_signals();  // from the start, so no signal can leave a temporary file behind
    auto overrides = options.overrides;
    if (options.seed >= 0) {
        for (const auto& o : overrides)  // simulation.seed=3, or a section that gives it: simulation={steps: 30, seed: 2}
            if (io::override_sets(o, "simulation.seed"))
                throw UserError({"--seed " + std::to_string(options.seed), 0, 0, ""}, "--seed and --set " + o + " both give the seed", "keep one of them");
        overrides.push_back("simulation.seed=" + std::to_string(options.seed));
    }
    auto scenario = io::load_scenario_file(options.scenario, overrides);
    if (scenario.sweep.runs() > 1 && !options.quiet)
        std::cerr << "trustsim: note: this scenario has a sweep of " << scenario.sweep.runs()
                  << " runs; `run` runs its base scenario once (use `trustsim sweep` for the sweep)\n";
    const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
    if (const int cores = omp_get_num_procs(); threads > cores && !options.quiet)
        std::cerr << "trustsim: note: --threads " << threads << " on " << cores << " cores; threads waiting for a core slow the run down "
                  << "(results are not affected). For the fastest run use --threads " << cores << ".\n";
    io::check_fits_in_memory(scenario, threads);
    if (options.output.empty() && !std::filesystem::is_regular_file(options.scenario))  // a pipe's name (/dev/fd/63) names nothing
        throw UserError({options.scenario, 0, 0, ""}, "a scenario read from a pipe has no name for the output", "give the output's name with -o, e.g. -o run.h5");
    const std::string output =
        options.output.empty() ? std::filesystem::path(options.scenario).stem().string() + ".h5" : options.output;

    if (std::error_code error; std::filesystem::equivalent(output, options.scenario, error))
        throw UserError({output, 0, 0, ""}, "the output is the scenario file itself", "choose another name with -o, e.g. -o run.h5");
    io::Hdf5Recorder file(io::OutputOptions{output, options.force, scenario.resolved_yaml,
                                            static_cast<std::uint64_t>(scenario.spec.simulation.seed)});
    SummaryRecorder summary;
    RecorderList recorders({&file, &summary});
    ProgressLine progress("step", !options.quiet);
    Simulation simulation(scenario.spec, Context{threads, [&](std::int64_t done, std::int64_t total) {
                                                     progress.update(done, total);
                                                     return !stop_requested();
                                                 }});
    if (!simulation.run(recorders)) {
        progress.clear();
        return stopped(" at step " + std::to_string(simulation.current_step()), nothing_written(output));
    }
    file.commit();
    if (!options.quiet) {
        std::cout << "wrote " << output << ": " << counted(scenario.spec.simulation.steps, "step") << ", "
                  << counted(scenario.spec.customers.count, "customer") << ", " << counted(std::ssize(scenario.spec.firms), "firm") << ", seed "
                  << scenario.spec.simulation.seed << ", " << counted(threads, "thread") << "\n\n"
                  << summary.table();
    }
    return ok;
}

// The sweep's run table: every run's point, replicate, seed and parameter values (long tables elided).
void print_run_table(const io::LoadedScenario& scenario) {
    const auto& sweep = scenario.sweep;
    std::cout << "sweep: " << sweep.method << ", " << counted(std::ssize(sweep.points), "point") << " x " << counted(sweep.replicates, "replicate")
              << " = " << counted(sweep.runs(), "run") << "\nrun\tpoint\treplicate\tseed";
    for (const auto& p : sweep.parameters) std::cout << "\t" << p;
    std::cout << "\n";
    constexpr std::int64_t shown = 20;
    for (std::int64_t run = 0; run < sweep.runs(); ++run) {
        if (run == shown && sweep.runs() > 2 * shown) {
            std::cout << "...\t(" << sweep.runs() - 2 * shown << " more runs)\n";
            run = sweep.runs() - shown;
        }
        const auto r = io::sweep_run(scenario, run);
        std::cout << r.run << "\t" << r.point << "\t" << r.replicate << "\t" << r.seed;
        for (const auto& value : sweep.points[static_cast<std::size_t>(r.point)]) std::cout << "\t" << value;
        std::cout << "\n";
    }
}

struct SweepCommand {
    sweep::SweepOptions options;
    std::string shard;  // "i/K"
    bool mpi = false, slurm = false;
    sweep::SlurmOptions slurm_options;
};

int run_sweep(SweepCommand command, const std::string& binary) {
    auto& options = command.options;
    stop_on_signals();
    if (!command.shard.empty()) {
        if (!parse_shard(command.shard, options.shard_index, options.shard_count) || options.shard_count < 1 || options.shard_index < 0 ||
            options.shard_index >= options.shard_count)
            throw UserError({"--shard " + command.shard, 0, 0, ""}, "a shard is i/K with 0 <= i < K", "e.g. --shard 0/10 ... --shard 9/10");
    }
    if (command.slurm) {
        std::cout << sweep::write_slurm(options, command.slurm_options, binary);
        return ok;
    }
    if (command.mpi) {
#ifdef TRUSTSIM_WITH_MPI
        return cli::mpi_sweep(options, stop_requested);
#else
        throw UserError({"--mpi", 0, 0, ""}, "this trustsim was built without MPI", "install libopenmpi-dev (scripts/setup.sh does) and rebuild");
#endif
    }
    const auto scenario = sweep::prepare_sweep(options);
    const auto pending = sweep::pending_runs(scenario, options);
    if (const int cores = omp_get_num_procs(); !pending.empty() && std::int64_t{options.jobs} * options.threads_per_run > cores)
        std::cerr << "trustsim: note: --jobs " << options.jobs << " x --threads-per-run " << options.threads_per_run << " threads on " << cores
                  << " cores; threads waiting for a core slow every run down (results are not affected). For the fastest sweep use "
                     "--jobs " << cores << " --threads-per-run 1.\n";
    std::size_t taken = 0;  // execute_runs serialises calls to next
    const sweep::NextRun next = [&]() -> std::optional<std::int64_t> {
        if (taken >= pending.size()) return std::nullopt;
        return pending[taken++];
    };
    const auto writer = options.shard_count > 1 ? "shard-" + std::to_string(options.shard_index) + "-of-" + std::to_string(options.shard_count) : "local";
    const bool finished = sweep::execute_runs(scenario, options, writer, static_cast<std::int64_t>(pending.size()), next, stop_requested);
    const auto done = sweep::write_manifest(scenario, options.outdir);
    // A task of the job array that `trustsim sweep --slurm` wrote (its script sets the variable): its command
    // is the script's, not the user's.
    const bool slurm_task = std::getenv("TRUSTSIM_SLURM_TASK") != nullptr;
    if (!finished) return stopped("", sweep::sweep_outcome(done, scenario.sweep.runs(), options.outdir, true, slurm_task));
    if (!options.quiet) std::cout << sweep::sweep_outcome(done, scenario.sweep.runs(), options.outdir, false, slurm_task) << "\n";
    return ok;
}

struct LabCommand {
    std::string game;
    std::string scenario;  // empty: the default dispositions
    std::int64_t n = 100000;
    std::uint64_t seed = 1;
    bool json = false;
};

// The lab games against their published targets (docs/model.md, "Calibration").
int run_lab(const LabCommand& command) {
    const ModelSpec spec = command.scenario.empty() ? ModelSpec{} : io::load_scenario_file(command.scenario).spec;
    std::ostringstream out;
    out.precision(6);
    if (command.game == "investment") {
        const auto r = lab::investment_game(spec, command.n, command.seed);
        if (command.json)
            out << "{\"game\": \"investment\", \"n\": " << r.pairs << ", \"mean_sent_fraction\": " << r.sent_fraction.mean
                << ", \"se_sent_fraction\": " << r.sent_fraction.standard_error << ", \"mean_returned_fraction\": " << r.returned_fraction.mean
                << ", \"se_returned_fraction\": " << r.returned_fraction.standard_error << ", \"return_slope\": " << r.return_slope.mean
                << ", \"se_return_slope\": " << r.return_slope.standard_error << "}\n";
        else
            out << "investment game (Berg, Dickhaut & McCabe 1995; endowment 10, multiplier 3), " << r.pairs << " pairs\n"
                << "  mean fraction sent:                 " << r.sent_fraction.mean << "   (target 0.50 +- 0.05, Johnson & Mislin 2011)\n"
                << "  mean fraction returned of received: " << r.returned_fraction.mean << "   (target 0.37 +- 0.05)\n"
                << "  slope of returned on sent fraction: " << r.return_slope.mean << "   (target > 0: returns rise with the amount sent)\n";
    } else {
        const auto r = lab::control_game(spec, command.n, command.seed);
        if (command.json)
            out << "{\"game\": \"control\", \"n\": " << r.agents << ", \"mean_choice_trusted\": " << r.choice_trusted.mean
                << ", \"se_choice_trusted\": " << r.choice_trusted.standard_error << ", \"mean_choice_controlled\": " << r.choice_controlled.mean
                << ", \"se_choice_controlled\": " << r.choice_controlled.standard_error << ", \"share_negative\": " << r.share_negative
                << ", \"share_neutral\": " << r.share_neutral << ", \"share_positive\": " << r.share_positive << "}\n";
        else
            out << "hidden costs of control (Falk & Kosfeld 2006; endowment 120, control forces x >= 10), " << r.agents << " agents\n"
                << "  mean choice when trusted:    " << r.choice_trusted.mean << "   (target 22.99 +- 1.4)\n"
                << "  mean choice when controlled: " << r.choice_controlled.mean << "   (target 17.53 +- 1.4)\n"
                << "  respond to control negatively / neutrally / positively: " << r.share_negative << " / " << r.share_neutral << " / "
                << r.share_positive << "   (target 0.57 / 0.18 / 0.25 +- 0.10)\n";
    }
    std::cout << out.str();
    return ok;
}

int validate(const std::string& path, const std::vector<std::string>& overrides, bool resolved) {
    const auto scenario = io::load_scenario_file(path, overrides);
    if (resolved) {
        std::cout << scenario.resolved_yaml << scenario.sweep.resolved_yaml;  // the sweep's section, if it has one
        return ok;
    }
    const auto& spec = scenario.spec;
    std::cout << path << ": valid (" << counted(spec.simulation.steps, "step") << ", " << counted(spec.customers.count, "customer") << ", "
              << counted(std::ssize(spec.firms), "firm") << ", " << counted(std::ssize(spec.events), "event") << ")\n";
    const int threads = omp_get_max_threads();
    std::cout << "memory: `trustsim run` needs about " << io::memory_text(Simulation::estimated_memory(spec).bytes(threads)) << " at its peak with "
              << counted(threads, "thread");
    const bool swept = scenario.sweep.method != "single" || scenario.sweep.replicates > 1;
    if (const auto largest = io::largest_sweep_point(scenario, 1); swept && largest >= 0)  // a sweep's runs take no snapshots
        std::cout << "; a run of the sweep, about " << io::memory_text(scenario.sweep.point_memory[static_cast<std::size_t>(largest)].bytes(1))
                  << " with 1 thread (point " << largest << ", the largest)";
    std::cout << "\n";
    try {
        io::check_fits_in_memory(scenario, threads);  // as `trustsim run` would run it here
    } catch (const UserError& e) {  // valid, but not for this machine: say so without failing (it may be meant for a cluster node)
        std::cout << "note: " << e.problem() << "\n";
    }
    if (swept) print_run_table(scenario);
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
    run_cmd->add_option("-o,--output", run_options.output, "Output file (default: <scenario name>.h5 here)")
        ->check(non_empty_output("-o run.h5, or leave -o out for <scenario name>.h5"));
    run_cmd->add_option("--set", run_options.overrides, "Override a scenario value: key.path=value (repeatable)");
    // Ranges with readable bounds (CLI11's NonNegativeNumber prints the largest double in full).
    const auto threads_range = CLI::Range(0, 4096), positive_count = CLI::Range(1, 4096);
    const auto seed_range = CLI::Range(std::int64_t{0}, std::int64_t{9007199254740992});  // as simulation.seed: exact in a double
    run_cmd->add_option("--seed", run_options.seed, "Root seed (overrides simulation.seed)")->check(seed_range);
    run_cmd->add_option("--threads", run_options.threads, "Threads (default: all cores); results do not depend on it")->check(threads_range);
    run_cmd->add_flag("--force", run_options.force, "Overwrite an existing output file");
    run_cmd->add_flag("-q,--quiet", run_options.quiet, "No progress line and no summary");

    std::string validate_path;
    std::vector<std::string> validate_overrides;
    bool resolved = false;
    auto* validate_cmd = app.add_subcommand("validate", "Check a scenario; print it with every default filled in (--resolved)");
    validate_cmd->add_option("scenario", validate_path, "Scenario file (YAML)")->required();
    validate_cmd->add_option("--set", validate_overrides, "Override a scenario value: key.path=value (repeatable)");
    validate_cmd->add_flag("--resolved", resolved, "Print the resolved scenario");

    LabCommand lab_command;
    auto* lab_cmd = app.add_subcommand("lab", "Play a lab game with the model's agents and compare with the published results");
    lab_cmd->add_option("game", lab_command.game, "investment (Berg et al. 1995) or control (Falk & Kosfeld 2006)")
        ->required()
        ->check(CLI::IsMember({"investment", "control"}));
    lab_cmd->add_option("--n", lab_command.n, "Pairs or agents (default 100000)")->check(CLI::Range(std::int64_t{2}, std::int64_t{100000000}));
    lab_cmd->add_option("--seed", lab_command.seed, "Seed (default 1)")->check(seed_range);
    lab_cmd->add_option("--scenario", lab_command.scenario, "Take the dispositions and behaviour from this scenario (default: the defaults)");
    lab_cmd->add_flag("--json", lab_command.json, "Print one JSON object");

    auto* keys_cmd = app.add_subcommand("keys", "Print every scenario key with its default, range, unit and meaning (Markdown)");

    SweepCommand sweep_command;
    auto* sweep_cmd = app.add_subcommand("sweep", "Run a scenario's sweep into a directory (resumable: run it again to finish)");
    sweep_cmd->add_option("scenario", sweep_command.options.scenario, "Scenario file with a sweep: section (YAML)")->required();
    sweep_cmd->add_option("-o,--output", sweep_command.options.outdir, "Sweep directory")->required()->check(non_empty_output("-o sweep-dir"));
    sweep_cmd->add_option("--set", sweep_command.options.overrides, "Override a scenario value: key.path=value (repeatable)");
    auto* jobs = sweep_cmd->add_option("--jobs", sweep_command.options.jobs, "Runs at once (default 1; not with --mpi or --slurm)")->check(positive_count);
    sweep_cmd->add_option("--threads-per-run", sweep_command.options.threads_per_run, "Threads of each run (default 1)")->check(positive_count);
    auto* shard = sweep_cmd->add_option("--shard", sweep_command.shard, "Run only shard i of K (i/K): the runs with run % K == i (not with --slurm)");
    // What the chosen way of running decides itself is refused rather than ignored: an MPI rank runs one run at a
    // time, and the SLURM job array gives each task its shard.
    auto* mpi_flag = sweep_cmd->add_flag("--mpi", sweep_command.mpi, "Spread the runs over MPI ranks (start with mpirun)")->excludes(jobs);
    auto* slurm_flag = sweep_cmd->add_flag("--slurm", sweep_command.slurm, "Write a SLURM job array and a merge job instead of running")
                           ->excludes(jobs)
                           ->excludes(shard)
                           ->excludes(mpi_flag);
    // The SLURM options mean nothing without --slurm: refused rather than ignored by a sweep that then runs here.
    sweep_cmd->add_option("--tasks", sweep_command.slurm_options.tasks, "SLURM array tasks (default: one per run, at most 1000)")
        ->check(CLI::Range(1, 1'000'000))
        ->needs(slurm_flag);
    sweep_cmd->add_option("--partition", sweep_command.slurm_options.partition, "SLURM partition")->needs(slurm_flag);
    sweep_cmd->add_option("--time", sweep_command.slurm_options.time, "SLURM time limit per task (default 01:00:00)")
        ->check(slurm_format(R"(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)", "time",
                             "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, e.g. 02:00:00"))
        ->needs(slurm_flag);
    sweep_cmd->add_option("--mem", sweep_command.slurm_options.memory,
                          "SLURM memory per task (default: the largest run's estimate, with headroom)")
        ->check(slurm_format(R"(\d+[KMGTkmgt]?)", "memory size", "a whole number of megabytes, or with K, M, G or T, e.g. 4G (0: all of a node's)"))
        ->needs(slurm_flag);
    sweep_cmd->add_flag("--submit", sweep_command.slurm_options.submit, "Submit the SLURM jobs (with --slurm)")->needs(slurm_flag);
    sweep_cmd->add_flag("-q,--quiet", sweep_command.options.quiet, "No progress line");

    std::string merge_dir, merge_output;
    bool merge_force = false;
    auto* merge_cmd = app.add_subcommand("merge", "Merge a finished sweep into one HDF5 file with per-point statistics");
    merge_cmd->add_option("directory", merge_dir, "Sweep directory")->required();
    merge_cmd->add_option("-o,--output", merge_output, "Output file")->required()->check(non_empty_output("-o sweep.h5"));
    merge_cmd->add_flag("--force", merge_force, "Overwrite an existing output file");

    std::string info_path;
    auto* info_cmd = app.add_subcommand("info", "Describe a TrustSim output file, or how far a sweep directory has got");
    info_cmd->add_option("file", info_path, "Output file (HDF5), or a sweep directory")->required();

    // CLI11 would only say that a subcommand is required.
    std::string commands;
    bool known_command = false;
    for (const auto* command : std::as_const(app).get_subcommands([](const CLI::App*) { return true; })) {
        commands += (commands.empty() ? "" : ", ") + command->get_name();
        known_command |= argc > 1 && command->get_name() == argv[1];
    }
    if (argc > 1 && argv[1][0] != '-' && !known_command) {
        std::cerr << "trustsim: unknown command '" << argv[1] << "'. Fix: use one of " << commands << " (trustsim --help)\n";
        return usage_error;
    }
    // CLI11's messages, in the form of every other message: "trustsim: problem. Fix: ...".
    app.failure_message([](const CLI::App* main, const CLI::Error& e) {
        const auto used = main->get_subcommands();
        const std::string help = "trustsim " + (used.empty() ? std::string() : used.front()->get_name() + " ") + "--help";
        std::string problem = e.what();
        std::replace(problem.begin(), problem.end(), '\n', ' ');
        if (problem.find(". Fix: ") != std::string::npos) return "trustsim: " + problem + "\n";  // our validators' own advice
        // An option it does not have (an extra argument "--steps"), perhaps meant as a scenario value.
        const bool unexpected = dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr && problem.find(" -", problem.find(':')) != std::string::npos;
        return "trustsim: " + problem + ". Fix: " + help + " lists the options" +
               (unexpected ? "; a scenario's values are changed with --set key=value, e.g. --set simulation.steps=10" : "") + "\n";
    });
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? ok : usage_error;
    }

    try {
        if (*run_cmd) return run(run_options);
        if (*validate_cmd) return validate(validate_path, validate_overrides, resolved);
        if (*sweep_cmd) return run_sweep(sweep_command, "/proc/self/exe");  // its bytes, even if rebuilt meanwhile
        if (*merge_cmd) {
            stop_on_signals();
            const auto merged = sweep::merge(merge_dir, merge_output, merge_force, stop_requested);
            if (!merged) return stopped("", nothing_written(merge_output));
            std::cout << "wrote " << merge_output << ": " << counted(merged->points * merged->replicates, "run") << " of " << merge_dir << " ("
                      << counted(merged->points, "point") << " x " << counted(merged->replicates, "replicate") << ", " << counted(merged->steps, "step")
                      << "), with each point's mean, standard deviation and 95% interval\n";
            return ok;
        }
        if (*lab_cmd) return run_lab(lab_command);
        if (*keys_cmd) {
            std::cout << trustsim::io::scenario_reference();
            return ok;
        }
        if (*info_cmd) {
            std::cout << (std::filesystem::is_directory(info_path) ? sweep::describe_sweep(info_path) : trustsim::io::describe_output(info_path));
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
