// The `trustsim` command as a user meets it: exit codes, messages, refusal to overwrite, interruption.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "support.hpp"

namespace fs = std::filesystem;
using trustsim::testing::TempDir;

namespace {

struct Result {
    int status;
    std::string output;  // stdout and stderr together
};

std::string binary() {
    const char* path = std::getenv("TRUSTSIM_BINARY");
    REQUIRE(path != nullptr);
    return path;
}

std::string source_dir() {
    const char* path = std::getenv("TRUSTSIM_SOURCE_DIR");
    REQUIRE(path != nullptr);
    return path;
}

// Runs trustsim with the arguments, in the directory `cwd` if one is given.
Result run(const std::string& arguments, const std::string& cwd = "") {
    const auto command = (cwd.empty() ? "" : "cd '" + cwd + "' && ") + binary() + " " + arguments + " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string output;
    char buffer[4096];
    while (const auto n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    const int status = ::pclose(pipe);
    INFO(command << "\n" << output);
    REQUIRE(WIFEXITED(status));
    return {WEXITSTATUS(status), output};
}

const std::string small = " --set customers.count=500 --set simulation.steps=20 -q";

std::string contents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A finished sweep of four short runs in dir/sweep (its scenario in dir/sweep.yaml).
std::string small_sweep(const TempDir& dir) {
    std::ofstream(dir / "sweep.yaml") << "simulation: {steps: 10, seed: 3}\ncustomers: {count: 200}\nfirms: [{name: A}, {name: B}]\n"
                                         "sweep:\n  replicates: 2\n  grid:\n    firms[0].trust_first: [0.1, 0.5]\n";
    const auto r = run("sweep " + (dir / "sweep.yaml") + " -o " + (dir / "sweep") + " -q");
    REQUIRE(r.status == 0);
    return dir / "sweep";
}

// Starts a run that takes far longer than the test; the child's signals start from their defaults (unlike
// a background job's, whose SIGINT may be ignored), except SIGHUP if ignore_hangup, as under nohup.
pid_t start_long_run(const std::string& output, bool ignore_hangup = false) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        for (const int signal : {SIGINT, SIGTERM, SIGHUP}) ::signal(signal, SIG_DFL);
        if (ignore_hangup) ::signal(SIGHUP, SIG_IGN);
        const auto scenario = source_dir() + "/scenarios/baseline.yaml";
        ::execl(binary().c_str(), "trustsim", "run", scenario.c_str(), "-o", output.c_str(), "-q", "--set", "simulation.steps=1000000",
                static_cast<char*>(nullptr));
        std::_Exit(127);
    }
    return child;
}

int exit_status_of(pid_t child) {
    int status = 0;
    ::waitpid(child, &status, 0);
    INFO("wait status " << status);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("run writes a result that info describes, and never overwrites it unasked") {
    TempDir dir;
    const auto out = dir / "baseline.h5";
    const auto scenario = source_dir() + "/scenarios/baseline.yaml";

    auto r = run("run " + scenario + " -o " + out + small);
    CHECK(r.status == 0);
    REQUIRE(fs::exists(out));

    r = run("info " + out);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("trustsim-run"));
    CHECK_THAT(r.output, Catch::Contains("/timeseries/trust"));
    CHECK_THAT(r.output, Catch::Contains("Alpha"));

    const auto before = fs::last_write_time(out);
    r = run("run " + scenario + " -o " + out + small);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("already exists"));
    CHECK_THAT(r.output, Catch::Contains("--force"));
    CHECK(fs::last_write_time(out) == before);

    r = run("run " + scenario + " -o " + out + small + " --force");
    CHECK(r.status == 0);
}

TEST_CASE("run prints a summary per firm") {
    TempDir dir;
    const auto r = run("run " + source_dir() + "/scenarios/tight_controls.yaml -o " + (dir / "t.h5") +
                       " --set customers.count=500 --set simulation.steps=20");
    CHECK(r.status == 0);
    for (const auto* expected : {"Tight", "Default", "trust", "share", "NPS", "profit"}) CHECK_THAT(r.output, Catch::Contains(expected));
}

