// The scenario loader: what a valid file becomes, and that every kind of mistake is reported with its
// place (file, line, column, key path) and a fix, before anything runs.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>

#include "support.hpp"
#include "trustsim/io/scenario.hpp"

using namespace trustsim;
using namespace trustsim::io;

namespace {

const std::string two_firms = "firms:\n  - name: A\n  - name: B\n";

// The UserError a scenario text raises (fails the test if it loads).
UserError load_error(const std::filesystem::path& path) {
    try {
        load_scenario_file(path.string());
    } catch (const UserError& e) {
        return e;
    }
    FAIL("loaded " << path);
    throw std::logic_error("unreachable");
}

UserError error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
    try {
        load_scenario_text(text, "test.yaml", overrides);
    } catch (const UserError& e) {
        return e;
    }
    FAIL("the scenario loaded but should not have:\n" << text);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("a minimal scenario takes every default") {
    const auto spec = load_scenario_text(two_firms, "min.yaml").spec;
    const ModelSpec defaults;
    CHECK(spec.firms.size() == 2);
    CHECK(spec.firms[1].name == "B");
    CHECK(spec.firms[0].control_customers == FirmSpec{}.control_customers);
    CHECK(spec.simulation.steps == defaults.simulation.steps);
    CHECK(spec.customers.count == defaults.customers.count);
    CHECK(spec.behaviour.trust_lambda == defaults.behaviour.trust_lambda);
    CHECK(spec.network.kind == defaults.network.kind);
    CHECK(spec.events.empty());
}

TEST_CASE("every section is read into the spec") {
    const auto spec = load_scenario_text(R"(
description: all sections
simulation: {steps: 120, seed: 7}
customers:
  count: 3000
  opportunist_share: 0.2
  propensity_to_trust: {dist: uniform, low: 0.2, high: 0.8}
  honesty: 0.9
  reciprocity: {dist: beta, a: 3, b: 1}
  initial_perception: {credibility: 0.4, reliability: 0.5, intimacy: 0.6, self_orientation: 0.1}
employees:
  honesty: {dist: constant, value: 0.7}
firms:
  - name: Acme
    employees: 12
    control_customers: 0.8
    adaptive_control: {enabled: true, threshold: 0.1}
  - name: Rival
    copies: 2
behaviour: {trust_lambda: 2, wom_negative: 0.5}
network: {type: watts_strogatz, mean_degree: 6, rewire: 0.2}
record: {histogram_every: 5, snapshot_every: 50}
events:
  - {type: scandal, step: 30, firm: Rival-2, media: 0.01, contagion: 0.5, duration: 10, size: 0.3}
  - {type: policy, step: 10, firm: Acme, set: {control_customers: 0.1, trust_first: 0.9}}
  - {type: breach, step: 10, firm: Acme, size: 0.4}
)",
                                          "all.yaml")
                          .spec;
    CHECK(spec.description == "all sections");
    CHECK(spec.simulation.steps == 120);
    CHECK(spec.simulation.seed == 7);
    CHECK(spec.customers.count == 3000);
    CHECK(spec.customers.opportunist_share == 0.2);
    CHECK(spec.customers.dispositions.propensity_to_trust.kind == Distribution::Kind::uniform);
    CHECK(spec.customers.dispositions.propensity_to_trust.b == 0.8);
    CHECK(spec.customers.dispositions.honesty.kind == Distribution::Kind::constant);
    CHECK(spec.customers.dispositions.reciprocity.mean() == Approx(0.75));
    REQUIRE(spec.customers.initial_perception);
    CHECK(spec.customers.initial_perception->intimacy == 0.6f);
    CHECK(spec.employees.dispositions.honesty.a == 0.7);
    REQUIRE(spec.firms.size() == 3);
    CHECK(spec.firms[0].employees == 12);
    CHECK(spec.firms[0].adaptive_control.enabled);
    CHECK(spec.firms[0].adaptive_control.threshold == 0.1);
    CHECK(spec.firms[1].name == "Rival-1");
    CHECK(spec.firms[2].name == "Rival-2");
    CHECK(spec.behaviour.trust_lambda == 2);
    CHECK(spec.network.kind == NetworkSpec::Kind::watts_strogatz);
    CHECK(spec.network.rewire == 0.2);
    CHECK(spec.record.snapshot_every == 50);
    REQUIRE(spec.events.size() == 3);
    // Sorted by step, stable in file order.
    CHECK(spec.events[0].kind == Event::Kind::policy);
    CHECK(spec.events[0].changes.size() == 2);
    CHECK(spec.events[1].kind == Event::Kind::breach);
    CHECK(spec.events[2].kind == Event::Kind::scandal);
    CHECK(spec.events[2].firm == 2);
    CHECK(spec.events[2].duration == 10);
}

