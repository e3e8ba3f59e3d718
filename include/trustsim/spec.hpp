#pragma once
// ModelSpec: the complete, validated, immutable description of one run. The engine reads it and never
// writes back. Every numeric field is described once, in a field table (name, member, range, unit, doc);
// the scenario loader, the resolved-scenario writer and the format reference are all driven by those tables.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "trustsim/perception.hpp"

namespace trustsim {

// A field of a section struct T: how it is named in the scenario, where it lives, what values are allowed.
template <class T>
struct Field {
    using Member = std::variant<double T::*, std::int64_t T::*, bool T::*>;
    std::string_view name;
    Member member;
    double min;  // inclusive bounds (ignored for bool)
    double max;
    std::string_view unit;
    std::string_view doc;
};

inline constexpr double unbounded = 1e300;
// Money per purchase, check or act: far above any price, and far below where a run's totals would overflow.
inline constexpr double max_amount = 1e12;

// A distribution of a disposition over agents, on [0, 1].
struct Distribution {
    enum class Kind { beta, uniform, constant };
    Kind kind = Kind::beta;
    double a = 1.0;  // beta: alpha; uniform: low; constant: the value
    double b = 1.0;  // beta: beta; uniform: high
    double mean() const noexcept {
        switch (kind) {
            case Kind::beta: return a / (a + b);
            case Kind::uniform: return (a + b) / 2;
            case Kind::constant: return a;
        }
        return a;
    }
};

struct Dispositions {
    Distribution propensity_to_trust{Distribution::Kind::beta, 5, 5};
    Distribution honesty{Distribution::Kind::beta, 9, 1};
    Distribution reciprocity{Distribution::Kind::beta, 2, 2};
};

struct SimulationSpec {
    std::int64_t steps = 200;
    std::int64_t seed = 1;
    static constexpr Field<SimulationSpec> fields[] = {
        {"steps", &SimulationSpec::steps, 1, 1e7, "steps", "number of steps to simulate (one step = one week)"},
        {"seed", &SimulationSpec::seed, 0, 9.007199254740992e15, "", "root seed of every random draw; fixed by default, never the clock"},
    };
};

struct CustomerSpec {
    std::int64_t count = 10000;
    double opportunist_share = 0.05;
    double visit_rate = 0.5;
    Dispositions dispositions{};
    // Unset: C = R = I = pi, S = (1 - pi)/2 from each customer's propensity to trust.
    std::optional<Perception> initial_perception{};
    static constexpr Field<CustomerSpec> fields[] = {
        {"count", &CustomerSpec::count, 1, 2e9, "customers", "number of customers N"},
        {"opportunist_share", &CustomerSpec::opportunist_share, 0, 1, "share", "share of customers who are opportunists (honesty 0, reciprocity 0)"},
        {"visit_rate", &CustomerSpec::visit_rate, 0, 1, "1/step", "probability a customer is active in a step"},
    };
};

struct EmployeeSpec {
    // Reciprocity Beta(0.28, 1) (mean 0.22, many near 0) is fitted to the hidden-costs-of-control game (docs/model.md).
    Dispositions dispositions{Distribution{Distribution::Kind::beta, 5, 5}, Distribution{Distribution::Kind::beta, 6, 2},
                              Distribution{Distribution::Kind::beta, 0.28, 1}};
    std::optional<Perception> initial_perception{};
};

// Adaptive control of customers: "penalise everyone for one individual's error".
struct AdaptiveControl {
    bool enabled = false;
    std::int64_t window = 4;
    double threshold = 0.1;  // above an all-honest market's losses (0.08 at the default honesty), below 5% opportunists' (0.12)
    double raise = 0.1;
    double relax = 0.01;
    double floor = 0.0;
    double ceiling = 1.0;
    static constexpr Field<AdaptiveControl> fields[] = {
        {"enabled", &AdaptiveControl::enabled, 0, 1, "", "whether control_customers adapts to observed fraud"},
        {"window", &AdaptiveControl::window, 1, 1e6, "steps", "window over which the fraud-loss rate is measured"},
        {"threshold", &AdaptiveControl::threshold, 0, unbounded, "loss/revenue", "fraud losses per unit revenue above which controls rise"},
        {"raise", &AdaptiveControl::raise, 0, 1, "1/step", "increase of control_customers in a step over the threshold"},
        {"relax", &AdaptiveControl::relax, 0, 1, "1/step", "decrease of control_customers in a step under the threshold"},
        {"floor", &AdaptiveControl::floor, 0, 1, "", "lowest value control_customers relaxes to"},
        {"ceiling", &AdaptiveControl::ceiling, 0, 1, "", "highest value control_customers rises to"},
    };
};

struct FirmSpec {
    std::string name = "firm";
    std::int64_t employees = 50;
    // policy
    double control_customers = 0.1;   // kappa_C
    double control_employees = 0.1;   // kappa_E
    double trust_first = 0.2;         // phi
    double sales_pressure = 0.1;      // sigma
    double triggers = 0.0;            // tau
    double competence = 0.8;          // c
    double reliability_to_staff = 0.9;// r
    // economics
    double price = 10.0;
    double margin = 0.3;
    double oversell_markup = 0.5;
    double check_cost = 0.5;
    double fraud_loss = 10.0;
    double hire_cost = 20.0;
    double trigger_cost = 0.2;
    AdaptiveControl adaptive_control{};

