#include "trustsim/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace trustsim {

void SummaryRecorder::begin(const ModelSpec& spec, const CustomerDispositions&) {
    names_.clear();
    for (const auto& f : spec.firms) names_.push_back(f.name);
    history_.clear();
    profit_.assign(names_.size(), 0.0);
    revenue_.assign(names_.size(), 0.0);
}

void SummaryRecorder::record_step(const StepMetrics& metrics) {
    for (std::size_t f = 0; f < names_.size(); ++f) {
        profit_[f] += metrics.at(static_cast<int>(f), Metric::profit);
        revenue_[f] += metrics.at(static_cast<int>(f), Metric::revenue);
    }
    history_.push_back(metrics);
}

void SummaryRecorder::end(const RunInfo& info) { info_ = info; }

std::vector<SummaryRecorder::FirmSummary> SummaryRecorder::firms() const {
    std::vector<FirmSummary> out;
    if (history_.empty()) return out;
    const auto tail = std::max<std::size_t>(1, history_.size() / 10);
    for (std::size_t f = 0; f < names_.size(); ++f) {
        const int firm = static_cast<int>(f);
        // The NPS of all the tail's buyers pooled: each step's NPS weighted by its buyers (its respondents), so
        // that a step with a handful of buyers counts for no more than they are.
        double weighted_nps = 0, buyers = 0;
        for (auto it = history_.end() - static_cast<std::ptrdiff_t>(tail); it != history_.end(); ++it)
            if (const double v = it->at(firm, Metric::nps); !std::isnan(v)) {
                weighted_nps += v * it->at(firm, Metric::purchases);
                buyers += it->at(firm, Metric::purchases);
            }
        out.push_back({names_[f], history_.back().at(firm, Metric::trust), history_.back().at(firm, Metric::share),
                       buyers > 0 ? weighted_nps / buyers : std::nan(""), profit_[f], revenue_[f]});
    }
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
    if (!history_.empty())
        out += "(trust and share at the last step; NPS of all the buyers of the last tenth of the run)\n";
    return out;
}

}  // namespace trustsim
