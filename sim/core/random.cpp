#include "trustsim/random.hpp"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace trustsim {
namespace {

// Philox4x32-10 of `lanes` counters at once, held as four arrays of words, round by round so that the
// compiler vectorises each round across the counters.
[[gnu::always_inline]] inline void philox_lanes(std::uint32_t* __restrict x0, std::uint32_t* __restrict x1, std::uint32_t* __restrict x2,
                                                std::uint32_t* __restrict x3, std::size_t lanes, std::array<std::uint32_t, 2> key) {
    for (int round = 0; round < philox_rounds; ++round, philox_bump_key(key))
        for (std::size_t i = 0; i < lanes; ++i) philox_round(x0[i], x1[i], x2[i], x3[i], key);
}

// The same rounds for AVX-512 and AVX2 (by hand, below) and the baseline; the
// best the processor has is picked on first use. Integer arithmetic, so every version gives the same bits.
// (Not target_clones: its load-time resolver runs before ThreadSanitizer is ready.)
void philox_lanes_baseline(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                           std::array<std::uint32_t, 2> key) {
    philox_lanes(x0, x1, x2, x3, lanes, key);
}
#if defined(__x86_64__)
// GCC 12 warns of the undefined vectors inside its own AVX-512 intrinsics (GCC bug 105593).
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// The high and low 32 bits of each 32-bit lane's product with a multiplier (set in every 64-bit lane).
[[gnu::target("avx512f"), gnu::always_inline]] inline void multiply_avx512(__m512i x, __m512i multiplier, __m512i& high, __m512i& low) {
    constexpr __mmask16 odd = 0xAAAA;
    const __m512i even_products = _mm512_mul_epu32(x, multiplier), odd_products = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), multiplier);
    high = _mm512_mask_blend_epi32(odd, _mm512_srli_epi64(even_products, 32), odd_products);
    low = _mm512_mask_blend_epi32(odd, even_products, _mm512_slli_epi64(odd_products, 32));
}
// AVX-512 by hand: the compiler's version multiplies in 64 bits (three multiplies for one) and keeps the
// words in memory between rounds. Here 16 counters stay in registers for all ten rounds, and each 32 x 32-bit
// product is one multiply of the even lanes and one of the odd.
[[gnu::target("avx512f")]] void philox_lanes_avx512(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                                                    std::array<std::uint32_t, 2> key) {
    constexpr std::size_t width = 16;
    const __m512i multiplier0 = _mm512_set1_epi64(philox_multiplier0), multiplier1 = _mm512_set1_epi64(philox_multiplier1);
    const std::size_t vectorised = lanes - lanes % width;
    for (std::size_t i = 0; i < vectorised; i += width) {
        __m512i a = _mm512_loadu_si512(x0 + i), b = _mm512_loadu_si512(x1 + i), c = _mm512_loadu_si512(x2 + i), d = _mm512_loadu_si512(x3 + i);
        auto round_key = key;
        for (int round = 0; round < philox_rounds; ++round, philox_bump_key(round_key)) {
            __m512i high0, low0, high1, low1;
            multiply_avx512(a, multiplier0, high0, low0);
            multiply_avx512(c, multiplier1, high1, low1);
            a = _mm512_xor_si512(_mm512_xor_si512(high1, b), _mm512_set1_epi32(static_cast<int>(round_key[0])));
            b = low1;
            c = _mm512_xor_si512(_mm512_xor_si512(high0, d), _mm512_set1_epi32(static_cast<int>(round_key[1])));
            d = low0;
        }
        _mm512_storeu_si512(x0 + i, a), _mm512_storeu_si512(x1 + i, b), _mm512_storeu_si512(x2 + i, c), _mm512_storeu_si512(x3 + i, d);
    }
    philox_lanes(x0 + vectorised, x1 + vectorised, x2 + vectorised, x3 + vectorised, lanes - vectorised, key);
}
#pragma GCC diagnostic pop
// The same for AVX2, 8 counters a vector; written out again rather than shared with the AVX-512 kernel,
// because a template compiled without an instruction set may not pass its vectors to that set's operations.
[[gnu::target("avx2"), gnu::always_inline]] inline void multiply_avx2(__m256i x, __m256i multiplier, __m256i& high, __m256i& low) {
    constexpr int odd = 0xAA;
    const __m256i even_products = _mm256_mul_epu32(x, multiplier), odd_products = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), multiplier);
    high = _mm256_blend_epi32(_mm256_srli_epi64(even_products, 32), odd_products, odd);
    low = _mm256_blend_epi32(even_products, _mm256_slli_epi64(odd_products, 32), odd);
}
[[gnu::target("avx2")]] void philox_lanes_avx2(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                                               std::array<std::uint32_t, 2> key) {
    constexpr std::size_t width = 8;
    const __m256i multiplier0 = _mm256_set1_epi64x(philox_multiplier0), multiplier1 = _mm256_set1_epi64x(philox_multiplier1);
    const std::size_t vectorised = lanes - lanes % width;
    for (std::size_t i = 0; i < vectorised; i += width) {
        const auto vector = [i](std::uint32_t* words) { return reinterpret_cast<__m256i*>(words + i); };
        __m256i a = _mm256_loadu_si256(vector(x0)), b = _mm256_loadu_si256(vector(x1)), c = _mm256_loadu_si256(vector(x2)), d = _mm256_loadu_si256(vector(x3));
        auto round_key = key;
        for (int round = 0; round < philox_rounds; ++round, philox_bump_key(round_key)) {
            __m256i high0, low0, high1, low1;
            multiply_avx2(a, multiplier0, high0, low0);
            multiply_avx2(c, multiplier1, high1, low1);
            a = _mm256_xor_si256(_mm256_xor_si256(high1, b), _mm256_set1_epi32(static_cast<int>(round_key[0])));
            b = low1;
            c = _mm256_xor_si256(_mm256_xor_si256(high0, d), _mm256_set1_epi32(static_cast<int>(round_key[1])));
            d = low0;
        }
        _mm256_storeu_si256(vector(x0), a), _mm256_storeu_si256(vector(x1), b), _mm256_storeu_si256(vector(x2), c), _mm256_storeu_si256(vector(x3), d);
    }
    philox_lanes(x0 + vectorised, x1 + vectorised, x2 + vectorised, x3 + vectorised, lanes - vectorised, key);
}
#endif

}  // namespace