    static constexpr Field<FirmSpec> fields[] = {
        {"employees", &FirmSpec::employees, 1, 1e8, "employees", "number of employees"},
        {"control_customers", &FirmSpec::control_customers, 0, 1, "probability", "kappa_C: probability a purchasing customer is checked"},
        {"control_employees", &FirmSpec::control_employees, 0, 1, "level", "kappa_E: control of staff (intimacy signal 1 - kappa_E)"},
        {"trust_first", &FirmSpec::trust_first, 0, 1, "probability", "phi: probability an unchecked customer is trusted first"},
        {"sales_pressure", &FirmSpec::sales_pressure, 0, 1, "level", "sigma: sales-target pressure; oversell probability sigma (1 - q_e)"},
        {"triggers", &FirmSpec::triggers, 0, 1, "probability", "tau: probability an active customer receives a trust trigger"},
        {"competence", &FirmSpec::competence, 0, 1, "", "c: credibility signal of a delivered promise"},
        {"reliability_to_staff", &FirmSpec::reliability_to_staff, 0, 1, "probability", "r: probability the firm keeps its promises to employees"},
        {"price", &FirmSpec::price, 0, max_amount, "currency", "price of one purchase"},
        {"margin", &FirmSpec::margin, 0, 1, "share", "gross margin on revenue"},
        {"oversell_markup", &FirmSpec::oversell_markup, 0, 1e6, "share", "extra revenue of an oversold purchase, as a share of price"},
        {"check_cost", &FirmSpec::check_cost, 0, max_amount, "currency", "cost of checking one customer"},
        {"fraud_loss", &FirmSpec::fraud_loss, 0, max_amount, "currency", "loss from one undetected act of bad faith"},
        {"hire_cost", &FirmSpec::hire_cost, 0, max_amount, "currency", "cost of replacing one employee who quits"},
        {"trigger_cost", &FirmSpec::trigger_cost, 0, max_amount, "currency", "cost of one trust trigger"},
    };
};

struct BehaviourSpec {
    double trust_lambda = 1.0;          // lambda in the trust equation (at most 1e6, since the engine uses it as a float)
    double rate_credibility = 0.2;      // eta_C
    double rate_reliability = 0.2;      // eta_R
    double rate_intimacy = 0.2;         // eta_I
    double rate_self_orientation = 0.2; // eta_S
    double rate_word_of_mouth = 0.05;   // eta_wom
    double loyalty_beta = 10.0;
    double loyalty_threshold = 0.3;
    double choice_beta = 5.0;
    double purchase_beta = 10.0;
    double purchase_threshold = 0.35;
    double sales_push = 0.1;            // pressure lowers the purchase threshold by sales_push x sigma
    double trigger_boost = 0.2;         // delta_trig
    double wom_positive = 0.1;          // p_pos
    double wom_negative = 0.3;          // p_neg
    double quit_trust_sensitivity = 0.05; // p_quit
    double quit_base = 0.005;           // p_quit0
    double firm_learning_rate = 0.1;    // firm's trust in customers moves toward observed good faith
    double distrust_threshold = 0.3;
    double nps_full_trust = 0.8;        // trust that maps to a score of 10: score = min(10, floor(10 T / nps_full_trust))
    static constexpr Field<BehaviourSpec> fields[] = {
        {"trust_lambda", &BehaviourSpec::trust_lambda, 0, 1e6, "", "lambda: weight of self-orientation in the trust equation"},
        {"rate_credibility", &BehaviourSpec::rate_credibility, 0, 1, "1/step", "eta_C: learning rate of credibility"},
        {"rate_reliability", &BehaviourSpec::rate_reliability, 0, 1, "1/step", "eta_R: learning rate of reliability"},
        {"rate_intimacy", &BehaviourSpec::rate_intimacy, 0, 1, "1/step", "eta_I: learning rate of intimacy"},
        {"rate_self_orientation", &BehaviourSpec::rate_self_orientation, 0, 1, "1/step", "eta_S: learning rate of self-orientation"},
        {"rate_word_of_mouth", &BehaviourSpec::rate_word_of_mouth, 0, 1, "1/message", "eta_wom: learning rate from one word-of-mouth message"},
        {"loyalty_beta", &BehaviourSpec::loyalty_beta, 0, unbounded, "", "beta_l: steepness of loyalty in trust"},
        {"loyalty_threshold", &BehaviourSpec::loyalty_threshold, 0, 1, "trust", "theta_l: trust at which staying is a coin flip"},
        {"choice_beta", &BehaviourSpec::choice_beta, 0, unbounded, "", "beta_c: steepness of firm choice in trust"},
        {"purchase_beta", &BehaviourSpec::purchase_beta, 0, unbounded, "", "beta_b: steepness of purchase in trust"},
        {"purchase_threshold", &BehaviourSpec::purchase_threshold, 0, 1, "trust", "theta_b: trust at which buying is a coin flip"},
        {"sales_push", &BehaviourSpec::sales_push, 0, 1, "trust", "how far full sales pressure lowers the purchase threshold (sales won now)"},
        {"trigger_boost", &BehaviourSpec::trigger_boost, 0, 1, "", "delta_trig: credibility gain of a trust trigger, C += delta (1 - C)"},
        {"wom_positive", &BehaviourSpec::wom_positive, 0, 1, "probability", "p_pos: probability a neighbour's positive experience is heard"},
        {"wom_negative", &BehaviourSpec::wom_negative, 0, 1, "probability", "p_neg: probability a neighbour's negative experience is heard"},
        {"quit_trust_sensitivity", &BehaviourSpec::quit_trust_sensitivity, 0, 1, "1/step", "p_quit: quit probability per unit of distrust (1 - T_e)"},
        {"quit_base", &BehaviourSpec::quit_base, 0, 1, "1/step", "p_quit0: quit probability at full trust"},
        {"firm_learning_rate", &BehaviourSpec::firm_learning_rate, 0, 1, "1/step", "rate at which a firm's trust in customers follows observed good faith"},
        {"distrust_threshold", &BehaviourSpec::distrust_threshold, 0, 1, "trust", "trust below which a customer counts as distrusting"},
        {"nps_full_trust", &BehaviourSpec::nps_full_trust, 1e-6, 1, "trust", "trust that maps to a recommendation score of 10"},
    };
};

// An undirected edge between two customers (0-based ids).
struct Edge {
    std::int32_t a, b;
};

struct NetworkSpec {
    enum class Kind { none, well_mixed, erdos_renyi, watts_strogatz, barabasi_albert, edge_list };
    Kind kind = Kind::well_mixed;
    double mean_degree = 10;  // well_mixed: contacts per step; ER/WS/BA: mean degree
    double rewire = 0.1;      // Watts-Strogatz rewiring probability
    std::string file;         // edge_list: path as written in the scenario
    std::shared_ptr<const std::vector<Edge>> edges{};  // edge_list: read and checked by the scenario loader
};

struct RecordSpec {
    std::int64_t histogram_every = 10;   // 0: never
    std::int64_t histogram_bins = 20;
    std::int64_t snapshot_every = 0;     // 0: only the last step; otherwise every k steps and the last
    bool snapshot_customers = true;
    bool snapshot_employees = true;
    static constexpr Field<RecordSpec> fields[] = {
        {"histogram_every", &RecordSpec::histogram_every, 0, 1e7, "steps", "cadence of trust histograms (0: never)"},
        {"histogram_bins", &RecordSpec::histogram_bins, 20, 1000, "bins", "bins of each trust histogram over [0, 1]"},
        {"snapshot_every", &RecordSpec::snapshot_every, 0, 1e7, "steps", "cadence of agent snapshots (0: the last step only)"},
        {"snapshot_customers", &RecordSpec::snapshot_customers, 0, 1, "", "whether snapshots include customers"},
        {"snapshot_employees", &RecordSpec::snapshot_employees, 0, 1, "", "whether snapshots include employees"},
    };
};

// A firm-policy field an event may set, or one of its adaptive control's, resolved to a typed handle when
// the scenario loads.
struct PolicyChange {
    using Target = std::variant<double FirmSpec::*, Field<AdaptiveControl>::Member>;
    Target field;
    double value;  // true and false as 1 and 0

