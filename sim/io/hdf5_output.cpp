// The HDF5 output of one run: layout in docs/output-format.md.
#include "trustsim/io/hdf5_output.hpp"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <optional>
#include <sstream>

#include "hdf5_util.hpp"
#include "trustsim/spec.hpp"
#include "trustsim/version.hpp"

namespace trustsim::io {
namespace {

namespace fs = std::filesystem;

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

// Agent snapshots grow one row per snapshot; each dataset is created with the first snapshot.
struct SnapshotWriters {
    std::optional<h5::Appender> customer_firm, customer_trust, customer_perception;
    std::optional<h5::Appender> employee_firm, employee_trust, employee_trustworthiness, employee_honesty, employee_reciprocity,
        employee_propensity;
};

}  // namespace

struct Hdf5Recorder::Impl {
    OutputOptions options;
    std::string temporary;
    std::optional<h5::Writer> writer;
    bool committed = false;

    hsize_t firms = 0, customers = 0, employees = 0;
    // Time series and histograms are small (steps x firms x metrics); they are kept and written at the end.
    std::vector<std::int64_t> steps;
    std::vector<std::vector<double>> series;  // [metric][step * firms + firm]
    std::vector<std::int64_t> histogram_steps, histogram_counts;
    hsize_t bins = 0;
    std::vector<std::int64_t> snapshot_steps;
    h5::Handle snapshots, customer_snapshots, employee_snapshots;
    SnapshotWriters snapshot;

