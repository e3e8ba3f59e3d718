#pragma once
// Small helpers shared by the tests.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "trustsim/simulation.hpp"

namespace trustsim::testing {

inline ModelSpec small_spec(int firms = 2, std::int64_t customers = 2000, std::int64_t steps = 30) {
    ModelSpec spec;
    spec.simulation.steps = steps;
    spec.customers.count = customers;
    for (int f = 0; f < firms; ++f) {
        FirmSpec firm;
        firm.name = "firm" + std::to_string(f);
        firm.employees = 20;
        spec.firms.push_back(firm);
    }
    return spec;
}

// A scandal about `firm` from `step` for `duration` steps, media and contagion as given (else their defaults).
inline Event scandal_event(std::int64_t step, int firm, std::int64_t duration, double media = Event{}.media, double contagion = Event{}.contagion) {
    Event scandal;
    scandal.kind = Event::Kind::scandal;
    scandal.step = step;
    scandal.firm = firm;
    scandal.duration = duration;
    scandal.media = media;
    scandal.contagion = contagion;
    return scandal;
}

inline std::vector<StepMetrics> run_steps(const ModelSpec& spec, int threads = 1) {
    Simulation sim(spec, Context{threads});
    std::vector<StepMetrics> out;
    for (std::int64_t s = 0; s < spec.simulation.steps; ++s) out.push_back(sim.step());
    return out;
}

// A fresh directory of its own under the system's temporary one, removed with all it holds when it goes out
// of scope (after giving its owner back every permission on it: a test may make it read-only).
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        static int made = 0;  // an inline function's static: one counter for every test file
        path = std::filesystem::temp_directory_path() / ("trustsim_test_" + std::to_string(::getpid()) + "_" + std::to_string(made++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::permissions(path, std::filesystem::perms::owner_all, ignored);
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline double total(const std::vector<StepMetrics>& run, int firm, Metric m, std::size_t from = 0) {
    double sum = 0;
    for (std::size_t s = from; s < run.size(); ++s) sum += run[s].at(firm, m);
    return sum;
}

}  // namespace trustsim::testing
