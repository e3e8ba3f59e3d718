// Sweeps: the run table a scenario defines, the crash-safe run log, execution, resume and its refusal.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "support.hpp"
#include "trustsim/sweep.hpp"

using namespace trustsim;
namespace fs = std::filesystem;
using trustsim::testing::TempDir;

namespace {

const std::string base = "simulation: {steps: 6, seed: 11}\ncustomers: {count: 200}\nfirms:\n  - name: A\n  - name: B\n";

io::LoadedScenario load(const std::string& sweep) { return io::load_scenario_text(base + sweep, "sweep.yaml"); }

// The message a sweep section is refused with (fails the test if it loads).
std::string problem(const std::string& sweep) {
    try {
        load(sweep);
    } catch (const UserError& e) {
        return io::format_error(e);
    }
    FAIL("accepted: " << sweep);
    return {};
}

sweep::SweepOptions options_for(const fs::path& dir, const std::string& sweep_text) {
    std::ofstream(dir / "s.yaml") << base << sweep_text;
    sweep::SweepOptions options;
    options.scenario = (dir / "s.yaml").string();
    options.outdir = (dir / "out").string();
    options.quiet = true;
    return options;
}

// Runs every pending run of the options' shard.
bool run_all(const sweep::SweepOptions& options, const std::string& writer = "local") {
    const auto scenario = sweep::prepare_sweep(options);
    const auto pending = sweep::pending_runs(scenario, options);
    std::size_t i = 0;
    return sweep::execute_runs(scenario, options, writer, static_cast<std::int64_t>(pending.size()),
                               [&]() -> std::optional<std::int64_t> { return i < pending.size() ? std::optional(pending[i++]) : std::nullopt; },
                               [] { return false; });
}

void flip_byte(const std::string& path, std::uintmax_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    const auto byte = static_cast<char>(f.get() ^ 0x7f);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(byte);
}

// What `f` returns, and what it wrote to std::cerr.
template <class F>
auto with_stderr(F f) {
    std::ostringstream captured;
    auto* const saved = std::cerr.rdbuf(captured.rdbuf());
    struct Restore {
        std::streambuf* saved;
        ~Restore() { std::cerr.rdbuf(saved); }
    } restore{saved};
    auto result = f();
    return std::pair(result, captured.str());
}

}  // namespace

TEST_CASE("a grid is the cartesian product, last parameter fastest, times replicates") {
    const auto s = load("sweep:\n  replicates: 3\n  grid:\n    firms[0].control_customers: [0.1, 0.5]\n    customers.opportunist_share: [0, 0.2, 0.4]\n");
    CHECK(s.sweep.method == "grid");
    REQUIRE(s.sweep.points.size() == 6);
    CHECK(s.sweep.runs() == 18);
    CHECK(s.sweep.points[1] == std::vector<std::string>{"0.1", "0.2"});
    CHECK(s.sweep.points[3] == std::vector<std::string>{"0.5", "0"});
    const auto r = io::sweep_run(s, 7);
    CHECK(r.point == 2);
    CHECK(r.replicate == 1);
    // Common random numbers: a replicate has the same seed at every point; replicates differ.
    CHECK(io::sweep_run(s, 1).seed == io::sweep_run(s, 16).seed);
    CHECK(io::sweep_run(s, 0).seed != io::sweep_run(s, 1).seed);
    const auto run = io::load_sweep_run(s, 7);
    CHECK(run.spec.firms[0].control_customers == 0.1);
    CHECK(run.spec.customers.opportunist_share == 0.4);
    CHECK(static_cast<std::uint64_t>(run.spec.simulation.seed) == r.seed);
}

