#pragma once
// Drawing an agent's dispositions from the scenario's distributions: shared by the market and the lab games,
// so that both play with the same population.
#include <boost/random/beta_distribution.hpp>

#include "trustsim/errors.hpp"
#include "trustsim/random.hpp"
#include "trustsim/spec.hpp"

namespace trustsim {

inline float draw(const Distribution& d, Stream& rng) {
    switch (d.kind) {
        case Distribution::Kind::beta: return static_cast<float>(boost::random::beta_distribution<double>(d.a, d.b)(rng));
        case Distribution::Kind::uniform: return static_cast<float>(d.a + (d.b - d.a) * rng.uniform());
        case Distribution::Kind::constant: return static_cast<float>(d.a);
    }
    throw InternalError("unknown distribution kind");
}

struct Disposition {
    float propensity, honesty, reciprocity;
};

inline Disposition draw_disposition(const Dispositions& d, Stream& rng) {
    const float propensity = draw(d.propensity_to_trust, rng);
    const float honesty = draw(d.honesty, rng);
    return {propensity, honesty, draw(d.reciprocity, rng)};
}

}  // namespace trustsim