TEST_CASE("well-mixed contacts may outnumber the other customers, so a small market's resolved scenario reads back") {
    const auto tiny = load_scenario_text("firms: [{name: A}]\ncustomers: {count: 5}\n", "tiny.yaml");
    CHECK(tiny.spec.network.kind == NetworkSpec::Kind::well_mixed);
    CHECK(load_scenario_text(tiny.resolved_yaml, "resolved.yaml").resolved_yaml == tiny.resolved_yaml);
    const auto alone = load_scenario_text("firms: [{name: A}]\ncustomers: {count: 1}\n", "alone.yaml");  // no one to talk to
    CHECK(load_scenario_text(alone.resolved_yaml, "resolved.yaml").resolved_yaml == alone.resolved_yaml);
    CHECK_THAT(error_of("firms: [{name: A}]\ncustomers: {count: 1}\nnetwork: {type: erdos_renyi, mean_degree: 2}\n").problem(),
               Catch::Contains("at least 2 customers"));
    CHECK(load_scenario_text("firms: [{name: A}]\ncustomers: {count: 5}\nnetwork: {type: well_mixed, mean_degree: 50}\n", "x.yaml").spec.network.mean_degree == 50);
    CHECK(error_of(two_firms + "network: {type: well_mixed, mean_degree: 1e9}\n").where().key_path == "network.mean_degree");
}

TEST_CASE("the resolved scenario reads back to the same scenario") {
    const auto first = load_scenario_text(two_firms + "events:\n  - {type: policy, step: 5, firm: B, set: {triggers: 0.3}}\n"
                                                      "customers: {honesty: 0.8, initial_perception: {credibility: 0.1, reliability: 0.2, intimacy: 0.3, self_orientation: 0.4}}\n"
                                                      "behaviour: {rate_credibility: 0.123456789}\n",
                                          "a.yaml");
    const auto second = load_scenario_text(first.resolved_yaml, "resolved.yaml");
    CHECK(second.resolved_yaml == first.resolved_yaml);
    CHECK(second.spec.behaviour.rate_credibility == 0.123456789);
    CHECK(second.spec.events.at(0).changes.at(0).value == 0.3);
    CHECK(first.resolved_yaml.find("control_customers: 0.1") != std::string::npos);
}

TEST_CASE("a policy event may set adaptive control's fields; floor and ceiling are checked as the events leave them") {
    const std::string events = "events:\n  - {type: policy, step: 5, firm: A, set: {trust_first: 0.2, adaptive_control: {enabled: true, window: 3, floor: 0.3}}}\n";
    const auto loaded = load_scenario_text(two_firms + events, "a.yaml");
    const auto& changes = loaded.spec.events.at(0).changes;
    REQUIRE(changes.size() == 4);
    FirmSpec policy;
    for (const auto& change : changes) change.apply(policy);
    CHECK(policy.trust_first == 0.2);
    CHECK(policy.adaptive_control.enabled);
    CHECK(policy.adaptive_control.window == 3);
    CHECK(policy.adaptive_control.floor == 0.3);
    CHECK(policy.adaptive_control.ceiling == FirmSpec{}.adaptive_control.ceiling);  // not given: unchanged
    CHECK(load_scenario_text(loaded.resolved_yaml, "resolved.yaml").resolved_yaml == loaded.resolved_yaml);

    const auto problem = [&](const std::string& tail) { return error_of(two_firms + "events:\n" + tail); };
    CHECK(problem("  - {type: policy, step: 5, firm: A, set: {adaptive_control: {enable: true}}}\n").where().key_path ==
          "events[0].set.adaptive_control.enable");
    CHECK(problem("  - {type: policy, step: 5, firm: A, set: {adaptive_control: {window: 0}}}\n").where().key_path == "events[0].set.adaptive_control.window");
    CHECK_THAT(problem("  - {type: policy, step: 5, firm: A, set: {adaptive_control: {}}}\n").problem(), Catch::Contains("changes nothing"));
    // A ceiling lowered at step 3, then a floor raised above it at step 8 (listed first): the later event is refused.
    const auto crossed = problem("  - {type: policy, step: 8, firm: A, set: {adaptive_control: {floor: 0.6}}}\n"
                                 "  - {type: policy, step: 3, firm: A, set: {adaptive_control: {ceiling: 0.5}}}\n");
    CHECK(crossed.where().key_path == "events[0].set");
    CHECK_THAT(crossed.problem(), Catch::Contains("floor (0.6) is above its ceiling (0.5)"));
    CHECK_NOTHROW(load_scenario_text(two_firms + "events:\n  - {type: policy, step: 8, firm: B, set: {adaptive_control: {floor: 0.6}}}\n"
                                                 "  - {type: policy, step: 3, firm: A, set: {adaptive_control: {ceiling: 0.5}}}\n", "b.yaml"));
}

