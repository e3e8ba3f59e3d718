// The HDF5 output of one run: layout in docs/output-format.md.
#include "trustsim/io/hdf5_output.hpp"

#include <unistd.h>

#include <algorithm>
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

// The recorder copies raw buffers into the file, so a buffer of the wrong size would be read past its end.
void require_size(std::size_t actual, std::size_t expected, const char* what) {
    if (actual != expected)
        throw InternalError(std::string("Hdf5Recorder: ") + what + " has " + std::to_string(actual) + " values, expected " + std::to_string(expected));
}

// Agent snapshots grow one row per snapshot (a row can be large); each dataset is created with the first snapshot.
struct SnapshotWriters {
    std::optional<h5::Appender> customer_firm, customer_trust, customer_perception;
    std::optional<h5::Appender> employee_firm, employee_trust, employee_trustworthiness, employee_honesty, employee_reciprocity,
        employee_propensity;
    void flush() {
        for (auto* a : {&customer_firm, &customer_trust, &customer_perception, &employee_firm, &employee_trust, &employee_trustworthiness,
                        &employee_honesty, &employee_reciprocity, &employee_propensity})
            if (*a) (*a)->flush();
    }
};

// The open datasets of a file being written, closed together before the file is.
struct Open {
    std::optional<h5::Appender> steps;
    std::vector<h5::Appender> series;  // one per metric, in metric_info order
    std::optional<h5::Appender> histogram_steps, histogram_counts, snapshot_steps;
    h5::Handle customer_snapshots, employee_snapshots;
    SnapshotWriters snapshot;
};

}  // namespace

struct Hdf5Recorder::Impl {
    OutputOptions options;
    std::optional<h5::TemporaryOutput> temporary;  // before the writer and the open objects: removed after they are closed
    std::optional<h5::Writer> writer;
    bool begun = false, ended = false, committed = false;

    hsize_t firms = 0, customers = 0, employees = 0, bins = 0;
    std::vector<double> row;  // one metric's values for every firm
    Open open;
};

void check_output_file(const std::string& output, bool force) {
    const SourceLocation where{output, 0, 0, ""};
    const fs::path path(output);
    const std::string directory = path.has_parent_path() ? path.parent_path().string() : ".";
    std::error_code error;
    if (fs::is_directory(path, error)) throw UserError(where, "the output is a directory", "give a file name, e.g. -o run.h5");
    if (const auto extension = path.extension(); extension == ".yaml" || extension == ".yml")  // even with --force: a scenario's name
        throw UserError(where, "the output is named like a scenario (" + extension.string() + "), and would be an HDF5 file",
                        "name it " + fs::path(path).replace_extension(".h5").string());
    if (fs::exists(fs::symlink_status(path, error)) && !force)  // a link, even to nothing, is an existing name
        throw UserError(where, "the output file already exists", "pass --force to overwrite it, or choose another name with -o");
    if (fs::exists(directory, error) && !fs::is_directory(directory, error))
        throw UserError(where, directory + " is a file, not a directory", "choose another -o");
    if (!fs::is_directory(directory, error))
        throw UserError(where, "the output directory " + directory + " does not exist", "create it (mkdir -p " + directory + ") or choose another -o");
    if (::access(directory.c_str(), W_OK | X_OK) != 0)  // also a read-only file system, which root's permissions do not override
        throw UserError(where, "the output directory " + directory + " is not writable", "choose a directory you can write to with -o");
}

Hdf5Recorder::Hdf5Recorder(OutputOptions options) : impl_(std::make_unique<Impl>()) {
    auto& d = *impl_;
    d.options = std::move(options);
    check_output_file(d.options.path, d.options.force);
    d.temporary.emplace(d.options.path, d.options.force);
    d.writer.emplace(d.temporary->path(), d.options.path);
}

Hdf5Recorder::~Hdf5Recorder() = default;  // Impl's members go in reverse order: objects, file, then the temporary file

