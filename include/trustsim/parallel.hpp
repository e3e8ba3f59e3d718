#pragma once
// Deterministic parallel loops over OpenMP. Work is cut into fixed blocks whose boundaries do not depend
// on the thread count; per-block partial sums are combined in block order, so floating-point results are
// bitwise identical for any number of threads. An exception thrown inside a loop body is caught there
// and rethrown on the calling thread after the loop (it must never escape a worker thread).
#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <vector>

namespace trustsim {

template <class Body>
void parallel_for(std::int64_t count, int threads, Body body) {
    std::exception_ptr first_error;
    std::mutex error_mutex;
#pragma omp parallel for schedule(dynamic, 1) num_threads(std::max(1, threads))
    for (std::int64_t i = 0; i < count; ++i) {
        try {
            body(i);
        } catch (...) {
            const std::lock_guard lock(error_mutex);
            if (!first_error) first_error = std::current_exception();
        }
    }
    if (first_error) std::rethrow_exception(first_error);
}

// Agents per block in a population of n: a power of two from 256 (a batch of streams) to 2048, the largest
// that leaves at least 64 blocks (or 256 when n is under 16,384), so that threads share the work evenly.
// It depends on n only, never on the thread count.
inline constexpr std::int64_t smallest_block = 256, largest_block = 2048;
inline std::int64_t block_size(std::int64_t n) noexcept {
    std::int64_t size = largest_block;
    while (size > smallest_block && size * 64 > n) size /= 2;
    return size;
}

// Calls body(first, last) for every block [first, last) of [0, n), in parallel.
template <class Body>
void for_each_block(std::int64_t n, int threads, Body body) {
    const std::int64_t size = block_size(n);
    parallel_for((n + size - 1) / size, threads, [&](std::int64_t block) { body(block * size, std::min(n, (block + 1) * size)); });
}

// Calls body(first, last, partial) for every block [first, last) of [0, n), where `partial` is the block's
// accumulator (width doubles), and returns the sum of the partials taken in block order.
template <class Body>
std::vector<double> reduce_blocks(std::int64_t n, std::size_t width, int threads, Body body) {
    const std::int64_t size = block_size(n), blocks = (n + size - 1) / size;
    std::vector<double> partials(static_cast<std::size_t>(blocks) * width, 0.0);
    for_each_block(n, threads, [&](std::int64_t first, std::int64_t last) {
        // Accumulated apart and copied at the end: neighbouring blocks' partials share cache lines, and two
        // threads updating one line per agent would slow each other down many times over.
        std::vector<double> partial(width, 0.0);
        body(first, last, partial.data());
        std::copy(partial.begin(), partial.end(), partials.begin() + first / size * static_cast<std::ptrdiff_t>(width));
    });
    std::vector<double> total(width, 0.0);
    for (std::int64_t block = 0; block < blocks; ++block)
        for (std::size_t k = 0; k < width; ++k) total[k] += partials[static_cast<std::size_t>(block) * width + k];
    return total;
}

// Calls body(i, partial) for every i in [0, n), where `partial` is the accumulator of i's block.
template <class Body>
std::vector<double> reduce_in_blocks(std::int64_t n, std::size_t width, int threads, Body body) {
    return reduce_blocks(n, width, threads, [&](std::int64_t first, std::int64_t last, double* partial) {
        for (std::int64_t i = first; i < last; ++i) body(i, partial);
    });
}

}  // namespace trustsim
