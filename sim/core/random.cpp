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

// The same rounds by hand for AVX-512 and AVX2, and the compiler's loop above for the baseline; the best the
// processor has is picked on first use. Integer arithmetic, so every version gives the same bits.
// (Not target_clones: its load-time resolver runs before ThreadSanitizer is ready.)
void philox_lanes_baseline(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                           std::array<std::uint32_t, 2> key) {
    philox_lanes(x0, x1, x2, x3, lanes, key);
}
#if defined(__x86_64__)
// GCC warns that vectors change the ABI of the kernel, which is always inlined into a function of its target;
// GCC 12 also warns of the undefined vectors inside its own AVX-512 intrinsics (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// The operations the kernel below needs, on one instruction set's vectors of 32-bit lanes: each a single
// instruction, the last ones on the vectors' 64-bit lanes (the multiply of their low 32 bits, shifts by 32 bits).
struct Avx512 {
    using Vector = __m512i;
    static constexpr std::size_t width = 16;
    [[gnu::target("avx512f")]] static Vector load(const std::uint32_t* p) { return _mm512_loadu_si512(p); }
    [[gnu::target("avx512f")]] static void store(std::uint32_t* p, Vector x) { _mm512_storeu_si512(p, x); }
    [[gnu::target("avx512f")]] static Vector set(std::uint32_t x) { return _mm512_set1_epi32(static_cast<int>(x)); }
    [[gnu::target("avx512f")]] static Vector bitwise_xor(Vector a, Vector b) { return _mm512_xor_si512(a, b); }
    [[gnu::target("avx512f")]] static Vector odd_from(Vector even, Vector odd) { return _mm512_mask_blend_epi32(0xAAAA, even, odd); }
    [[gnu::target("avx512f")]] static Vector set64(std::uint64_t x) { return _mm512_set1_epi64(static_cast<long long>(x)); }
    [[gnu::target("avx512f")]] static Vector multiply_even(Vector a, Vector b) { return _mm512_mul_epu32(a, b); }
    [[gnu::target("avx512f")]] static Vector shift_right64(Vector x) { return _mm512_srli_epi64(x, 32); }
    [[gnu::target("avx512f")]] static Vector shift_left64(Vector x) { return _mm512_slli_epi64(x, 32); }
};
struct Avx2 {
    using Vector = __m256i;
    static constexpr std::size_t width = 8;
    [[gnu::target("avx2")]] static Vector load(const std::uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const Vector*>(p)); }
    [[gnu::target("avx2")]] static void store(std::uint32_t* p, Vector x) { _mm256_storeu_si256(reinterpret_cast<Vector*>(p), x); }
    [[gnu::target("avx2")]] static Vector set(std::uint32_t x) { return _mm256_set1_epi32(static_cast<int>(x)); }
    [[gnu::target("avx2")]] static Vector bitwise_xor(Vector a, Vector b) { return _mm256_xor_si256(a, b); }
    [[gnu::target("avx2")]] static Vector odd_from(Vector even, Vector odd) { return _mm256_blend_epi32(even, odd, 0xAA); }
    [[gnu::target("avx2")]] static Vector set64(std::uint64_t x) { return _mm256_set1_epi64x(static_cast<long long>(x)); }
    [[gnu::target("avx2")]] static Vector multiply_even(Vector a, Vector b) { return _mm256_mul_epu32(a, b); }
    [[gnu::target("avx2")]] static Vector shift_right64(Vector x) { return _mm256_srli_epi64(x, 32); }
    [[gnu::target("avx2")]] static Vector shift_left64(Vector x) { return _mm256_slli_epi64(x, 32); }
};
// Philox of `width` counters at a time, by hand: the compiler's version multiplies in 64 bits (three multiplies
// for one) and keeps the words in memory between rounds. Here the counters stay in registers for all ten
// rounds, and each 32 x 32-bit product is one multiply of the even lanes and one of the odd. The rest of the
// counters go through the loop. Always inlined into a function compiled for the instruction set, where the
// operations (not forced inline: their target differs from this template's) are inlined in turn.
template <class Ops>
[[gnu::always_inline]] inline void philox_lanes_simd(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                                                     std::array<std::uint32_t, 2> key) {
    using Vector = typename Ops::Vector;
    // The high and low 32 bits of each lane's product with the multiplier.
    const auto multiply = [](Vector x, Vector multiplier, Vector& high, Vector& low) {
        const Vector even_products = Ops::multiply_even(x, multiplier), odd_products = Ops::multiply_even(Ops::shift_right64(x), multiplier);
        high = Ops::odd_from(Ops::shift_right64(even_products), odd_products);
        low = Ops::odd_from(even_products, Ops::shift_left64(odd_products));
    };
    const Vector multiplier0 = Ops::set64(philox_multiplier0), multiplier1 = Ops::set64(philox_multiplier1);
    const std::size_t vectorised = lanes - lanes % Ops::width;
    for (std::size_t i = 0; i < vectorised; i += Ops::width) {
        Vector a = Ops::load(x0 + i), b = Ops::load(x1 + i), c = Ops::load(x2 + i), d = Ops::load(x3 + i);
        auto round_key = key;
        for (int round = 0; round < philox_rounds; ++round, philox_bump_key(round_key)) {
            Vector high0, low0, high1, low1;
            multiply(a, multiplier0, high0, low0);
            multiply(c, multiplier1, high1, low1);
            a = Ops::bitwise_xor(Ops::bitwise_xor(high1, b), Ops::set(round_key[0]));
            b = low1;
            c = Ops::bitwise_xor(Ops::bitwise_xor(high0, d), Ops::set(round_key[1]));
            d = low0;
        }
        Ops::store(x0 + i, a), Ops::store(x1 + i, b), Ops::store(x2 + i, c), Ops::store(x3 + i, d);
    }
    philox_lanes(x0 + vectorised, x1 + vectorised, x2 + vectorised, x3 + vectorised, lanes - vectorised, key);
}
[[gnu::target("avx512f")]] void philox_lanes_avx512(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                                                    std::array<std::uint32_t, 2> key) {
    philox_lanes_simd<Avx512>(x0, x1, x2, x3, lanes, key);
}
[[gnu::target("avx2")]] void philox_lanes_avx2(std::uint32_t* x0, std::uint32_t* x1, std::uint32_t* x2, std::uint32_t* x3, std::size_t lanes,
                                               std::array<std::uint32_t, 2> key) {
    philox_lanes_simd<Avx2>(x0, x1, x2, x3, lanes, key);
}
#pragma GCC diagnostic pop
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