TEST_CASE("explicit points, random and Latin hypercube samples") {
    auto s = load("sweep:\n  points:\n    - {'firms[1].trust_first': 0.9, behaviour.trust_lambda: 2}\n    - {'firms[1].trust_first': 0.1, behaviour.trust_lambda: 1}\n");
    CHECK(s.sweep.runs() == 2);
    CHECK(io::load_sweep_run(s, 0).spec.behaviour.trust_lambda == 2);

    s = load("sweep:\n  random:\n    samples: 50\n    parameters:\n      behaviour.trust_lambda: {low: 0.1, high: 10, scale: log}\n");
    REQUIRE(s.sweep.points.size() == 50);
    int below_one = 0;
    for (const auto& p : s.sweep.points) {
        const double v = std::stod(p[0]);
        CHECK(v >= 0.1);
        CHECK(v <= 10);
        below_one += v < 1;
    }
    CHECK(below_one > 10);  // log-uniform: half the mass below 1 (P[fewer than 11 of 50] < 1e-4)
    CHECK(load("sweep:\n  random:\n    samples: 50\n    parameters:\n      behaviour.trust_lambda: {low: 0.1, high: 10, scale: log}\n").sweep.points ==
          s.sweep.points);  // the sample depends on the seed only

    s = load("sweep:\n  latin_hypercube:\n    samples: 20\n    parameters:\n      customers.opportunist_share: {low: 0, high: 1}\n      'firms[0].triggers': {low: 0, high: 0.5}\n");
    for (std::size_t k = 0; k < 2; ++k) {
        const double width = k == 0 ? 1.0 : 0.5;
        std::set<int> strata;
        for (const auto& p : s.sweep.points) strata.insert(static_cast<int>(std::stod(p[k]) / width * 20));
        CHECK(strata.size() == 20);  // one sample in each of the 20 strata
    }
}

TEST_CASE("bad sweeps are refused with the place and a fix") {
    CHECK_THAT(problem("sweep:\n  grid: {simulation.steps: [5]}\n  points: [{simulation.steps: 5}]\n"), Catch::Contains("one method"));
    CHECK_THAT(problem("sweep:\n  grid:\n    firms[0].control_customers: [0.1, 2]\n"), Catch::Contains("point 1") && Catch::Contains("out of range"));
    CHECK_THAT(problem("sweep:\n  grid:\n    firms[0].contrl_customers: [0.1]\n"), Catch::Contains("did you mean 'control_customers'"));
    CHECK_THAT(problem("sweep:\n  replicate: 3\n"), Catch::Contains("did you mean 'replicates'"));
    CHECK_THAT(problem("sweep:\n  random: {samples: 3, parameters: {behaviour.trust_lambda: {low: 0, high: 1, scale: log}}}\n"), Catch::Contains("low > 0"));
    // A bad parameter is reported on its own line in the sweep, with the point's value and one fix.
    const auto bad_grid = problem("sweep:\n  grid:\n    customers.count: [100]\n    firms[0].control_customers: [0.1, 2]\n");
    CHECK_THAT(bad_grid, Catch::StartsWith("sweep.yaml:9:") && Catch::Contains("at point 1 (firms[0].control_customers = 2)"));
    CHECK_THAT(bad_grid, !Catch::Contains("--set"));
    // A sampled count says how to sample whole numbers, and then works.
    const std::string counts = "sweep:\n  latin_hypercube:\n    samples: 8\n    parameters:\n      customers.count: {low: 100, high: 1000, scale: log";
    CHECK_THAT(problem(counts + "}\n"), Catch::Contains("integer: true"));
    for (const auto& point : load(counts + ", integer: true}\n").sweep.points) {
        const double count = std::stod(point[0]);
        CHECK(count == std::round(count));
        CHECK(count >= 100);
        CHECK(count <= 1000);
    }
    // Whole numbers come with equal weight from [ceil(low), floor(high)]; a range without one is refused.
    const std::string small_counts = "sweep:\n  random:\n    samples: 3000\n    parameters:\n      customers.count: {low: 0.5, high: 3.5, integer: true}\n";
    std::map<std::string, int> drawn;
    for (const auto& point : load(small_counts).sweep.points) ++drawn[point[0]];
    CHECK(drawn.size() == 3);
    for (const auto& [value, count] : drawn) {
        INFO("customers.count = " << value << " drawn " << count << " times of 3000");
        CHECK(std::abs(count - 1000) < 100);  // binomial sd 26: a 3.9 sd tolerance
    }
    const auto none = problem("sweep:\n  random:\n    samples: 3\n    parameters:\n      customers.opportunist_share: {low: 0.2, high: 0.4, integer: true}\n");
    CHECK_THAT(none, Catch::Contains("no whole number") && Catch::Contains("integer"));
}

