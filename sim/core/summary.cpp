#include "trustsim/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace trustsim {

void SummaryRecorder::begin(const ModelSpec& spec, const CustomerDispositions&) {
    firms_.clear();
    for (const auto& f : spec.firms) firms_.push_back({f.name});
    promoters_minus_detractors_.assign(firms_.size(), 0.0);
    buyers_.assign(firms_.size(), 0.0);
    const auto steps = spec.simulation.steps;
    tail_from_ = steps - std::max<std::int64_t>(1, steps / 10);
    recorded_ = false;
}

void SummaryRecorder::record_step(const StepMetrics& metrics) {
    recorded_ = true;
    for (std::size_t f = 0; f < firms_.size(); ++f) {
        const int firm = static_cast<int>(f);
        auto& summary = firms_[f];
        summary.trust = metrics.at(firm, Metric::trust);
        summary.share = metrics.at(firm, Metric::share);
        summary.cumulative_profit += metrics.at(firm, Metric::profit);
        summary.cumulative_revenue += metrics.at(firm, Metric::revenue);
        // The NPS of all the tail's buyers pooled: each step's NPS weighted by its buyers (its respondents), so
        // that a step with a handful of buyers counts for no more than they are.
        if (const double nps = metrics.at(firm, Metric::nps); metrics.step >= tail_from_ && !std::isnan(nps)) {
            promoters_minus_detractors_[f] += nps * metrics.at(firm, Metric::purchases);
            buyers_[f] += metrics.at(firm, Metric::purchases);
        }
    }
}

std::vector<SummaryRecorder::FirmSummary> SummaryRecorder::firms() const {
    if (!recorded_) return {};
    auto out = firms_;
    for (std::size_t f = 0; f < out.size(); ++f) out[f].nps = buyers_[f] > 0 ? promoters_minus_detractors_[f] / buyers_[f] : std::nan("");
    return out;
}

namespace {

// Money for people: whole units with thousands separators, e.g. -1,234,567.
std::string with_separators(double amount) {
    const double whole = std::round(std::abs(amount));  // halves away from zero; any size (llround overflows above 9.2e18)
    char digits_buffer[320];
    std::snprintf(digits_buffer, sizeof digits_buffer, "%.0f", whole);
    const std::string digits = digits_buffer;
    std::string out = amount < 0 && whole != 0 ? "-" : "";
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

}  // namespace

std::string SummaryRecorder::table() const {
    std::string out = "firm                  trust   share     NPS   cum. revenue    cum. profit\n";
    char line[200];
    for (const auto& f : firms()) {
        std::snprintf(line, sizeof line, "%-20.20s %6.3f %7.1f%% %7.1f %14s %14s\n", f.name.c_str(), f.trust, 100 * f.share, f.nps,
                      with_separators(f.cumulative_revenue).c_str(), with_separators(f.cumulative_profit).c_str());
        out += line;
    }
    if (recorded_)
        out += "(trust and share at the last step; NPS of all the buyers of the last tenth of the run)\n";
    return out;
}

}  // namespace trustsim
