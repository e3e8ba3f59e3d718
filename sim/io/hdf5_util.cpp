#include "hdf5_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "trustsim/io/temporary.hpp"

namespace trustsim::io::h5 {

namespace {
constexpr std::size_t compress_above_bytes = 4096;
// Integers (firm ids, counts) shrink several-fold under shuffle + deflate; the model's floats (trust,
// perceptions) shrink by a fifth at most, for most of the cost of recording (bench_model, BM_Recording), so
// they are chunked but not compressed. Level 1 is as small as higher levels here, and faster.
constexpr unsigned compression_level = 1;
bool worth_compressing(hid_t type) { return H5Tget_class(type) != H5T_FLOAT; }

// Before HDF5's first use: no clean-up at exit (a file whose writes failed, e.g. on a full disk, made its
// exit-time flush crash; every file is closed by its owner anyway), and no error stacks printed on
// stderr (failures become one UserError that quotes HDF5's innermost reason).
const bool library_configured = [] {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
}();

// The lowest-level description on HDF5's error stack, e.g. "file write failed: ... errno = 28 ...".
std::string innermost_error() {
    std::string reason;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD,
             [](unsigned depth, const H5E_error2_t* error, void* out) -> herr_t {
                 if (depth == 0 && error->desc) *static_cast<std::string*>(out) = error->desc;
                 return 0;
             },
             &reason);
    const auto message = reason.find("error message = '");
    if (message != std::string::npos) return reason.substr(message + 17, reason.find('\'', message + 17) - message - 17);
    return reason;
}
}  // namespace

std::vector<hsize_t> chunk_shape(const std::vector<hsize_t>& dims, std::size_t element_size, std::size_t chunk_bytes) {
    std::vector<hsize_t> chunk(dims);
    for (auto& d : chunk) d = std::max<hsize_t>(d, 1);
    // Halve the leading dimensions first: readers usually slice along them (runs, steps, snapshots).
    for (std::size_t axis = 0; axis < chunk.size(); ++axis) {
        std::size_t bytes = element_size;
        for (const auto d : chunk) bytes *= d;
        while (bytes > chunk_bytes && chunk[axis] > 1) {
            chunk[axis] = (chunk[axis] + 1) / 2;
            bytes = element_size;
            for (const auto d : chunk) bytes *= d;
        }
    }
    return chunk;
}

Writer::Writer(const std::string& path, std::string shown_as) : shown_as_(shown_as.empty() ? path : std::move(shown_as)) {
    file_ = Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (file_.get() < 0) fail("cannot create the file");
}

void Writer::fail(const std::string& what) const {
    (void)library_configured;
    const auto reason = innermost_error();
    throw UserError({shown_as_, 0, 0, ""}, "HDF5 output failed: " + what + (reason.empty() ? "" : " (" + reason + ")"),
                    "check that the directory is writable and the disk has space");
}

void Writer::close() {
    if (file_.get() < 0) return;
    if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) fail("cannot flush the file");
    file_ = Handle();
}

Handle Writer::group(hid_t parent, const std::string& name) {
    return {check(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create group " + name), H5Gclose};
}

void Writer::write_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims, hid_t type, const void* data,
                           std::string_view description, std::string_view unit) {
    const Handle space(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "cannot describe " + name), H5Sclose);
    const Handle properties(check(H5Pcreate(H5P_DATASET_CREATE), "cannot create properties"), H5Pclose);
    std::size_t bytes = H5Tget_size(type);
    for (const auto d : dims) bytes *= d;
    if (bytes > compress_above_bytes) {
        const auto chunk = chunk_shape(dims, H5Tget_size(type));
        check(H5Pset_chunk(properties, static_cast<int>(chunk.size()), chunk.data()), "cannot chunk " + name);
        if (worth_compressing(type)) {
            check(H5Pset_shuffle(properties), "cannot set shuffle");
            check(H5Pset_deflate(properties, compression_level), "cannot set compression");
        }
    }
    const Handle dataset(check(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, properties, H5P_DEFAULT), "cannot create " + name),
                         H5Dclose);
    if (bytes > 0) check(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "cannot write " + name);
    attribute(dataset, "description", std::string(description));
    if (!unit.empty()) attribute(dataset, "unit", std::string(unit));
}

