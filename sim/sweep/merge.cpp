// `trustsim merge`: one HDF5 file ("trustsim-sweep") with every run's time series and, per point, the
// mean, standard deviation and 95% interval across replicates (layout in docs/sweeps.md).
#include <boost/math/distributions/students_t.hpp>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>

#include "../io/hdf5_util.hpp"
#include "trustsim/io/hdf5_output.hpp"
#include "trustsim/progress.hpp"
#include "trustsim/sweep.hpp"
#include "trustsim/version.hpp"

namespace trustsim::sweep {
namespace {

namespace fs = std::filesystem;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

double as_number(const std::string& text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() ? value : nan;
}

// Mean, standard deviation and Student-t 95% interval across a point's replicates of every value of a run,
// over the finite values (NaN where undefined). Replicates are added one at a time in two passes (values,
// then squared deviations from the mean), so memory is that of a few runs however many replicates there are.
class ReplicateStatistics {
public:
    explicit ReplicateStatistics(std::size_t size) : sum_(size), squares_(size), mean_(size), count_(size) {}

    void start() {
        std::fill(sum_.begin(), sum_.end(), 0.0);
        std::fill(squares_.begin(), squares_.end(), 0.0);
        std::fill(count_.begin(), count_.end(), 0);
    }
    void add_values(const std::vector<double>& x) {
        for (std::size_t e = 0; e < x.size(); ++e)
            if (std::isfinite(x[e])) sum_[e] += x[e], ++count_[e];
    }
    void compute_means() {
        for (std::size_t e = 0; e < mean_.size(); ++e) mean_[e] = count_[e] > 0 ? sum_[e] / static_cast<double>(count_[e]) : nan;
    }
    void add_deviations(const std::vector<double>& x) {
        for (std::size_t e = 0; e < x.size(); ++e)
            if (std::isfinite(x[e])) squares_[e] += (x[e] - mean_[e]) * (x[e] - mean_[e]);
    }
    // Once every replicate went through add_values, compute_means and add_deviations: the statistics of
    // elements [first, first + n).
    void describe(std::size_t first, std::size_t n, double* mean, double* sd, double* low, double* high) const {
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t e = first + i;
            const auto count = count_[e];
            mean[i] = mean_[e], sd[i] = low[i] = high[i] = nan;
            if (count < 2) continue;
            sd[i] = std::sqrt(squares_[e] / static_cast<double>(count - 1));
            const double t = boost::math::quantile(boost::math::students_t(static_cast<double>(count - 1)), 0.975);
            const double half = t * sd[i] / std::sqrt(static_cast<double>(count));
            low[i] = mean[i] - half;
            high[i] = mean[i] + half;
        }
    }

private:
    std::vector<double> sum_, squares_, mean_;
    std::vector<std::size_t> count_;
};

}  // namespace

