// Sweep execution: the sweep directory, append-only run logs, local parallel runs, the manifest and
// SLURM job scripts. The MPI driver (sim/cli) and the merge (merge.cpp) build on these.
#include "trustsim/sweep.hpp"

#include <fcntl.h>
#include <zlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>

#include "trustsim/io/temporary.hpp"
#include "trustsim/progress.hpp"
#include "trustsim/simulation.hpp"

namespace trustsim::sweep {
namespace {

namespace fs = std::filesystem;

// A log record: header, values, then the CRC-32 (zlib's) of both. Little-endian, as written by x86-64
// and ARM; documented in docs/sweeps.md for readers in other languages (Python's zlib.crc32 checks it).
constexpr std::uint32_t record_magic = 0x31525354;  // "TSR1"
struct RecordHeader {
    std::uint32_t magic;
    std::uint32_t metrics;
    std::int64_t run, steps, firms;
    double wall_seconds;
};
static_assert(sizeof(RecordHeader) == 40);
constexpr double sync_interval_seconds = 5;  // a crashed node loses at most this much; kill -9 loses nothing written

std::uint32_t crc32_of(const void* data, std::size_t size, std::uint32_t crc = 0) {
    const auto* bytes = static_cast<const Bytef*>(data);
    while (size > 0) {  // zlib takes 32-bit lengths
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
        crc = static_cast<std::uint32_t>(::crc32(crc, bytes, chunk));
        bytes += chunk, size -= chunk;
    }
    return crc;
}

double now_seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Reads the record at the stream's position into header and payload; false if what is there is not a
// complete, intact record. `available` is the number of bytes from the position to the end of the file.
bool read_record(std::istream& in, std::uintmax_t available, RecordHeader& header, std::vector<double>& payload) {
    if (!in.read(reinterpret_cast<char*>(&header), sizeof header)) return false;
    if (header.magic != record_magic || header.metrics != metric_count || header.steps < 0 || header.firms < 0) return false;
    const auto cells = available / (sizeof(double) * metric_count);  // at most this many fit: garbage sizes must not overflow
    if (header.steps > 0 && static_cast<std::uintmax_t>(header.firms) > cells / static_cast<std::uintmax_t>(header.steps)) return false;
    const auto count = static_cast<std::uintmax_t>(header.steps) * static_cast<std::uintmax_t>(header.firms) * metric_count;
    if (count * sizeof(double) + sizeof header + sizeof(std::uint32_t) > available) return false;  // truncated (or garbage sizes)
    payload.resize(count);
    std::uint32_t checksum = 0;
    if (!in.read(reinterpret_cast<char*>(payload.data()), static_cast<std::streamsize>(count * sizeof(double))) ||
        !in.read(reinterpret_cast<char*>(&checksum), sizeof checksum))
        return false;
    return checksum == crc32_of(payload.data(), count * sizeof(double), crc32_of(&header, sizeof header));
}

// The first position at or after `from` where the bytes of record_magic ("TSR1" little-endian) are, or `size`.
std::uintmax_t find_magic(std::istream& in, std::uintmax_t from, std::uintmax_t size) {
    constexpr std::string_view magic("TSR1", 4);
    std::string chunk;
    for (; from + magic.size() <= size; from += chunk.size() - (magic.size() - 1)) {  // chunks overlap by 3 bytes
        chunk.resize(static_cast<std::size_t>(std::min<std::uintmax_t>(1 << 20, size - from)));
        in.clear();
        if (!in.seekg(static_cast<std::streamoff>(from)) || !in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()))) break;
        if (const auto found = std::string_view(chunk).find(magic); found != std::string_view::npos) return from + found;
    }
    return size;
}

struct LogScan {
    std::uintmax_t end = 0;  // where the last intact record ends; anything after it is a torn record
    std::vector<std::pair<std::uintmax_t, std::uintmax_t>> damaged;  // [begin, end): bytes without an intact record, before one
};