void Hdf5Recorder::begin(const ModelSpec& spec, const CustomerDispositions& dispositions) {
    auto& d = *impl_;
    auto& w = *d.writer;
    auto& o = d.open;
    const hid_t root = w.file();
    d.firms = spec.firms.size();
    d.customers = static_cast<hsize_t>(spec.customers.count);
    for (const auto& f : spec.firms) d.employees += static_cast<hsize_t>(f.employees);
    d.bins = static_cast<hsize_t>(spec.record.histogram_bins);
    require_size(dispositions.propensity.size(), d.customers, "propensity");
    require_size(dispositions.honesty.size(), d.customers, "honesty");
    require_size(dispositions.reciprocity.size(), d.customers, "reciprocity");
    require_size(dispositions.opportunist.size(), d.customers, "opportunist");

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

    w.strings(w.group(root, "firms"), "name", spec.firm_names(), "firm names, in the order of every firm axis");

    const auto customers = w.group(root, "customers");
    w.dataset(customers, "propensity_to_trust", {d.customers}, dispositions.propensity.data(), "each customer's propensity to trust, pi");
    w.dataset(customers, "honesty", {d.customers}, dispositions.honesty.data(), "each customer's honesty, h");
    w.dataset(customers, "reciprocity", {d.customers}, dispositions.reciprocity.data(), "each customer's reciprocity, rho");
    w.dataset(customers, "opportunist", {d.customers}, dispositions.opportunist.data(), "1 if the customer is an opportunist");

    const auto series = w.group(root, "timeseries");
    o.steps.emplace(w, series, "step", H5T_NATIVE_INT64, std::vector<hsize_t>{}, "step of each row, from 0", "steps");
    o.series.reserve(metric_count);
    for (const auto& m : metric_info) o.series.emplace_back(w, series, std::string(m.name), H5T_NATIVE_DOUBLE, std::vector<hsize_t>{d.firms}, m.doc, m.unit);
    d.row.resize(d.firms);

    const auto histograms = w.group(root, "histograms");
    std::vector<double> edges(d.bins + 1);
    for (std::size_t b = 0; b < edges.size(); ++b) edges[b] = static_cast<double>(b) / static_cast<double>(d.bins);
    w.dataset(histograms, "bin_edges", {edges.size()}, edges.data(), "edges of the trust bins over [0, 1] (the last bin includes 1)", "trust");
    o.histogram_steps.emplace(w, histograms, "step", H5T_NATIVE_INT64, std::vector<hsize_t>{}, "step of each histogram", "steps");
    o.histogram_counts.emplace(w, histograms, "trust", H5T_NATIVE_INT64, std::vector<hsize_t>{d.firms, d.bins},
                               "number of customers (all of them) whose trust in the firm falls in each bin", "customers");

    const auto snapshots = w.group(root, "snapshots");
    o.snapshot_steps.emplace(w, snapshots, "step", H5T_NATIVE_INT64, std::vector<hsize_t>{}, "step of each snapshot", "steps");
    if (spec.record.snapshot_customers) o.customer_snapshots = w.group(snapshots, "customers");
    if (spec.record.snapshot_employees) o.employee_snapshots = w.group(snapshots, "employees");
    d.begun = true;
}

void Hdf5Recorder::record_step(const StepMetrics& metrics) {
    auto& d = *impl_;
    require_size(metrics.values.size(), d.firms, "a step's metrics");
    d.open.steps->append(&metrics.step);
    for (std::size_t m = 0; m < metric_count; ++m) {
        for (std::size_t f = 0; f < d.firms; ++f) d.row[f] = metrics.values[f][m];
        d.open.series[m].append(d.row.data());
    }
}

void Hdf5Recorder::record_histogram(const TrustHistogram& histogram) {
    auto& d = *impl_;
    if (static_cast<hsize_t>(histogram.bins) != d.bins) throw InternalError("Hdf5Recorder: a histogram's bins differ from record.histogram_bins");
    require_size(histogram.counts.size(), d.firms * d.bins, "a histogram");
    d.open.histogram_steps->append(&histogram.step);
    d.open.histogram_counts->append(histogram.counts.data());
}