TEST_CASE("validate reports problems with place and fix, and prints the resolved scenario") {
    TempDir dir;
    std::ofstream(dir / "bad.yaml") << "firms:\n  - name: A\n    control_customers: 1.5\n";
    auto r = run("validate " + (dir / "bad.yaml"));
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("bad.yaml:3:24: firms[0].control_customers: value 1.5 is out of range"));
    CHECK_THAT(r.output, Catch::Contains("between 0 and 1"));

    r = run("validate " + source_dir() + "/scenarios/breach.yaml --resolved");
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("trust_lambda: 1"));
    CHECK_THAT(r.output, Catch::Contains("type: breach"));

    r = run("validate " + source_dir() + "/scenarios/breach.yaml --set firms[0].price=-1");
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("--set firms[0].price"));

    r = run("run " + (dir / "bad.yaml") + " -o " + (dir / "bad.h5"));
    CHECK(r.status == 1);
    CHECK_FALSE(fs::exists(dir / "bad.h5"));
}

TEST_CASE("usage errors and missing files exit non-zero with a message") {
    CHECK(run("").status == 2);
    CHECK(run("run").status == 2);
    const auto unknown = run("frobnicate x.yaml");
    CHECK(unknown.status == 2);
    CHECK_THAT(unknown.output, Catch::Contains("unknown command 'frobnicate'") && Catch::Contains("run, validate"));
    CHECK_THAT(run("run x.yaml --threads -1").output, Catch::StartsWith("trustsim: --threads: ") && Catch::Contains("not in range 0 to 4096") &&
                                                          Catch::Contains("Fix: trustsim run --help lists the options"));
    for (const auto* seed : {"-1", "99999999999999999999999"})  // was taken as 2^64 - 1, or wrapped around
        CHECK_THAT(run(std::string("lab investment --n 10 --seed ") + seed).output, Catch::Contains("not in range 0 to 9007199254740992"));
    const auto option = run("run x.yaml --steps 10");  // an option it does not have: how values are changed
    CHECK(option.status == 2);
    CHECK_THAT(option.output, Catch::StartsWith("trustsim: ") && Catch::Contains("--set simulation.steps=10"));
    CHECK_THAT(run("sweep x.yaml -o d --slurm --time 2h").output, Catch::Contains("is not a SLURM time. Fix: minutes") && !Catch::Contains("--help"));
    const auto r = run("run /nonexistent/scenario.yaml");
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("/nonexistent/scenario.yaml"));
    CHECK(run("info /nonexistent/out.h5").status == 1);
    const auto directory = run("info " + source_dir() + "/scenarios");
    CHECK(directory.status == 1);
    CHECK_THAT(directory.output, Catch::Contains("not a sweep directory"));
    CHECK_THAT(run("merge /nonexistent/sweep -o z.h5").output, Catch::Contains("/nonexistent/sweep: no such file or directory"));
    CHECK_THAT(run("merge " + source_dir() + "/scenarios/baseline.yaml -o z.h5").output, Catch::Contains("a file, not a sweep directory"));
}

TEST_CASE("--seed and --set simulation.seed together are refused; a tiny well-mixed market runs") {
    TempDir dir;
    const auto scenario = source_dir() + "/scenarios/baseline.yaml";
    auto r = run("run " + scenario + " -o " + (dir / "s.h5") + small + " --seed 5 --set simulation.seed=6");
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("both give the seed"));
    CHECK_FALSE(fs::exists(dir / "s.h5"));
    CHECK_THAT(run("run " + scenario + " -o " + (dir / "s.h5") + small + " --seed 5 --set 'simulation={steps: 3, seed: 2}'").output,
               Catch::Contains("both give the seed"));
    CHECK_THAT(run("run " + scenario + " -o " + (dir / "s.h5") + " --seed 5 --set 'simulation={\"seed\": 2}'").output, Catch::Contains("both give the seed"));
    CHECK(run("run " + scenario + " -q -o " + (dir / "s.h5") + " --set customers.count=500 --seed 5 --set 'simulation={steps: 3}'").status == 0);
    // Five customers, ten contacts drawn from the other four each step (with replacement).
    std::ofstream(dir / "tiny.yaml") << "firms: [{name: A}, {name: B}]\ncustomers: {count: 5}\nsimulation: {steps: 5}\n";
    r = run("run " + (dir / "tiny.yaml") + " -q -o " + (dir / "tiny.h5"));
    CHECK(r.status == 0);
}

