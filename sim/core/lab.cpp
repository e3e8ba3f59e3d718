#include "trustsim/lab.hpp"

#include <cmath>
#include <vector>

#include "trustsim/dispositions.hpp"
#include "trustsim/perception.hpp"

namespace trustsim::lab {
namespace {

Statistic describe(const std::vector<double>& x) {
    double mean = 0, squares = 0;
    for (const double v : x) mean += v / static_cast<double>(x.size());
    for (const double v : x) squares += (v - mean) * (v - mean);
    return {mean, std::sqrt(squares / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()))};
}

// The second mover's trust after the first mover's choice: its initial perception (from its propensity to
// trust) with intimacy and self-orientation set by the choice.
float trust_after(float propensity, float intimacy, float self_orientation, const BehaviourSpec& b) {
    Perception p = initial_perception(propensity);
    p.intimacy = intimacy;
    p.self_orientation = self_orientation;
    return trust(p, static_cast<float>(b.trust_lambda));
}

}  // namespace

InvestmentResult investment_game(const ModelSpec& spec, std::int64_t pairs, std::uint64_t seed) {
    std::vector<double> sent, returned;
    for (std::int64_t i = 0; i < pairs; ++i) {
        Stream rng(seed, Phase::lab, 0, static_cast<std::uint64_t>(i));
        const auto trustor = draw_disposition(spec.customers.dispositions, rng);
        const auto trustee = draw_disposition(spec.employees.dispositions, rng);
        // The trustor sends the share of its endowment its propensity to trust says; sending shows trust
        // (intimacy s) and keeping shows self-interest (self-orientation (1 - s) / 2, as in the initial perception).
        const float s = trustor.propensity;
        const float t = trust_after(trustee.propensity, s, (1.0f - s) / 2.0f, spec.behaviour);
        // A trustee in full good faith splits what it received equally; in bad faith it keeps everything.
        sent.push_back(s);
        returned.push_back(reciprocal_goodwill(trustee.honesty, trustee.reciprocity, t) / 2.0);
    }
    InvestmentResult result{pairs, describe(sent), describe(returned), {}};
    double sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        sxy += (sent[i] - result.sent_fraction.mean) * (returned[i] - result.returned_fraction.mean);
        sxx += (sent[i] - result.sent_fraction.mean) * (sent[i] - result.sent_fraction.mean);
    }
    double residuals = 0;
    const double slope = sxy / sxx;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const double fitted = result.returned_fraction.mean + slope * (sent[i] - result.sent_fraction.mean);
        residuals += (returned[i] - fitted) * (returned[i] - fitted);
    }
    result.return_slope = {slope, std::sqrt(residuals / static_cast<double>(sent.size() - 2) / sxx)};
    return result;
}

ControlResult control_game(const ModelSpec& spec, std::int64_t agents, std::uint64_t seed, ControlMapping mapping) {
    constexpr double endowment = 120, forced_minimum = 10;
    std::vector<double> trusted, controlled;
    std::int64_t negative = 0, neutral = 0, positive = 0;
    for (std::int64_t i = 0; i < agents; ++i) {
        Stream rng(seed, Phase::lab, 1, static_cast<std::uint64_t>(i));
        const auto agent = draw_disposition(spec.employees.dispositions, rng);
        // The principal's choice is the market's signal of control kappa_E: intimacy 1 - kappa_E and
        // self-orientation kappa_E / 2; trusting is kappa_E = 0, controlling kappa_E = 1.
        const auto choice = [&](double kappa) {
            const float t = trust_after(agent.propensity, static_cast<float>(1 - kappa), static_cast<float>(kappa / 2), spec.behaviour);
            const double g = reciprocal_goodwill(agent.honesty, agent.reciprocity, t);
            return std::round(endowment * std::clamp((g - mapping.threshold) / mapping.width, 0.0, 1.0));
        };
        const double x_trusted = choice(0), x_controlled = std::max(forced_minimum, choice(1));
        trusted.push_back(x_trusted);
        controlled.push_back(x_controlled);
        (x_controlled < x_trusted ? negative : x_controlled == x_trusted ? neutral : positive) += 1;
    }
    const auto share = [&](std::int64_t n) { return static_cast<double>(n) / static_cast<double>(agents); };
    return {agents, describe(trusted), describe(controlled), share(negative), share(neutral), share(positive)};
}

}  // namespace trustsim::lab