TEST_CASE("--set overrides go through the same validation") {
    const auto spec = load_scenario_text(two_firms, "o.yaml", {"firms[1].control_customers=0.7", "simulation.steps=42", "network.type=none"}).spec;
    CHECK(spec.firms[1].control_customers == 0.7);
    CHECK(spec.simulation.steps == 42);
    CHECK(spec.network.kind == NetworkSpec::Kind::none);

    auto e = error_of(two_firms, {"firms[0].control_customers=1.5"});
    CHECK(e.where().file == "--set firms[0].control_customers");
    CHECK(e.where().key_path == "firms[0].control_customers");
    CHECK_THAT(e.problem(), Catch::Contains("out of range"));
    e = error_of(two_firms, {"firms[5].price=1"});
    CHECK_THAT(e.problem(), Catch::Contains("no item 5"));
    e = error_of(two_firms, {"simulation.stepz=3"});
    CHECK_THAT(e.fix(), Catch::Contains("did you mean 'steps'"));
    e = error_of(two_firms, {"no equals sign"});
    CHECK_THAT(e.problem(), Catch::Contains("key.path=value"));

    // A key set twice, or a key and then the section holding it, would lose the earlier --set: refused.
    e = error_of(two_firms, {"customers.count=100", "customers.count=200"});
    CHECK(e.where().file == "--set customers.count=200");
    CHECK_THAT(e.problem(), Catch::Contains("replaces what --set customers.count=100 sets"));
    CHECK_THAT(error_of(two_firms, {"customers.count=100", "customers={count: 5}"}).problem(), Catch::Contains("--set customers.count=100"));
    // A section whose value gives the key, then the key: the earlier value would be lost as well.
    CHECK_THAT(error_of(two_firms, {"customers={count: 5}", "customers.count=6"}).problem(), Catch::Contains("--set customers={count: 5}"));
    CHECK_THAT(error_of(two_firms, {"firms=[{name: A, price: 2}, {name: B}]", "firms[0].price=3"}).problem(), Catch::Contains("--set firms=["));
    CHECK(override_sets("customers={honesty: {dist: beta, a: 2, b: 2}}", "customers.honesty.a"));
    CHECK_FALSE(override_sets("customers={honesty: {dist: beta, a: 2, b: 2}}", "customers.count"));
    CHECK_FALSE(override_sets("customers.count=5", "customers"));
    // A section and then a key inside it refines it; distinct keys are independent.
    const auto refined = load_scenario_text(two_firms, "o.yaml", {"firms[0]={name: A, price: 2}", "firms[0].margin=0.4", "firms[1].price=4"}).spec;
    CHECK(refined.firms[0].price == 2);
    CHECK(refined.firms[0].margin == 0.4);
    CHECK(refined.firms[1].price == 4);

    // A sweep given by --set: its errors are the --set's, not at a line of the file (its nodes have none there).
    e = error_of(two_firms, {"sweep={grid: {'firms[0].trust_first': [0.1, 2]}}"});
    CHECK(e.where().file == "--set sweep");
    CHECK(e.where().line == 0);
    CHECK_THAT(e.problem(), Catch::Contains("at point 1"));
    e = error_of(two_firms + "sweep: {replicates: 2}\n", {"sweep.points=[{'firms[0].nope': 1}]"});
    CHECK(e.where().file == "--set sweep.points");
    CHECK(e.where().line == 0);
}

