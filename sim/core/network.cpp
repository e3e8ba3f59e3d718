#include "trustsim/network.hpp"

#include <algorithm>
#include <cmath>

#include "trustsim/errors.hpp"
#include "trustsim/parallel.hpp"
#include "trustsim/random.hpp"

namespace trustsim {

Network::Network(std::vector<std::int64_t> offsets, std::vector<std::int32_t> targets)
    : offsets_(std::move(offsets)), targets_(std::move(targets)) {
    if (offsets_.empty() || offsets_.back() != static_cast<std::int64_t>(targets_.size()))
        throw InternalError("Network: offsets do not match targets");
}

Network from_edges(std::int64_t n, std::vector<Edge> edges, int threads) {
    // Each edge is written at both ends, then each node's list is sorted and its duplicates merged: sorting
    // n short lists is much faster than sorting the edge list, and the result is the same.
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(n) + 1, 0);
    for (const auto& e : edges)
        if (e.a != e.b) {
            ++offsets[static_cast<std::size_t>(e.a) + 1];
            ++offsets[static_cast<std::size_t>(e.b) + 1];
        }
    for (std::size_t i = 1; i < offsets.size(); ++i) offsets[i] += offsets[i - 1];
    // offsets[i] serves as node i's fill cursor (no second array at the peak of memory); once filled it
    // points at the end of i's list, the start of i + 1's, so shifting by one restores the offsets.
    std::vector<std::int32_t> targets(static_cast<std::size_t>(offsets.back()));
    for (const auto& e : edges)
        if (e.a != e.b) {
            targets[static_cast<std::size_t>(offsets[static_cast<std::size_t>(e.a)]++)] = e.b;
            targets[static_cast<std::size_t>(offsets[static_cast<std::size_t>(e.b)]++)] = e.a;
        }
    std::vector<Edge>().swap(edges);
    std::copy_backward(offsets.begin(), offsets.end() - 1, offsets.end());
    offsets[0] = 0;

    std::vector<std::int64_t> kept(static_cast<std::size_t>(n));  // list lengths without duplicates
    for_each_block(n, threads, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t i = first; i < last; ++i) {
            const auto begin = targets.begin() + offsets[static_cast<std::size_t>(i)], end = targets.begin() + offsets[static_cast<std::size_t>(i) + 1];
            std::sort(begin, end);
            kept[static_cast<std::size_t>(i)] = std::unique(begin, end) - begin;
        }
    });
    std::int64_t written = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const auto from = offsets[static_cast<std::size_t>(i)];
        offsets[static_cast<std::size_t>(i)] = written;
        std::copy_n(targets.begin() + from, kept[static_cast<std::size_t>(i)], targets.begin() + written);
        written += kept[static_cast<std::size_t>(i)];
    }
    offsets[static_cast<std::size_t>(n)] = written;
    std::vector<std::int64_t>().swap(kept);  // before shrinking, which copies the targets
    targets.resize(static_cast<std::size_t>(written));
    targets.shrink_to_fit();
    return Network(std::move(offsets), std::move(targets));
}

