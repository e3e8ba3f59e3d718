#include <catch2/catch.hpp>

#include "trustsim/perception.hpp"

using namespace trustsim;

TEST_CASE("the trust equation T = (C + R + I) / (3 (1 + lambda S))") {
    CHECK(trust({1, 1, 1, 0}, 1) == Approx(1.0));
    CHECK(trust({0, 0, 0, 1}, 1) == Approx(0.0));
    CHECK(trust({0.6f, 0.9f, 0.3f, 0.5f}, 1) == Approx(1.8 / 4.5));
    CHECK(trust({0.6f, 0.9f, 0.3f, 0.5f}, 0) == Approx(0.6));
    CHECK(trust({0.6f, 0.9f, 0.3f, 0.5f}, 2) == Approx(1.8 / 6.0));
    // Self-orientation only ever lowers trust.
    CHECK(trust({0.5f, 0.5f, 0.5f, 0.2f}, 1) < trust({0.5f, 0.5f, 0.5f, 0.1f}, 1));
}

TEST_CASE("a component moves toward its signal by the learning rate") {
    float x = 0.2f;
    move_toward(x, 1.0f, 0.25f);
    CHECK(x == Approx(0.4));
    move_toward(x, 0.0f, 0.5f);
    CHECK(x == Approx(0.2));
    move_toward(x, 0.7f, 1.0f);
    CHECK(x == Approx(0.7));
    move_toward(x, 0.0f, 0.0f);
    CHECK(x == Approx(0.7));
}

TEST_CASE("reciprocal goodwill: honesty raised by trust received above one half, clamped to [0, 1]") {
    CHECK(reciprocal_goodwill(0.8f, 0.4f, 0.5f) == Approx(0.8));
    CHECK(reciprocal_goodwill(0.8f, 0.4f, 1.0f) == Approx(1.0));
    CHECK(reciprocal_goodwill(0.8f, 0.4f, 0.0f) == Approx(0.6));
    CHECK(reciprocal_goodwill(0.1f, 1.0f, 0.0f) == Approx(0.0));
    CHECK(reciprocal_goodwill(0.0f, 0.0f, 1.0f) == Approx(0.0));  // an opportunist
}

TEST_CASE("initial perception from the propensity to trust") {
    const auto p = initial_perception(0.6f);
    CHECK(p.credibility == Approx(0.6));
    CHECK(p.reliability == Approx(0.6));
    CHECK(p.intimacy == Approx(0.6));
    CHECK(p.self_orientation == Approx(0.2));
}

TEST_CASE("logistic") {
    CHECK(logistic(0) == Approx(0.5));
    CHECK(logistic(2) == Approx(1 / (1 + std::exp(-2.0))));
    CHECK(logistic(-50) < 1e-20);
}