Handle Writer::utf8_string_type() const {
    Handle type(check(H5Tcopy(H5T_C_S1), "cannot make a string type"), H5Tclose);
    check(H5Tset_size(type, H5T_VARIABLE), "cannot make a string type");
    check(H5Tset_cset(type, H5T_CSET_UTF8), "cannot make a string type");
    return type;
}

void Writer::strings(hid_t parent, const std::string& name, const std::vector<std::string>& values, std::string_view description,
                     std::vector<hsize_t> dims) {
    if (dims.empty()) dims = {values.size()};
    const auto type = utf8_string_type();
    std::vector<const char*> pointers;
    for (const auto& v : values) pointers.push_back(v.c_str());
    write_dataset(parent, name, dims, type, pointers.data(), description, {});
}

void Writer::text(hid_t parent, const std::string& name, const std::string& value, std::string_view description) {
    const auto type = utf8_string_type();
    const Handle space(check(H5Screate(H5S_SCALAR), "cannot describe " + name), H5Sclose);
    const Handle dataset(check(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create " + name), H5Dclose);
    const char* pointer = value.c_str();
    check(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &pointer), "cannot write " + name);
    attribute(dataset, "description", std::string(description));
}

void Writer::attribute(hid_t object, const std::string& name, const std::string& value) {
    const auto type = utf8_string_type();
    const char* pointer = value.c_str();
    write_attribute(object, name, type, &pointer);
}

void Writer::write_attribute(hid_t object, const std::string& name, hid_t type, const void* value) {
    const Handle space(check(H5Screate(H5S_SCALAR), "cannot describe attribute " + name), H5Sclose);
    const Handle attribute(check(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "cannot create attribute " + name), H5Aclose);
    check(H5Awrite(attribute, type, value), "cannot write attribute " + name);
}

Appender::Appender(Writer& writer, hid_t parent, const std::string& name, hid_t type, std::vector<hsize_t> row_dims, std::string_view description,
                   std::string_view unit, std::size_t chunk_bytes)
    : writer_(&writer), name_(name), type_(type), row_dims_(std::move(row_dims)), row_bytes_(H5Tget_size(type)) {
    constexpr hsize_t max_chunk_rows = 256;
    std::vector<hsize_t> dims{0}, max_dims{H5S_UNLIMITED}, chunk{max_chunk_rows};
    for (const auto d : row_dims_) dims.push_back(d), max_dims.push_back(d), chunk.push_back(d), row_bytes_ *= d;
    chunk = chunk_shape(chunk, H5Tget_size(type), chunk_bytes);
    chunk_rows_ = chunk[0];
    const Handle space(writer.check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()), "cannot describe " + name), H5Sclose);
    const Handle properties(writer.check(H5Pcreate(H5P_DATASET_CREATE), "cannot create properties"), H5Pclose);
    writer.check(H5Pset_chunk(properties, static_cast<int>(chunk.size()), chunk.data()), "cannot chunk " + name);
    if (worth_compressing(type)) {
        writer.check(H5Pset_shuffle(properties), "cannot set shuffle");
        writer.check(H5Pset_deflate(properties, compression_level), "cannot set compression");
    }
    // Chunks are written whole, once: HDF5's chunk cache (1 MiB per dataset) would only hold copies of them.
    const Handle access(writer.check(H5Pcreate(H5P_DATASET_ACCESS), "cannot create properties"), H5Pclose);
    writer.check(H5Pset_chunk_cache(access, 0, 0, H5D_CHUNK_CACHE_W0_DEFAULT), "cannot set the chunk cache of " + name);
    dataset_ = Handle(writer.check(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, properties, access), "cannot create " + name), H5Dclose);
    writer.attribute(dataset_, "description", std::string(description));
    if (!unit.empty()) writer.attribute(dataset_, "unit", std::string(unit));
}

void Appender::append(const void* row) {
    if (chunk_rows_ == 1 && row_bytes_ > 0) {  // a row is a whole chunk: written from where it is, not copied
        write(row, 1);
        return;
    }
    const auto* bytes = static_cast<const unsigned char*>(row);
    pending_.insert(pending_.end(), bytes, bytes + row_bytes_);
    if (pending_.size() >= chunk_rows_ * row_bytes_) flush();
}