TEST_CASE("errors name the file, line, column, key path and a fix") {
    SECTION("unknown key with a suggestion") {
        const auto e = error_of(two_firms + "simulation:\n  stpes: 10\n");
        CHECK(e.where().file == "test.yaml");
        CHECK(e.where().line == 5);
        CHECK(e.where().column == 3);
        CHECK(e.where().key_path == "simulation.stpes");
        CHECK_THAT(e.fix(), Catch::Contains("did you mean 'steps'"));
        CHECK_THAT(format_error(e), Catch::StartsWith("test.yaml:5:3: simulation.stpes: unknown key"));
        // A --set names its key once: "--set simulation.steps: value ...", not "--set simulation.steps: simulation.steps: ...".
        CHECK_THAT(format_error(error_of(two_firms, {"simulation.steps=0"})), Catch::StartsWith("--set simulation.steps: value 0 is out of range"));
    }
    SECTION("a key of another section says where it belongs") {
        CHECK_THAT(error_of(two_firms + "control_customers: 0.5\n").fix(), Catch::StartsWith("'control_customers' is a key of firms[i], not of the top level (its keys: description,"));
        CHECK_THAT(error_of(two_firms + "customers: {steps: 5}\n").fix(), Catch::StartsWith("'steps' is a key of simulation, not of customers"));
        CHECK_THAT(error_of("firms: [{name: A, window: 3}]\n").fix(), Catch::StartsWith("'window' is a key of firms[i].adaptive_control, not of firms[0]"));
        // Not in an event's changes, whose keys are a firm's but whose meaning is another (a policy from that step).
        CHECK_THAT(error_of("firms: [{name: A}]\nevents: [{type: policy, step: 1, firm: A, set: {employees: 10}}]\n").fix(),
                   Catch::StartsWith("use one of the known keys"));
    }
    SECTION("a key written by analogy with another section says where its meaning is kept") {
        CHECK_THAT(error_of(two_firms + "employees: {count: 5}\n").fix(), Catch::StartsWith("each firm's staff is set with the firm: firms[i].employees"));
        CHECK_THAT(error_of("firms: [{name: A, count: 5}]\n").fix(), Catch::StartsWith("a firm's staff is firms[i].employees"));
        CHECK_THAT(error_of(two_firms + "name: pilot\n").fix(), Catch::StartsWith("a scenario is named by its file"));
        CHECK_THAT(error_of(two_firms + "customers: {name: pilot}\n").fix(), Catch::StartsWith("'name' is a key of firms[i], not of customers"));
    }
    SECTION("wrong type") {
        const auto e = error_of(two_firms + "customers: {count: many}\n");
        CHECK(e.where().key_path == "customers.count");
        CHECK(e.where().line == 4);
        CHECK_THAT(e.problem(), Catch::Contains("'many'"));
    }
    SECTION("a number in quotes") {
        const auto e = error_of(two_firms + "customers: {count: 100, opportunist_share: \"0.5\"}\n");
        CHECK(e.where().key_path == "customers.opportunist_share");
        CHECK_THAT(e.problem(), Catch::Contains("in quotes"));
        CHECK(e.fix() == "remove the quotes: 0.5");
        CHECK(error_of(two_firms, {"simulation.steps='20'"}).where().key_path == "simulation.steps");
        CHECK(error_of(two_firms + "customers: {opportunist_share: !!str 0.5}\n").fix() == "remove the !!str tag: 0.5");
        CHECK(error_of(two_firms + "record: {snapshot_customers: \"true\"}\n").fix() == "remove the quotes: true");
    }
    SECTION("YAML 1.1's other booleans, which other readers take as text") {
        for (const auto* word : {"y", "yes", "on", "n", "no", "off", "Yes"}) {
            const auto e = error_of(two_firms + "record: {snapshot_customers: " + word + "}\n");
            CHECK(e.where().key_path == "record.snapshot_customers");
            CHECK(e.problem() == std::string("expected true or false, got ") + word);
        }
        CHECK(error_of(two_firms + "record: {snapshot_customers: off}\n").fix() == "write false");
        CHECK(load_scenario_text(two_firms + "record: {snapshot_customers: True}\n", "t.yaml").spec.record.snapshot_customers);
    }
    SECTION("a whole number too large to be read exactly") {
        const auto e = error_of(two_firms + "simulation: {seed: 9007199254740993}\n");
        CHECK(e.where().key_path == "simulation.seed");
        CHECK_THAT(e.problem(), Catch::Contains("cannot be read exactly"));
        CHECK(load_scenario_text(two_firms + "simulation: {seed: 9007199254740992}\n", "t.yaml").spec.simulation.seed == 9007199254740992);
    }
    SECTION("an error in a mapping --set created is the --set's") {
        const auto e = error_of(two_firms, {"customers.honesty.a=3"});
        CHECK(e.where().file == "--set customers.honesty.a");
        CHECK(e.where().key_path == "customers.honesty");
    }
    SECTION("out of range") {
        const auto e = error_of("firms:\n  - name: A\n    trust_first: 2\n");
        CHECK(e.where().key_path == "firms[0].trust_first");
        CHECK(e.where().line == 3);
        CHECK_THAT(e.fix(), Catch::Contains("between 0 and 1"));
        // A key without a stated upper bound says its bound when a value passes it.
        CHECK(error_of(two_firms + "behaviour: {loyalty_beta: 1e307}\n").fix() == "use a value between 0 and 1e+300");
        CHECK(error_of(two_firms + "behaviour: {loyalty_beta: -1}\n").fix() == "use a value at least 0");
        // Beta shapes so small that a draw can be 0/0 are refused.
        CHECK(error_of(two_firms + "customers: {honesty: {dist: beta, a: 0.001, b: 1}}\n").fix() == "use a value between 0.05 and 1e+06");
        // Money is bounded far below where a run's totals would overflow.
        CHECK(error_of("firms:\n  - name: A\n    price: 1e300\n").fix() == "use a value between 0 and 1e+12");
    }
    SECTION("not finite") {
        CHECK(error_of(two_firms + "behaviour: {trust_lambda: .nan}\n").where().key_path == "behaviour.trust_lambda");
        CHECK(error_of(two_firms + "behaviour: {trust_lambda: .inf}\n").where().key_path == "behaviour.trust_lambda");
    }
    SECTION("fraction where a whole number is needed") {
        CHECK_THAT(error_of(two_firms + "simulation: {steps: 10.5}\n").problem(), Catch::Contains("whole number"));
    }
    SECTION("duplicate key") {
        const auto e = error_of(two_firms + "simulation:\n  steps: 10\n  steps: 20\n");
        CHECK(e.where().line == 6);
        CHECK_THAT(e.problem(), Catch::Contains("twice"));
    }
    SECTION("missing required fields") {
        CHECK(error_of("simulation: {steps: 10}\n").where().key_path == "firms");
        CHECK(error_of("firms:\n  - employees: 3\n").where().key_path == "firms[0].name");
        CHECK(error_of(two_firms + "events:\n  - {type: policy, firm: A, set: {triggers: 0.1}}\n").where().key_path == "events[0].step");
    }
    SECTION("an event naming a firm that does not exist") {
        const auto e = error_of(two_firms + "events:\n  - {type: breach, step: 3, firm: C}\n");
        CHECK(e.where().key_path == "events[0].firm");
        CHECK(e.where().line == 5);
        CHECK_THAT(e.problem(), Catch::Contains("'C'"));
        const auto copied = error_of("firms: [{name: A, copies: 2}, {name: B}]\nevents:\n  - {type: breach, step: 3, firm: A}\n");
        CHECK_THAT(copied.fix(), Catch::Contains("A-1, A-2"));
        const auto lookalike = error_of("firms: [{name: A-1st}, {name: B}]\nevents:\n  - {type: breach, step: 3, firm: A}\n");
        CHECK_THAT(lookalike.fix(), !Catch::Contains("has copies"));
    }
    SECTION("an event after the last step") {
        CHECK_THAT(error_of(two_firms + "simulation: {steps: 10}\nevents:\n  - {type: breach, step: 10, firm: A}\n").problem(),
                   Catch::Contains("never happens"));
    }
    SECTION("a key that does not belong to the event type") {
        CHECK_THAT(error_of(two_firms + "events:\n  - {type: breach, step: 3, firm: A, media: 0.1}\n").problem(), Catch::Contains("unknown key 'media'"));
    }
    SECTION("a policy event setting something that is not a policy") {
        CHECK(error_of(two_firms + "events:\n  - {type: policy, step: 3, firm: A, set: {employees: 5}}\n").where().key_path == "events[0].set.employees");
    }
    SECTION("duplicate firm names") {
        CHECK_THAT(error_of("firms:\n  - name: A\n  - name: A\n").problem(), Catch::Contains("two firms are named 'A'"));
    }
    SECTION("network settings that do not fit the type") {
        CHECK_THAT(error_of(two_firms + "network: {type: erdos_renyi, rewire: 0.1}\n").problem(), Catch::Contains("does not apply"));
        CHECK_THAT(error_of(two_firms + "network: {type: barabasi_albert, mean_degree: 3}\n").problem(), Catch::Contains("even"));
        // An even degree needs 3 customers: the message says so rather than asking for a degree between 1 and 1.
        CHECK(error_of(two_firms + "customers: {count: 2}\nnetwork: {type: watts_strogatz, mean_degree: 2}\n").problem() ==
              "this network needs at least 3 customers");
        CHECK_THAT(error_of(two_firms + "network: {type: smallworld}\n").fix(), Catch::Contains("allowed values: none, well_mixed"));
        CHECK(error_of(two_firms + "network: {type: edge_list}\n").where().key_path == "network.file");
        // A type changed by --set leaves the file's mean degree behind: the fix says how to replace the section.
        const std::string file_degree = two_firms + "network: {type: erdos_renyi, mean_degree: 4}\n";
        CHECK_THAT(error_of(file_degree, {"network.type=none"}).fix(), Catch::Contains("--set \"network={type: none}\""));
        CHECK_THAT(error_of(two_firms + "network: {type: none, mean_degree: 4}\n").fix(), !Catch::Contains("--set"));
        CHECK(load_scenario_text(file_degree, "o.yaml", {"network={type: none}"}).spec.network.kind == NetworkSpec::Kind::none);
    }
    SECTION("bad distributions") {
        CHECK(error_of(two_firms + "customers: {honesty: {dist: beta, a: 0, b: 1}}\n").where().key_path == "customers.honesty.a");
        CHECK_THAT(error_of(two_firms + "customers: {honesty: {dist: uniform, low: 0.9, high: 0.1}}\n").problem(), Catch::Contains("high < low"));
        CHECK_THAT(error_of(two_firms + "customers: {honesty: {dist: gamma}}\n").fix(), Catch::Contains("beta"));
        CHECK(error_of(two_firms + "customers: {honesty: 1.5}\n").where().key_path == "customers.honesty");
        // The kind under another tool's name, or not given at all.
        const auto named_type = error_of(two_firms + "customers: {honesty: {type: beta, a: 2, b: 2}}\n");
        CHECK(named_type.where().key_path == "customers.honesty.type");
        CHECK(named_type.fix() == "write dist: beta");
        const auto no_kind = error_of(two_firms + "customers: {honesty: {a: 2, b: 2}}\n");
        CHECK(no_kind.where().key_path == "customers.honesty");
        CHECK_THAT(no_kind.problem(), Catch::Contains("does not say its kind"));
    }
    SECTION("YAML syntax errors give the position") {
        const auto e = error_of("firms:\n  - name: [A\n");
        CHECK(e.where().line >= 2);
        CHECK_THAT(e.problem(), Catch::Contains("YAML syntax error"));
        CHECK_THAT(e.fix(), !Catch::Contains("quote keys"));
        const auto bracketed = error_of(two_firms + "sweep:\n  points:\n    - {firms[0].trust_first: 0.9}\n");
        CHECK(bracketed.where().line == 6);
        CHECK_THAT(bracketed.fix(), Catch::Contains("{'firms[0].trust_first': 0.9}"));
        // A flow list of firms is no bracketed key: a mis-indented line gets the general advice.
        CHECK_THAT(error_of("simulation:\n  steps: 50\n firms: [{name: A}]\n").fix(), Catch::StartsWith("fix the syntax at this position (indentation"));
        const auto tab = error_of("simulation:\n\tsteps: 50\nfirms: [{name: A}]\n");
        CHECK_THAT(tab.fix(), Catch::Contains("line 2 is indented with a tab"));
    }
    SECTION("empty files and non-mappings") {
        CHECK_THAT(error_of("").problem(), Catch::Contains("empty"));
        CHECK_THAT(error_of("# only a comment\n").problem(), Catch::Contains("mapping"));
        CHECK_THAT(error_of("- a\n- b\n").problem(), Catch::Contains("mapping"));
        CHECK_THAT(error_of(std::string("\x01\x02\xff\xfe garbage")).problem(), Catch::Contains("mapping") || Catch::Contains("YAML"));
    }
}

