// The HDF5 run output, read back with the HDF5 C API: layout, values, temporary-file handling, and
// describe_output on good and bad files.
#include <catch2/catch.hpp>

#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>

#include "support.hpp"
#include "trustsim/errors.hpp"
#include "trustsim/io/hdf5_output.hpp"
#include "trustsim/io/temporary.hpp"
#include "trustsim/summary.hpp"
#include "trustsim/version.hpp"

using namespace trustsim;
using namespace trustsim::testing;
namespace fs = std::filesystem;

namespace {

// Keeps everything the engine reports, to compare with what the file holds.
struct Capture final : Recorder {
    struct {
        std::vector<float> propensity, honesty, reciprocity;
        std::vector<std::uint8_t> opportunist;
    } dispositions;
    std::vector<StepMetrics> steps;
    std::vector<TrustHistogram> histograms;
    std::vector<Snapshot> snapshots;
    RunInfo info;
    void begin(const ModelSpec&, const CustomerDispositions& d) override {
        const auto copy = [](auto view) { return std::vector(view.begin(), view.end()); };
        dispositions = {copy(d.propensity), copy(d.honesty), copy(d.reciprocity), copy(d.opportunist)};
    }
    void record_step(const StepMetrics& m) override { steps.push_back(m); }
    void record_histogram(const TrustHistogram& h) override { histograms.push_back(h); }
    void record_snapshot(const Snapshot& s) override { snapshots.push_back(s); }
    void end(const RunInfo& i) override { info = i; }
};

const std::string scenario_text = "description: \"a test run, with \\u00dc\"\nsimulation:\n  steps: 12\n  seed: 7\nfirms:\n  - name: Ünal & Co\n";

ModelSpec test_spec(std::int64_t steps = 12) {
    auto spec = small_spec(2, 500, steps);
    spec.record.histogram_every = 5;
    spec.record.snapshot_every = 5;
    return spec;
}

io::OutputOptions options(const std::string& path, bool force = false) { return {path, force, scenario_text, 7}; }

// Runs `spec` into `recorder` beside a capture; returns the capture.
Capture run_into(Recorder& recorder, const ModelSpec& spec) {
    Capture capture;
    RecorderList both({&recorder, &capture});
    Simulation simulation(spec, Context{1});
    REQUIRE(simulation.run(both));
    return capture;
}

Capture write_run(const std::string& path, const ModelSpec& spec, bool force = false) {
    io::Hdf5Recorder file(options(path, force));
    auto capture = run_into(file, spec);
    file.commit();
    return capture;
}

// Reading back, with the C API only.
struct Id {
    hid_t id;
    herr_t (*close)(hid_t);
    Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) { REQUIRE(id >= 0); }
    Id(const Id&) = delete;
    Id& operator=(const Id&) = delete;
    ~Id() { close(id); }
    operator hid_t() const { return id; }
};

Id open_file(const std::string& path) { return {H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose}; }

std::string string_attribute(hid_t object, const char* name) {
    const Id attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    const Id type(H5Aget_type(attribute), H5Tclose);
    REQUIRE(H5Tis_variable_str(type) > 0);
    char* value = nullptr;
    REQUIRE(H5Aread(attribute, type, &value) >= 0);
    std::string text(value);
    H5free_memory(value);
    return text;
}

template <class T>
T attribute(hid_t object, const char* name, hid_t memory_type) {
    const Id attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    T value{};
    REQUIRE(H5Aread(attribute, memory_type, &value) >= 0);
    return value;
}

std::vector<hsize_t> shape(hid_t file, const std::string& path) {
    const Id dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
    const Id space(H5Dget_space(dataset), H5Sclose);
    std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    return dims;
}

