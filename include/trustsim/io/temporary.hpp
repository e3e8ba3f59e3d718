#pragma once
// The name a file is written under until it is complete, beside it (PATH.tmp.HOST.PID): unique to this
// process on this host, since processes on a cluster's nodes, or in containers, may share a process id and
// a file system (a SLURM array's tasks each rewrite the sweep's manifest).
#include <unistd.h>

#include <climits>
#include <string>

namespace trustsim::io {

inline std::string temporary_name(const std::string& path) {
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return path + ".tmp." + host + "." + std::to_string(::getpid());
}

}  // namespace trustsim::io