TEST_CASE("scenario files and edge lists are read from disk") {
    const testing::TempDir temp;
    const auto& dir = temp.path;
    std::ofstream(dir / "edges.txt") << "# a triangle and a duplicate\n0 1\n1 2\n2 0\n\n1 0\n";
    std::ofstream(dir / "net.yaml") << two_firms << "customers: {count: 3}\nnetwork: {type: edge_list, file: edges.txt}\n";
    const auto loaded = load_scenario_file((dir / "net.yaml").string());
    REQUIRE(loaded.spec.network.edges);
    CHECK(loaded.spec.network.edges->size() == 4);
    CHECK(std::filesystem::path(loaded.spec.network.file).is_absolute());

    const auto edge_error = [&](const std::string& content) {
        std::ofstream(dir / "bad.txt") << content;
        try {
            read_edge_list((dir / "bad.txt").string(), 3);
        } catch (const UserError& e) {
            return e;
        }
        FAIL("edge list accepted: " << content);
        throw std::logic_error("unreachable");
    };
    CHECK(edge_error("0 1\n0 x\n").where().line == 2);
    CHECK_THAT(edge_error("0 3\n").problem(), Catch::Contains("out of range"));
    CHECK_THAT(edge_error("1 1\n").problem(), Catch::Contains("self-loop"));
    CHECK_THAT(edge_error("0 1 2\n").fix(), Catch::Contains("exactly two"));
    CHECK_THROWS_AS(read_edge_list((dir / "missing.txt").string(), 3), UserError);
    // An empty path, or a folder, is refused at the scenario's network.file (it read as no network at all).
    const auto network_error = [&](const std::string& file) {
        std::ofstream(dir / "path.yaml") << two_firms << "customers: {count: 3}\nnetwork: {type: edge_list, file: " << file << "}\n";
        try {
            load_scenario_file((dir / "path.yaml").string());
        } catch (const UserError& e) {
            return e;
        }
        FAIL("accepted network.file: " << file);
        throw std::logic_error("unreachable");
    };
    CHECK_THAT(network_error("''").problem(), Catch::Contains("path is empty"));
    const auto folder = network_error(".");
    CHECK(folder.where().key_path == "network.file");
    CHECK(folder.where().line == 5);
    CHECK_THAT(folder.problem(), Catch::Contains("is a folder"));
    // A missing edge list is named at the scenario's line too, not in the file that is not there.
    const auto missing = network_error("nowhere.txt");
    CHECK(missing.where().file == (dir / "path.yaml").string());
    CHECK(missing.where().line == 5);
    CHECK_THAT(missing.problem(), Catch::Contains("no edge list at") && Catch::Contains("nowhere.txt"));
    // A list without edges (a wrong or truncated file), and a device or pipe, which a sweep's runs could not read again.
    std::ofstream(dir / "comments.txt") << "# nothing but comments\n\n";
    CHECK_THAT(network_error("comments.txt").problem(), Catch::Contains("holds no edges"));
    CHECK_THAT(network_error("comments.txt").fix(), Catch::Contains("network: {type: none}"));
    CHECK_THAT(network_error("/dev/null").problem(), Catch::Contains("not a regular file"));
    CHECK_THAT(load_error(dir / "missing.yaml").problem(), Catch::Contains("no scenario file"));
    CHECK_THAT(load_error(dir).problem(), Catch::Contains("a folder, not a scenario file"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("a scenario is read from a pipe, up to the size limit") {
    const auto read_from = [](const std::string& command) {
        const auto pipe = std::filesystem::temp_directory_path() / ("trustsim_fifo_" + std::to_string(::getpid()));
        REQUIRE(::mkfifo(pipe.c_str(), 0600) == 0);
        std::thread writer([&] { std::system((command + " > " + pipe.string()).c_str()); });
        std::optional<LoadedScenario> loaded;
        std::optional<UserError> error;
        try {
            loaded = load_scenario_file(pipe.string());
        } catch (const UserError& e) {
            error = e;
        }
        writer.join();  // a writer cut off by the reader's close ends with SIGPIPE
        std::filesystem::remove(pipe);
        return std::pair(loaded, error);
    };
    const auto [scenario, none] = read_from("printf 'firms: [{name: A}]\\ncustomers: {count: 30}\\n'");
    REQUIRE(scenario);
    CHECK(scenario->spec.customers.count == 30);
    const auto [nothing, too_large] = read_from("head -c 20000000 /dev/zero");
    REQUIRE(too_large);
    CHECK_THAT(too_large->problem(), Catch::Contains("larger than 16 MiB"));
}

TEST_CASE("every scenario in the catalogue is valid") {
    const char* source = std::getenv("TRUSTSIM_SOURCE_DIR");
    REQUIRE(source != nullptr);
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(source) / "scenarios")) {
        if (entry.path().extension() != ".yaml") continue;
        INFO(entry.path());
        const auto loaded = load_scenario_file(entry.path().string());
        CHECK(load_scenario_text(loaded.resolved_yaml, "resolved").resolved_yaml == loaded.resolved_yaml);
        ++count;
    }
    CHECK(count >= 12);
}

TEST_CASE("hostile YAML is refused quickly") {
    // An alias bomb: 9^12 nodes if expanded.
    std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'm'; ++c) {
        bomb += std::string(1, c) + ": &" + c + " [";
        for (int i = 0; i < 9; ++i) bomb += std::string(i ? ", " : "") + "*" + static_cast<char>(c - 1);
        bomb += "]\n";
    }
    CHECK_THAT(error_of(bomb + two_firms).problem(), Catch::Contains("aliases"));
    CHECK_THAT(error_of("firms: " + std::string(100000, '[')).problem(), Catch::Contains("YAML"));
    CHECK_THAT(error_of(two_firms + "---\n" + two_firms).problem(), Catch::Contains("more than one YAML document"));
    // A small anchor reused is fine.
    CHECK(load_scenario_text("firms:\n  - &f {name: A, trust_first: 0.5}\n  - {name: B}\n", "anchors.yaml").spec.firms.size() == 2);
}