TEST_CASE("a sweep refuses parameters it would ignore, set twice, or that change the firms") {
    // Each run's seed comes from its replicate: a swept seed would be silently overwritten.
    CHECK_THAT(problem("sweep:\n  replicates: 2\n  grid:\n    simulation.seed: [1, 2]\n"),
               Catch::StartsWith("sweep.yaml:9:5: sweep.grid.simulation.seed:") && Catch::Contains("sweep.replicates"));
    CHECK_THAT(problem("sweep:\n  grid:\n    sweep.replicates: [1, 2]\n"), Catch::Contains("cannot vary its own settings"));
    // Twice, in every method; or overlapping, where one would set what the other sets.
    CHECK_THAT(problem("sweep:\n  grid:\n    customers.opportunist_share: [0.1]\n    'customers.opportunist_share': [0.2]\n"),
               Catch::StartsWith("sweep.yaml:9:5:") && Catch::Contains("appears twice"));
    CHECK_THAT(problem("sweep:\n  points:\n    - {customers.count: 100, customers.count: 300}\n"), Catch::Contains("appears twice"));
    CHECK_THAT(problem("sweep:\n  random:\n    samples: 2\n    parameters:\n      customers.opportunist_share: {low: 0, high: 0.5}\n"
                       "      customers.opportunist_share: {low: 0, high: 0.4}\n"),
               Catch::Contains("appears twice"));
    CHECK_THAT(problem("sweep:\n  grid:\n    customers: [{count: 100}]\n    customers.count: [300]\n"),
               Catch::Contains("'customers.count' and 'customers' overlap"));
    CHECK_THAT(problem("sweep:\n  grid:\n    firms[0]: [{name: A}]\n    firms[0].price: [3]\n"), Catch::Contains("overlap"));
    // A value or a point given twice: a replicate's seed is the same at every point, so its runs would repeat.
    CHECK_THAT(problem("sweep:\n  grid:\n    customers.opportunist_share: [0.1, 0.2, 0.1]\n"),
               Catch::StartsWith("sweep.yaml:8:45:") && Catch::Contains("the value 0.1 appears twice (items 0 and 2)") && Catch::Contains("sweep.replicates"));
    CHECK_THAT(problem("sweep:\n  points:\n    - {customers.count: 100}\n    - {customers.count: 300}\n    - {customers.count: 100}\n"),
               Catch::StartsWith("sweep.yaml:10:7: sweep.points[2]:") && Catch::Contains("point 0 again"));
    CHECK(load("sweep:\n  points:\n    - {customers.count: 100, customers.opportunist_share: 0.1}\n    - {customers.count: 100, customers.opportunist_share: 0.2}\n")
              .sweep.points.size() == 2);
    // A merged sweep has one list of firms: no point may change their names, number or copies.
    CHECK_THAT(problem("sweep:\n  grid:\n    firms[0].copies: [1, 3]\n"),
               Catch::Contains("point 1 has the firms A-1, A-2, A-3, B, not A, B") && Catch::Contains("not their names, number or copies"));
    CHECK_THAT(problem("sweep:\n  points:\n    - {firms: [{name: A}, {name: B}]}\n    - {firms: [{name: X}, {name: Y}]}\n"),
               Catch::Contains("point 1 has the firms X, Y"));
    CHECK(load("sweep:\n  points:\n    - {firms: [{name: A}, {name: B}]}\n    - {firms: [{name: A, price: 3}, {name: B}]}\n").sweep.points.size() == 2);
    // A point that fails elsewhere than at a parameter: the point's values, the place, and one fix.
    const auto late = problem("events: [{type: breach, firm: A, step: 5, size: 0.5}]\nsweep:\n  grid:\n    simulation.steps: [5, 10]\n");
    CHECK_THAT(late, Catch::Contains("point 0 (simulation.steps=5) is not a valid scenario: sweep.yaml:6:") && Catch::Contains("never happens"));
    CHECK(late.find("Fix:") == late.rfind("Fix:"));
}

TEST_CASE("a sweep over an edge list refuses a resume after the file changed") {
    TempDir dir;
    const auto write_edges = [&](int step) {
        std::ofstream edges(dir.path / "edges.txt");
        for (int i = 0; i + step < 200; ++i) edges << i << " " << i + step << "\n";
    };
    write_edges(1);
    auto options = options_for(dir.path, "network: {type: edge_list, file: edges.txt}\nsweep:\n  replicates: 2\n");
    options.shard_count = 2;
    CHECK(run_all(options, "shard-0"));
    write_edges(2);  // another network, under the same name
    options.shard_index = 1;
    try {
        sweep::prepare_sweep(options);
        FAIL("a changed edge list was accepted");
    } catch (const UserError& e) {
        CHECK_THAT(e.problem(), Catch::Contains("different scenario") && Catch::Contains("network.file holds 199 edges") &&
                                    Catch::Contains("198 edges"));
    }
    write_edges(1);  // the same contents again: the sweep goes on
    CHECK(run_all(options, "shard-1"));
    CHECK(sweep::read_results(options.outdir).size() == 2);
}