template <class T>
std::vector<T> read(hid_t file, const std::string& path, hid_t memory_type) {
    const Id dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
    const Id space(H5Dget_space(dataset), H5Sclose);
    std::vector<T> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    REQUIRE(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
    return values;
}

std::vector<std::string> read_strings(hid_t file, const std::string& path) {
    const Id dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
    const Id type(H5Dget_type(dataset), H5Tclose);
    auto pointers = read<char*>(file, path, type);
    std::vector<std::string> values;
    for (char* p : pointers) values.emplace_back(p), H5free_memory(p);
    return values;
}

using Shape = std::vector<hsize_t>;

// The UserError's problem (the fix is checked where it matters).
template <class F>
std::string user_error(F&& f) {
    try {
        f();
    } catch (const UserError& e) {
        return e.where().file + ": " + e.problem() + " / " + e.fix();
    }
    FAIL("no UserError");
    return {};
}

}  // namespace

TEST_CASE("a run's file holds its metadata, metrics, histograms, dispositions and snapshots") {
    TempDir dir;
    const auto path = dir / "run.h5";
    const auto spec = test_spec();
    const auto capture = write_run(path, spec);
    const hsize_t S = 12, F = 2, N = 500, E = 40, B = 20;

    const auto file = open_file(path);
    CHECK(string_attribute(file, "format") == "trustsim-run");
    CHECK(attribute<int>(file, "format_version", H5T_NATIVE_INT) == 1);
    CHECK(string_attribute(file, "trustsim_version") == trustsim::version);
    CHECK(string_attribute(file, "build") == trustsim::build_description);
    CHECK(attribute<std::uint64_t>(file, "seed", H5T_NATIVE_UINT64) == 7);
    CHECK(attribute<int>(file, "threads", H5T_NATIVE_INT) == 1);
    CHECK(attribute<double>(file, "wall_seconds", H5T_NATIVE_DOUBLE) == capture.info.wall_seconds);
    CHECK(attribute<std::int64_t>(file, "steps", H5T_NATIVE_INT64) == 12);
    CHECK(attribute<int>(file, "firms", H5T_NATIVE_INT) == 2);
    CHECK(attribute<std::int64_t>(file, "customers", H5T_NATIVE_INT64) == 500);
    CHECK(attribute<std::int64_t>(file, "employees", H5T_NATIVE_INT64) == 40);
    CHECK(string_attribute(file, "created").size() == 20);  // 2024-01-02T03:04:05Z

    const auto scenario = read_strings(file, "scenario");
    REQUIRE(scenario.size() == 1);
    CHECK(scenario[0] == scenario_text);
    CHECK(read_strings(file, "firms/name") == std::vector<std::string>{"firm0", "firm1"});

    SECTION("every metric, with its unit and description, equal to what the engine reported") {
        std::vector<std::int64_t> steps(S);
        std::iota(steps.begin(), steps.end(), 0);
        CHECK(read<std::int64_t>(file, "timeseries/step", H5T_NATIVE_INT64) == steps);
        for (std::size_t m = 0; m < metric_count; ++m) {
            const auto name = "timeseries/" + std::string(metric_info[m].name);
            INFO(name);
            REQUIRE(shape(file, name) == Shape{S, F});
            const Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
            CHECK(string_attribute(dataset, "description") == metric_info[m].doc);
            if (!metric_info[m].unit.empty()) CHECK(string_attribute(dataset, "unit") == metric_info[m].unit);
            const auto values = read<double>(file, name, H5T_NATIVE_DOUBLE);
            for (std::size_t s = 0; s < S; ++s)
                for (std::size_t f = 0; f < F; ++f) {
                    const double expected = capture.steps[s].values[f][m], actual = values[s * F + f];
                    CHECK(((std::isnan(expected) && std::isnan(actual)) || expected == actual));
                }
        }
    }

    SECTION("histograms count every customer once per firm") {
        REQUIRE(capture.histograms.size() == 3);
        CHECK(read<std::int64_t>(file, "histograms/step", H5T_NATIVE_INT64) == std::vector<std::int64_t>{4, 9, 11});
        const auto edges = read<double>(file, "histograms/bin_edges", H5T_NATIVE_DOUBLE);
        REQUIRE(edges.size() == B + 1);
        CHECK(edges.front() == 0);
        CHECK(edges.back() == 1);
        REQUIRE(shape(file, "histograms/trust") == Shape{3, F, B});
        const auto counts = read<std::int64_t>(file, "histograms/trust", H5T_NATIVE_INT64);
        for (std::size_t h = 0; h < 3; ++h) {
            CHECK(std::vector<std::int64_t>(counts.begin() + static_cast<std::ptrdiff_t>(h * F * B),
                                            counts.begin() + static_cast<std::ptrdiff_t>((h + 1) * F * B)) == capture.histograms[h].counts);
            for (std::size_t f = 0; f < F; ++f) {
                const auto first = counts.begin() + static_cast<std::ptrdiff_t>((h * F + f) * B);
                CHECK(std::accumulate(first, first + static_cast<std::ptrdiff_t>(B), std::int64_t{0}) == static_cast<std::int64_t>(N));
            }
        }
    }

    SECTION("customer dispositions") {
        CHECK(read<float>(file, "customers/propensity_to_trust", H5T_NATIVE_FLOAT) == capture.dispositions.propensity);
        CHECK(read<float>(file, "customers/honesty", H5T_NATIVE_FLOAT) == capture.dispositions.honesty);
        CHECK(read<float>(file, "customers/reciprocity", H5T_NATIVE_FLOAT) == capture.dispositions.reciprocity);
        CHECK(read<std::uint8_t>(file, "customers/opportunist", H5T_NATIVE_UINT8) == capture.dispositions.opportunist);
    }

    SECTION("snapshots: shapes, and the last one's values") {
        REQUIRE(capture.snapshots.size() == 3);
        CHECK(read<std::int64_t>(file, "snapshots/step", H5T_NATIVE_INT64) == std::vector<std::int64_t>{4, 9, 11});
        CHECK(shape(file, "snapshots/customers/firm") == Shape{3, N});
        CHECK(shape(file, "snapshots/customers/trust") == Shape{3, N, F});
        CHECK(shape(file, "snapshots/customers/perception") == Shape{3, N, F, 4});
        for (const auto* name : {"firm", "trust", "trustworthiness", "honesty", "reciprocity", "propensity_to_trust"})
            CHECK(shape(file, std::string("snapshots/employees/") + name) == Shape{3, E});
        const Id perception(H5Dopen2(file, "snapshots/customers/perception", H5P_DEFAULT), H5Dclose);
        CHECK(string_attribute(perception, "components") == "C R I S");

        const auto& last = capture.snapshots.back();
        const auto trust = read<float>(file, "snapshots/customers/trust", H5T_NATIVE_FLOAT);
        CHECK(std::vector<float>(trust.end() - static_cast<std::ptrdiff_t>(N * F), trust.end()) == last.customers.trust);
        const auto firm = read<std::int16_t>(file, "snapshots/employees/firm", H5T_NATIVE_INT16);
        CHECK(std::vector<std::int16_t>(firm.end() - static_cast<std::ptrdiff_t>(E), firm.end()) == last.employees.firm);
    }

    SECTION("every dataset has a description") {
        std::vector<std::string> missing;
        const auto visit = [](hid_t object, const char* name, const H5O_info_t* info, void* data) -> herr_t {
            if (info->type == H5O_TYPE_DATASET && H5Aexists_by_name(object, name, "description", H5P_DEFAULT) <= 0)
                static_cast<std::vector<std::string>*>(data)->push_back(name);
            return 0;
        };
        REQUIRE(H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, visit, &missing) >= 0);
        CHECK(missing.empty());
    }
}