// Reads the intact records of a log in order (passing each on without its values). A bad record is skipped
// up to the next intact one (found by its magic number and checksum); bad bytes at the end are not damage
// but a torn record, as a killed writer leaves it.
template <class OnRecord>
LogScan scan_log(const std::string& path, OnRecord on_record) {
    std::ifstream in(path, std::ios::binary);
    const auto size = fs::file_size(path);
    LogScan scan;
    RecordHeader header{};
    std::vector<double> payload;
    for (std::uintmax_t at = 0; at < size;) {
        if (!read_record(in, size - at, header, payload)) {
            at = find_magic(in, at + 1, size);
            in.clear();
            in.seekg(static_cast<std::streamoff>(at));
            continue;
        }
        if (at > scan.end) scan.damaged.emplace_back(scan.end, at);
        on_record(RunResult{header.run, header.steps, header.firms, header.wall_seconds, {}, path, at});
        at = scan.end = at + sizeof header + payload.size() * sizeof(double) + sizeof(std::uint32_t);
    }
    return scan;
}

// Writes all of data to fd; false (with errno set) if it cannot.
bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const auto n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n, size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Replaces a log that has damage inside by a copy of its intact records, and returns the copy's descriptor,
// open for appending and locked (before it takes the log's name, so no other writer can take it meanwhile).
int copy_intact_records(const std::string& path, const LogScan& scan) {
    const auto temporary = io::temporary_name(path);
    int fd = -1;
    const auto fail = [&](const std::string& what) {
        const auto reason = std::string(std::strerror(errno));
        if (fd >= 0) ::close(fd);
        fs::remove(temporary);
        throw UserError({path, 0, 0, ""}, "cannot " + what + " the copy of the log without its damaged bytes: " + reason,
                        "check the directory is writable and the disk has space, then run the same command again");
    };
    fd = ::open(temporary.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) fail("create");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) fail("lock");
    std::ifstream in(path, std::ios::binary);
    std::string chunk;
    std::uintmax_t at = 0;
    const auto copy_to = [&](std::uintmax_t to) {
        in.clear();
        in.seekg(static_cast<std::streamoff>(at));
        for (; at < to; at += chunk.size()) {
            chunk.resize(static_cast<std::size_t>(std::min<std::uintmax_t>(1 << 20, to - at)));
            if (!in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || !write_all(fd, chunk.data(), chunk.size())) fail("write");
        }
    };
    for (const auto& [begin, end] : scan.damaged) copy_to(begin), at = end;
    copy_to(scan.end);
    if (::fsync(fd) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) fail("save");
    return fd;
}

