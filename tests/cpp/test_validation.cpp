// The engine against closed forms: the Bass (1969) diffusion of a scandal in a well-mixed population, and
// the exact expected recursions of the perception means in a homogeneous market.
#include <catch2/catch.hpp>

#include <cmath>

#include "support.hpp"

using namespace trustsim;
using namespace trustsim::testing;

TEST_CASE("a scandal's aware share follows the discrete-time Bass recursion in a well-mixed population") {
    const double p = 0.03, q = 0.38;
    auto spec = small_spec(1, 100000, 40);
    spec.network.kind = NetworkSpec::Kind::well_mixed;
    spec.network.mean_degree = 10;
    spec.events.push_back(scandal_event(0, 0, 40, p, q));
    const auto run = run_steps(spec, 2);
    // F(t+1) = F(t) + (p + q F(t)) (1 - F(t)), F(0) = 0; the metric of step s is F(s + 1).
    double expected = 0, largest_gap = 0;
    for (const auto& m : run) {
        expected += (p + q * expected) * (1 - expected);
        largest_gap = std::max(largest_gap, std::abs(m.at(0, Metric::scandal_awareness) - expected));
    }
    INFO("largest gap to the Bass recursion: " << largest_gap);
    CHECK(largest_gap < 0.02);
    CHECK(run.back().at(0, Metric::scandal_awareness) > 0.99);  // the curve ran its course
}

TEST_CASE("in a homogeneous market the means of C, R, I and S follow their exact expected recursions") {
    // One firm, no network, constant policy, identical customers and employees, and a purchase probability
    // that does not depend on trust (purchase_beta = 0: logistic(0) = 1/2). Each customer then interacts with
    // probability a = visit_rate / 2 per step and receives signals with fixed means, so each component's
    // population mean follows X(t+1) = X(t) + a eta (x* - X(t)) exactly in expectation.
    constexpr std::int64_t customers = 100000;
    auto spec = small_spec(1, customers, 40);
    spec.network.kind = NetworkSpec::Kind::none;
    spec.behaviour.purchase_beta = 0;
    spec.customers.opportunist_share = 0;
    spec.customers.dispositions = {Distribution{Distribution::Kind::constant, 0.5, 0}, Distribution{Distribution::Kind::constant, 0.9, 0},
                                   Distribution{Distribution::Kind::constant, 0.5, 0}};
    const double honesty = 0.8;  // employees: reciprocity 0, so q_e = honesty whatever their trust
    spec.employees.dispositions = {Distribution{Distribution::Kind::constant, 0.5, 0}, Distribution{Distribution::Kind::constant, honesty, 0},
                                   Distribution{Distribution::Kind::constant, 0, 0}};
    auto& firm = spec.firms[0];
    firm.control_customers = 0.3;
    firm.trust_first = 0.4;
    firm.sales_pressure = 0.5;
    firm.triggers = 0;
    const auto& b = spec.behaviour;
    const double a = spec.customers.visit_rate * 0.5;
    const double kc = firm.control_customers, phi = firm.trust_first, sigma = firm.sales_pressure;
    const double targets[4] = {
        firm.competence * honesty,                                       // C: c if delivered
        honesty,                                                         // R: delivered
        (1 - kc) * phi + 0.5 * (1 - kc) * (1 - phi),                     // I: 1 trusted first, 0 checked, 1/2 otherwise
        1 - (1 - kc) * (1 - sigma * (1 - honesty)),                      // S: checked or oversold
    };
    const double rates[4] = {b.rate_credibility, b.rate_reliability, b.rate_intimacy, b.rate_self_orientation};
    const Perception start = initial_perception(0.5f);
    double expected[4] = {start.credibility, start.reliability, start.intimacy, start.self_orientation};

    Simulation simulation(spec, Context{2});
    int compared = 0;
    for (std::int64_t step = 1; step <= spec.simulation.steps; ++step) {
        simulation.step();
        for (int c = 0; c < 4; ++c) expected[c] += a * rates[c] * (targets[c] - expected[c]);
        if (step % 10 != 0) continue;
        const auto snapshot = simulation.snapshot(true, false);
        for (int c = 0; c < 4; ++c) {
            double sum = 0, squares = 0;
            for (std::int64_t k = 0; k < customers; ++k) {
                const double x = snapshot.customers.perception[static_cast<std::size_t>(k * 4 + c)];
                sum += x;
                squares += x * x;
            }
            const double mean = sum / customers;
            const double standard_error = std::sqrt((squares / customers - mean * mean) / customers);
            INFO("step " << step << ", component " << "CRIS"[c] << ": simulated " << mean << ", expected " << expected[c] << ", SE "
                         << standard_error);
            CHECK(std::abs(mean - expected[c]) < 3 * standard_error);
            ++compared;
        }
    }
    CHECK(compared == 16);
}
