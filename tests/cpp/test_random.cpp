#include <catch2/catch.hpp>

#include <boost/random/beta_distribution.hpp>
#include <cmath>
#include <set>

#include "trustsim/random.hpp"

using namespace trustsim;

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors") {
    CHECK(philox4x32({0, 0, 0, 0}, {0, 0}) == std::array<std::uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
    CHECK(philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
          std::array<std::uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
    CHECK(philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
          std::array<std::uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("a stream is a pure function of (seed, phase, step, agent)") {
    Stream a(7, Phase::customers, 3, 11), b(7, Phase::customers, 3, 11);
    for (int i = 0; i < 10; ++i) CHECK(a() == b());
    std::set<std::uint64_t> firsts;
    firsts.insert(Stream(7, Phase::customers, 3, 11)());
    firsts.insert(Stream(8, Phase::customers, 3, 11)());
    firsts.insert(Stream(7, Phase::employees, 3, 11)());
    firsts.insert(Stream(7, Phase::customers, 4, 11)());
    firsts.insert(Stream(7, Phase::customers, 3, 12)());
    firsts.insert(Stream(7, Phase::customers, 3, 11ull << 32)());
    CHECK(firsts.size() == 6);
}

TEST_CASE("uniform draws have the moments of U(0,1) within 5 standard errors") {
    const int n = 200000;
    double sum = 0, sum_sq = 0;
    for (int agent = 0; agent < n; ++agent) {
        Stream rng(1, Phase::customers, 0, static_cast<std::uint64_t>(agent));
        const double u = rng.uniform();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        sum += u;
        sum_sq += u * u;
    }
    const double mean = sum / n, variance = sum_sq / n - mean * mean;
    CHECK(std::abs(mean - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
    CHECK(std::abs(variance - 1.0 / 12) < 0.002);
}

TEST_CASE("below(n) covers [0, n) evenly") {
    Stream rng(3, Phase::lab, 0, 0);
    std::array<int, 7> counts{};
    const int draws = 70000;
    for (int i = 0; i < draws; ++i) ++counts[rng.below(7)];
    for (const int c : counts) CHECK(std::abs(c - draws / 7) < 5 * std::sqrt(draws / 7.0));
}

TEST_CASE("Boost.Random's beta distribution runs on the stream with the right mean") {
    Stream rng(5, Phase::setup_customers, 0, 0);
    boost::random::beta_distribution<double> beta(2.0, 6.0);
    const int n = 50000;
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += beta(rng);
    const double sd = std::sqrt(2.0 * 6.0 / (64.0 * 9.0));
    CHECK(std::abs(sum / n - 0.25) < 5 * sd / std::sqrt(n));
}

TEST_CASE("derived seeds differ from each other and from the root") {
    std::set<std::uint64_t> seeds{42};
    for (std::uint64_t i = 0; i < 1000; ++i) seeds.insert(derive_seed(42, i));
    CHECK(seeds.size() == 1001);
    CHECK(derive_seed(42, 5) == derive_seed(42, 5));
}