// A whole file's bytes ("" if it cannot be read).
std::string read_whole(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes a small file completely or not at all (with the given permissions, set before it takes its name).
void write_atomically(const fs::path& path, const std::string& content, fs::perms permissions = fs::perms::owner_read | fs::perms::owner_write |
                                                                                                   fs::perms::group_read | fs::perms::others_read) {
    const auto temporary = io::temporary_name(path.string());
    std::error_code error;
    {
        errno = 0;
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << content;
        out.close();  // checked: a network file system may report a full disk or quota only here
        if (!out) error = std::error_code(errno != 0 ? errno : EIO, std::generic_category());  // the stream keeps no reason: the system's is in errno
    }
    if (!error) fs::permissions(temporary, permissions, error);
    if (!error) fs::rename(temporary, path, error);
    if (!error) return;
    std::error_code ignored;  // the message that matters is the write's
    fs::remove(temporary, ignored);
    throw UserError({path.string(), 0, 0, ""}, "cannot write: " + error.message(), "check the directory is writable and the disk has space");
}

// The command that merges a finished sweep into a file beside its directory (out/rq/ -> out/rq.h5).
std::string merge_command(const std::string& outdir) {
    auto directory = fs::path(outdir);
    if (!directory.has_filename()) directory = directory.parent_path();  // a trailing slash
    const auto name = directory.filename();
    const auto merged = name.empty() || name == "." || name == ".." ? fs::path("sweep.h5") : fs::path(directory).concat(".h5");
    return "trustsim merge " + outdir + " -o " + merged.string();
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

std::string first_difference(const std::string& a, const std::string& b) {
    std::istringstream x(a), y(b);
    std::string lx, ly;
    for (int line = 1;; ++line) {
        const bool more_x = static_cast<bool>(std::getline(x, lx)), more_y = static_cast<bool>(std::getline(y, ly));
        if (!more_x && !more_y) return "";
        if (!more_x || !more_y || lx != ly)
            return "line " + std::to_string(line) + ": '" + (more_x ? lx : "(end)") + "' before, '" + (more_y ? ly : "(end)") + "' now";
    }
}

// What makes a sweep the same sweep: the resolved scenario and its sweep section, and an edge list's contents
// (a YAML comment), since only its path is in the scenario: a file changed between shards or resumes would
// mix two networks in one sweep.
std::string identity(const io::LoadedScenario& scenario) {
    const auto fingerprint = [](const std::vector<Edge>& edges) {
        char crc[9];
        std::snprintf(crc, sizeof crc, "%08x", crc32_of(edges.data(), edges.size() * sizeof(Edge)));
        return std::to_string(edges.size()) + " edges, CRC-32 " + crc + "\n";
    };
    std::string text = scenario.resolved_yaml + scenario.sweep.resolved_yaml;
    if (const auto& edges = scenario.spec.network.edges) text += "# network.file holds " + fingerprint(*edges);
    for (const auto& [file, edges] : scenario.sweep.point_edge_lists) text += "# a point's network.file " + file + " holds " + fingerprint(*edges);
    return text;
}

std::string quote_for_shell(const std::string& text) {
    std::string quoted = "'";
    for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

// Whether a sweep writes the entry `name` of its directory (or its temporary names, which a sweep starting
// at the same time as another shard may find).
bool written_by_sweep(const std::string& name) {
    return name == "results" || name == "slurm" || name.starts_with("scenario.yaml") || name.starts_with("manifest.csv");
}

// The first entry of `dir` that a sweep does not write, if any.
std::optional<std::string> foreign_entry(const fs::path& dir) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
        const auto name = entry.path().filename().string();
        if (!written_by_sweep(name)) return name;
    }
    return std::nullopt;
}

// The run logs of a sweep, in name order; a sweep process makes its log as it starts.
std::vector<std::string> run_logs(const std::string& outdir) {
    std::vector<std::string> logs;
    const auto dir = fs::path(outdir) / "results";
    if (fs::is_directory(dir))
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.path().extension() == ".tsr") {
                if (!entry.is_regular_file())
                    throw UserError({entry.path().string(), 0, 0, ""}, "this is not a run log, though named like one (a folder?)",
                                    "move it out of results/, which holds the sweep's run logs only");
                logs.push_back(entry.path().string());
            }
    std::sort(logs.begin(), logs.end());
    return logs;
}

}  // namespace

bool is_sweep_file(const std::string& outdir, const std::string& path) {
    std::error_code error;  // weakly_canonical: through symbolic links, and for paths that do not exist yet
    const auto relative = fs::weakly_canonical(path, error).lexically_relative(fs::weakly_canonical(outdir, error));
    return !relative.empty() && written_by_sweep(relative.begin()->string());
}