namespace {

// Generates edges row by row, each row from its own random stream, in parallel over fixed blocks of rows;
// blocks are concatenated in order, so the edge list does not depend on the thread count.
template <class Row>
std::vector<Edge> edges_by_row(std::int64_t n, int threads, Row row) {
    constexpr std::int64_t rows_per_block = 4096;
    const std::int64_t blocks = (n + rows_per_block - 1) / rows_per_block;
    std::vector<std::vector<Edge>> parts(static_cast<std::size_t>(blocks));
    parallel_for(blocks, threads, [&](std::int64_t block) {
        auto& out = parts[static_cast<std::size_t>(block)];
        for (std::int64_t i = block * rows_per_block; i < std::min(n, (block + 1) * rows_per_block); ++i) row(i, out);
    });
    std::size_t total = 0;
    for (const auto& p : parts) total += p.size();
    std::vector<Edge> edges;
    edges.reserve(total);
    for (auto& p : parts) {
        edges.insert(edges.end(), p.begin(), p.end());
        std::vector<Edge>().swap(p);
    }
    return edges;
}

// G(n, p) by geometric skipping (Batagelj & Brandes 2005): row i links to each j > i with probability p.
std::vector<Edge> erdos_renyi(std::int64_t n, double mean_degree, std::uint64_t seed, int threads) {
    const double p = std::min(1.0, mean_degree / static_cast<double>(n - 1));
    const double log_miss = std::log1p(-p);
    return edges_by_row(n, threads, [&](std::int64_t i, std::vector<Edge>& out) {
        Stream rng(seed, Phase::network, 0, static_cast<std::uint64_t>(i));
        for (std::int64_t j = i;;) {
            // The skip is compared as a double: with p = 0, or p so small that it exceeds the int64 range, it
            // is infinite or huge and ends the row.
            const double skip = p >= 1.0 ? 0.0 : std::floor(std::log1p(-rng.uniform()) / log_miss);
            if (!(skip < static_cast<double>(n - 1 - j))) break;
            j += 1 + static_cast<std::int64_t>(skip);
            out.push_back({static_cast<std::int32_t>(i), static_cast<std::int32_t>(j)});
        }
    });
}

// Ring lattice of degree k, each edge's far end rewired with probability beta to a uniform other node
// (Watts & Strogatz 1998). A rewiring that lands on an existing edge is merged, so degree can fall slightly.
std::vector<Edge> watts_strogatz(std::int64_t n, std::int64_t k, double rewire, std::uint64_t seed, int threads) {
    return edges_by_row(n, threads, [&](std::int64_t i, std::vector<Edge>& out) {
        Stream rng(seed, Phase::network, 0, static_cast<std::uint64_t>(i));
        for (std::int64_t d = 1; d <= k / 2; ++d) {
            std::int64_t j = (i + d) % n;
            if (rng.bernoulli(rewire)) {
                j = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n - 1)));
                if (j >= i) ++j;
            }
            out.push_back({static_cast<std::int32_t>(i), static_cast<std::int32_t>(j)});
        }
    });
}

// Preferential attachment (Barabasi & Albert 1999): each new node links to m distinct earlier nodes chosen
// with probability proportional to degree, by sampling the list of edge ends. Sequential by nature.
std::vector<Edge> barabasi_albert(std::int64_t n, std::int64_t m, std::uint64_t seed) {
    std::vector<Edge> edges;
    std::vector<std::int32_t> ends;
    edges.reserve(static_cast<std::size_t>(n * m));
    ends.reserve(static_cast<std::size_t>(2 * n * m));
    const std::int64_t core = std::min(n, m + 1);
    for (std::int32_t a = 0; a < core; ++a)
        for (std::int32_t b = a + 1; b < core; ++b) {
            edges.push_back({a, b});
            ends.push_back(a);
            ends.push_back(b);
        }
    std::vector<std::int32_t> chosen;
    StreamBatch streams(seed, Phase::network, 0, static_cast<std::uint32_t>((m + 1) / 2));  // m 64-bit draws
    for (std::int64_t v = core; v < n; ++v) {
        Stream rng = streams(static_cast<std::uint64_t>(v));
        chosen.clear();
        while (static_cast<std::int64_t>(chosen.size()) < m) {
            const auto target = ends[rng.below(ends.size())];
            if (std::find(chosen.begin(), chosen.end(), target) == chosen.end()) chosen.push_back(target);
        }
        for (const auto target : chosen) {
            edges.push_back({target, static_cast<std::int32_t>(v)});
            ends.push_back(target);
            ends.push_back(static_cast<std::int32_t>(v));
        }
    }
    return edges;
}

}  // namespace

Network build_network(const NetworkSpec& spec, std::int64_t customers, std::uint64_t seed, int threads) {
    using Kind = NetworkSpec::Kind;
    const auto k = static_cast<std::int64_t>(std::llround(spec.mean_degree));
    switch (spec.kind) {
        case Kind::none:
        case Kind::well_mixed: return from_edges(customers, {}, threads);
        case Kind::erdos_renyi: return from_edges(customers, erdos_renyi(customers, spec.mean_degree, seed, threads), threads);
        case Kind::watts_strogatz: return from_edges(customers, watts_strogatz(customers, k, spec.rewire, seed, threads), threads);
        case Kind::barabasi_albert: return from_edges(customers, barabasi_albert(customers, k / 2, seed), threads);
        case Kind::edge_list:
            if (!spec.edges) throw InternalError("edge_list network without loaded edges");
            return from_edges(customers, *spec.edges, threads);
    }
    throw InternalError("unknown network kind");
}

}  // namespace trustsim
