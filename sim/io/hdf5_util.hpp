#pragma once
// Small RAII layer over the HDF5 C API, shared by the run output and the sweep merge. Every failure
// becomes a UserError naming the file, since the usual causes (full disk, no permission) are the user's.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trustsim/errors.hpp"

namespace trustsim::io::h5 {

// An owned HDF5 identifier, closed with the function that fits its kind.
class Handle {
public:
    Handle() = default;
    Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
    Handle& operator=(Handle&& other) noexcept {
        std::swap(id_, other.id_);
        std::swap(close_, other.close_);
        return *this;
    }
    ~Handle() {
        if (id_ >= 0) close_(id_);
    }
    hid_t get() const noexcept { return id_; }
    operator hid_t() const noexcept { return id_; }

private:
    hid_t id_ = H5I_INVALID_HID;
    herr_t (*close_)(hid_t) = nullptr;
};

template <class T> hid_t native_type();
template <> inline hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> inline hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> inline hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> inline hid_t native_type<std::uint64_t>() { return H5T_NATIVE_UINT64; }
template <> inline hid_t native_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> inline hid_t native_type<std::int16_t>() { return H5T_NATIVE_INT16; }
template <> inline hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }

// Writes one file at `path`; messages name it `shown_as` (the final name of a file written under a temporary one).
class Writer {
public:
    explicit Writer(const std::string& path, std::string shown_as = {});
    hid_t file() const noexcept { return file_; }
    void close();  // flushes and closes; errors here (a full disk) are reported

    Handle group(hid_t parent, const std::string& name);
    // A complete dataset, chunked and compressed (deflate + shuffle) when larger than a few kilobytes.
    template <class T>
    void dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims, const T* data, std::string_view description,
                 std::string_view unit = {}) {
        write_dataset(parent, name, dims, native_type<T>(), data, description, unit);
    }
    // Variable-length UTF-8 strings; dims default to one dimension of values.size().
    void strings(hid_t parent, const std::string& name, const std::vector<std::string>& values, std::string_view description,
                 std::vector<hsize_t> dims = {});
    void text(hid_t parent, const std::string& name, const std::string& value, std::string_view description);

    template <class T>
    void attribute(hid_t object, const std::string& name, T value) {
        write_attribute(object, name, native_type<T>(), &value);
    }
    void attribute(hid_t object, const std::string& name, const std::string& value);

    [[noreturn]] void fail(const std::string& what) const;
    hid_t check(hid_t id, const std::string& what) const {
        if (id < 0) fail(what);
        return id;
    }

private:
    void write_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims, hid_t type, const void* data,
                       std::string_view description, std::string_view unit);
    void write_attribute(hid_t object, const std::string& name, hid_t type, const void* value);
    Handle utf8_string_type() const;  // variable-length, as h5py reads back into str

    std::string shown_as_;
    Handle file_;
};

// Chunks of datasets are kept near this size: large enough to read fast, small enough to buffer.
inline constexpr std::size_t default_chunk_bytes = 1 << 20;

// A dataset that grows along its first axis. Rows are buffered until a whole chunk (near chunk_bytes) is
// full, so each (compressed) chunk is written once and memory stays bounded however long the run; a large
// row (an agent snapshot) is a chunk of its own and is written at once. flush() writes what is buffered.
class Appender {
public:
    Appender(Writer& writer, hid_t parent, const std::string& name, hid_t type, std::vector<hsize_t> row_dims, std::string_view description,
             std::string_view unit = {}, std::size_t chunk_bytes = default_chunk_bytes);
    void append(const void* row);
    void flush();
    hid_t dataset() const noexcept { return dataset_; }
    hsize_t rows() const noexcept { return written_ + (row_bytes_ > 0 ? pending_.size() / row_bytes_ : 0); }

private:
    void write(const void* rows, hsize_t count);

    Writer* writer_;
    std::string name_;
    hid_t type_;
    std::vector<hsize_t> row_dims_;
    std::size_t row_bytes_;
    hsize_t chunk_rows_ = 1, written_ = 0;
    std::vector<unsigned char> pending_;
    Handle dataset_;
};

// The file an output is written to until it is complete (OUTPUT.tmp.HOST.PID, beside it: io::temporary_name), so that nothing
// incomplete ever has the output's name. Removed when this goes out of scope unless moved into place, so that
// neither an error nor a stop leaves it behind. Without overwrite, a file that took the output's name while
// this one was written (another run given the same -o) is kept, not replaced.
class TemporaryOutput {
public:
    TemporaryOutput(std::string output, bool overwrite);
    ~TemporaryOutput();
    TemporaryOutput(const TemporaryOutput&) = delete;
    TemporaryOutput& operator=(const TemporaryOutput&) = delete;
    const std::string& path() const noexcept { return path_; }
    // Renames the (closed) file to the output. If that fails, the complete file is kept, and the UserError says where.
    void move_into_place();

private:
    std::string output_, path_;
    bool overwrite_, kept_ = false;
};

// Chunk shape for a dataset: whole trailing dimensions, leading ones cut to keep chunks near chunk_bytes.
std::vector<hsize_t> chunk_shape(const std::vector<hsize_t>& dims, std::size_t element_size, std::size_t chunk_bytes = default_chunk_bytes);

}  // namespace trustsim::io::h5
