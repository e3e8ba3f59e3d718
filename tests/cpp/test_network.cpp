#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "trustsim/network.hpp"

using namespace trustsim;

namespace {
void check_simple_and_symmetric(const Network& net) {
    for (std::int64_t i = 0; i < net.nodes(); ++i) {
        REQUIRE(std::is_sorted(net.neighbours_begin(i), net.neighbours_end(i)));
        REQUIRE(std::adjacent_find(net.neighbours_begin(i), net.neighbours_end(i)) == net.neighbours_end(i));
        for (auto it = net.neighbours_begin(i); it != net.neighbours_end(i); ++it) {
            REQUIRE(*it != i);
            REQUIRE(std::binary_search(net.neighbours_begin(*it), net.neighbours_end(*it), static_cast<std::int32_t>(i)));
        }
    }
}
double mean_degree(const Network& net) { return static_cast<double>(net.edge_ends()) / static_cast<double>(net.nodes()); }
NetworkSpec spec_of(NetworkSpec::Kind kind, double degree) {
    NetworkSpec s;
    s.kind = kind;
    s.mean_degree = degree;
    return s;
}
}  // namespace

TEST_CASE("from_edges drops self-loops, merges duplicates in either orientation, sorts neighbours") {
    const auto net = from_edges(4, {{2, 1}, {1, 2}, {0, 3}, {3, 3}, {0, 1}, {3, 0}});
    CHECK(net.edge_ends() == 6);
    CHECK(std::vector<std::int32_t>(net.neighbours_begin(0), net.neighbours_end(0)) == std::vector<std::int32_t>{1, 3});
    CHECK(std::vector<std::int32_t>(net.neighbours_begin(1), net.neighbours_end(1)) == std::vector<std::int32_t>{0, 2});
    CHECK(net.degree(3) == 1);
    check_simple_and_symmetric(net);
}

TEST_CASE("Erdos-Renyi has the requested mean degree and a Poisson-like spread") {
    const auto net = build_network(spec_of(NetworkSpec::Kind::erdos_renyi, 10), 20000, 1, 2);
    check_simple_and_symmetric(net);
    // Mean of 20000 Poisson(10) degrees: standard error sqrt(10/20000) ~ 0.022 (times 2, edges counted twice).
    CHECK(mean_degree(net) == Approx(10).margin(0.15));
    double var = 0;
    for (std::int64_t i = 0; i < net.nodes(); ++i) var += std::pow(static_cast<double>(net.degree(i)) - mean_degree(net), 2);
    CHECK(var / static_cast<double>(net.nodes()) == Approx(10).margin(0.8));
}

TEST_CASE("Erdos-Renyi of mean degree 0, or nearly 0, has no edges (the geometric skip is infinite or past int64)") {
    for (const double degree : {0.0, 1e-30}) {
        const auto net = build_network(spec_of(NetworkSpec::Kind::erdos_renyi, degree), 2000, 1, 2);
        CHECK(net.nodes() == 2000);
        CHECK(net.edge_ends() == 0);
    }
    // Still random at small degrees: 1e-3 over 20000 customers is about 10 edges (20 ends).
    const auto sparse = build_network(spec_of(NetworkSpec::Kind::erdos_renyi, 1e-3), 20000, 1, 2);
    check_simple_and_symmetric(sparse);
    CHECK(sparse.edge_ends() > 0);
    CHECK(sparse.edge_ends() < 80);
}

TEST_CASE("Watts-Strogatz keeps the lattice without rewiring and about its degree with it") {
    auto s = spec_of(NetworkSpec::Kind::watts_strogatz, 6);
    s.rewire = 0;
    const auto ring = build_network(s, 1000, 1, 1);
    check_simple_and_symmetric(ring);
    for (std::int64_t i = 0; i < ring.nodes(); ++i) REQUIRE(ring.degree(i) == 6);
    s.rewire = 0.2;
    const auto small_world = build_network(s, 10000, 1, 2);
    check_simple_and_symmetric(small_world);
    CHECK(mean_degree(small_world) == Approx(6).margin(0.05));
}

TEST_CASE("Barabasi-Albert has mean degree about 2m and a heavy tail") {
    const auto net = build_network(spec_of(NetworkSpec::Kind::barabasi_albert, 4), 20000, 1, 1);
    check_simple_and_symmetric(net);
    CHECK(mean_degree(net) == Approx(4).margin(0.05));
    std::int64_t largest = 0;
    for (std::int64_t i = 0; i < net.nodes(); ++i) largest = std::max(largest, net.degree(i));
    CHECK(largest > 50);  // an ER graph of mean degree 4 on 20000 nodes has max degree near 13
}

TEST_CASE("networks do not depend on the thread count") {
    for (auto kind : {NetworkSpec::Kind::erdos_renyi, NetworkSpec::Kind::watts_strogatz, NetworkSpec::Kind::barabasi_albert}) {
        const auto a = build_network(spec_of(kind, 6), 12000, 9, 1);
        const auto b = build_network(spec_of(kind, 6), 12000, 9, 2);
        CHECK(a.offsets() == b.offsets());
        CHECK(a.targets() == b.targets());
    }
}

TEST_CASE("an edge list becomes a network") {
    NetworkSpec s;
    s.kind = NetworkSpec::Kind::edge_list;
    s.edges = std::make_shared<const std::vector<Edge>>(std::vector<Edge>{{0, 1}, {1, 2}});
    const auto net = build_network(s, 3, 1, 1);
    CHECK(net.degree(1) == 2);
    CHECK(build_network(spec_of(NetworkSpec::Kind::none, 0), 5, 1, 1).edge_ends() == 0);
}