TEST_CASE("a run longer than one chunk is written whole and in order") {
    TempDir dir;
    const auto path = dir / "long.h5";
    auto spec = small_spec(1, 50, 600);
    spec.record.histogram_every = 1;
    spec.record.snapshot_customers = spec.record.snapshot_employees = false;
    const auto capture = write_run(path, spec);
    const auto file = open_file(path);
    const auto steps = read<std::int64_t>(file, "timeseries/step", H5T_NATIVE_INT64);
    REQUIRE(steps.size() == 600);
    for (std::size_t s = 0; s < steps.size(); ++s) CHECK(steps[s] == static_cast<std::int64_t>(s));
    const auto customers = read<double>(file, "timeseries/trust_all", H5T_NATIVE_DOUBLE);
    for (std::size_t s = 0; s < 600; ++s) CHECK(customers[s] == capture.steps[s].at(0, Metric::trust_all));
    CHECK(shape(file, "histograms/trust") == Shape{600, 1, 20});
    CHECK(read<std::int64_t>(file, "histograms/trust", H5T_NATIVE_INT64).back() == capture.histograms.back().counts.back());
    CHECK(shape(file, "snapshots/step") == Shape{0});
    CHECK(H5Lexists(file, "snapshots/customers", H5P_DEFAULT) == 0);
}

