#include "trustsim/random.hpp"

namespace trustsim {
namespace {

// Philox4x32-10 of `lanes` counters at once, held as four arrays of words, round by round so that the
// compiler vectorises each round across the counters.
[[gnu::always_inline]] inline void philox_lanes(std::uint32_t* __restrict x0, std::uint32_t* __restrict x1, std::uint32_t* __restrict x2,
                                                std::uint32_t* __restrict x3, std::size_t lanes, std::array<std::uint32_t, 2> key) {
    for (int round = 0; round < philox_rounds; ++round, philox_bump_key(key))
        for (std::size_t i = 0; i < lanes; ++i) philox_round(x0[i], x1[i], x2[i], x3[i], key);
}

// The same rounds compiled for AVX-512, AVX2 (on x86-64) and the baseline; the best the processor has is
// picked on first use. Integer arithmetic, so every version gives the same bits. (Not target_clones: its
// load-time resolver runs before ThreadSanitizer is ready.)
using PhiloxLanesFunction = void (*)(std::uint32_t*, std::uint32_t*, std::uint32_t*, std::uint32_t*, std::size_t, std::array<std::uint32_t, 2>);
void philox_lanes_baseline(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                           std::array<std::uint32_t, 2> key) {
    philox_lanes(x0, x1, x2, x3, lanes, key);
}
#if defined(__x86_64__)
[[gnu::target("avx512f")]] void philox_lanes_avx512(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                                                    std::array<std::uint32_t, 2> key) {
    philox_lanes(x0, x1, x2, x3, lanes, key);
}
[[gnu::target("avx2")]] void philox_lanes_avx2(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                                               std::array<std::uint32_t, 2> key) {
    philox_lanes(x0, x1, x2, x3, lanes, key);
}
#endif

PhiloxLanesFunction best_philox_lanes() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return philox_lanes_avx512;
    if (__builtin_cpu_supports("avx2")) return philox_lanes_avx2;
#endif
    return philox_lanes_baseline;
}

}  // namespace

StreamBatch::StreamBatch(std::uint64_t seed, Phase phase, std::uint64_t step, std::uint32_t blocks_per_agent)
    : seed_(seed), phase_(phase), step_(step), blocks_per_agent_(blocks_per_agent), blocks_(agents * blocks_per_agent) {}

void StreamBatch::fill(std::uint64_t first) {
    first_ = first;
    std::array<std::array<std::uint32_t, agents>, 4> x;
    for (std::uint32_t block = 0; block < blocks_per_agent_; ++block) {
        for (std::uint64_t lane = 0; lane < agents; ++lane) {
            const auto counter = Stream::counter(phase_, step_, first + lane);
            x[0][lane] = block;
            for (std::size_t word = 1; word < 4; ++word) x[word][lane] = counter[word];
        }
        static const PhiloxLanesFunction lanes_function = best_philox_lanes();
        lanes_function(x[0].data(), x[1].data(), x[2].data(), x[3].data(), agents, Stream::key(seed_));
        for (std::uint64_t lane = 0; lane < agents; ++lane)
            blocks_[lane * blocks_per_agent_ + block] = {x[0][lane], x[1][lane], x[2][lane], x[3][lane]};
    }
}

}  // namespace trustsim