TEST_CASE("a population that cannot fit in memory is refused up front with the estimate") {
    const auto loaded = load_scenario_text(two_firms + "customers: {count: 2000000000}\nnetwork: {type: erdos_renyi, mean_degree: 1000}\n", "huge.yaml");
    try {
        check_fits_in_memory(loaded, 1);
        FAIL("accepted");
    } catch (const UserError& e) {
        CHECK(e.where().key_path == "customers.count");
        CHECK_THAT(e.problem(), Catch::Contains("GiB"));
    }
    CHECK_NOTHROW(check_fits_in_memory(load_scenario_text(two_firms, "small.yaml"), 1));

    // Each thread's word of mouth holds its batch of listeners' contacts: about 41 MB at 10,000 drawn each,
    // so a small well-mixed market fits on one thread and not on 4,096 (168 GB), a run's or a sweep's.
    const auto crowded = load_scenario_text(two_firms + "customers: {count: 20000}\nnetwork: {type: well_mixed, mean_degree: 10000}\n", "crowded.yaml");
    CHECK(Simulation::estimated_memory(crowded.spec).per_thread == Approx(256.0 * 10000 * 16));
    CHECK_NOTHROW(check_fits_in_memory(crowded, 1));
    try {
        check_fits_in_memory(crowded, 4096);
        FAIL("4,096 threads' scratch accepted");
    } catch (const UserError& e) {
        CHECK_THAT(e.fix(), Catch::StartsWith("use fewer threads (--threads"));  // not the population, which is small
    }
    CHECK_NOTHROW(check_sweep_fits_in_memory(crowded, 1, 1));
    // An edge list's batch with a hub of every other customer: its contacts, not the mean degree's.
    const testing::TempDir temp;
    const auto star_path = temp.path / "star_edges.txt";
    {
        std::ofstream star(star_path);
        for (int k = 1; k < 20000; ++k) star << "0 " << k << "\n";
    }
    const auto star = load_scenario_text(two_firms + "customers: {count: 20000}\nnetwork: {type: edge_list, file: " + star_path.string() + "}\n", "star.yaml");
    CHECK(Simulation::estimated_memory(star.spec).per_thread >= (19999 + 255) * 12.0);
    CHECK_THROWS_AS(check_sweep_fits_in_memory(crowded, 1, 4096), UserError);
}

TEST_CASE("inputs the fuzzer found are handled: they load or raise a UserError") {
    const char* source = std::getenv("TRUSTSIM_SOURCE_DIR");
    REQUIRE(source != nullptr);
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(source) / "tests" / "fuzz" / "regressions")) {
        if (entry.path().filename() == ".keep") continue;
        INFO(entry.path());
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        try {
            load_scenario_text(text, entry.path().string());
        } catch (const UserError&) {
        }
    }
}
