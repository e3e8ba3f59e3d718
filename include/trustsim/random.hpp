#pragma once
// Counter-based random numbers. A draw is a pure function of (seed, phase, step, agent, draw index),
// so results do not depend on thread count, process count or the order agents are visited in.
// The generator is Philox4x32-10 (Salmon et al., SC'11); Boost.Random distributions run on top of it.
#include <array>
#include <cstdint>
#include <limits>

namespace trustsim {

// Which part of the model a draw belongs to. Values are part of the output's reproducibility contract:
// never renumber them, only append.
enum class Phase : std::uint32_t {
    setup_customers = 1,
    setup_employees = 2,
    network = 3,
    employees = 4,
    customers = 5,
    word_of_mouth = 6,
    firms = 7,
    events = 8,
    lab = 9,
    sweep = 10,  // sampling of sweep points
};

// Philox4x32-10: maps a 128-bit counter and a 64-bit key to 128 random bits.
inline std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> ctr, std::array<std::uint32_t, 2> key) {
    constexpr std::uint32_t mul0 = 0xD2511F53u, mul1 = 0xCD9E8D57u;
    constexpr std::uint32_t weyl0 = 0x9E3779B9u, weyl1 = 0xBB67AE85u;
    for (int round = 0; round < 10; ++round) {
        const std::uint64_t p0 = std::uint64_t{mul0} * ctr[0];
        const std::uint64_t p1 = std::uint64_t{mul1} * ctr[2];
        ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<std::uint32_t>(p1),
               static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<std::uint32_t>(p0)};
        key[0] += weyl0;
        key[1] += weyl1;
    }
    return ctr;
}

// One agent's stream within one phase of one step. Satisfies UniformRandomBitGenerator (64-bit),
// so Boost.Random distributions accept it. Each call consumes the next draw index.
class Stream {
public:
    using result_type = std::uint64_t;

    Stream(std::uint64_t seed, Phase phase, std::uint64_t step, std::uint64_t agent) noexcept
        : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
          ctr_{0u, static_cast<std::uint32_t>(agent), static_cast<std::uint32_t>(agent >> 32) ^ (static_cast<std::uint32_t>(phase) << 24),
               static_cast<std::uint32_t>(step)} {}

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    result_type operator()() noexcept {
        if (buffered_ == 0) {
            block_ = philox4x32(ctr_, key_);
            ++ctr_[0];
            buffered_ = 2;
        }
        const int i = 2 - buffered_--;
        return (std::uint64_t{block_[2 * i]} << 32) | block_[2 * i + 1];
    }

    // Uniform on [0, 1) with 53 random bits; the hot loops use this directly.
    double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
    bool bernoulli(double p) noexcept { return uniform() < p; }
    // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for n < 2^32).
    std::uint64_t below(std::uint64_t n) noexcept {
        __extension__ using wide = unsigned __int128;
        return static_cast<std::uint64_t>((static_cast<wide>((*this)()) * n) >> 64);
    }

private:
    std::array<std::uint32_t, 2> key_;
    std::array<std::uint32_t, 4> ctr_;
    std::array<std::uint32_t, 4> block_{};
    int buffered_ = 0;
};

// Derives an independent seed for a sub-run (sweep run, replicate) from a root seed.
inline std::uint64_t derive_seed(std::uint64_t root, std::uint64_t index) noexcept {
    const auto out = philox4x32({static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32), 0x5EED5EEDu, 0u},
                                {static_cast<std::uint32_t>(root), static_cast<std::uint32_t>(root >> 32)});
    return (std::uint64_t{out[0]} << 32) | out[1];
}

}  // namespace trustsim
