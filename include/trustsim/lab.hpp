#pragma once
// Lab games played by agents drawn from a scenario's dispositions with the market's behavioural rules, to
// compare the defaults with published experiments (docs/model.md, "Calibration"):
//   the investment game (Berg, Dickhaut & McCabe 1995): customers as trustors, employees as trustees;
//   the hidden costs of control (Falk & Kosfeld 2006): employees as agents.
// The mapping of a lab choice onto the model is one rule for both games: the first mover's choice is the
// one signal the second mover has of it, and sets its intimacy (trust shown) and self-orientation (what the
// first mover keeps or imposes) at once; the second mover's goodwill is then the market's reciprocity rule
// g = clamp(honesty + reciprocity (T - 1/2)).
#include <cstdint>

#include "trustsim/spec.hpp"

namespace trustsim::lab {

struct Statistic {
    double mean = 0, standard_error = 0;
};

struct InvestmentResult {
    std::int64_t pairs = 0;
    Statistic sent_fraction;       // of the endowment of 10
    Statistic returned_fraction;   // of the tripled amount received
    Statistic return_slope;        // OLS slope of the returned fraction on the sent fraction
};

struct ControlResult {
    std::int64_t agents = 0;
    Statistic choice_trusted, choice_controlled;  // transfer x in [0, 120]; under control x >= 10
    double share_negative = 0, share_neutral = 0, share_positive = 0;  // controlled choice below / equal / above trusted
};

// A transfer in the control game: 120 x clamp((g - threshold) / width, 0, 1), rounded to a whole unit.
// The two constants are the lab mapping's own (not market parameters), fitted to Falk & Kosfeld's means.
struct ControlMapping {
    double threshold = 0.6;
    double width = 1.0;
};

InvestmentResult investment_game(const ModelSpec& spec, std::int64_t pairs, std::uint64_t seed);
ControlResult control_game(const ModelSpec& spec, std::int64_t agents, std::uint64_t seed, ControlMapping mapping = {});

}  // namespace trustsim::lab