TEST_CASE("a sweep's points share one reading of an edge list, each checked against its own customer count") {
    TempDir dir;
    std::ofstream(dir.path / "edges.txt") << "0 1\n1 80\n2 3\n";
    const auto network = "network: {type: edge_list, file: " + (dir.path / "edges.txt").string() + "}\n";
    const auto fits = load(network + "sweep:\n  grid: {customers.count: [100, 90, 81]}\n");
    CHECK(fits.sweep.points.size() == 3);
    CHECK(fits.sweep.point_memory.size() == 3);
    CHECK_THAT(problem(network + "sweep:\n  grid: {customers.count: [100, 50]}\n"),
               Catch::Contains("point 1 (customers.count=50)") && Catch::Contains("edges.txt:2: network.file: customer id out of range in '1 80'"));
}

TEST_CASE("a sweep over edge lists refuses a resume after a point's file changed") {
    TempDir dir;
    const auto write_edges = [&](const std::string& name, int step) {
        std::ofstream edges(dir.path / name);
        for (int i = 0; i + step < 200; ++i) edges << i << " " << i + step << "\n";
    };
    write_edges("ring.txt", 1);
    write_edges("other.txt", 3);
    auto options = options_for(dir.path, "network: {type: edge_list, file: ring.txt}\nsweep:\n  grid:\n    network.file: [ring.txt, other.txt]\n");
    options.shard_count = 2;
    CHECK(run_all(options, "shard-0"));
    write_edges("other.txt", 4);  // point 1's network changed, under the same name
    options.shard_index = 1;
    try {
        sweep::prepare_sweep(options);
        FAIL("a point's changed edge list was accepted");
    } catch (const UserError& e) {
        CHECK_THAT(e.problem(), Catch::Contains("different scenario") && Catch::Contains("other.txt holds 197 edges") && Catch::Contains("196 edges"));
    }
    write_edges("other.txt", 3);
    CHECK(run_all(options, "shard-1"));
    CHECK(sweep::read_results(options.outdir).size() == 2);

    // The sweep's own copy of the scenario (what SLURM tasks, merge and info read, from OUTDIR) names the
    // points' files by absolute path, so it reads the same files as the scenario it came from.
    auto stored = options;
    stored.scenario = options.outdir + "/scenario.yaml";
    CHECK_NOTHROW(sweep::prepare_sweep(stored));
    CHECK_THAT(sweep::describe_sweep(options.outdir), Catch::Contains("finished: 2 runs"));
    CHECK(sweep::merge(options.outdir, (dir.path / "merged.h5").string(), false));
}

TEST_CASE("the run log keeps complete records and drops a torn tail") {
    TempDir dir;
    const auto path = (dir.path / "results" / "w.tsr").string();
    {
        sweep::RunLog log(path);
        log.append({3, 2, 1, 0.5, std::vector<double>(2 * metric_count, 1.5), {}, 0});
        log.append({1, 2, 1, 0.25, std::vector<double>(2 * metric_count, -2.0), {}, 0});
    }
    const auto intact = fs::file_size(path);
    std::ofstream(path, std::ios::app | std::ios::binary) << "TSR1 half a record";  // as a kill -9 mid-write leaves it
    // Runs are listed without their values, which are read again from where each record is.
    auto results = sweep::read_results(dir.path.string());
    REQUIRE(results.size() == 2);
    CHECK(results[0].run == 1);
    CHECK(results[0].values.empty());
    CHECK(results[1].wall_seconds == 0.5);
    CHECK(sweep::read_values(results[0]) == std::vector<double>(2 * metric_count, -2.0));
    CHECK(sweep::read_values(results[1]) == std::vector<double>(2 * metric_count, 1.5));
    // A record that is not the run's, or past the end of the log, is refused rather than misread.
    auto moved = results[0];
    moved.offset = results[1].offset;
    CHECK_THROWS_AS(sweep::read_values(moved), UserError);
    moved.offset = intact + 100;
    CHECK_THROWS_AS(sweep::read_values(moved), UserError);
    std::ofstream(path + ".tmp.99999") << "a copy left by a writer killed while making it";
    { sweep::RunLog reopened(path); }
    CHECK(fs::file_size(path) == intact);
    CHECK_FALSE(fs::exists(path + ".tmp.99999"));

    // A flipped byte inside the first record loses that record only: the next one is found after it.
    flip_byte(path, 100);
    std::vector<std::string> damage;
    results = sweep::read_results(dir.path.string(), &damage);
    REQUIRE(results.size() == 1);
    CHECK(results[0].run == 1);
    CHECK(sweep::read_values(results[0]) == std::vector<double>(2 * metric_count, -2.0));
    CHECK(damage == std::vector<std::string>{path + ": bytes 0-" + std::to_string(intact / 2 - 1) + " are damaged and were skipped"});
}