std::vector<PhiloxLanesVersion> philox_lanes_versions() {
    std::vector<PhiloxLanesVersion> versions;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) versions.push_back({"avx512", philox_lanes_avx512});
    if (__builtin_cpu_supports("avx2")) versions.push_back({"avx2", philox_lanes_avx2});
#endif
    versions.push_back({"baseline", philox_lanes_baseline});
    return versions;
}

StreamBatch::StreamBatch(std::uint64_t seed, Phase phase, std::uint64_t step, std::uint32_t blocks_per_agent)
    : seed_(seed), phase_(phase), step_(step), blocks_per_agent_(blocks_per_agent), blocks_(agents * blocks_per_agent) {}

void StreamBatch::fill(std::uint64_t first) {
    first_ = first;
    for (std::uint64_t lane = 0; lane < agents; ++lane) agents_[lane] = first + lane;
    compute_blocks(agents);
}

void StreamBatch::compute(const std::uint64_t* chosen, std::size_t count) {
    first_ = std::numeric_limits<std::uint64_t>::max();
    std::copy_n(chosen, count, agents_.begin());
    compute_blocks(count);
}

void StreamBatch::compute_blocks(std::size_t count) {
    std::array<std::array<std::uint32_t, agents>, 4> x;
    for (std::uint32_t block = 0; block < blocks_per_agent_; ++block) {
        for (std::size_t lane = 0; lane < count; ++lane) {
            const auto counter = Stream::counter(phase_, step_, agents_[lane]);
            x[0][lane] = block;
            for (std::size_t word = 1; word < 4; ++word) x[word][lane] = counter[word];
        }
        static const PhiloxLanes lanes_function = philox_lanes_versions().front().run;
        lanes_function(x[0].data(), x[1].data(), x[2].data(), x[3].data(), count, Stream::key(seed_));
        for (std::size_t lane = 0; lane < count; ++lane)
            blocks_[lane * blocks_per_agent_ + block] = {x[0][lane], x[1][lane], x[2][lane], x[3][lane]};
    }
}

}  // namespace trustsim
