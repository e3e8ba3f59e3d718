// Each mechanism of the model, tested where its outcome is certain or has a known expectation.
#include <catch2/catch.hpp>

#include <cmath>

#include "support.hpp"
#include "trustsim/network.hpp"

using namespace trustsim;
using namespace trustsim::testing;

TEST_CASE("customers and shares add up, and accounts follow their identities") {
    const auto spec = small_spec(3);
    for (const auto& m : run_steps(spec)) {
        double customers = 0, share = 0;
        for (int f = 0; f < 3; ++f) {
            customers += m.at(f, Metric::customers);
            share += m.at(f, Metric::share);
            const auto& firm = spec.firms[static_cast<std::size_t>(f)];
            CHECK(m.at(f, Metric::revenue) == Approx(firm.price * (m.at(f, Metric::purchases) + firm.oversell_markup * m.at(f, Metric::oversold))));
            CHECK(m.at(f, Metric::fraud_loss) == Approx(firm.fraud_loss * (m.at(f, Metric::fraud_attempts) - m.at(f, Metric::fraud_detected))));
            CHECK(m.at(f, Metric::costs) == Approx(firm.check_cost * m.at(f, Metric::checks) + m.at(f, Metric::fraud_loss) +
                                                   firm.hire_cost * m.at(f, Metric::quits) + firm.trigger_cost * m.at(f, Metric::triggers)));
            CHECK(m.at(f, Metric::profit) == Approx(firm.margin * m.at(f, Metric::revenue) - m.at(f, Metric::costs)));
            CHECK(m.at(f, Metric::active) == m.at(f, Metric::purchases) + m.at(f, Metric::lost_sales));
            CHECK(m.at(f, Metric::fraud_detected) <= m.at(f, Metric::checks));
        }
        CHECK(customers == spec.customers.count);
        CHECK(share == Approx(1.0));
    }
}

TEST_CASE("visit rate 0: nobody is active, nothing is bought") {
    auto spec = small_spec();
    spec.customers.visit_rate = 0;
    const auto run = run_steps(spec);
    for (int f = 0; f < 2; ++f) {
        CHECK(total(run, f, Metric::active) == 0);
        CHECK(total(run, f, Metric::purchases) == 0);
        CHECK(total(run, f, Metric::churn_out) == 0);
    }
}

TEST_CASE("checking everyone: every buyer is checked, every fraud caught, intimacy falls to 0 and S rises to 1") {
    auto spec = small_spec(1, 2000, 60);
    spec.firms[0].control_customers = 1;
    spec.customers.opportunist_share = 0.3;
    const auto run = run_steps(spec);
    for (const auto& m : run) {
        CHECK(m.at(0, Metric::checks) == m.at(0, Metric::purchases));
        CHECK(m.at(0, Metric::fraud_detected) == m.at(0, Metric::fraud_attempts));
        CHECK(m.at(0, Metric::fraud_loss) == 0);
    }
    CHECK(run.back().at(0, Metric::intimacy) < 0.1);
    CHECK(run.back().at(0, Metric::self_orientation) > 0.9);
}

TEST_CASE("trusting everyone first drives intimacy toward 1; opportunists always act in bad faith") {
    auto spec = small_spec(1, 2000, 60);
    spec.firms[0].control_customers = 0;
    spec.firms[0].trust_first = 1;
    spec.customers.opportunist_share = 1;
    const auto run = run_steps(spec);
    CHECK(run.back().at(0, Metric::intimacy) > 0.9);
    for (const auto& m : run) CHECK(m.at(0, Metric::fraud_attempts) == m.at(0, Metric::purchases));
    CHECK(total(run, 0, Metric::checks) == 0);
}

TEST_CASE("fully honest customers never act in bad faith") {
    auto spec = small_spec();
    spec.customers.opportunist_share = 0;
    spec.customers.dispositions.honesty = {Distribution::Kind::constant, 1, 0};
    spec.customers.dispositions.reciprocity = {Distribution::Kind::constant, 0, 0};
    for (const auto& m : run_steps(spec)) CHECK(m.at(0, Metric::fraud_attempts) + m.at(1, Metric::fraud_attempts) == 0);
}

