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

TEST_CASE("bernoulli(p) holds with frequency p within 5 standard errors, exactly at 0 and 1") {
    const int n = 400000;
    for (const double p : {0.001, 0.1, 0.3, 0.5, 0.9}) {
        int hits = 0;
        for (int agent = 0; agent < n / 4; ++agent) {
            Stream rng(9, Phase::customers, 1, static_cast<std::uint64_t>(agent));
            for (int draw = 0; draw < 4; ++draw) hits += rng.bernoulli(p);
        }
        CHECK(std::abs(hits - n * p) < 5 * std::sqrt(n * p * (1 - p)));
    }
    Stream rng(9, Phase::customers, 1, 0);
    for (int i = 0; i < 1000; ++i) {
        CHECK(rng.bernoulli(1.0));
        CHECK_FALSE(rng.bernoulli(0.0));
    }
}

TEST_CASE("draws take the words of successive Philox blocks in order, a Bernoulli trial one word") {
    const std::uint64_t seed = 0x0123456789abcdefULL;
    Stream rng(seed, Phase::word_of_mouth, 5, 77);
    const std::array<std::uint32_t, 2> key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
    const std::uint32_t agent_phase = static_cast<std::uint32_t>(Phase::word_of_mouth) << 24;
    const auto first = philox4x32({0, 77, agent_phase, 5}, key), second = philox4x32({1, 77, agent_phase, 5}, key);
    // A trial that must fail (p just below the word's value) and one that must succeed consume words 0 and 1.
    CHECK_FALSE(rng.bernoulli(static_cast<double>(first[0]) * 0x1.0p-32));
    CHECK(rng.bernoulli((static_cast<double>(first[1]) + 1) * 0x1.0p-32));
    CHECK(rng() == ((std::uint64_t{first[2]} << 32) | first[3]));
    rng.bernoulli(0.5);  // second block, word 0
    CHECK(rng() == ((std::uint64_t{second[1]} << 32) | second[2]));
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

TEST_CASE("every batched Philox version this processor runs gives philox4x32's blocks, for any number of lanes") {
    const std::array<std::uint32_t, 2> key = {0x01234567, 0x89abcdef};
    for (const auto& version : philox_lanes_versions())
        for (const std::size_t lanes : {0, 1, 7, 8, 9, 15, 16, 17, 33, 256}) {  // around the widths of AVX2 (8) and AVX-512 (16)
            INFO(version.name << ", " << lanes << " lanes");
            std::array<std::vector<std::uint32_t>, 4> x;
            for (std::size_t w = 0; w < 4; ++w)
                for (std::size_t i = 0; i < lanes; ++i) x[w].push_back(static_cast<std::uint32_t>(0x9e3779b9u * (i + 1) + 0x7f4a7c15u * w));
            const auto counters = x;
            version.run(x[0].data(), x[1].data(), x[2].data(), x[3].data(), lanes, key);
            for (std::size_t i = 0; i < lanes; ++i)
                CHECK(philox4x32({counters[0][i], counters[1][i], counters[2][i], counters[3][i]}, key) == std::array{x[0][i], x[1][i], x[2][i], x[3][i]});
        }
}

TEST_CASE("a batch of chosen agents' streams are their own streams, however many are chosen") {
    const std::vector<std::uint64_t> agents = {5, 6, 7, 40, 41, 300, 2, (1ull << 33) + 9, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27};
    StreamBatch batch(0xbeefULL, Phase::customers, 4, 2);
    for (const std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{16}, agents.size()}) {  // none, one, a full vector, more
        batch.compute(agents.data(), count);
        for (std::size_t i = 0; i < count; ++i) {
            Stream chosen = batch.chosen(i), own(0xbeefULL, Phase::customers, 4, agents[i]);
            own.discard(3);
            chosen.discard(3);
            for (int draw = 0; draw < 6; ++draw) CHECK(chosen() == own());  // 3 + 12 words: past the 8 computed ahead
        }
    }
    // After chosen agents, consecutive ones are computed afresh.
    Stream after = batch(300), own(0xbeefULL, Phase::customers, 4, 300);
    CHECK(after() == own());
}

TEST_CASE("a batch's streams are the agents' own streams, in any order and beyond the blocks computed ahead") {
    for (const std::uint32_t ahead : {0u, 1u, 3u}) {
        StreamBatch batch(0xfeedULL, Phase::customers, 9, ahead);
        for (const std::uint64_t agent : {0ull, 1ull, 255ull, 256ull, 700ull, 3ull, (1ull << 33) + 5}) {
            Stream batched = batch(agent), own(0xfeedULL, Phase::customers, 9, agent);
            for (int draw = 0; draw < 10; ++draw) {  // 10 draws of 64 bits: 5 blocks, more than were computed ahead
                CHECK(batched() == own());
                CHECK(batched.bernoulli(0.5) == own.bernoulli(0.5));
            }
        }
    }
}
