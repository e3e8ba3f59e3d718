#pragma once
// The HDF5 output of one run (format documented in docs/output-format.md). The file is written under a
// temporary name and renamed into place only by commit(), so an interrupted run never leaves a file
// that looks finished.
#include <cstdint>
#include <memory>
#include <string>

#include "trustsim/recorder.hpp"

namespace trustsim::io {

inline constexpr const char* output_format_name = "trustsim-run";
inline constexpr int output_format_version = 1;

struct OutputOptions {
    std::string path;
    bool force = false;              // overwrite an existing file at `path`
    std::string scenario_yaml;       // the resolved scenario
    std::uint64_t seed = 0;
};

// Throws UserError unless a file can be written at `output`: it is not a directory, does not exist (unless
// force), and its directory exists and is writable. Checked before any work, so a mistyped -o costs nothing.
void check_output_file(const std::string& output, bool force);

// The temporary file an output is being written to now (a run's or a merge's; nullptr if none), for a
// signal handler that must exit at once to remove. Safe to call from a handler (a lock-free atomic).
const char* temporary_output_path() noexcept;

class Hdf5Recorder final : public Recorder {
public:
    // Throws UserError as check_output_file does.
    explicit Hdf5Recorder(OutputOptions options);
    ~Hdf5Recorder() override;  // removes the temporary file unless committed

    void begin(const ModelSpec& spec, const CustomerDispositions& dispositions) override;
    void record_step(const StepMetrics& metrics) override;
    void record_histogram(const TrustHistogram& histogram) override;
    void record_snapshot(const Snapshot& snapshot) override;
    void end(const RunInfo& info) override;
    // Flushes, closes and renames the temporary file to the final path.
    void commit();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A readable description of a TrustSim output file: format, scenario, seed, version, datasets and
// shapes. Throws UserError for a missing, truncated or foreign file.
std::string describe_output(const std::string& path);

}  // namespace trustsim::io