std::optional<RunResult> simulate_run(const io::LoadedScenario& scenario, std::int64_t run, int threads, const std::function<bool()>& keep_going) {
    const auto loaded = io::load_sweep_run(scenario, run);
    const auto start = std::chrono::steady_clock::now();  // the run's own time: what `trustsim run` would spend simulating
    Simulation simulation(loaded.spec, Context{threads});
    RunResult result{run, loaded.spec.simulation.steps, static_cast<std::int64_t>(loaded.spec.firms.size()), 0, {}, {}, 0};
    result.values.reserve(static_cast<std::size_t>(result.steps * result.firms) * metric_count);
    for (std::int64_t s = 0; s < result.steps; ++s) {
        if (!keep_going()) return std::nullopt;
        const auto metrics = simulation.step();
        for (const auto& firm : metrics.values) result.values.insert(result.values.end(), firm.begin(), firm.end());
    }
    result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

RunLog::RunLog(const std::string& path) : path_(path) {
    fs::create_directories(fs::path(path).parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw UserError({path, 0, 0, ""}, std::string("cannot open the run log: ") + std::strerror(errno), "check the output directory is writable");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd_);
        if (error == EWOULDBLOCK)
            throw UserError({path, 0, 0, ""}, "another trustsim process is writing this run log", "wait for it to finish, or use another output directory");
        throw UserError({path, 0, 0, ""}, std::string("cannot lock the run log: ") + std::strerror(error),
                        "put the sweep on a file system with locks (a Lustre mount needs the flock option), e.g. the cluster's scratch");
    }
    try {  // the destructor, which closes the log, does not run if the constructor throws
        // Copies of this log left by a writer killed while making one (below): only the lock's holder makes them.
        // Harmless if they stay (readers take *.tsr only), so a failure to remove them is not an error.
        const auto copy_prefix = fs::path(path).filename().string() + ".tmp.";
        std::error_code ignored;
        for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path(), ignored))
            if (entry.path().filename().string().starts_with(copy_prefix)) fs::remove(entry.path(), ignored);
        const auto scan = scan_log(path, [](RunResult&&) {});
        if (!scan.damaged.empty()) {  // truncating to the intact prefix would lose the records after the damage
            const int copy = copy_intact_records(path, scan);
            ::close(fd_);
            fd_ = copy;
        } else if (scan.end < fs::file_size(path) && ::ftruncate(fd_, static_cast<off_t>(scan.end)) != 0) {
            throw UserError({path, 0, 0, ""}, std::string("cannot drop the partial record at the end: ") + std::strerror(errno), "check the file is writable");
        }
    } catch (...) {
        ::close(fd_);
        throw;
    }
    last_sync_ = now_seconds();
}

RunLog::~RunLog() {
    ::fsync(fd_);
    ::close(fd_);  // releases the lock
}

void RunLog::append(const RunResult& result) {
    const RecordHeader header{record_magic, static_cast<std::uint32_t>(metric_count), result.run, result.steps, result.firms, result.wall_seconds};
    const auto payload_bytes = result.values.size() * sizeof(double);
    const auto checksum = crc32_of(result.values.data(), payload_bytes, crc32_of(&header, sizeof header));
    std::string record(sizeof header + payload_bytes + sizeof checksum, '\0');
    std::memcpy(record.data(), &header, sizeof header);
    std::memcpy(record.data() + sizeof header, result.values.data(), payload_bytes);
    std::memcpy(record.data() + sizeof header + payload_bytes, &checksum, sizeof checksum);
    // One write() per record: a kill leaves a complete record or a partial tail the next opener drops.
    if (!write_all(fd_, record.data(), record.size()))
        throw UserError({path_, 0, 0, ""}, std::string("cannot append a finished run: ") + std::strerror(errno), "free disk space, then run the same command again to resume");
    if (now_seconds() - last_sync_ > sync_interval_seconds) {
        ::fsync(fd_);
        last_sync_ = now_seconds();
    }
}

std::vector<RunResult> read_results(const std::string& outdir, std::vector<std::string>* damage) {
    std::map<std::int64_t, RunResult> by_run;
    for (const auto& log : run_logs(outdir)) {
        const auto scan = scan_log(log, [&](RunResult&& r) { by_run.try_emplace(r.run, std::move(r)); });
        for (const auto& [begin, end] : scan.damaged)
            if (damage) damage->push_back(log + ": bytes " + std::to_string(begin) + "-" + std::to_string(end - 1) + " are damaged and were skipped");
    }
    std::vector<RunResult> results;
    for (auto& [run, result] : by_run) results.push_back(std::move(result));
    return results;
}

std::vector<double> read_values(const RunResult& run) {
    std::ifstream in(run.log, std::ios::binary);
    std::error_code error;
    const auto size = fs::file_size(run.log, error);
    RecordHeader header{};
    std::vector<double> values;
    const bool found = in && !error && run.offset <= size && in.seekg(static_cast<std::streamoff>(run.offset)) &&
                       read_record(in, size - run.offset, header, values) && header.run == run.run && header.steps == run.steps &&
                       header.firms == run.firms;
    if (!found)
        throw UserError({run.log, 0, 0, ""},
                        "the record of run " + std::to_string(run.run) + " is no longer where it was found (the log changed while it was read)",
                        "do not resume the sweep while merging it; merge again");
    return values;
}