    void apply(FirmSpec& policy) const {
        if (const auto* firm_field = std::get_if<double FirmSpec::*>(&field)) {
            policy.**firm_field = value;
            return;
        }
        std::visit([&](auto member) { policy.adaptive_control.*member = static_cast<std::remove_cvref_t<decltype(policy.adaptive_control.*member)>>(value); },
                   std::get<Field<AdaptiveControl>::Member>(field));
    }
};

struct Event {
    enum class Kind { policy, breach, scandal };
    Kind kind = Kind::policy;
    std::int64_t step = 0;
    int firm = 0;
    std::vector<PolicyChange> changes;  // policy
    double size = 0.5;                  // breach: R <- R (1 - size); scandal: C <- C (1 - size) on awareness
    std::int64_t duration = 1;          // scandal
    double media = 0.03;                // scandal: p, awareness per step through media
    double contagion = 0.38;            // scandal: q, awareness per step if every neighbour is aware
    bool per_contact = false;           // scandal: q per aware contact instead (independent cascade)
};

struct ModelSpec {
    std::string description;  // free text from the scenario, kept in the output
    SimulationSpec simulation{};
    CustomerSpec customers{};
    EmployeeSpec employees{};
    std::vector<FirmSpec> firms{};
    BehaviourSpec behaviour{};
    NetworkSpec network{};
    RecordSpec record{};
    std::vector<Event> events{};  // sorted by step, stable in file order

    std::vector<std::string> firm_names() const {
        std::vector<std::string> names;
        for (const auto& f : firms) names.push_back(f.name);
        return names;
    }
};

}  // namespace trustsim