void Hdf5Recorder::record_snapshot(const Snapshot& s) {
    auto& d = *impl_;
    auto& w = *d.writer;
    auto& o = d.open;
    auto& a = o.snapshot;
    o.snapshot_steps->append(&s.step);
    const auto append = [&](std::optional<h5::Appender>& appender, hid_t group, const char* name, hid_t type, std::vector<hsize_t> row,
                            const void* data, std::string_view description, std::string_view unit = {}) {
        if (!appender) appender.emplace(w, group, name, type, std::move(row), description, unit);
        appender->append(data);
    };
    if (s.has_customers && o.customer_snapshots.get() >= 0) {
        const auto& c = s.customers;
        const hsize_t n = d.customers, f = d.firms;
        require_size(c.firm.size(), n, "a snapshot's customer firms");
        require_size(c.trust.size(), n * f, "a snapshot's customer trust");
        require_size(c.perception.size(), n * f * 4, "a snapshot's customer perception");
        const bool first = !a.customer_perception;
        append(a.customer_firm, o.customer_snapshots, "firm", H5T_NATIVE_INT16, {n}, c.firm.data(), "each customer's current firm (index into /firms/name)");
        append(a.customer_trust, o.customer_snapshots, "trust", H5T_NATIVE_FLOAT, {n, f}, c.trust.data(), "each customer's trust in each firm", "trust");
        append(a.customer_perception, o.customer_snapshots, "perception", H5T_NATIVE_FLOAT, {n, f, 4}, c.perception.data(),
               "each customer's perception of each firm: credibility, reliability, intimacy, self-orientation (C R I S)");
        if (first) w.attribute(a.customer_perception->dataset(), "components", std::string("C R I S"));
    }
    if (s.has_employees && o.employee_snapshots.get() >= 0) {
        const auto& e = s.employees;
        const hsize_t n = d.employees;
        for (const auto* values : {&e.trust, &e.trustworthiness, &e.honesty, &e.reciprocity, &e.propensity})
            require_size(values->size(), n, "a snapshot's employee values");
        require_size(e.firm.size(), n, "a snapshot's employee firms");
        append(a.employee_firm, o.employee_snapshots, "firm", H5T_NATIVE_INT16, {n}, e.firm.data(), "each employee's firm (index into /firms/name)");
        append(a.employee_trust, o.employee_snapshots, "trust", H5T_NATIVE_FLOAT, {n}, e.trust.data(), "each employee's trust in its firm", "trust");
        append(a.employee_trustworthiness, o.employee_snapshots, "trustworthiness", H5T_NATIVE_FLOAT, {n}, e.trustworthiness.data(),
               "probability q_e that the employee delivers as promised", "probability");
        append(a.employee_honesty, o.employee_snapshots, "honesty", H5T_NATIVE_FLOAT, {n}, e.honesty.data(), "each employee's honesty");
        append(a.employee_reciprocity, o.employee_snapshots, "reciprocity", H5T_NATIVE_FLOAT, {n}, e.reciprocity.data(), "each employee's reciprocity");
        append(a.employee_propensity, o.employee_snapshots, "propensity_to_trust", H5T_NATIVE_FLOAT, {n}, e.propensity.data(),
               "each employee's propensity to trust");
    }
}

void Hdf5Recorder::end(const RunInfo& info) {
    auto& d = *impl_;
    if (!d.begun) throw InternalError("Hdf5Recorder: end() before begin()");
    auto& w = *d.writer;
    auto& o = d.open;
    o.steps->flush();
    for (auto& s : o.series) s.flush();
    o.histogram_steps->flush();
    o.histogram_counts->flush();
    o.snapshot_steps->flush();
    o.snapshot.flush();
    const hid_t root = w.file();
    w.attribute(root, "threads", std::int32_t{info.threads});
    w.attribute(root, "wall_seconds", info.wall_seconds);
    w.attribute(root, "steps", static_cast<std::int64_t>(o.steps->rows()));
    d.ended = true;
}