TEST_CASE("crowding-out: checks lower good faith of reciprocal customers (expected rate h = honesty + rho (I - 1/2))") {
    // Constant dispositions make the good-faith probability known: h = 0.8 + 0.4 (I - 0.5).
    auto spec = small_spec(1, 20000, 40);
    spec.customers.opportunist_share = 0;
    spec.customers.dispositions.honesty = {Distribution::Kind::constant, 0.8, 0};
    spec.customers.dispositions.reciprocity = {Distribution::Kind::constant, 0.4, 0};
    spec.firms[0].control_customers = 1;
    const auto controlled = run_steps(spec);
    spec.firms[0].control_customers = 0;
    spec.firms[0].trust_first = 1;
    const auto trusted = run_steps(spec);
    const auto bad_faith_rate = [](const std::vector<StepMetrics>& r) {
        return total(r, 0, Metric::fraud_attempts, 30) / total(r, 0, Metric::purchases, 30);
    };
    // Long run: I -> 0 under full control (h -> 0.6), I -> 1 when always trusted first (h -> 1).
    CHECK(bad_faith_rate(controlled) == Approx(0.4).margin(0.03));
    CHECK(bad_faith_rate(trusted) == Approx(0.0).margin(0.03));
}

TEST_CASE("triggers go to every active customer when tau = 1, none when 0") {
    auto spec = small_spec();
    spec.firms[0].triggers = 1;
    spec.firms[1].triggers = 0;
    for (const auto& m : run_steps(spec)) {
        CHECK(m.at(0, Metric::triggers) == m.at(0, Metric::active));
        CHECK(m.at(1, Metric::triggers) == 0);
    }
}

TEST_CASE("no sales pressure, no overselling") {
    auto spec = small_spec();
    spec.firms[0].sales_pressure = 0;
    CHECK(total(run_steps(spec), 0, Metric::oversold) == 0);
}

TEST_CASE("employees: quit_base 1 replaces every employee every step; control of staff lowers their trust") {
    auto spec = small_spec(2, 500, 40);
    spec.behaviour.quit_base = 1;
    for (const auto& m : run_steps(spec)) CHECK(m.at(0, Metric::quits) == spec.firms[0].employees);
    spec = small_spec(2, 500, 40);
    spec.firms[0].control_employees = 0.9;
    spec.firms[1].control_employees = 0;
    const auto run = run_steps(spec);
    CHECK(run.back().at(0, Metric::employee_trust) < run.back().at(1, Metric::employee_trust) - 0.2);
    CHECK(run.back().at(0, Metric::employee_trustworthiness) < run.back().at(1, Metric::employee_trustworthiness));
}

TEST_CASE("perfect loyalty: nobody churns") {
    auto spec = small_spec(3);
    spec.behaviour.loyalty_beta = 1000;
    spec.behaviour.loyalty_threshold = 0;
    const auto run = run_steps(spec);
    for (int f = 0; f < 3; ++f) CHECK(total(run, f, Metric::churn_out) == 0);
}

TEST_CASE("a policy event changes the firm's policy from its step on") {
    auto spec = small_spec(1, 500, 20);
    Event e;
    e.kind = Event::Kind::policy;
    e.step = 10;
    e.changes = {{&FirmSpec::control_customers, 0.75}};
    spec.events = {e};
    const auto run = run_steps(spec);
    CHECK(run[9].at(0, Metric::control_customers) == Approx(spec.firms[0].control_customers));
    CHECK(run[10].at(0, Metric::control_customers) == Approx(0.75));
    CHECK(run[19].at(0, Metric::control_customers) == Approx(0.75));
}

TEST_CASE("adaptive control at its defaults reacts to opportunists, not to honest customers' lapses") {
    // Over 5 seeds: mean kappa_C over 60 steps of 5,000 customers, with none and with 15% opportunists.
    const auto mean_control = [](double opportunists, std::uint64_t seed) {
        auto spec = small_spec(1, 5000, 60);
        spec.simulation.seed = static_cast<std::int64_t>(seed);
        spec.customers.opportunist_share = opportunists;
        spec.firms[0].adaptive_control.enabled = true;
        return total(run_steps(spec), 0, Metric::control_customers) / 60;
    };
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        CHECK(mean_control(0.0, seed) < 0.02);  // an all-honest market loses 0.08 per unit revenue, under the threshold of 0.1
        CHECK(mean_control(0.15, seed) > 0.3);  // 15% opportunists: 0.2
    }
}

