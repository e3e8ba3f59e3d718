#pragma once
// Recorders that live beside the file output: a per-firm summary for the terminal, and a fan-out list.
#include <string>
#include <vector>

#include "trustsim/recorder.hpp"
#include "trustsim/spec.hpp"

namespace trustsim {

// Keeps what the end-of-run summary needs, as running sums (a run may have millions of steps): per firm, final
// trust and share, NPS over the last tenth of the run (buyers' NPS is noisy step to step), and cumulative profit.
// The last tenth is of the spec's simulation.steps: the summary is of a whole run (trustsim run prints none
// for a stopped one).
class SummaryRecorder final : public Recorder {
public:
    struct FirmSummary {
        std::string name;
        double trust = 0, share = 0, nps = 0, cumulative_profit = 0, cumulative_revenue = 0;
    };
    void begin(const ModelSpec& spec, const CustomerDispositions&) override;
    void record_step(const StepMetrics& metrics) override;
    void record_histogram(const TrustHistogram&) override {}
    void record_snapshot(const Snapshot&) override {}
    void end(const RunInfo&) override {}

    std::vector<FirmSummary> firms() const;
    // A readable table, one row per firm.
    std::string table() const;

private:
    std::vector<FirmSummary> firms_;
    std::vector<double> promoters_minus_detractors_, buyers_;  // over the last tenth's steps, per firm
    std::int64_t tail_from_ = 0;                                // the first step of the last tenth
    bool recorded_ = false;
};

// Forwards every call to each recorder in turn.
class RecorderList final : public Recorder {
public:
    explicit RecorderList(std::vector<Recorder*> recorders) : recorders_(std::move(recorders)) {}
    void begin(const ModelSpec& spec, const CustomerDispositions& d) override { for (auto* r : recorders_) r->begin(spec, d); }
    void record_step(const StepMetrics& m) override { for (auto* r : recorders_) r->record_step(m); }
    void record_histogram(const TrustHistogram& h) override { for (auto* r : recorders_) r->record_histogram(h); }
    void record_snapshot(const Snapshot& s) override { for (auto* r : recorders_) r->record_snapshot(s); }
    void end(const RunInfo& info) override { for (auto* r : recorders_) r->end(info); }

private:
    std::vector<Recorder*> recorders_;
};

}  // namespace trustsim