TEST_CASE("a run interrupted by Ctrl-C or a hangup leaves no file under the output name") {
    const int signal = GENERATE(SIGINT, SIGHUP);
    INFO("signal " << signal);
    TempDir dir;
    const pid_t child = start_long_run(dir / "long.h5");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ::kill(child, signal);
    CHECK(exit_status_of(child) == 130);
    for (const auto& entry : fs::directory_iterator(dir.path)) FAIL("left behind: " << entry.path());
}

TEST_CASE("under nohup a hangup does not stop a run") {
    TempDir dir;
    const pid_t child = start_long_run(dir / "long.h5", true);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    ::kill(child, SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    int status = 0;
    CHECK(::waitpid(child, &status, WNOHANG) == 0);  // still running
    ::kill(child, SIGINT);
    CHECK(exit_status_of(child) == 130);
}

TEST_CASE("merge checks its output before merging, as run does") {
    TempDir dir;
    const auto sweep = small_sweep(dir);
    std::ofstream(dir / "notes.txt") << "not a directory\n";
    for (const auto& [output, problem] : {std::pair{dir / "missing/m.h5", "the output directory " + (dir / "missing") + " does not exist"},
                                          std::pair{dir / "notes.txt/m.h5", (dir / "notes.txt") + " is a file, not a directory"}}) {
        const auto r = run("merge " + sweep + " -o " + output);
        CHECK(r.status == 1);
        CHECK_THAT(r.output, Catch::Contains(problem) && Catch::Contains("Fix:"));
    }
    CHECK_THAT(run("run " + (dir / "sweep.yaml") + " -o " + (dir / "notes.txt/r.h5") + small).output, Catch::Contains("is a file, not a directory"));
    if (::geteuid() != 0) {  // root writes into a directory whatever its permissions
        fs::create_directory(dir / "locked");
        fs::permissions(dir / "locked", fs::perms::owner_read | fs::perms::owner_exec);
        const auto r = run("merge " + sweep + " -o " + (dir / "locked/m.h5"));
        CHECK(r.status == 1);
        CHECK_THAT(r.output, Catch::Contains("is not writable"));
        fs::permissions(dir / "locked", fs::perms::owner_all);
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir.path))
        CHECK_FALSE(entry.path().filename().string().starts_with("m.h5"));
}

TEST_CASE("info on a sweep directory says how far it has got") {
    TempDir dir;
    const auto sweep = small_sweep(dir);
    auto r = run("info " + sweep);
    CHECK(r.status == 0);
    CHECK(r.output == sweep + ": a sweep (grid) of 2 points x 2 replicates = 4 runs\nfinished: 4 runs (local 4)\nto run: 0 runs\n"
                              "every run is finished: trustsim merge " + sweep + " -o " + sweep + ".h5\n");
    fs::remove(sweep + "/results/local.tsr");  // as if nothing had run
    r = run("info " + sweep);
    CHECK_THAT(r.output, Catch::Contains("finished: 0 runs\nto run: 4 runs (2 points have none finished yet)"));
    CHECK(run("info " + dir.path.string()).status == 1);  // not a sweep
}

TEST_CASE("merge never writes over the files of the sweep it merges") {
    TempDir dir;
    const auto sweep = small_sweep(dir);
    for (const auto* own : {"results/local.tsr", "scenario.yaml", "manifest.csv", "results/new.h5"}) {
        INFO(own);
        const auto path = sweep + "/" + own;
        const auto before = contents(path);
        const auto r = run("merge " + sweep + " -o " + path + " --force");
        CHECK(r.status == 1);
        CHECK_THAT(r.output, Catch::Contains("the files of the sweep being merged") && Catch::Contains("outside"));
        CHECK(contents(path) == before);
    }
    const auto beside = run("merge " + sweep + " -o " + sweep + "/sweep.h5");  // a new name beside them is free, as SLURM's merge job uses
    CHECK(beside.status == 0);
    CHECK(beside.output == "wrote " + sweep + "/sweep.h5: 4 runs of " + sweep +
                               " (2 points x 2 replicates, 10 steps), with each point's mean, standard deviation and 95% interval\n");
}