void Appender::flush() {
    if (row_bytes_ == 0 || pending_.empty()) return;
    write(pending_.data(), pending_.size() / row_bytes_);
    pending_.clear();
}

void Appender::write(const void* rows, hsize_t count) {
    std::vector<hsize_t> dims{written_ + count}, start{written_}, block{count};
    for (const auto d : row_dims_) dims.push_back(d), start.push_back(0), block.push_back(d);
    writer_->check(H5Dset_extent(dataset_, dims.data()), "cannot extend " + name_);
    const Handle file_space(writer_->check(H5Dget_space(dataset_), "cannot select in " + name_), H5Sclose);
    writer_->check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr), "cannot select in " + name_);
    const Handle memory_space(writer_->check(H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr), "cannot describe " + name_), H5Sclose);
    writer_->check(H5Dwrite(dataset_, type_, memory_space, file_space, H5P_DEFAULT, rows), "cannot write " + name_);
    written_ += count;
}

namespace {
// The temporary file a forced stop removes: the latest TemporaryOutput's (a command writes one output at a
// time). Its path is copied into storage that is never freed, so that a signal handler, on whatever thread
// it runs, never reads a string being destroyed.
char registered_path[PATH_MAX];
std::atomic<const TemporaryOutput*> registered_owner{nullptr};
std::atomic<bool> registered{false};
static_assert(std::atomic<const TemporaryOutput*>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);

void unregister(const TemporaryOutput* owner) {
    if (auto expected = owner; registered_owner.compare_exchange_strong(expected, nullptr)) registered = false;
}
}  // namespace

TemporaryOutput::TemporaryOutput(std::string output, bool overwrite)
    : output_(std::move(output)), path_(temporary_name(output_)), overwrite_(overwrite) {
    registered = false;
    if (path_.size() >= sizeof registered_path) return;  // not removed by a forced stop; the path would not fit
    std::copy(path_.c_str(), path_.c_str() + path_.size() + 1, registered_path);
    registered_owner = this;
    registered = true;
}

TemporaryOutput::~TemporaryOutput() {
    std::error_code ignored;  // the message that matters is the one that brought us here
    if (!kept_) std::filesystem::remove(path_, ignored);
    unregister(this);  // after the removal: a signal meanwhile still finds the file to remove
}

namespace {

// rename(2) that fails with EEXIST instead of replacing an existing file. File systems without
// RENAME_NOREPLACE get a hard link (refused on an existing name in the same way) and an unlink; those
// without hard links either (some FUSE and SMB mounts) a check and a rename, with the small race of a check.
int rename_no_replace(const char* from, const char* to) {
    if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (::link(from, to) == 0) {
        ::unlink(from);  // the output is in place; a temporary name left beside it is only a second name
        return 0;
    }
    if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS) return -1;
    struct stat existing {};
    if (::lstat(to, &existing) == 0) {
        errno = EEXIST;
        return -1;
    }
    return std::rename(from, to);
}

}  // namespace

void TemporaryOutput::move_into_place() {
    const int result = overwrite_ ? std::rename(path_.c_str(), output_.c_str()) : rename_no_replace(path_.c_str(), output_.c_str());
    const int error = errno;
    kept_ = true;  // in place, or (if the rename failed) left where the message says
    unregister(this);
    if (result == 0) return;
    if (error == EEXIST)
        throw UserError({output_, 0, 0, ""}, "the output file appeared while this one was written (another run given the same name?) and was left as it is",
                        "the complete result of this run is in " + path_ + "; rename it by hand, or rerun with --force to overwrite");
    throw UserError({output_, 0, 0, ""}, std::string("cannot move the finished output into place: ") + std::strerror(error),
                    "the complete result is in " + path_ + "; rename it by hand");
}

}  // namespace trustsim::io::h5

namespace trustsim::io {
const char* temporary_output_path() noexcept { return h5::registered ? h5::registered_path : nullptr; }
}  // namespace trustsim::io
