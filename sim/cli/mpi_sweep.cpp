#include "mpi_sweep.hpp"

#include <mpi.h>

#include <iostream>

namespace trustsim::cli {
namespace {

// Rank 0's message (empty if none) reaches every rank, so that all of them stop together.
std::string broadcast(std::string text) {
    int length = static_cast<int>(text.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
    text.resize(static_cast<std::size_t>(length));
    MPI_Bcast(text.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
    return text;
}

}  // namespace

int mpi_sweep(const sweep::SweepOptions& options, const std::function<bool()>& stop) {
    int provided = 0, rank = 0, size = 1;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    auto rank_options = options;
    rank_options.jobs = 1;  // one run at a time per rank; ranks are the parallelism
    rank_options.quiet = options.quiet || rank != 0;

    // Rank 0 prepares the directory and decides what is pending; then the others join.
    io::LoadedScenario scenario;
    std::vector<std::int64_t> pending;
    std::string problem;
    if (rank == 0) {
        try {
            scenario = sweep::prepare_sweep(rank_options);
            pending = sweep::pending_runs(scenario, rank_options);
        } catch (const UserError& e) {
            problem = io::format_error(e);
        }
    }
    problem = broadcast(problem);
    if (!problem.empty()) {
        if (rank == 0) std::cerr << "trustsim: " << problem << "\n";
        MPI_Finalize();
        return 1;
    }
    if (rank != 0) scenario = sweep::prepare_sweep(rank_options);  // the directory now exists and matches
    auto count = static_cast<std::int64_t>(pending.size());
    MPI_Bcast(&count, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
    pending.resize(static_cast<std::size_t>(count));
    MPI_Bcast(pending.data(), static_cast<int>(count), MPI_INT64_T, 0, MPI_COMM_WORLD);

    std::int64_t* counter = nullptr;
    MPI_Win window;
    MPI_Win_allocate(rank == 0 ? static_cast<MPI_Aint>(sizeof(std::int64_t)) : 0, sizeof(std::int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &counter,
                     &window);
    if (rank == 0) *counter = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    const sweep::NextRun next = [&]() -> std::optional<std::int64_t> {
        const std::int64_t one = 1;
        std::int64_t taken = 0;
        MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, window);
        MPI_Fetch_and_op(&one, &taken, MPI_INT64_T, 0, 0, MPI_SUM, window);
        MPI_Win_unlock(0, window);
        if (taken >= count) return std::nullopt;
        return pending[static_cast<std::size_t>(taken)];
    };

    int finished = 0;
    try {
        // Named by shard as well: two MPI jobs on two shards of one sweep (--shard) must not share a log.
        const auto shard = options.shard_count > 1 ? "-shard-" + std::to_string(options.shard_index) + "-of-" + std::to_string(options.shard_count) : "";
        finished = sweep::execute_runs(scenario, rank_options, "mpi-rank-" + std::to_string(rank) + shard, count, next, stop) ? 1 : 0;
    } catch (const UserError& e) {
        std::cerr << "trustsim (rank " << rank << "): " << io::format_error(e) << "\n";
    }
    int all_finished = 0, stopped = stop() ? 1 : 0, any_stopped = 0;
    MPI_Allreduce(&finished, &all_finished, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&stopped, &any_stopped, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Win_free(&window);
    if (rank == 0) {
        const auto done = sweep::write_manifest(scenario, options.outdir);
        if (!all_finished && any_stopped)
            std::cerr << "trustsim: interrupted; " << sweep::sweep_outcome(done, scenario.sweep.runs(), options.outdir, true) << "\n";
        else if (!options.quiet)
            std::cout << sweep::sweep_outcome(done, scenario.sweep.runs(), options.outdir, false) << "\n";
    }
    MPI_Finalize();
    return all_finished ? 0 : any_stopped ? 130 : 1;  // 130 as for a local sweep stopped by a signal
}

}  // namespace trustsim::cli