TEST_CASE("sweep refuses the SLURM options without --slurm, options that --mpi or --slurm decide, and a shard that is not i/K") {
    TempDir dir;
    const auto scenario = source_dir() + "/scenarios/crossover.yaml";
    for (const auto* option : {"--submit", "--tasks 4", "--partition short", "--time 00:10:00"}) {
        const auto r = run("sweep " + scenario + " -o " + (dir / "out") + " -q " + option);
        CHECK(r.status == 2);
        CHECK_THAT(r.output, Catch::Contains("requires --slurm"));
    }
    // What --mpi and --slurm decide themselves: refused, not ignored.
    for (const auto* options : {"--mpi --jobs 2", "--slurm --jobs 2", "--slurm --shard 0/2", "--slurm --mpi"}) {
        INFO(options);
        const auto r = run("sweep " + scenario + " -o " + (dir / "out") + " -q " + options);
        CHECK(r.status == 2);
        CHECK_THAT(r.output, Catch::Contains("excludes"));
    }
    const auto bad_time = run("sweep " + scenario + " -o " + (dir / "out") + " -q --slurm --time 2h");
    CHECK(bad_time.status == 2);
    CHECK_THAT(bad_time.output, Catch::Contains("'2h' is not a SLURM time"));
    for (const auto* shard : {"1/3/4", "1/3x", "x/3", "1", "3/3"}) {
        const auto r = run("sweep " + scenario + " -o " + (dir / "out") + " -q --shard " + shard);
        CHECK(r.status == 1);
        CHECK_THAT(r.output, Catch::Contains("a shard is i/K"));
    }
    CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("an empty output path is a usage error for every command that writes") {
    TempDir dir;
    const auto sweep = small_sweep(dir);
    fs::create_directory(dir / "here");
    for (const auto& arguments : {"run " + (dir / "sweep.yaml") + small, "sweep " + (dir / "sweep.yaml") + " -q", "merge " + sweep}) {
        const auto r = run(arguments + " -o ''", dir / "here");
        CHECK(r.status == 2);
        CHECK_THAT(r.output, Catch::Contains("empty output path"));
    }
    for (const auto& entry : fs::recursive_directory_iterator(dir.path)) CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
    CHECK(fs::is_empty(dir / "here"));
}

TEST_CASE("the key reference in docs/scenario-format.md is what `trustsim keys` prints") {
    const auto r = run("keys");
    REQUIRE(r.status == 0);
    std::ifstream doc(source_dir() + "/docs/scenario-format.md");
    const std::string text((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
    const auto begin = text.find("<!-- keys:begin -->\n");
    const auto end = text.find("<!-- keys:end -->");
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    const auto documented = text.substr(begin + 20, end - begin - 20);
    INFO("regenerate the reference with: trustsim keys");
    CHECK(documented == r.output);
}

TEST_CASE("an output named like a scenario, or the scenario itself, is refused even with --force; a result is not a scenario") {
    TempDir dir;
    fs::copy_file(source_dir() + "/scenarios/baseline.yaml", dir / "s.txt");
    auto r = run("run " + (dir / "s.txt") + " -o " + (dir / "s.txt") + " --force" + small);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("the output is the scenario file itself"));
    CHECK(contents(dir / "s.txt") == contents(source_dir() + "/scenarios/baseline.yaml"));
    r = run("run " + (dir / "s.txt") + " -o " + (dir / "out.yaml") + " --force" + small);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("named like a scenario (.yaml)") && Catch::Contains("name it " + (dir / "out.h5")));
    CHECK(run("run " + (dir / "s.txt") + " -o " + (dir / "out.h5") + small).status == 0);
    r = run("run " + (dir / "out.h5") + " -o " + (dir / "again.h5"));
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("this is an HDF5 file (a result?), not a scenario") && Catch::Contains("trustsim info"));
    CHECK_THAT(run("validate " + (dir / "s.txt") + " --set 'description=50% off: now'").output, Catch::Contains("in quotes, e.g. \"50% off: now\""));
}

TEST_CASE("validate --resolved keeps a sweep's section: the resolved text validates to the same run table") {
    TempDir dir;
    const auto scenario = source_dir() + "/scenarios/crossover.yaml";
    const auto resolved = run("validate " + scenario + " --resolved");
    REQUIRE(resolved.status == 0);
    CHECK_THAT(resolved.output, Catch::Contains("\nsweep:\n"));
    std::ofstream(dir / "resolved.yaml") << resolved.output;
    const auto table = [](const std::string& validated) { return validated.substr(validated.find("\nsweep: ")); };
    CHECK(table(run("validate " + (dir / "resolved.yaml")).output) == table(run("validate " + scenario).output));
}
