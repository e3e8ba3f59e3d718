#pragma once
// The perception one party holds of another and the trust it yields (the Trust Equation of
// Maister, Green & Galford): T = (C + R + I) / (3 (1 + lambda S)), every component in [0, 1].
#include <algorithm>
#include <cmath>

namespace trustsim {

struct Perception {
    float credibility = 0.5f;       // C
    float reliability = 0.5f;       // R
    float intimacy = 0.5f;          // I
    float self_orientation = 0.25f; // S
};

inline float trust(const Perception& p, float lambda) noexcept {
    return (p.credibility + p.reliability + p.intimacy) / (3.0f * (1.0f + lambda * p.self_orientation));
}

// Exponential moving average toward a signal: X <- X + eta (x - X).
inline void move_toward(float& component, float signal, float rate) noexcept { component += rate * (signal - component); }

inline float clamp01(float x) noexcept { return std::clamp(x, 0.0f, 1.0f); }

// Good faith (customers) and trustworthiness (employees) share one reciprocity rule:
// base honesty, raised by trust received above one half and lowered below it.
inline float reciprocal_goodwill(float honesty, float reciprocity, float trust_received) noexcept {
    return clamp01(honesty + reciprocity * (trust_received - 0.5f));
}

// The default initial perception of an agent with propensity to trust pi: C = R = I = pi, S = (1 - pi) / 2.
inline Perception initial_perception(float propensity) noexcept {
    return {propensity, propensity, propensity, (1.0f - propensity) / 2.0f};
}

inline double logistic(double x) noexcept { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace trustsim