io::LoadedScenario load_stored_sweep(const std::string& outdir) {
    const auto stored = fs::path(outdir) / "scenario.yaml";
    const std::string fix = "give the directory `trustsim sweep -o` wrote";
    const auto status_of = [&](const fs::path& path) {  // not found is an answer; no permission to look is not
        std::error_code error;
        const auto status = fs::status(path, error);
        if (error && error != std::errc::no_such_file_or_directory)
            throw UserError({outdir, 0, 0, ""}, "cannot read " + path.string() + ": " + error.message(), "check its permissions");
        return status;
    };
    const auto status = status_of(outdir);
    if (!fs::exists(status)) throw UserError({outdir, 0, 0, ""}, "no such file or directory", fix);
    if (!fs::is_directory(status))
        throw UserError({outdir, 0, 0, ""}, "a file, not a sweep directory", fix + " (a run's file needs no merging: trustsim info FILE describes it)");
    if (!fs::exists(status_of(stored))) throw UserError({outdir, 0, 0, ""}, "not a sweep directory (it has no scenario.yaml)", fix);
    return io::load_scenario_text(read_whole(stored), stored.string(), {}, outdir);
}

std::string describe_sweep(const std::string& outdir) {
    const auto scenario = load_stored_sweep(outdir);
    const auto& sweep = scenario.sweep;
    std::vector<std::string> damage;
    std::map<std::string, std::int64_t> per_log;
    std::set<std::int64_t> finished, started_points;
    for (const auto& r : read_results(outdir, &damage))
        if (r.run >= 0 && r.run < sweep.runs() && finished.insert(r.run).second) {
            ++per_log[fs::path(r.log).stem().string()];
            started_points.insert(r.run / sweep.replicates);
        }
    std::ostringstream out;
    out << outdir << ": a sweep (" << sweep.method << ") of " << sweep.points.size() << " points x " << sweep.replicates << " replicates = " << sweep.runs()
        << " runs\nfinished: " << finished.size() << " runs";
    for (auto it = per_log.begin(); it != per_log.end(); ++it) out << (it == per_log.begin() ? " (" : ", ") << it->first << " " << it->second;
    if (!per_log.empty()) out << ")";
    const auto left = sweep.runs() - static_cast<std::int64_t>(finished.size());
    out << "\nto run: " << left << " runs";
    if (const auto unstarted = static_cast<std::int64_t>(sweep.points.size() - started_points.size()); left > 0 && unstarted > 0)
        out << " (" << unstarted << " points have none finished yet)";
    out << "\n";
    for (const auto& d : damage) out << "warning: " << d << "\n";
    out << (left == 0 ? "every run is finished: " + merge_command(outdir) + "\n"
                      : "to finish it: the same `trustsim sweep` command again (with --slurm --submit on a cluster)\n");
    return out.str();
}

io::LoadedScenario prepare_sweep(const SweepOptions& options) {
    auto scenario = io::load_scenario_file(options.scenario, options.overrides);
    for (const auto& assignment : options.overrides)
        for (const auto& parameter : scenario.sweep.parameters)
            if (const auto set = assignment.substr(0, assignment.find('=')); io::within(set, parameter) || io::override_sets(assignment, parameter))
                throw UserError({"--set " + assignment, 0, 0, set}, "the sweep varies " + parameter + ": every run would take the sweep's value, not this one",
                                "remove this --set, or take " + parameter + " out of the sweep");
    io::check_sweep_fits_in_memory(scenario, options.jobs, options.threads_per_run);
    const fs::path outdir(options.outdir);
    const auto stored = outdir / "scenario.yaml";
    if (fs::exists(stored)) {
        const auto before = read_whole(stored);
        if (before != identity(scenario))
            throw UserError({options.outdir, 0, 0, ""},
                            "this directory holds a sweep of a different scenario (" + first_difference(before, identity(scenario)) + ")",
                            "resume with the scenario and --set options it was started with, or give a new output directory");
        return scenario;
    }
    if (fs::exists(outdir) && !fs::is_directory(outdir))
        throw UserError({options.outdir, 0, 0, ""}, "the output exists and is not a directory", "a sweep writes a directory: choose another -o");
    if (const auto other = foreign_entry(outdir))
        throw UserError({options.outdir, 0, 0, ""}, "the directory exists and holds " + *other + ", which is not part of a sweep",
                        "give a new or empty directory with -o");
    std::error_code error;
    fs::create_directories(outdir / "results", error);
    if (error) throw UserError({options.outdir, 0, 0, ""}, "cannot create the sweep directory: " + error.message(), "check the path and permissions");
    write_atomically(stored, identity(scenario));
    write_manifest(scenario, options.outdir);
    return scenario;
}