TEST_CASE("a policy event switches adaptive control on and off") {
    auto spec = small_spec(1, 2000, 30);
    spec.customers.opportunist_share = 0.5;  // fraud far above the threshold while it is on
    Event on, off;
    on.kind = off.kind = Event::Kind::policy;
    on.step = 10;
    on.changes = {{Field<AdaptiveControl>::Member(&AdaptiveControl::enabled), 1}, {Field<AdaptiveControl>::Member(&AdaptiveControl::threshold), 0.0}};
    off.step = 20;
    off.changes = {{Field<AdaptiveControl>::Member(&AdaptiveControl::enabled), 0}};
    spec.events = {on, off};
    const auto run = run_steps(spec);
    const auto kappa = [&](int step) { return run[static_cast<std::size_t>(step)].at(0, Metric::control_customers); };
    CHECK(kappa(10) == Approx(spec.firms[0].control_customers));  // the new kappa applies from the next step
    CHECK(kappa(11) == Approx(spec.firms[0].control_customers + spec.firms[0].adaptive_control.raise));
    CHECK(kappa(20) > kappa(11));
    CHECK(kappa(29) == kappa(21));  // off: kappa stays where adaptive control left it
}

TEST_CASE("an event that shortens adaptive control's window drops every step outside it at once") {
    // Fraud in the first steps raises kappa to 1 by step 4; then everyone is checked and nothing is lost.
    auto spec = small_spec(1, 2000, 14);
    spec.customers.opportunist_share = 0.5;
    auto& adaptive = spec.firms[0].adaptive_control;
    adaptive = {true, 20, 0.0, 0.25, 0.5, 0.0, 1.0};
    const auto kappa_at = [&](const ModelSpec& s, int step) { return run_steps(s)[static_cast<std::size_t>(step)].at(0, Metric::control_customers); };
    CHECK(kappa_at(spec, 11) == 1.0);  // the 20-step window still holds the early losses
    Event shorten;
    shorten.kind = Event::Kind::policy;
    shorten.step = 10;
    shorten.changes = {{Field<AdaptiveControl>::Member(&AdaptiveControl::window), 1}};
    spec.events = {shorten};
    CHECK(kappa_at(spec, 10) == 1.0);
    CHECK(kappa_at(spec, 11) == 0.5);  // step 10 alone, without losses: kappa relaxes
}

TEST_CASE("a breach cuts its customers' reliability at once, and word of mouth spreads it") {
    auto spec = small_spec(2, 4000, 12);
    spec.customers.visit_rate = 0;  // no interactions: only the breach and word of mouth move perceptions
    spec.network.kind = NetworkSpec::Kind::none;
    Event e;
    e.kind = Event::Kind::breach;
    e.step = 10;
    e.size = 0.5;
    spec.events = {e};
    auto run = run_steps(spec);
    CHECK(run[10].at(0, Metric::reliability) == Approx(0.5 * run[9].at(0, Metric::reliability)).epsilon(1e-6));
    CHECK(run[10].at(1, Metric::reliability) == Approx(run[9].at(1, Metric::reliability)));

    spec.network.kind = NetworkSpec::Kind::well_mixed;
    run = run_steps(spec);
    CHECK(run[10].at(0, Metric::reliability) < 0.5 * run[9].at(0, Metric::reliability));
    CHECK(run[10].at(0, Metric::wom_negative) > 0);
    CHECK(total(run, 0, Metric::wom_negative) == run[10].at(0, Metric::wom_negative));
    CHECK(total(run, 1, Metric::wom_negative) == 0);
}

TEST_CASE("adaptive control: widespread fraud raises checks to the ceiling") {
    auto spec = small_spec(1, 2000, 30);
    spec.customers.opportunist_share = 1;
    auto& adaptive = spec.firms[0].adaptive_control;
    adaptive.enabled = true;
    adaptive.ceiling = 0.8;
    const auto run = run_steps(spec);
    CHECK(run[1].at(0, Metric::control_customers) > run[0].at(0, Metric::control_customers));
    CHECK(run.back().at(0, Metric::control_customers) == Approx(0.8));
}

TEST_CASE("adaptive control relaxes to its floor without fraud") {
    auto spec = small_spec(1, 1000, 30);
    spec.customers.opportunist_share = 0;
    spec.customers.dispositions.honesty = {Distribution::Kind::constant, 1, 0};
    spec.firms[0].control_customers = 0.5;
    auto& adaptive = spec.firms[0].adaptive_control;
    adaptive.enabled = true;
    adaptive.relax = 0.05;
    adaptive.floor = 0.2;
    CHECK(run_steps(spec).back().at(0, Metric::control_customers) == Approx(0.2));
}