TEST_CASE("without histograms the group still holds empty datasets of the right shape") {
    TempDir dir;
    const auto path = dir / "none.h5";
    auto spec = test_spec();
    spec.record.histogram_every = 0;
    write_run(path, spec);
    const auto file = open_file(path);
    CHECK(shape(file, "histograms/step") == Shape{0});
    CHECK(shape(file, "histograms/trust") == Shape{0, 2, 20});
    CHECK(read<double>(file, "histograms/bin_edges", H5T_NATIVE_DOUBLE).size() == 21);
}

TEST_CASE("the file appears under its name only on commit; an uncommitted one leaves nothing") {
    TempDir dir;
    const auto path = dir / "run.h5";
    const auto temporary = io::temporary_name(path);
    {
        io::Hdf5Recorder file(options(path));
        run_into(file, test_spec());
        CHECK(!fs::exists(path));
        CHECK(fs::exists(temporary));
    }
    CHECK(!fs::exists(path));
    CHECK(!fs::exists(temporary));

    {
        io::Hdf5Recorder file(options(path));
        run_into(file, test_spec());
        file.commit();
    }
    CHECK(fs::exists(path));
    CHECK(!fs::exists(temporary));
}

TEST_CASE("an existing file is kept unless forced") {
    TempDir dir;
    const auto path = dir / "run.h5";
    write_run(path, test_spec());
    const auto message = user_error([&] { io::Hdf5Recorder file(options(path)); });
    CHECK_THAT(message, Catch::Contains("already exists") && Catch::Contains(path) && Catch::Contains("--force"));
    CHECK(attribute<std::int64_t>(open_file(path), "steps", H5T_NATIVE_INT64) == 12);

    write_run(path, test_spec(7), true);
    CHECK(attribute<std::int64_t>(open_file(path), "steps", H5T_NATIVE_INT64) == 7);

    // A symbolic link is an existing name, even one to nothing: refused before the run, not after it.
    fs::create_symlink("nowhere.h5", dir / "link.h5");
    CHECK_THAT(user_error([&] { io::Hdf5Recorder file(options(dir / "link.h5")); }), Catch::Contains("already exists"));
}

TEST_CASE("a file that takes the output's name during the run is kept, and the finished run stays beside it") {
    TempDir dir;
    const auto path = dir / "run.h5";
    const auto temporary = io::temporary_name(path);
    io::Hdf5Recorder file(options(path));
    run_into(file, test_spec());
    std::ofstream(path) << "another run's result\n";  // another process given the same -o, finished first
    const auto message = user_error([&] { file.commit(); });
    CHECK_THAT(message, Catch::Contains("appeared while") && Catch::Contains(temporary) && Catch::Contains("--force"));
    std::ifstream kept(path);
    CHECK(std::string(std::istreambuf_iterator<char>(kept), {}) == "another run's result\n");
    CHECK(attribute<std::int64_t>(open_file(temporary), "steps", H5T_NATIVE_INT64) == 12);
}

