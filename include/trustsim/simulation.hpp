#pragma once
// Simulation: runs a ModelSpec. It copies the spec (which it never changes: policy changes from events
// and adaptive control live in the simulation's own firm state) and reports through a Recorder.
#include <cstdint>
#include <functional>
#include <memory>

#include "trustsim/recorder.hpp"
#include "trustsim/spec.hpp"

namespace trustsim {

// Execution resources are an argument, never a global.
struct Context {
    int threads = 1;
    // Called after each step with (steps done, steps in all); return false to stop early (e.g. on SIGINT).
    std::function<bool(std::int64_t, std::int64_t)> progress{};
};

class Network;

// Wall-clock seconds spent in each part of the steps run so far, for benchmarks and profiles.
struct PhaseSeconds {
    double employees = 0;      // events and phase A
    double customers = 0;      // phase B
    double word_of_mouth = 0;  // phase C and the end-of-step measurement
    double firms = 0;          // phase D
};

// Bytes a run holds at its peak: what all its threads share, and each thread's own scratch.
struct MemoryEstimate {
    double shared = 0;      // agent state, network and its construction
    double per_thread = 0;  // word of mouth's batch of listeners: their contacts' records and news
    double bytes(int threads) const noexcept { return shared + per_thread * (threads > 1 ? threads : 1); }
};

class Simulation {
public:
    Simulation(ModelSpec spec, Context context);
    ~Simulation();
    Simulation(const Simulation&) = delete;
    Simulation& operator=(const Simulation&) = delete;

    // What a run of `spec` holds at its peak, so that a population too large for the machine is refused
    // before it is built. A sweep's runs take no snapshots (Snapshots::none), whatever the spec records.
    enum class Snapshots { as_recorded, none };
    static MemoryEstimate estimated_memory(const ModelSpec& spec, Snapshots snapshots = Snapshots::as_recorded);

    // Runs every step, reporting to the recorder. Returns false if the progress callback stopped it.
    bool run(Recorder& recorder);

    // Advances one step and returns its metrics (for tests and embedding; run() is built on it).
    StepMetrics step();
    std::int64_t current_step() const noexcept;
    const PhaseSeconds& phase_seconds() const noexcept;
    const ModelSpec& spec() const noexcept;
    const Network& network() const noexcept;

    TrustHistogram histogram() const;
    Snapshot snapshot(bool customers, bool employees) const;
    CustomerDispositions customer_dispositions() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace trustsim