TEST_CASE("a scandal with media reach 1 makes everyone aware in its first step") {
    auto spec = small_spec(2, 1000, 5);
    spec.network.kind = NetworkSpec::Kind::none;
    spec.events = {scandal_event(2, 1, 1, 1.0)};
    const auto run = run_steps(spec);
    CHECK(run[1].at(1, Metric::scandal_awareness) == 0);
    CHECK(run[2].at(1, Metric::scandal_awareness) == 1);
    CHECK(run[2].at(0, Metric::scandal_awareness) == 0);
}

TEST_CASE("a scandal spreads by the aware share of contacts, or per aware contact (independent cascade)") {
    // Erdos-Renyi, mean degree 10; media p = 0.1, contagion 1. Step 2: media alone, F0 = 0.1. Step 3: with the
    // share, F1 = F0 + (1 - F0)(p + 1 x F0) = 0.28; per contact, a customer is still unaware only if the media
    // missed it twice and no contact was aware: F1 = 1 - (1 - F0)(1 - p) E[(1 - F0)^D], about 0.70 for
    // D ~ Poisson(10), and computed below from this network's degrees. Binomial SE with 20,000 customers about
    // 0.0035: tolerances of 0.03 against the approximation and 0.012 against the network's own expectation.
    auto spec = small_spec(1, 20000, 4);
    spec.network.kind = NetworkSpec::Kind::erdos_renyi;
    spec.events = {scandal_event(2, 0, 2, 0.1, 1.0)};
    const auto aware = [&](bool per_contact) {
        spec.events[0].per_contact = per_contact;
        const auto run = run_steps(spec);
        return std::pair{run[2].at(0, Metric::scandal_awareness), run[3].at(0, Metric::scandal_awareness)};
    };
    const auto [share_first, share_second] = aware(false);
    const auto [contact_first, contact_second] = aware(true);
    CHECK(share_first == Approx(0.1).margin(0.01));
    CHECK(contact_first == share_first);  // the same media draws
    CHECK(share_second == Approx(0.28).margin(0.03));
    CHECK(contact_second == Approx(1 - 0.9 * 0.9 * std::exp(-1.0)).margin(0.03));
    const Simulation market(spec, Context{1});
    double expected = 0;
    for (std::int64_t j = 0; j < market.network().nodes(); ++j)
        expected += 1 - (1 - contact_first) * 0.9 * std::pow(1 - contact_first, static_cast<double>(market.network().degree(j)));
    CHECK(contact_second == Approx(expected / static_cast<double>(market.network().nodes())).margin(0.012));
}

TEST_CASE("without a network there is no word of mouth") {
    auto spec = small_spec();
    spec.network.kind = NetworkSpec::Kind::none;
    const auto run = run_steps(spec);
    CHECK(total(run, 0, Metric::wom_positive) + total(run, 0, Metric::wom_negative) == 0);
}

TEST_CASE("the simulation builds the network the spec asks for") {
    auto spec = small_spec(1, 3000, 1);
    spec.network.kind = NetworkSpec::Kind::erdos_renyi;
    spec.network.mean_degree = 8;
    Simulation sim(spec, Context{2});
    CHECK(static_cast<double>(sim.network().edge_ends()) / 3000 == Approx(8).margin(0.3));
}

TEST_CASE("histograms count every customer once per firm; snapshots copy the state") {
    auto spec = small_spec(2, 1500, 3);
    Simulation sim(spec, Context{2});
    const auto m = sim.step();
    const auto h = sim.histogram();
    REQUIRE(h.counts.size() == static_cast<std::size_t>(2 * h.bins));
    for (int f = 0; f < 2; ++f) {
        std::int64_t n = 0;
        for (std::int64_t b = 0; b < h.bins; ++b) n += h.counts[static_cast<std::size_t>(f * h.bins + b)];
        CHECK(n == 1500);
    }
    const auto snap = sim.snapshot(true, true);
    CHECK(snap.customers.firm.size() == 1500);
    CHECK(snap.customers.trust.size() == 3000);
    CHECK(snap.employees.trust.size() == 40);
    double own_trust = 0;
    for (std::size_t k = 0; k < 1500; ++k)
        if (snap.customers.firm[k] == 0) own_trust += snap.customers.trust[2 * k];
    CHECK(own_trust / m.at(0, Metric::customers) == Approx(m.at(0, Metric::trust)).epsilon(1e-5));
}
