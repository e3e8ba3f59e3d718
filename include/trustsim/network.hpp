#pragma once
// The customers' social network in compressed sparse row form: the neighbours of customer i are
// targets[offsets[i] .. offsets[i+1]). Undirected graphs store each edge at both ends.
#include <cstdint>
#include <string>
#include <vector>

#include "trustsim/spec.hpp"

namespace trustsim {

class Network {
public:
    Network() = default;
    Network(std::vector<std::int64_t> offsets, std::vector<std::int32_t> targets);

    std::int64_t nodes() const noexcept { return static_cast<std::int64_t>(offsets_.size()) - 1; }
    std::int64_t edge_ends() const noexcept { return static_cast<std::int64_t>(targets_.size()); }
    std::int64_t degree(std::int64_t i) const noexcept { return offsets_[i + 1] - offsets_[i]; }
    const std::int32_t* neighbours_begin(std::int64_t i) const noexcept { return targets_.data() + offsets_[i]; }
    const std::int32_t* neighbours_end(std::int64_t i) const noexcept { return targets_.data() + offsets_[i + 1]; }
    const std::vector<std::int64_t>& offsets() const noexcept { return offsets_; }
    const std::vector<std::int32_t>& targets() const noexcept { return targets_; }

private:
    std::vector<std::int64_t> offsets_{0};
    std::vector<std::int32_t> targets_;
};

// Builds the symmetric CSR of an edge list over n nodes: self-loops dropped, duplicate edges merged,
// neighbours sorted by id (so the result does not depend on the order edges were produced in).
Network from_edges(std::int64_t n, std::vector<Edge> edges, int threads = 1);

// Builds the static network the spec asks for (empty for none and well_mixed). Edge-list files are read
// by the scenario loader into spec.edges; the engine never opens files.
Network build_network(const NetworkSpec& spec, std::int64_t customers, std::uint64_t seed, int threads);

}  // namespace trustsim