TEST_CASE("damage inside a sweep's log loses only the damaged run: merge says so, a resume re-runs it alone") {
    TempDir dir;
    const std::string sweep_text = "sweep:\n  replicates: 5\n";
    const auto options = options_for(dir.path, sweep_text);
    REQUIRE(run_all(options));  // one job: the log holds runs 0 to 4 in order
    const auto log = (fs::path(options.outdir) / "results" / "local.tsr").string();
    const auto before = sweep::read_results(options.outdir);
    REQUIRE(before.size() == 5);
    const auto record = before[1].offset - before[0].offset;
    CHECK(before[2].offset == 2 * record);
    flip_byte(log, before[2].offset + record / 2);  // inside run 2's values
    std::ofstream(log, std::ios::app | std::ios::binary) << "TSR1 half a record";  // and a torn end, which is no damage

    std::vector<std::string> damage;
    const auto results = sweep::read_results(options.outdir, &damage);
    std::vector<std::int64_t> runs;
    for (const auto& r : results) runs.push_back(r.run);
    CHECK(runs == std::vector<std::int64_t>{0, 1, 3, 4});
    const auto expected = log + ": bytes " + std::to_string(2 * record) + "-" + std::to_string(3 * record - 1) + " are damaged and were skipped";
    CHECK(damage == std::vector<std::string>{expected});

    const auto merged = (dir.path / "m.h5").string();
    const auto [merge_error, merge_warning] = with_stderr([&] {
        try {
            sweep::merge(options.outdir, merged, false);
        } catch (const UserError& e) {
            return e.problem();
        }
        return std::string("merged");
    });
    CHECK(merge_error == "1 of 5 runs are not finished");
    CHECK(merge_warning == "trustsim: warning: " + expected + "; runs recorded only there are missing\n");

    const auto scenario = sweep::prepare_sweep(options);
    const auto [pending, resume_warning] = with_stderr([&] { return sweep::pending_runs(scenario, options); });
    CHECK(pending == std::vector<std::int64_t>{2});
    CHECK(resume_warning == "trustsim: warning: " + expected + "; runs recorded only there are not finished and will be re-run\n");

    // The resume keeps the four intact records, drops the damaged bytes and the torn end, and appends run 2.
    const auto [resumed, warning] = with_stderr([&] { return run_all(options); });
    REQUIRE(resumed);
    CHECK(warning == resume_warning);
    damage.clear();
    const auto after = sweep::read_results(options.outdir, &damage);
    CHECK(damage.empty());
    REQUIRE(after.size() == 5);
    CHECK(fs::file_size(log) == 5 * record);
    CHECK(after[2].offset == 4 * record);  // run 2 is the one record written again
    for (const std::int64_t run : {0, 1, 3, 4}) CHECK(after[static_cast<std::size_t>(run)].wall_seconds == before[static_cast<std::size_t>(run)].wall_seconds);
    CHECK(sweep::write_manifest(scenario, options.outdir) == 5);

    // The same values as a clean sweep's, and the merge now succeeds.
    TempDir clean_dir;
    const auto clean = options_for(clean_dir.path, sweep_text);
    REQUIRE(run_all(clean));
    const auto reference = sweep::read_results(clean.outdir);
    REQUIRE(reference.size() == 5);
    for (std::size_t run = 0; run < 5; ++run) CHECK(sweep::read_values(after[run]) == sweep::read_values(reference[run]));
    CHECK(with_stderr([&] { sweep::merge(options.outdir, merged, false); return 0; }).second.empty());
}