TEST_CASE("a missing or read-only directory is named before the run starts") {
    TempDir dir;
    CHECK_THAT(user_error([&] { io::Hdf5Recorder file(options(dir / "missing/run.h5")); }),
               Catch::Contains("does not exist") && Catch::Contains(dir / "missing"));
    CHECK_THAT(user_error([&] { io::Hdf5Recorder file(options(dir.path.string())); }), Catch::Contains("is a directory"));
    if (::geteuid() != 0) {  // root may write anywhere
        fs::create_directories(dir / "locked");
        fs::permissions(dir / "locked", fs::perms::owner_read | fs::perms::owner_exec);
        CHECK_THAT(user_error([&] { io::Hdf5Recorder file(options(dir / "locked/run.h5")); }),
                   Catch::Contains("not writable") && Catch::Contains(dir / "locked"));
    }
}

TEST_CASE("describe_output lists a good file and explains what is wrong with a bad one") {
    TempDir dir;
    const auto good = dir / "run.h5";
    write_run(good, test_spec());

    const auto text = io::describe_output(good);
    for (const auto* expected : {"trustsim-run version 1", "seed = 7", "steps = 12", "firms: firm0 firm1", "/timeseries/trust  float64 (12, 2)",
                                 "/histograms/trust  int64 (3, 2, 20)", "/snapshots/customers/perception  float32 (3, 500, 2, 4)",
                                 "/customers/opportunist  uint8 (500)", "scenario:\n  description:"})
        CHECK_THAT(text, Catch::Contains(expected));

    CHECK_THAT(user_error([&] { io::describe_output(dir / "absent.h5"); }), Catch::Contains("no such file"));

    std::ofstream(dir / "text.h5") << "not an HDF5 file at all\n";
    CHECK_THAT(user_error([&] { io::describe_output(dir / "text.h5"); }), Catch::Contains("not an HDF5 file"));

    const auto foreign = dir / "foreign.h5";
    {
        const Id file(H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
        const hsize_t n = 3;
        const Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
        const Id dataset(H5Dcreate2(file, "x", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    }
    CHECK_THAT(user_error([&] { io::describe_output(foreign); }), Catch::Contains("not a TrustSim output"));

    const auto future = dir / "future.h5";
    fs::copy_file(good, future);
    {
        const Id file(H5Fopen(future.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
        const int two = 2;
        REQUIRE(H5Awrite(Id(H5Aopen(file, "format_version", H5P_DEFAULT), H5Aclose), H5T_NATIVE_INT, &two) >= 0);
    }
    CHECK_THAT(user_error([&] { io::describe_output(future); }), Catch::Contains("format version 2") && Catch::Contains("reads version 1"));

    const auto truncated = dir / "truncated.h5";
    fs::copy_file(good, truncated);
    fs::resize_file(truncated, fs::file_size(good) / 2);
    CHECK_THAT(user_error([&] { io::describe_output(truncated); }), Catch::Contains("truncated or damaged"));
}

TEST_CASE("the run's summary pools the NPS of the last tenth's buyers") {
    ModelSpec spec;
    spec.firms.resize(1);
    spec.firms[0].name = "A";
    spec.simulation.steps = 20;
    // The summary of 20 steps (its tail: the last 2) whose NPS and buyers at step s are given.
    const auto nps_of = [&](const auto& nps, const auto& buyers) {
        SummaryRecorder summary;
        summary.begin(spec, CustomerDispositions{});
        for (int s = 0; s < 20; ++s) {
            StepMetrics m;
            m.step = s;
            m.values.assign(1, {});
            m.at(0, Metric::nps) = nps(s);
            m.at(0, Metric::purchases) = buyers(s);
            summary.record_step(m);
        }
        return summary.firms().at(0).nps;
    };
    // NPS +100 from 1 buyer, then -100 from 3, is the NPS of 4 buyers, 1 promoter and 3 detractors: -50, not 0.
    CHECK(nps_of([](int s) { return s == 18 ? 100.0 : s == 19 ? -100.0 : 0.0; }, [](int s) { return s == 18 ? 1.0 : s == 19 ? 3.0 : 10.0; }) ==
          Approx(-50));
    // A step without buyers (NaN) counts for nothing.
    CHECK(nps_of([](int s) { return s == 19 ? std::nan("") : 40.0; }, [](int s) { return s == 19 ? 0.0 : 5.0; }) == Approx(40));
}
