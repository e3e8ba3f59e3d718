#pragma once
// Loading a scenario: YAML text -> validated ModelSpec, with every problem reported as a UserError
// that names file, line, column and key path and says how to fix it.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trustsim/errors.hpp"
#include "trustsim/simulation.hpp"
#include "trustsim/spec.hpp"

namespace trustsim::io {

// A parameter sweep: points (one value per parameter each) times replicates. The run table is fixed by the
// scenario: run = point * replicates + replicate, and each run's seed is derived from simulation.seed and
// the replicate alone, so every point sees the same random numbers (common random numbers).
struct SweepSpec {
    std::string method = "single";                 // single | grid | points | random | latin_hypercube
    std::int64_t replicates = 1;
    std::vector<std::string> parameters;           // key paths, as for --set
    std::vector<std::vector<std::string>> points;  // points[p][k]: the YAML text of parameter k at point p
    std::string resolved_yaml;                     // the sweep section, normalised (part of the sweep's identity)
    std::vector<MemoryEstimate> point_memory;      // each point's peak memory (Simulation::estimated_memory)
    // The edge lists that points read instead of the scenario's network.file, by path: their contents are part
    // of the sweep's identity, as the scenario's are.
    std::vector<std::pair<std::string, std::shared_ptr<const std::vector<Edge>>>> point_edge_lists;

    std::int64_t runs() const noexcept { return static_cast<std::int64_t>(points.size()) * replicates; }
};

struct SweepRun {
    std::int64_t run = 0, point = 0, replicate = 0;
    std::uint64_t seed = 0;
};

struct LoadedScenario {
    ModelSpec spec;
    std::string resolved_yaml;  // the scenario with every default filled in (stored in every output)
    SweepSpec sweep;            // one point and one replicate unless the scenario has a `sweep:` section
    // What it was loaded from, so each run of a sweep can be loaded again with its own overrides.
    std::string text, name, base_dir;
    std::vector<std::string> overrides;
};

// `overrides` are "key.path=value" strings (e.g. "firms[0].control_customers=0.5", "simulation.steps=50"),
// applied to the YAML tree before validation so they pass the same checks.
LoadedScenario load_scenario_file(const std::string& path, const std::vector<std::string>& overrides = {});
// `name` stands for the file name in messages; relative edge-list paths resolve against `base_dir`.
LoadedScenario load_scenario_text(std::string_view text, const std::string& name,
                                  const std::vector<std::string>& overrides = {}, const std::string& base_dir = ".");

// Run `run` of a sweep: its point, replicate and seed.
SweepRun sweep_run(const LoadedScenario& scenario, std::int64_t run);
// The scenario of one run of a sweep: the base scenario with the point's values and the run's seed (its
// spec; its text is the sweep's, and no resolved text is made for it).
LoadedScenario load_sweep_run(const LoadedScenario& scenario, std::int64_t run);

// Whether key path `inner` is `outer` or lies inside it (outer.key..., outer[i]...).
bool within(const std::string& inner, const std::string& outer);
// Whether the --set `assignment` ("path=value") gives `key_path`: its path, or a key its value holds
// (customers={count: 5} gives customers.count).
bool override_sets(const std::string& assignment, const std::string& key_path);
// Memory for people: "150 MiB", "1.6 GiB".
std::string memory_text(double bytes);
// Refuses, up front, a scenario whose run on `threads` threads would not fit in this machine's memory.
void check_fits_in_memory(const LoadedScenario& scenario, int threads);
// The same for a sweep's largest point, with `concurrent` runs of `threads_per_run` threads at once.
void check_sweep_fits_in_memory(const LoadedScenario& scenario, int concurrent, int threads_per_run);
// The index in sweep.point_memory of the point whose run on `threads_per_run` threads needs the most memory
// (-1 when the scenario has no sweep points).
std::int64_t largest_sweep_point(const LoadedScenario& scenario, int threads_per_run);

// The resolved scenario as YAML: every field, defaults included, in the scenario format.
std::string resolved_yaml(const ModelSpec& spec);

// Reads an edge list ("a b" per line, 0-based customer ids, '#' comments); bad lines are UserErrors.
std::vector<Edge> read_edge_list(const std::string& path, std::int64_t customers);

// Every scenario key with its default, allowed values, unit and meaning, as Markdown tables (the
// reference in docs/scenario-format.md is this text).
std::string scenario_reference();

// The one-paragraph message printed for a user error.
std::string format_error(const UserError& error);

}  // namespace trustsim::io
