#pragma once
// Parameter sweeps: many runs of one scenario, on a laptop (threads), a SLURM job array (shards) or MPI
// ranks, all writing into one sweep directory (layout in docs/sweeps.md):
//   OUTDIR/scenario.yaml      the resolved scenario and its sweep section: the sweep's identity
//   OUTDIR/manifest.csv       one row per run: run, point, replicate, seed, parameters, status
//   OUTDIR/results/*.tsr      append-only logs of finished runs, one per writer
// A run is finished when its record is complete in a log, so a crash or kill -9 loses only the runs in
// flight, and running the same command again finishes the sweep.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "trustsim/io/scenario.hpp"
#include "trustsim/recorder.hpp"

namespace trustsim::sweep {

// The time series of one finished run: values[(step * firms + firm) * metric_count + metric].
struct RunResult {
    std::int64_t run = 0;
    std::int64_t steps = 0;
    std::int64_t firms = 0;
    double wall_seconds = 0;
    std::vector<double> values;
    std::string log;            // where the run's record is: read_results lists runs without their values,
    std::uintmax_t offset = 0;  // which read_values reads from here
};

// Runs one run of a sweep (no histograms or snapshots). Returns nothing if `keep_going` turned false.
std::optional<RunResult> simulate_run(const io::LoadedScenario& scenario, std::int64_t run, int threads,
                                      const std::function<bool()>& keep_going);

// An append-only log of finished runs, owned by one writer (an exclusive lock enforces it). Opening it
// drops a partial record a killed writer left at the end; a log damaged inside is replaced by a copy of its
// intact records (under the lock, atomically), so appending loses none. Each record is written with one write().
class RunLog {
public:
    explicit RunLog(const std::string& path);
    ~RunLog();
    RunLog(const RunLog&) = delete;
    RunLog& operator=(const RunLog&) = delete;
    void append(const RunResult& result);

private:
    int fd_ = -1;
    std::string path_;
    double last_sync_ = 0;
};

// Every complete record in the logs of a sweep directory, by run id (the first if a run was logged twice),
// without its values: they are checksummed, then left in the log (read_values reads them). Damaged bytes
// inside a log are skipped up to the next intact record, each stretch described in `damage` if given
// ("LOG: bytes A-B are damaged and were skipped"); a torn record at a log's end is not damage.
std::vector<RunResult> read_results(const std::string& outdir, std::vector<std::string>* damage = nullptr);
// The values of a run read_results listed, read again from its log.
std::vector<double> read_values(const RunResult& run);
// The sweep a directory holds: its stored scenario (OUTDIR/scenario.yaml, the sweep's identity, also in
// the result's `text`), loaded; a UserError if it is not a sweep directory.
io::LoadedScenario load_stored_sweep(const std::string& outdir);
// A sweep directory's progress, for `trustsim info DIR`: its design, and the runs finished, per log, and left.
std::string describe_sweep(const std::string& outdir);

struct SweepOptions {
    std::string scenario;
    std::string outdir;
    std::vector<std::string> overrides;
    int jobs = 1;             // runs at once (local)
    int threads_per_run = 1;
    int shard_index = 0;      // this process runs the runs with run % shard_count == shard_index
    int shard_count = 1;
    bool quiet = false;
};

// Prepares OUTDIR (or checks it holds this very sweep) and returns the loaded scenario.
io::LoadedScenario prepare_sweep(const SweepOptions& options);
// The runs of this shard not yet finished. Damage in the logs is warned of on stderr (its runs are pending).
std::vector<std::int64_t> pending_runs(const io::LoadedScenario& scenario, const SweepOptions& options);

// Where the next run comes from: a local counter, or (under MPI) a counter shared by every rank.
using NextRun = std::function<std::optional<std::int64_t>()>;
// Runs the given runs with options.jobs at a time, logging each to OUTDIR/results/<writer>.tsr.
// Returns false if interrupted (finished runs are kept). `stop` is polled between steps.
bool execute_runs(const io::LoadedScenario& scenario, const SweepOptions& options, const std::string& writer,
                  std::int64_t total, const NextRun& next, const std::function<bool()>& stop);
// Rewrites OUTDIR/manifest.csv with each run's status; returns the number of finished runs.
std::int64_t write_manifest(const io::LoadedScenario& scenario, const std::string& outdir);
// What a sweep command says when it ends: how many of the runs are finished, and what to do next (run it
// again if `stopped`, or merge). A task of the job array `--slurm` wrote is told what its submitter can do.
std::string sweep_outcome(std::int64_t done, std::int64_t runs, const std::string& outdir, bool stopped, bool slurm_task = false);

// Whether `path` is, or lies under, an entry a sweep writes in `outdir`: its scenario, manifest, run logs or
// SLURM scripts. Other names in `outdir` are free (the SLURM merge job writes OUTDIR/sweep.h5).
bool is_sweep_file(const std::string& outdir, const std::string& path);

// What a merge wrote.
struct MergedSweep {
    std::int64_t points = 0, replicates = 0, steps = 0;  // steps: the longest run's
};
// One HDF5 file with every run's time series and per-point statistics across replicates. Returns nothing,
// leaving nothing at `output`, if `stop` turned true (it is polled between runs).
std::optional<MergedSweep> merge(const std::string& outdir, const std::string& output, bool force,
                                 const std::function<bool()>& stop = [] { return false; });

// SLURM: writes OUTDIR/slurm/{sweep,merge}.sbatch, which run OUTDIR/slurm/trustsim: a copy of `running_binary` (this
// trustsim) until a run of the sweep has started, then kept; with submit, submits both (merge after the array).
struct SlurmOptions {
    int tasks = 0;  // 0: one task per run, at most 1000
    std::string partition, time = "01:00:00";
    std::string memory;  // sbatch --mem of each task; empty: the largest run's estimate, with headroom
    bool submit = false;
};
std::string write_slurm(const SweepOptions& options, const SlurmOptions& slurm, const std::string& running_binary);

}  // namespace trustsim::sweep