void Hdf5Recorder::commit() {
    auto& d = *impl_;
    if (!d.ended || d.committed) throw InternalError("Hdf5Recorder: commit() without end(), or twice");
    d.committed = true;
    d.open = {};
    d.writer->close();
    d.writer.reset();
    d.temporary->move_into_place();
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

// Whether the dataspace `space` (which this closes) holds one value, what is read into one variable below:
// another file's arrays are shown by their type, never read into a variable too small for them.
bool holds_one_value(hid_t space) {
    const h5::Handle owned(space, H5Sclose);
    return H5Sget_simple_extent_npoints(owned) == 1;
}

std::optional<std::string> read_string_attribute(hid_t object, const char* name) {
    if (H5Aexists(object, name) <= 0) return std::nullopt;
    const h5::Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
    if (!holds_one_value(H5Aget_space(attribute))) return std::nullopt;
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
    if (!holds_one_value(H5Aget_space(attribute))) {
        out << "(an array of " << type_name(type) << ")";
    } else if (H5Tget_class(type) == H5T_FLOAT) {
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

// The names in /firms/name, if the file has them as variable-length strings (a sweep file has none).
std::optional<std::vector<std::string>> stored_firm_names(hid_t file) {
    if (H5Lexists(file, "firms", H5P_DEFAULT) <= 0 || H5Lexists(file, "firms/name", H5P_DEFAULT) <= 0) return std::nullopt;
    const h5::Handle dataset(H5Dopen2(file, "firms/name", H5P_DEFAULT), H5Dclose);
    const h5::Handle type(H5Dget_type(dataset), H5Tclose);
    const h5::Handle space(H5Dget_space(dataset), H5Sclose);
    if (dataset.get() < 0 || type.get() < 0 || space.get() < 0 || H5Tis_variable_str(type) <= 0) return std::nullopt;
    const auto count = H5Sget_simple_extent_npoints(space);
    if (count < 0) return std::nullopt;
    std::vector<char*> pointers(static_cast<std::size_t>(count), nullptr);
    if (H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0) return std::nullopt;
    std::vector<std::string> names;
    for (char* p : pointers) {
        names.emplace_back(p ? p : "");
        H5free_memory(p);
    }
    return names;
}

}  // namespace

std::string describe_output(const std::string& path) {
    const SourceLocation where{path, 0, 0, ""};
    if (!fs::exists(path)) throw UserError(where, "no such file", "check the path");
    if (fs::is_directory(path))
        throw UserError(where, "a directory, not a file", "give a file written by `trustsim run` or `trustsim merge`");
    const QuietErrors quiet;
    if (H5Fis_hdf5(path.c_str()) <= 0)
        throw UserError(where, "not an HDF5 file", "give a file written by `trustsim run` (or `trustsim merge`)");
    const h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (file.get() < 0) throw UserError(where, "cannot open the HDF5 file: it is truncated or damaged", "produce it again with `trustsim run`");
    const auto format = read_string_attribute(file, "format");
    if (!format)
        throw UserError(where, H5Aexists(file, "format") > 0 ? "an HDF5 file, but not a TrustSim output (its 'format' attribute is " + attribute_text(file, "format") + ", not one text)"
                                                             : "an HDF5 file, but not a TrustSim output (it has no 'format' attribute)",
                        "give a file written by `trustsim run`");
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
    if (const auto names = stored_firm_names(file)) {
        out << "\nfirms:";
        for (const auto& name : *names) out << " " << name;
        out << "\n";
    }
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
        if (H5Tis_variable_str(type) <= 0 || !holds_one_value(H5Dget_space(scenario)) || H5Dread(scenario, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) < 0 || text == nullptr)
            throw UserError(where, "the file is damaged: its scenario cannot be read", "produce it again with `trustsim run`");
        out << "\nscenario:\n";
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
        H5free_memory(text);
    }
    return out.str();
}

}  // namespace trustsim::io