std::vector<std::int64_t> pending_runs(const io::LoadedScenario& scenario, const SweepOptions& options) {
    std::vector<bool> done(static_cast<std::size_t>(scenario.sweep.runs()), false);
    std::vector<std::string> damage;
    for (const auto& r : read_results(options.outdir, &damage))
        if (r.run >= 0 && r.run < scenario.sweep.runs()) done[static_cast<std::size_t>(r.run)] = true;
    for (const auto& d : damage) std::cerr << "trustsim: warning: " << d << "; runs recorded only there are not finished and will be re-run\n";
    std::vector<std::int64_t> pending;
    for (std::int64_t run = options.shard_index; run < scenario.sweep.runs(); run += options.shard_count)
        if (!done[static_cast<std::size_t>(run)]) pending.push_back(run);
    return pending;
}

bool execute_runs(const io::LoadedScenario& scenario, const SweepOptions& options, const std::string& writer, std::int64_t total,
                  const NextRun& next, const std::function<bool()>& stop) {
    RunLog log((fs::path(options.outdir) / "results" / (writer + ".tsr")).string());
    std::mutex mutex;  // guards log, done, progress, failure
    std::int64_t done = 0;
    std::exception_ptr failure;
    std::atomic<bool> interrupted = false;
    ProgressLine progress("runs left", !options.quiet);  // of those pending when the command started
    const auto keep_going = [&] { return !interrupted && !stop(); };
    const auto work = [&] {
        try {
            while (keep_going()) {
                std::optional<std::int64_t> run;
                {
                    std::lock_guard lock(mutex);  // NextRun need not be thread-safe
                    run = next();
                }
                if (!run) return;
                auto result = simulate_run(scenario, *run, options.threads_per_run, keep_going);
                if (!result) break;
                std::lock_guard lock(mutex);
                log.append(*result);
                progress.update(++done, total);
            }
            interrupted = true;  // only reached when stopped
        } catch (...) {
            std::lock_guard lock(mutex);
            if (!failure) failure = std::current_exception();
            interrupted = true;
        }
    };
    std::vector<std::thread> workers;
    for (int j = 1; j < std::max(1, options.jobs); ++j) workers.emplace_back(work);
    work();
    for (auto& w : workers) w.join();
    if (failure) std::rethrow_exception(failure);
    return !interrupted;
}

std::int64_t write_manifest(const io::LoadedScenario& scenario, const std::string& outdir) {
    const auto& sweep = scenario.sweep;
    std::vector<double> wall(static_cast<std::size_t>(sweep.runs()), -1);
    std::int64_t finished = 0;
    for (const auto& r : read_results(outdir))
        if (r.run >= 0 && r.run < sweep.runs()) wall[static_cast<std::size_t>(r.run)] = r.wall_seconds, ++finished;
    std::ostringstream csv;
    csv << "run,point,replicate,seed";
    for (const auto& p : sweep.parameters) csv << "," << csv_field(p);
    csv << ",status,wall_seconds\n";
    for (std::int64_t run = 0; run < sweep.runs(); ++run) {
        const auto r = io::sweep_run(scenario, run);
        csv << r.run << "," << r.point << "," << r.replicate << "," << r.seed;
        for (const auto& value : sweep.points[static_cast<std::size_t>(r.point)]) csv << "," << csv_field(value);
        const double w = wall[static_cast<std::size_t>(run)];
        csv << (w < 0 ? ",pending," : ",done," + std::to_string(w)) << "\n";
    }
    write_atomically(fs::path(outdir) / "manifest.csv", csv.str());
    return finished;
}