std::optional<MergedSweep> merge(const std::string& outdir, const std::string& output, bool force, const std::function<bool()>& stop) {
    const auto scenario = load_stored_sweep(outdir);
    if (is_sweep_file(outdir, output))
        throw UserError({output, 0, 0, ""}, "the output lies among the files of the sweep being merged (" + outdir + "), which merging would overwrite",
                        "choose a path outside the sweep's scenario.yaml, manifest.csv, results/ and slurm/, e.g. -o sweep.h5");
    io::check_output_file(output, force);  // before the merge's work, not after it
    const auto& sweep = scenario.sweep;
    std::vector<std::string> damage;
    const auto results = read_results(outdir, &damage);  // where each run's record is; values are read when they are written
    std::vector<const RunResult*> by_run(static_cast<std::size_t>(sweep.runs()), nullptr);
    for (const auto& r : results)
        if (r.run >= 0 && r.run < sweep.runs()) by_run[static_cast<std::size_t>(r.run)] = &r;
    const auto missing = std::count(by_run.begin(), by_run.end(), nullptr);
    for (const auto& d : damage)  // a resumed sweep may have run the damaged runs again into another log
        std::cerr << "trustsim: " << (missing > 0 ? "warning: " + d + "; runs recorded only there are missing"
                                                  : "note: " + d + "; every run is recorded intact, so none is missing") << "\n";
    if (missing > 0)
        throw UserError({outdir, 0, 0, ""}, std::to_string(missing) + " of " + std::to_string(sweep.runs()) + " runs are not finished",
                        "run the same `trustsim sweep` command again to finish them (or wait for the sweep's running tasks), then merge");
    const auto firms = static_cast<std::int64_t>(scenario.spec.firms.size());
    std::int64_t steps = 0;
    for (const auto* r : by_run) {
        if (r->firms != firms)
            throw UserError({outdir, 0, 0, ""}, "runs differ in their number of firms", "merge cannot stack them: do not sweep over the firms list");
        steps = std::max(steps, r->steps);
    }

    const auto runs = static_cast<std::size_t>(sweep.runs());
    const auto points = sweep.points.size();
    const auto replicates = static_cast<std::size_t>(sweep.replicates);
    const auto per_run = static_cast<std::size_t>(steps * firms);
    io::h5::TemporaryOutput temporary(output, force);
    {  // the file is closed at the end of this block, before it is renamed (or removed)
        io::h5::Writer w(temporary.path(), output);
        const hid_t root = w.file();
        w.attribute(root, "format", std::string("trustsim-sweep"));
        w.attribute(root, "format_version", std::int32_t{1});
        w.attribute(root, "trustsim_version", std::string(version));
        w.attribute(root, "build", std::string(build_description));
        w.attribute(root, "method", sweep.method);
        w.attribute(root, "runs", static_cast<std::int64_t>(runs));
        w.attribute(root, "points", static_cast<std::int64_t>(points));
        w.attribute(root, "replicates", static_cast<std::int64_t>(replicates));
        w.attribute(root, "steps", steps);
        w.attribute(root, "firms", static_cast<std::int32_t>(firms));
        w.attribute(root, "seed", static_cast<std::uint64_t>(scenario.spec.simulation.seed));
        w.text(root, "scenario", scenario.text, "the resolved scenario and its sweep section");

        w.strings(w.group(root, "firms"), "name", scenario.spec.firm_names(), "firm names, in the order of the firm axis");

        std::vector<std::int64_t> run_id(runs), point(runs), replicate(runs);
        std::vector<std::uint64_t> seed(runs);
        std::vector<double> wall(runs);
        for (std::size_t i = 0; i < runs; ++i) {
            const auto r = io::sweep_run(scenario, static_cast<std::int64_t>(i));
            run_id[i] = r.run, point[i] = r.point, replicate[i] = r.replicate, seed[i] = r.seed;
            wall[i] = by_run[i]->wall_seconds;
        }
        {
            const auto g = w.group(root, "runs");
            w.dataset(g, "run", {runs}, run_id.data(), "run id: point * replicates + replicate");
            w.dataset(g, "point", {runs}, point.data(), "the run's point of the sweep");
            w.dataset(g, "replicate", {runs}, replicate.data(), "the run's replicate");
            w.dataset(g, "seed", {runs}, seed.data(), "the run's simulation.seed, derived from the scenario's seed and the replicate");
            w.dataset(g, "wall_seconds", {runs}, wall.data(), "the run's wall-clock time (differs between machines)", "s");
        }
        {
            const auto g = w.group(root, "parameters");
            const auto count = sweep.parameters.size();
            std::vector<std::string> values;
            std::vector<double> numeric;
            for (const auto& p : sweep.points)
                for (const auto& v : p) values.push_back(v), numeric.push_back(as_number(v));
            w.strings(g, "name", sweep.parameters, "swept parameters (key paths, as for --set)");
            w.strings(g, "value", values, "each point's parameter values as written (YAML)", {points, count});
            w.dataset(g, "numeric", {points, count}, numeric.data(), "each point's parameter values as numbers (NaN if not a number)");
        }

        {  // every dataset and group is closed at the end of this block, before the file, so that close() reports any failure
            std::vector<std::int64_t> step_index(static_cast<std::size_t>(steps));
            for (std::size_t s = 0; s < step_index.size(); ++s) step_index[s] = static_cast<std::int64_t>(s);
            const auto series = w.group(root, "timeseries");
            const auto statistics = w.group(root, "statistics");
            w.dataset(series, "step", {step_index.size()}, step_index.data(), "step of each row, from 0");

            // Rows are appended a run at a time and statistics accumulated a replicate at a time, so memory is that of
            // a few runs whatever the sweep's size; every metric fills five datasets at once, hence small chunks.
            constexpr std::size_t chunk_bytes = 64 << 10;
            const std::vector<hsize_t> row{static_cast<hsize_t>(steps), static_cast<hsize_t>(firms)};
            struct MetricOutput {
                io::h5::Appender series, mean, sd, low, high;
            };
            std::vector<MetricOutput> outputs;
            for (const auto& info : metric_info) {
                const std::string name(info.name);
                const auto g = w.group(statistics, name);
                const auto appender = [&](hid_t parent, const std::string& dataset, std::string_view doc) {
                    return io::h5::Appender(w, parent, dataset, H5T_NATIVE_DOUBLE, row, doc, info.unit, chunk_bytes);
                };
                outputs.push_back({appender(series, name, info.doc), appender(g, "mean", "mean across replicates"),
                                   appender(g, "std", "standard deviation across replicates (n - 1)"),
                                   appender(g, "ci95_low", "lower end of the Student-t 95% interval of the mean"),
                                   appender(g, "ci95_high", "upper end of the Student-t 95% interval of the mean")});
            }
            // A run's values by metric: columns[metric * per_run + step * firms + firm], NaN past the run's end.
            std::vector<double> columns(metric_count * per_run);
            const auto read_columns = [&](std::size_t run) {
                if (stop()) return false;
                const auto values = read_values(*by_run[run]);
                std::fill(columns.begin(), columns.end(), nan);  // runs shorter than the longest are padded with NaN
                for (std::size_t i = 0; i < values.size() / metric_count; ++i)
                    for (std::size_t m = 0; m < metric_count; ++m) columns[m * per_run + i] = values[i * metric_count + m];
                return true;
            };
            ReplicateStatistics statistics_of_point(metric_count * per_run);
            std::vector<double> mean(per_run), sd(per_run), low(per_run), high(per_run);
            ProgressLine progress("merging points", true);
            for (std::size_t p = 0; p < points; ++p) {
                statistics_of_point.start();
                for (std::size_t k = 0; k < replicates; ++k) {
                    if (!read_columns(p * replicates + k)) return std::nullopt;
                    for (std::size_t m = 0; m < metric_count; ++m) outputs[m].series.append(columns.data() + m * per_run);
                    statistics_of_point.add_values(columns);
                }
                statistics_of_point.compute_means();
                for (std::size_t k = 0; k < replicates; ++k) {
                    if (!read_columns(p * replicates + k)) return std::nullopt;
                    statistics_of_point.add_deviations(columns);
                }
                for (std::size_t m = 0; m < metric_count; ++m) {
                    statistics_of_point.describe(m * per_run, per_run, mean.data(), sd.data(), low.data(), high.data());
                    outputs[m].mean.append(mean.data());
                    outputs[m].sd.append(sd.data());
                    outputs[m].low.append(low.data());
                    outputs[m].high.append(high.data());
                }
                progress.update(static_cast<std::int64_t>(p + 1), static_cast<std::int64_t>(points));
            }
            for (auto& out : outputs)
                for (auto* appender : {&out.series, &out.mean, &out.sd, &out.low, &out.high}) appender->flush();
        }
        w.close();
    }
    temporary.move_into_place();
    return MergedSweep{static_cast<std::int64_t>(points), static_cast<std::int64_t>(replicates), steps};
}

}  // namespace trustsim::sweep