TEST_CASE("a sweep runs, resumes without redoing finished runs, and refuses a changed scenario") {
    TempDir dir;
    const std::string sweep_text = "sweep:\n  replicates: 2\n  grid: {'firms[0].trust_first': [0.1, 0.9]}\n";
    auto options = options_for(dir.path, sweep_text);
    options.shard_count = 2;  // shard 0 first: half the runs
    CHECK(run_all(options, "shard-0"));
    auto scenario = sweep::prepare_sweep(options);
    CHECK(sweep::read_results(options.outdir).size() == 2);
    CHECK(sweep::write_manifest(scenario, options.outdir) == 2);

    options.shard_count = 1;
    CHECK(sweep::pending_runs(scenario, options) == std::vector<std::int64_t>{1, 3});
    options.jobs = 2;
    CHECK(run_all(options));
    const auto results = sweep::read_results(options.outdir);
    REQUIRE(results.size() == 4);

    // Same values as one run on its own, whatever shard, job or thread ran it.
    const auto alone = sweep::simulate_run(scenario, 3, 2, [] { return true; });
    REQUIRE(alone);
    CHECK(alone->values == sweep::read_values(results[3]));
    CHECK(sweep::read_values(results[0]) != sweep::read_values(results[2]));  // the points differ

    std::ofstream(fs::path(options.scenario)) << base << sweep_text << "description: changed\n";
    try {
        sweep::prepare_sweep(options);
        FAIL("a changed scenario was accepted");
    } catch (const UserError& e) {
        CHECK_THAT(e.problem(), Catch::Contains("different scenario") && Catch::Contains("description"));
    }
    options.overrides = {"simulation.steps=7"};
    std::ofstream(fs::path(options.scenario)) << base << sweep_text;
    CHECK_THROWS_AS(sweep::prepare_sweep(options), UserError);
}

TEST_CASE("damage in another writer's log, whose run a resume ran again: merge says nothing is missing") {
    TempDir dir;
    auto options = options_for(dir.path, "sweep:\n  replicates: 4\n");
    options.shard_count = 2;
    REQUIRE(run_all(options, "shard-0"));  // runs 0 and 2
    const auto shard_log = (fs::path(options.outdir) / "results" / "shard-0.tsr").string();
    const auto before = sweep::read_results(options.outdir);
    REQUIRE(before.size() == 2);
    flip_byte(shard_log, before[0].offset + 40);  // run 0's record
    options.shard_count = 1;
    REQUIRE(with_stderr([&] { return run_all(options); }).first);  // "local" runs 0, 1 and 3; shard-0's log stays as it is
    const auto [merged, note] = with_stderr([&] { return sweep::merge(options.outdir, (dir.path / "m.h5").string(), false).has_value(); });
    CHECK(merged);
    CHECK_THAT(note, Catch::StartsWith("trustsim: note: " + shard_log + ": bytes 0-") && Catch::EndsWith("; every run is recorded intact, so none is missing\n"));
}

TEST_CASE("a sweep refuses a --set of a parameter it varies, which every run would ignore") {
    TempDir dir;
    auto options = options_for(dir.path, "sweep:\n  grid: {'firms[0].trust_first': [0.1, 0.9]}\n");
    for (const auto* assignment : {"firms[0].trust_first=0.5", "firms[0]={name: A, trust_first: 0.5}", "firms=[{name: A, trust_first: 0.5}, {name: B}]"}) {
        options.overrides = {assignment};
        try {
            sweep::prepare_sweep(options);
            FAIL("a sweep took --set " << assignment);
        } catch (const UserError& e) {
            CHECK(e.where().file == std::string("--set ") + assignment);
            CHECK_THAT(e.problem(), Catch::Contains("the sweep varies firms[0].trust_first"));
        }
    }
    CHECK_FALSE(fs::exists(options.outdir));
    // Another key, or a section holding the parameter whose value does not give it: the sweep refines it.
    options.overrides = {"firms[1].trust_first=0.5", "firms[0]={name: A, price: 3}"};
    const auto scenario = sweep::prepare_sweep(options);
    CHECK(scenario.spec.firms[1].trust_first == 0.5);
    CHECK(io::load_sweep_run(scenario, 1).spec.firms[0].price == 3);
    CHECK(io::load_sweep_run(scenario, 1).spec.firms[0].trust_first == 0.9);
}