std::string sweep_outcome(std::int64_t done, std::int64_t runs, const std::string& outdir, bool stopped, bool slurm_task) {
    const auto counted = std::to_string(done) + " of " + std::to_string(runs) + " runs";
    if (stopped)
        return counted + " are finished and kept. " +
               (slurm_task ? "Run the `trustsim sweep --slurm --submit` command that submitted this task again: it submits the tasks with runs left."
                           : "Run the same command again to finish the sweep.");
    return outdir + ": " + counted + " finished" + (done == runs && !slurm_task ? "; merge them with: " + merge_command(outdir) : "");
}

// "0-3,5,7-9": SLURM's --array list of the given increasing indices.
std::string index_ranges(const std::vector<std::int64_t>& indices) {
    std::string text;
    for (std::size_t i = 0; i < indices.size();) {
        std::size_t j = i;
        while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
        if (!text.empty()) text += ',';
        text += std::to_string(indices[i]);
        if (j > i) text += '-' + std::to_string(indices[j]);
        i = j + 1;
    }
    return text;
}

std::string write_slurm(const SweepOptions& options, const SlurmOptions& slurm, const std::string& running_binary) {
    const auto scenario = prepare_sweep(options);
    const auto runs = scenario.sweep.runs();
    const auto tasks = slurm.tasks > 0 ? std::min<std::int64_t>(slurm.tasks, runs) : std::min<std::int64_t>(runs, 1000);
    // Only the tasks whose shard has runs left: a resubmission after a failed or cancelled task runs just those.
    auto all = options;
    all.shard_index = 0, all.shard_count = 1;
    const auto pending = pending_runs(scenario, all);
    std::vector<std::int64_t> shards;
    for (const auto run : pending) shards.push_back(run % tasks);
    std::sort(shards.begin(), shards.end());
    shards.erase(std::unique(shards.begin(), shards.end()), shards.end());

    const auto outdir = fs::absolute(options.outdir);
    const auto dir = outdir / "slurm";
    fs::create_directories(dir);
    // The tasks run the sweep's own copy of the scenario (resolved, --set applied), so that editing the
    // scenario file for the next experiment cannot break tasks still waiting in the queue.
    // And they run the sweep's own copy of the build its runs started with: rebuilding trustsim while tasks wait
    // in the queue, or before a resubmission, cannot mix two builds' runs in one sweep. Until a task has
    // started (and made its run log), the copy is this build.
    const auto binary = (dir / "trustsim").string();
    const auto this_build = read_whole(running_binary);
    if (this_build.empty())
        throw UserError({running_binary, 0, 0, ""}, "cannot read this trustsim's own binary, to copy it into the sweep", "run trustsim from a readable file");
    const auto copy = read_whole(binary);
    std::string build_note;
    const bool started = !run_logs(options.outdir).empty();
    if (!started || copy.empty()) {
        if (copy != this_build) write_atomically(binary, this_build, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                                                       fs::perms::others_read | fs::perms::others_exec);
        if (started)
            build_note = "note: the sweep's copy of trustsim, " + binary + ", was missing or empty; its runs so far may come from another build\n";
    } else if (copy != this_build) {
        build_note = "note: the tasks run " + binary + ", the build the sweep's runs started with, which differs from this trustsim; to use this build, sweep into a new directory\n";
    }
    const std::string arguments = " " + quote_for_shell((outdir / "scenario.yaml").string()) + " -o " + quote_for_shell(outdir.string());
    const auto header = [&](const std::string& name, const std::string& log) {
        std::string text = "#!/bin/bash\n# Written by `trustsim sweep --slurm`; see docs/sweeps.md.\n#SBATCH --job-name=" + name +
                           "\n#SBATCH --time=" + slurm.time + "\n#SBATCH --output=" + (dir / log).string() + "\n";
        if (!slurm.partition.empty()) text += "#SBATCH --partition=" + slurm.partition + "\n";
        return text;
    };
    // A cluster's default memory per task may be far less than a large market needs, and a task over its
    // request is killed: each asks for the largest run's estimate, a quarter more, and the process's own 64 MiB.
    auto memory = slurm.memory;
    if (memory.empty()) {  // the points' sizes, which may all differ from the scenario's own
        const auto point = io::largest_sweep_point(scenario, options.threads_per_run);
        const auto largest = point < 0 ? Simulation::estimated_memory(scenario.spec, Simulation::Snapshots::none) : scenario.sweep.point_memory[static_cast<std::size_t>(point)];
        memory = std::to_string(static_cast<std::int64_t>(std::ceil(1.25 * largest.bytes(options.threads_per_run) / (1 << 20))) + 64) + "M";
    }
    const auto sweep_script = dir / "sweep.sbatch";
    write_atomically(sweep_script, header("trustsim-sweep", "trustsim-sweep-%A_%a.out") + "#SBATCH --array=" +
                                       (shards.empty() ? "0-" + std::to_string(tasks - 1) : index_ranges(shards)) +
                                       "\n#SBATCH --cpus-per-task=" + std::to_string(options.threads_per_run) + "\n#SBATCH --mem=" + memory +
                                       "\nexport TRUSTSIM_SLURM_TASK=1  # its messages then speak of resubmitting\nexec " +
                                       quote_for_shell(binary) + " sweep" + arguments + " --threads-per-run " +
                                       std::to_string(options.threads_per_run) + " --shard \"$SLURM_ARRAY_TASK_ID/" + std::to_string(tasks) + "\"\n");
    const auto merge_script = dir / "merge.sbatch";
    write_atomically(merge_script, header("trustsim-merge", "trustsim-merge-%j.out") + "exec " + quote_for_shell(binary) + " merge " +
                                       quote_for_shell(outdir.string()) + " -o " + quote_for_shell((outdir / "sweep.h5").string()) + " --force\n");
    std::string report = "wrote " + sweep_script.string() + " and " + merge_script.string() + ": " + std::to_string(runs - static_cast<std::int64_t>(pending.size())) +
                         " of " + std::to_string(runs) + " runs finished, " + std::to_string(shards.size()) + " of " + std::to_string(tasks) +
                         " array tasks with runs left" + (slurm.tasks > tasks ? " (--tasks " + std::to_string(slurm.tasks) + " is more than the runs)" : "") +
                         ", each asking for " + memory + " of memory" + (slurm.memory.empty() ? " (the largest run's estimate; --mem to change)" : "") + "\n" +
                         build_note;
    if (shards.empty() && !slurm.submit) return report + "every run is finished: merge with: sbatch " + merge_script.string() + "\n";
    if (!slurm.submit)
        return report + "submit with: sbatch " + sweep_script.string() + ", then sbatch --dependency=afterany:<job id> " + merge_script.string() + "\n";
    const auto submit = [](const std::string& command) {
        FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
        std::string out;
        char buffer[512];
        while (pipe && std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
        const int status = pipe ? ::pclose(pipe) : -1;
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
        if (status != 0) throw UserError({"sbatch", 0, 0, ""}, "submission failed: " + out, "check that SLURM is reachable (sinfo) and the options are valid");
        return out.substr(0, out.find(';'));  // --parsable prints "id" or "id;cluster"
    };
    const auto result = (outdir / "sweep.h5").string();
    if (shards.empty()) return report + "submitted merge job " + submit("sbatch --parsable " + quote_for_shell(merge_script.string())) + "; the merged result will be " + result + "\n";
    const auto array_job = submit("sbatch --parsable " + quote_for_shell(sweep_script.string()));
    // afterany, not afterok: if a task fails or is cancelled, the merge runs anyway and its log says which runs
    // are missing, rather than the job waiting in the queue forever.
    const auto merge_job = submit("sbatch --parsable --dependency=afterany:" + array_job + " " + quote_for_shell(merge_script.string()));
    return report + "submitted array job " + array_job + " and merge job " + merge_job + " (runs after it); the merged result will be " + result +
           ". If a task fails, run this command again: it submits the tasks with runs left.\n";
}

}  // namespace trustsim::sweep