    void close_objects() {
        snapshot = {};
        snapshots = h5::Handle();
        customer_snapshots = h5::Handle();
        employee_snapshots = h5::Handle();
    }
};

Hdf5Recorder::Hdf5Recorder(OutputOptions options) : impl_(std::make_unique<Impl>()) {
    auto& d = *impl_;
    d.options = std::move(options);
    const fs::path path(d.options.path);
    const std::string here = ".";
    const auto directory = path.has_parent_path() ? path.parent_path().string() : here;
    if (fs::exists(path) && !d.options.force)
        throw UserError({d.options.path, 0, 0, ""}, "the output file already exists", "pass --force to overwrite it, or choose another name with -o");
    if (fs::is_directory(path)) throw UserError({d.options.path, 0, 0, ""}, "the output is a directory", "give a file name, e.g. -o run.h5");
    if (!fs::is_directory(directory))
        throw UserError({d.options.path, 0, 0, ""}, "the output directory " + directory + " does not exist", "create it (mkdir -p " + directory + ") or choose another -o");
    if (::access(directory.c_str(), W_OK) != 0)
        throw UserError({d.options.path, 0, 0, ""}, "the output directory " + directory + " is not writable", "choose a directory you can write to with -o");
    d.temporary = d.options.path + ".tmp." + std::to_string(::getpid());
    d.writer.emplace(d.temporary, d.options.path);
}

Hdf5Recorder::~Hdf5Recorder() {
    if (impl_->committed) return;
    impl_->close_objects();
    impl_->writer.reset();
    std::error_code ignored;
    fs::remove(impl_->temporary, ignored);
}

void Hdf5Recorder::begin(const ModelSpec& spec, const CustomerDispositions& dispositions) {
    auto& d = *impl_;
    auto& w = *d.writer;
    const hid_t root = w.file();
    d.firms = spec.firms.size();
    d.customers = static_cast<hsize_t>(spec.customers.count);
    for (const auto& f : spec.firms) d.employees += static_cast<hsize_t>(f.employees);
    d.series.assign(metric_count, {});

    w.attribute(root, "format", std::string(output_format_name));
    w.attribute(root, "format_version", std::int32_t{output_format_version});
    w.attribute(root, "trustsim_version", std::string(version));
    w.attribute(root, "build", std::string(build_description));
    w.attribute(root, "created", utc_now());
    w.attribute(root, "seed", d.options.seed);
    w.attribute(root, "firms", static_cast<std::int32_t>(d.firms));
    w.attribute(root, "customers", static_cast<std::int64_t>(d.customers));
    w.attribute(root, "employees", static_cast<std::int64_t>(d.employees));
    w.text(root, "scenario", d.options.scenario_yaml, "the resolved scenario: every value this run used");

    std::vector<std::string> names;
    for (const auto& f : spec.firms) names.push_back(f.name);
    w.strings(w.group(root, "firms"), "name", names, "firm names, in the order of every firm axis");

    const auto g = w.group(root, "customers");
    w.dataset(g, "propensity_to_trust", {d.customers}, dispositions.propensity.data(), "each customer's propensity to trust, pi");
    w.dataset(g, "honesty", {d.customers}, dispositions.honesty.data(), "each customer's honesty, h");
    w.dataset(g, "reciprocity", {d.customers}, dispositions.reciprocity.data(), "each customer's reciprocity, rho");
    w.dataset(g, "opportunist", {d.customers}, dispositions.opportunist.data(), "1 if the customer is an opportunist");

    d.snapshots = w.group(root, "snapshots");
    if (spec.record.snapshot_customers) d.customer_snapshots = w.group(d.snapshots, "customers");
    if (spec.record.snapshot_employees) d.employee_snapshots = w.group(d.snapshots, "employees");
}

void Hdf5Recorder::record_step(const StepMetrics& metrics) {
    auto& d = *impl_;
    d.steps.push_back(metrics.step);
    for (std::size_t m = 0; m < metric_count; ++m)
        for (const auto& firm : metrics.values) d.series[m].push_back(firm[m]);
}

void Hdf5Recorder::record_histogram(const TrustHistogram& histogram) {
    auto& d = *impl_;
    d.bins = static_cast<hsize_t>(histogram.bins);
    d.histogram_steps.push_back(histogram.step);
    d.histogram_counts.insert(d.histogram_counts.end(), histogram.counts.begin(), histogram.counts.end());
}

void Hdf5Recorder::record_snapshot(const Snapshot& s) {
    auto& d = *impl_;
    auto& w = *d.writer;
    auto& a = d.snapshot;
    d.snapshot_steps.push_back(s.step);
    const auto append = [&](std::optional<h5::Appender>& appender, hid_t group, const char* name, hid_t type, std::vector<hsize_t> row,
                            const void* data, std::string_view description) {
        if (!appender) appender.emplace(w, group, name, type, std::move(row), description);
        appender->append(data);
    };
    if (s.has_customers && d.customer_snapshots.get() >= 0) {
        const auto& c = s.customers;
        append(a.customer_firm, d.customer_snapshots, "firm", H5T_NATIVE_INT16, {d.customers}, c.firm.data(), "each customer's current firm (index into /firms/name)");
        append(a.customer_trust, d.customer_snapshots, "trust", H5T_NATIVE_FLOAT, {d.customers, d.firms}, c.trust.data(), "each customer's trust in each firm");
        append(a.customer_perception, d.customer_snapshots, "perception", H5T_NATIVE_FLOAT, {d.customers, d.firms, 4}, c.perception.data(),
               "each customer's perception of each firm: credibility, reliability, intimacy, self-orientation (C R I S)");
    }
    if (s.has_employees && d.employee_snapshots.get() >= 0) {
        const auto& e = s.employees;
        const hsize_t n = d.employees;
        append(a.employee_firm, d.employee_snapshots, "firm", H5T_NATIVE_INT16, {n}, e.firm.data(), "each employee's firm");
        append(a.employee_trust, d.employee_snapshots, "trust", H5T_NATIVE_FLOAT, {n}, e.trust.data(), "each employee's trust in its firm");
        append(a.employee_trustworthiness, d.employee_snapshots, "trustworthiness", H5T_NATIVE_FLOAT, {n}, e.trustworthiness.data(),
               "probability q_e that the employee delivers as promised");
        append(a.employee_honesty, d.employee_snapshots, "honesty", H5T_NATIVE_FLOAT, {n}, e.honesty.data(), "each employee's honesty");
        append(a.employee_reciprocity, d.employee_snapshots, "reciprocity", H5T_NATIVE_FLOAT, {n}, e.reciprocity.data(), "each employee's reciprocity");
        append(a.employee_propensity, d.employee_snapshots, "propensity_to_trust", H5T_NATIVE_FLOAT, {n}, e.propensity.data(),
               "each employee's propensity to trust");
    }
}

void Hdf5Recorder::end(const RunInfo& info) {
    auto& d = *impl_;
    auto& w = *d.writer;
    const hid_t root = w.file();
    w.attribute(root, "threads", std::int32_t{info.threads});
    w.attribute(root, "wall_seconds", info.wall_seconds);
    w.attribute(root, "steps", static_cast<std::int64_t>(d.steps.size()));

    const auto series = w.group(root, "timeseries");
    const hsize_t steps = d.steps.size();
    w.dataset(series, "step", {steps}, d.steps.data(), "step of each row, from 0");
    for (std::size_t m = 0; m < metric_count; ++m)
        w.dataset(series, std::string(metric_info[m].name), {steps, d.firms}, d.series[m].data(), metric_info[m].doc, metric_info[m].unit);

    const auto histograms = w.group(root, "histograms");
    const hsize_t count = d.histogram_steps.size();
    std::vector<double> edges(d.bins + 1);
    for (std::size_t b = 0; b < edges.size(); ++b) edges[b] = static_cast<double>(b) / static_cast<double>(d.bins);
    w.dataset(histograms, "step", {count}, d.histogram_steps.data(), "step of each histogram");
    w.dataset(histograms, "bin_edges", {edges.size()}, edges.data(), "edges of the trust bins over [0, 1] (the last bin includes 1)");
    w.dataset(histograms, "trust", {count, d.firms, d.bins}, d.histogram_counts.data(), "number of customers whose trust in the firm falls in each bin",
              "customers");
    w.dataset(d.snapshots, "step", {d.snapshot_steps.size()}, d.snapshot_steps.data(), "step of each snapshot");
}

void Hdf5Recorder::commit() {
    auto& d = *impl_;
    d.close_objects();
    d.writer->close();
    d.writer.reset();
    std::error_code error;
    fs::rename(d.temporary, d.options.path, error);
    if (error)
        throw UserError({d.options.path, 0, 0, ""}, "cannot move the finished output into place: " + error.message(),
                        "the complete result is in " + d.temporary + "; rename it by hand");
    d.committed = true;
}

namespace {

// Silences HDF5's own error printing while a file of unknown quality is probed.
class QuietErrors {
public:
    QuietErrors() {
        H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    }
    ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }

private:
    H5E_auto2_t function_ = nullptr;
    void* data_ = nullptr;
};

std::string type_name(hid_t type) {
    const auto size = H5Tget_size(type);
    switch (H5Tget_class(type)) {
        case H5T_INTEGER: return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(8 * size);
        case H5T_FLOAT: return "float" + std::to_string(8 * size);
        case H5T_STRING: return "string";
        default: return "other";
    }
}

std::optional<std::string> read_string_attribute(hid_t object, const char* name) {
    if (H5Aexists(object, name) <= 0) return std::nullopt;
    const h5::Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    const h5::Handle type(H5Aget_type(attribute), H5Tclose);
    if (H5Tget_class(type) != H5T_STRING) return std::nullopt;
    if (H5Tis_variable_str(type) > 0) {
        char* value = nullptr;
        if (H5Aread(attribute, type, &value) < 0 || value == nullptr) return std::nullopt;
        std::string text(value);
        H5free_memory(value);
        return text;
    }
    std::string text(H5Tget_size(type), '\0');
    if (H5Aread(attribute, type, text.data()) < 0) return std::nullopt;
    return text.substr(0, text.find('\0'));
}

std::string attribute_text(hid_t object, const char* name) {
    if (auto text = read_string_attribute(object, name)) return *text;
    const h5::Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    const h5::Handle type(H5Aget_type(attribute), H5Tclose);
    std::ostringstream out;
    if (H5Tget_class(type) == H5T_FLOAT) {
        double value = 0;
        H5Aread(attribute, H5T_NATIVE_DOUBLE, &value);
        out << value;
    } else if (H5Tget_class(type) == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_NONE) {
        unsigned long long value = 0;
        H5Aread(attribute, H5T_NATIVE_ULLONG, &value);
        out << value;
    } else if (H5Tget_class(type) == H5T_INTEGER) {
        long long value = 0;
        H5Aread(attribute, H5T_NATIVE_LLONG, &value);
        out << value;
    } else {
        out << "(" << type_name(type) << ")";
    }
    return out.str();
}

}  // namespace

