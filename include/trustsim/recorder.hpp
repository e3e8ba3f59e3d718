#pragma once
// What a run reports, and the interface it reports through. The engine fills plain values and hands
// them over; a recorder copies what it keeps (it never holds on to the engine's state).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trustsim {

struct ModelSpec;

// Per-step, per-firm metrics. The order is the order of the output's /timeseries datasets' listing.
enum class Metric : std::size_t {
    customers, share, active, purchases, lost_sales, churn_in, churn_out,
    trust, trust_all, credibility, reliability, intimacy, self_orientation, distrust_share, nps,
    checks, fraud_attempts, fraud_detected, fraud_loss, triggers, oversold,
    revenue, costs, profit,
    employee_trust, employee_trustworthiness, quits, wom_positive, wom_negative,
    control_customers, trust_in_customers, scandal_awareness,
    count_  // not a metric: the number of metrics
};

struct MetricInfo {
    std::string_view name;
    std::string_view unit;
    std::string_view doc;
};

inline constexpr std::size_t metric_count = static_cast<std::size_t>(Metric::count_);

inline constexpr std::array<MetricInfo, metric_count> metric_info{{
    {"customers", "customers", "customers whose current firm this is, at the end of the step"},
    {"share", "share", "market share: customers / all customers"},
    {"active", "customers", "active customers who visited this firm this step"},
    {"purchases", "purchases", "purchases made this step"},
    {"lost_sales", "visits", "visits that ended without a purchase"},
    {"churn_in", "customers", "customers who switched to this firm this step"},
    {"churn_out", "customers", "customers who left this firm this step"},
    {"trust", "trust", "mean trust of this firm's customers in it"},
    {"trust_all", "trust", "mean trust of all customers in this firm"},
    {"credibility", "", "mean credibility C of this firm among its customers"},
    {"reliability", "", "mean reliability R of this firm among its customers"},
    {"intimacy", "", "mean intimacy I of this firm among its customers"},
    {"self_orientation", "", "mean self-orientation S of this firm among its customers"},
    {"distrust_share", "share", "share of this firm's customers whose trust is below distrust_threshold"},
    {"nps", "points", "net promoter score of this step's buyers, % promoters (9-10) - % detractors (0-6); NaN without buyers"},
    {"checks", "checks", "customers checked (control)"},
    {"fraud_attempts", "acts", "purchases made in bad faith"},
    {"fraud_detected", "acts", "bad-faith acts caught by a check"},
    {"fraud_loss", "currency", "losses from undetected bad faith"},
    {"triggers", "triggers", "trust triggers given"},
    {"oversold", "purchases", "purchases in which the employee oversold"},
    {"revenue", "currency", "price x purchases, plus the markup of oversold purchases"},
    {"costs", "currency", "check, fraud, hiring and trigger costs"},
    {"profit", "currency", "margin x revenue - costs"},
    {"employee_trust", "trust", "mean trust of employees in this firm"},
    {"employee_trustworthiness", "probability", "mean probability q_e that an employee delivers as promised"},
    {"quits", "employees", "employees who quit (and were replaced)"},
    {"wom_positive", "messages", "positive word-of-mouth messages about this firm heard this step"},
    {"wom_negative", "messages", "negative word-of-mouth messages about this firm heard this step"},
    {"control_customers", "probability", "kappa_C in force this step"},
    {"trust_in_customers", "share", "the firm's trust in its customers (observed good-faith rate of checked customers, smoothed)"},
    {"scandal_awareness", "share", "share of all customers aware of a scandal about this firm"},
}};

inline constexpr std::size_t metric_index(Metric m) noexcept { return static_cast<std::size_t>(m); }

// One step's metrics: values[firm][metric].
struct StepMetrics {
    std::int64_t step = 0;
    std::vector<std::array<double, metric_count>> values;
    double& at(int firm, Metric m) { return values[static_cast<std::size_t>(firm)][metric_index(m)]; }
    double at(int firm, Metric m) const { return values[static_cast<std::size_t>(firm)][metric_index(m)]; }
};

// Histogram of every customer's trust in each firm: counts[firm * bins + bin], bins over [0, 1].
struct TrustHistogram {
    std::int64_t step = 0;
    std::int64_t bins = 20;
    std::vector<std::int64_t> counts;
};

// A copy of agent-level state at one step.
struct CustomerSnapshot {
    std::vector<std::int16_t> firm;           // current firm, per customer
    std::vector<float> trust;                 // [customer * firms + firm]
    std::vector<float> perception;            // [(customer * firms + firm) * 4 + component], C R I S
};
struct EmployeeSnapshot {
    std::vector<std::int16_t> firm;
    std::vector<float> trust, trustworthiness, honesty, reciprocity, propensity;
};
struct Snapshot {
    std::int64_t step = 0;
    bool has_customers = false, has_employees = false;
    CustomerSnapshot customers;
    EmployeeSnapshot employees;
};

// Static per-customer attributes, reported once at the start: views of the simulation's own arrays (a copy
// would cost 13 bytes per customer at the run's start), valid during begin().
struct CustomerDispositions {
    std::span<const float> propensity, honesty, reciprocity;
    std::span<const std::uint8_t> opportunist;
};

struct RunInfo {
    int threads = 1;
    double wall_seconds = 0;
};

class Recorder {
public:
    virtual ~Recorder() = default;
    virtual void begin(const ModelSpec& spec, const CustomerDispositions& dispositions) = 0;
    virtual void record_step(const StepMetrics& metrics) = 0;
    virtual void record_histogram(const TrustHistogram& histogram) = 0;
    virtual void record_snapshot(const Snapshot& snapshot) = 0;
    virtual void end(const RunInfo& info) = 0;
};

}  // namespace trustsim
