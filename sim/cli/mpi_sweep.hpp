#pragma once
// `trustsim sweep --mpi`: the runs of a sweep spread over MPI ranks.
#include <functional>

#include "trustsim/sweep.hpp"

namespace trustsim::cli {

// Returns the process exit status. Every rank takes the next pending run from a counter held by rank 0
// (an MPI-3 atomic fetch-and-add), so a rank that finishes early takes more work.
int mpi_sweep(const sweep::SweepOptions& options, const std::function<bool()>& stop);

}  // namespace trustsim::cli
