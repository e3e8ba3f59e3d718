#pragma once
// Loading a scenario: YAML text -> validated ModelSpec, with every problem reported as a UserError
// that names file, line, column and key path and says how to fix it.
#include <string>
#include <string_view>
#include <vector>

#include "trustsim/errors.hpp"
#include "trustsim/spec.hpp"

namespace trustsim::io {

struct LoadedScenario {
    ModelSpec spec;
    std::string resolved_yaml;  // the scenario with every default filled in (stored in every output)
};

// `overrides` are "key.path=value" strings (e.g. "firms[0].control_customers=0.5", "simulation.steps=50"),
// applied to the YAML tree before validation so they pass the same checks.
LoadedScenario load_scenario_file(const std::string& path, const std::vector<std::string>& overrides = {});
// `name` stands for the file name in messages; relative edge-list paths resolve against `base_dir`.
LoadedScenario load_scenario_text(std::string_view text, const std::string& name,
                                  const std::vector<std::string>& overrides = {}, const std::string& base_dir = ".");

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
