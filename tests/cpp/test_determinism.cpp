// Same seed, same results: bitwise, for any thread count.
#include <catch2/catch.hpp>

#include <cstring>

#include "support.hpp"

using namespace trustsim;
using namespace trustsim::testing;

namespace {
// Records everything a run reports, to compare bit for bit.
struct CapturingRecorder final : Recorder {
    std::vector<StepMetrics> steps;
    std::vector<TrustHistogram> histograms;
    std::vector<Snapshot> snapshots;
    void begin(const ModelSpec&, const CustomerDispositions&) override {}
    void record_step(const StepMetrics& m) override { steps.push_back(m); }
    void record_histogram(const TrustHistogram& h) override { histograms.push_back(h); }
    void record_snapshot(const Snapshot& s) override { snapshots.push_back(s); }
    void end(const RunInfo&) override {}
};

bool bitwise_equal(const std::vector<StepMetrics>& a, const std::vector<StepMetrics>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t s = 0; s < a.size(); ++s)
        if (a[s].values.size() != b[s].values.size() ||
            std::memcmp(a[s].values.data(), b[s].values.data(), a[s].values.size() * sizeof(a[s].values[0])) != 0)
            return false;
    return true;
}

CapturingRecorder run_with(const ModelSpec& spec, int threads) {
    CapturingRecorder rec;
    Simulation sim(spec, Context{threads});
    sim.run(rec);
    return rec;
}

ModelSpec rich_spec(NetworkSpec::Kind network) {
    auto spec = small_spec(3, 9000, 25);
    spec.network.kind = network;
    spec.network.mean_degree = 6;
    spec.record.histogram_every = 5;
    spec.record.snapshot_every = 10;
    spec.firms[1].adaptive_control.enabled = true;
    spec.firms[2].triggers = 0.3;
    Event breach;
    breach.kind = Event::Kind::breach;
    breach.step = 5;
    const Event scandal = scandal_event(3, 2, 10);
    Event policy;
    policy.kind = Event::Kind::policy;
    policy.step = 8;
    policy.firm = 1;
    policy.changes = {{&FirmSpec::trust_first, 0.9}};
    spec.events = {scandal, breach, policy};
    return spec;
}
}  // namespace

TEST_CASE("1, 2 and 3 threads give bitwise-identical metrics, histograms and snapshots") {
    for (auto network : {NetworkSpec::Kind::none, NetworkSpec::Kind::well_mixed, NetworkSpec::Kind::erdos_renyi,
                         NetworkSpec::Kind::watts_strogatz, NetworkSpec::Kind::barabasi_albert}) {
        const auto spec = rich_spec(network);
        const auto one = run_with(spec, 1);
        for (int threads : {2, 3}) {
            const auto many = run_with(spec, threads);
            CHECK(bitwise_equal(one.steps, many.steps));
            REQUIRE(one.histograms.size() == many.histograms.size());
            for (std::size_t i = 0; i < one.histograms.size(); ++i) CHECK(one.histograms[i].counts == many.histograms[i].counts);
            REQUIRE(one.snapshots.size() == many.snapshots.size());
            for (std::size_t i = 0; i < one.snapshots.size(); ++i) {
                CHECK(one.snapshots[i].customers.trust == many.snapshots[i].customers.trust);
                CHECK(one.snapshots[i].customers.firm == many.snapshots[i].customers.firm);
                CHECK(one.snapshots[i].employees.trustworthiness == many.snapshots[i].employees.trustworthiness);
            }
        }
        CHECK(one.histograms.size() == 5);
        CHECK(one.snapshots.size() == 3);  // after steps 10, 20 and the last (25)
    }
}

TEST_CASE("a different seed gives different results; the same seed the same") {
    auto spec = small_spec();
    const auto a = run_steps(spec);
    CHECK(bitwise_equal(a, run_steps(spec)));
    spec.simulation.seed = 2;
    CHECK_FALSE(bitwise_equal(a, run_steps(spec)));
}