TEST_CASE("a sweep refuses a directory holding other files, and starts in an empty one") {
    TempDir dir;
    auto options = options_for(dir.path, "sweep:\n  grid: {'firms[0].trust_first': [0.1, 0.9]}\n");
    fs::create_directories(options.outdir);
    std::ofstream(fs::path(options.outdir) / "notes.txt") << "mine\n";
    try {
        sweep::prepare_sweep(options);
        FAIL("a directory with notes.txt was taken for a sweep");
    } catch (const UserError& e) {
        CHECK_THAT(e.problem(), Catch::Contains("notes.txt"));
    }
    CHECK_FALSE(fs::exists(fs::path(options.outdir) / "manifest.csv"));
    fs::remove(fs::path(options.outdir) / "notes.txt");
    CHECK(sweep::prepare_sweep(options).sweep.runs() == 2);
}

TEST_CASE("a manifest that cannot be written leaves no temporary file and names the manifest") {
    TempDir dir;
    const auto options = options_for(dir.path, "sweep:\n  replicates: 2\n");
    const auto scenario = sweep::prepare_sweep(options);
    const auto manifest = fs::path(options.outdir) / "manifest.csv";
    fs::remove(manifest);
    fs::create_directories(manifest / "in the way");  // a directory that is not empty cannot be renamed over
    try {
        sweep::write_manifest(scenario, options.outdir);
        FAIL("wrote a manifest over a directory");
    } catch (const UserError& e) {
        CHECK(e.where().file == manifest.string());
    }
    for (const auto& entry : fs::directory_iterator(options.outdir))
        CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("a folder in results/ named like a run log is refused by name, not an internal error") {
    TempDir dir;
    const auto options = options_for(dir.path, "sweep:\n  replicates: 2\n");
    REQUIRE(run_all(options));
    const auto folder = fs::path(options.outdir) / "results" / "copy.tsr";
    fs::create_directories(folder);
    for (const auto& attempt : std::vector<std::function<void()>>{[&] { sweep::read_results(options.outdir); },
                                                                   [&] { sweep::merge(options.outdir, (dir.path / "m.h5").string(), false); }}) {
        try {
            attempt();
            FAIL("a folder was taken for a run log");
        } catch (const UserError& e) {
            CHECK(e.where().file == folder.string());
            CHECK_THAT(e.fix(), Catch::Contains("move it out of results/"));
        }
    }
}

TEST_CASE("merge refuses an unfinished sweep") {
    TempDir dir;
    auto options = options_for(dir.path, "sweep:\n  replicates: 3\n");
    options.shard_count = 3;
    CHECK(run_all(options, "shard-0"));
    try {
        sweep::merge(options.outdir, (dir.path / "m.h5").string(), false);
        FAIL("merged an unfinished sweep");
    } catch (const UserError& e) {
        CHECK_THAT(e.problem(), Catch::Contains("2 of 3 runs are not finished"));
    }
    CHECK_FALSE(fs::exists(dir.path / "m.h5"));
}

TEST_CASE("merge stacks runs of different lengths, padding the shorter with NaN") {
    TempDir dir;
    const auto options = options_for(dir.path, "sweep:\n  replicates: 2\n  grid: {simulation.steps: [3, 6]}\n");
    REQUIRE(run_all(options));
    const auto merged = (dir.path / "m.h5").string();
    sweep::merge(options.outdir, merged, false);

    const hid_t file = H5Fopen(merged.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(file >= 0);
    const hid_t dataset = H5Dopen2(file, "timeseries/trust", H5P_DEFAULT);
    REQUIRE(dataset >= 0);
    std::vector<double> trust(4 * 6 * 2);  // (run, step, firm)
    REQUIRE(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, trust.data()) >= 0);
    H5Dclose(dataset);
    H5Fclose(file);
    for (std::size_t run = 0; run < 4; ++run)
        for (std::size_t step = 0; step < 6; ++step)
            for (std::size_t firm = 0; firm < 2; ++firm) {
                const bool padded = run < 2 && step >= 3;  // runs 0 and 1 are the point of 3 steps
                CHECK(std::isnan(trust[(run * 6 + step) * 2 + firm]) == padded);
            }
}
