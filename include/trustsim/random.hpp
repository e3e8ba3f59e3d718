#pragma once
// Counter-based random numbers. A draw is a pure function of (seed, phase, step, agent, draw index),
// so results do not depend on thread count, process count or the order agents are visited in.
// The generator is Philox4x32-10 (Salmon et al., SC'11); Boost.Random distributions run on top of it.
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

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

// Philox4x32-10 in rounds: each round mixes a counter (four words) with the key, which is then bumped by the
// Weyl constants. philox4x32 runs the ten rounds on one counter; StreamBatch on many counters at once.
inline constexpr int philox_rounds = 10;
inline constexpr std::uint32_t philox_multiplier0 = 0xD2511F53u, philox_multiplier1 = 0xCD9E8D57u;
inline void philox_bump_key(std::array<std::uint32_t, 2>& key) noexcept {
    key[0] += 0x9E3779B9u;
    key[1] += 0xBB67AE85u;
}
inline void philox_round(std::uint32_t& x0, std::uint32_t& x1, std::uint32_t& x2, std::uint32_t& x3, std::array<std::uint32_t, 2> key) noexcept {
    const std::uint64_t p0 = std::uint64_t{philox_multiplier0} * x0;
    const std::uint64_t p1 = std::uint64_t{philox_multiplier1} * x2;
    x0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1 ^ key[0];
    x1 = static_cast<std::uint32_t>(p1);
    x2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3 ^ key[1];
    x3 = static_cast<std::uint32_t>(p0);
}

// Philox4x32-10: maps a 128-bit counter and a 64-bit key to 128 random bits.
inline std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> ctr, std::array<std::uint32_t, 2> key) noexcept {
    for (int round = 0; round < philox_rounds; ++round, philox_bump_key(key)) philox_round(ctr[0], ctr[1], ctr[2], ctr[3], key);
    return ctr;
}

// Philox4x32-10 of `lanes` counters at once, held as four arrays of words, which it overwrites with the blocks.
// The versions this processor can run, fastest first (StreamBatch uses the first; tests and benchmarks compare them all).
using PhiloxLanes = void (*)(std::uint32_t*, std::uint32_t*, std::uint32_t*, std::uint32_t*, std::size_t lanes, std::array<std::uint32_t, 2> key);
struct PhiloxLanesVersion {
    const char* name;  // the instruction set: "avx512", "avx2" or "baseline"
    PhiloxLanes run;
};
std::vector<PhiloxLanesVersion> philox_lanes_versions();

// One agent's stream within one phase of one step. Satisfies UniformRandomBitGenerator (64-bit),
// so Boost.Random distributions accept it. Draws consume the 32-bit words of successive Philox blocks
// in order: a 64-bit draw takes two words, a Bernoulli trial one (so most agents need a single block).
class Stream {
public:
    using result_type = std::uint64_t;

    Stream(std::uint64_t seed, Phase phase, std::uint64_t step, std::uint64_t agent) noexcept
        : key_(key(seed)), ctr_(counter(phase, step, agent)) {}

    // The same stream, whose first `count` blocks were computed ahead (by StreamBatch).
    Stream(std::uint64_t seed, Phase phase, std::uint64_t step, std::uint64_t agent, const std::array<std::uint32_t, 4>* ready,
           std::uint32_t count) noexcept
        : Stream(seed, phase, step, agent) {
        ready_ = ready;
        ready_count_ = count;
    }

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    result_type operator()() noexcept {
        const std::uint64_t high = word();
        return (high << 32) | word();
    }

    // Skips `count` words, as drawing them would.
    void discard(std::uint64_t count) noexcept {
        for (; count > 0; --count) word();
    }

    // Uniform on [0, 1) with 53 random bits.
    double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
    // True with probability p, resolved to 2^-32 (exact for p = 0 and p = 1).
    bool bernoulli(double p) noexcept { return static_cast<double>(word()) < p * 0x1.0p32; }
    // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for n < 2^32).
    std::uint64_t below(std::uint64_t n) noexcept {
        __extension__ using wide = unsigned __int128;
        return static_cast<std::uint64_t>((static_cast<wide>((*this)()) * n) >> 64);
    }

    // The Philox key of a seed, and the counter of an agent's first block (the block number is word 0).
    static std::array<std::uint32_t, 2> key(std::uint64_t seed) noexcept {
        return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
    }
    static std::array<std::uint32_t, 4> counter(Phase phase, std::uint64_t step, std::uint64_t agent) noexcept {
        return {0u, static_cast<std::uint32_t>(agent), static_cast<std::uint32_t>(agent >> 32) ^ (static_cast<std::uint32_t>(phase) << 24),
                static_cast<std::uint32_t>(step)};
    }

private:
    std::uint32_t word() noexcept {
        if (used_ == block_.size()) {
            block_ = ctr_[0] < ready_count_ ? ready_[ctr_[0]] : philox4x32(ctr_, key_);
            ++ctr_[0];
            used_ = 0;
        }
        return block_[used_++];
    }

    std::array<std::uint32_t, 2> key_;
    std::array<std::uint32_t, 4> ctr_;
    std::array<std::uint32_t, 4> block_{};
    std::size_t used_ = 4;
    const std::array<std::uint32_t, 4>* ready_ = nullptr;
    std::uint32_t ready_count_ = 0;
};

// Streams of agents in one phase of one step, whose first blocks are computed for up to 256 agents at once
// (consecutive ones, or chosen ones), in vector registers. An agent's stream is the same as
// Stream(seed, phase, step, agent); only the speed differs. A stream it returns reads the batch's blocks:
// it is valid until the batch computes others (asked for an agent outside its 256, or by `compute`).
class StreamBatch {
public:
    StreamBatch(std::uint64_t seed, Phase phase, std::uint64_t step, std::uint32_t blocks_per_agent);

    // The stream of `agent`; visiting agents in increasing order computes each block once.
    Stream operator()(std::uint64_t agent) {
        if (agent < first_ || agent >= first_ + agents) fill(agent);
        return {seed_, phase_, step_, agent, blocks_.data() + (agent - first_) * blocks_per_agent_, blocks_per_agent_};
    }

    // Or the streams of up to `agents` chosen agents, computed at once: then chosen(i) is the i-th one's.
    void compute(const std::uint64_t* chosen, std::size_t count);
    Stream chosen(std::size_t i) const { return {seed_, phase_, step_, agents_[i], blocks_.data() + i * blocks_per_agent_, blocks_per_agent_}; }

    static constexpr std::uint64_t agents = 256;

private:
    void fill(std::uint64_t first);
    void compute_blocks(std::size_t count);  // of the first `count` of agents_

    std::uint64_t seed_;
    Phase phase_;
    std::uint64_t step_;
    std::uint32_t blocks_per_agent_;
    std::uint64_t first_ = std::numeric_limits<std::uint64_t>::max();  // computed: agents first_ ... first_ + 255, if not chosen ones
    std::array<std::uint64_t, agents> agents_;             // the agents computed
    std::vector<std::array<std::uint32_t, 4>> blocks_;  // [index in agents_][block]
};

// Derives an independent seed for a sub-run (sweep run, replicate) from a root seed.
inline std::uint64_t derive_seed(std::uint64_t root, std::uint64_t index) noexcept {
    const auto out = philox4x32({static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32), 0x5EED5EEDu, 0u},
                                {static_cast<std::uint32_t>(root), static_cast<std::uint32_t>(root >> 32)});
    return (std::uint64_t{out[0]} << 32) | out[1];
}

}  // namespace trustsim