std::string describe_output(const std::string& path) {
    const SourceLocation where{path, 0, 0, ""};
    if (!fs::exists(path)) throw UserError(where, "no such file", "check the path");
    const QuietErrors quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0)
        throw UserError(where, "not an HDF5 file", "give a file written by `trustsim run` (or `trustsim merge`)");
    const h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (file.get() < 0) throw UserError(where, "cannot open the HDF5 file: it is truncated or damaged", "produce it again with `trustsim run`");
    const auto format = read_string_attribute(file, "format");
    if (!format) throw UserError(where, "an HDF5 file, but not a TrustSim output (it has no 'format' attribute)", "give a file written by `trustsim run`");
    if (*format != output_format_name && *format != "trustsim-sweep")
        throw UserError(where, "an HDF5 file of format '" + *format + "', not a TrustSim output", "give a file written by `trustsim run`");
    const auto file_version = H5Aexists(file, "format_version") > 0 ? attribute_text(file, "format_version") : "?";
    if (file_version != std::to_string(output_format_version))
        throw UserError(where, "format version " + file_version + "; this trustsim (" + version + ") reads version " + std::to_string(output_format_version),
                        "use the trustsim version that wrote it (" + read_string_attribute(file, "trustsim_version").value_or("unknown") + ")");

    std::ostringstream out;
    out << path << ": " << *format << " version " << file_version << "\n\nattributes:\n";
    H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, nullptr,
                [](hid_t object, const char* name, const H5A_info_t*, void* stream) -> herr_t {
                    *static_cast<std::ostringstream*>(stream) << "  " << name << " = " << attribute_text(object, name) << "\n";
                    return 0;
                },
                &out);
    out << "\ndatasets:\n";
    struct Visit {
        std::ostringstream* out;
        bool damaged = false;
    } visit{&out};
    H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC,
             [](hid_t group, const char* name, const H5L_info_t*, void* data) -> herr_t {
                 auto& v = *static_cast<Visit*>(data);
                 H5O_info_t info;
                 if (H5Oget_info_by_name(group, name, &info, H5P_DEFAULT) < 0) return v.damaged = true, 0;
                 if (info.type != H5O_TYPE_DATASET) return 0;
                 const h5::Handle dataset(H5Dopen2(group, name, H5P_DEFAULT), H5Dclose);
                 const h5::Handle space(H5Dget_space(dataset), H5Sclose);
                 const h5::Handle type(H5Dget_type(dataset), H5Tclose);
                 if (dataset.get() < 0 || space.get() < 0) return v.damaged = true, 0;
                 std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(0, H5Sget_simple_extent_ndims(space))));
                 H5Sget_simple_extent_dims(space, dims.data(), nullptr);
                 *v.out << "  /" << name << "  " << type_name(type) << " (";
                 for (std::size_t i = 0; i < dims.size(); ++i) *v.out << (i ? ", " : "") << dims[i];
                 *v.out << ")\n";
                 return 0;
             },
             &visit);
    if (visit.damaged) throw UserError(where, "the file is damaged: some of its objects cannot be read", "produce it again with `trustsim run`");

    // The scenario, which also proves the file's data (not just its header) is readable.
    const h5::Handle scenario(H5Dopen2(file, "scenario", H5P_DEFAULT), H5Dclose);
    if (scenario.get() >= 0) {
        const h5::Handle type(H5Dget_type(scenario), H5Tclose);
        char* text = nullptr;
        if (H5Tis_variable_str(type) <= 0 || H5Dread(scenario, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) < 0 || text == nullptr)
            throw UserError(where, "the file is damaged: its scenario cannot be read", "produce it again with `trustsim run`");
        out << "\nscenario:\n";
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
        H5free_memory(text);
    }
    return out.str();
}

}  // namespace trustsim::io
