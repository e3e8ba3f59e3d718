#pragma once
// A progress line with an ETA on a terminal; nothing in logs and CI (stderr is not a TTY there).
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace trustsim {

class ProgressLine {
public:
    ProgressLine(std::string what, bool enabled) : what_(std::move(what)), enabled_(enabled && isatty(STDERR_FILENO)) {}
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;
    // So that what is printed next (an interruption, an error) starts on a clean line.
    ~ProgressLine() { clear(); }
    void clear() {
        if (shown_) std::fprintf(stderr, "\r%70s\r", "");
        shown_ = false;
    }
    void update(std::int64_t done, std::int64_t total) {
        if (!enabled_ || total <= 0) return;
        const auto now = std::chrono::steady_clock::now();
        if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
        last_ = now;
        const double elapsed = std::chrono::duration<double>(now - start_).count();
        const double eta = done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0;
        std::fprintf(stderr, "\r%s %lld/%lld (%3.0f%%), %.0f s left   ", what_.c_str(), static_cast<long long>(done),
                     static_cast<long long>(total), 100.0 * static_cast<double>(done) / static_cast<double>(total), eta);
        shown_ = true;
        if (done == total) clear();
    }

private:
    std::string what_;
    bool enabled_;
    bool shown_ = false;  // a line is on the terminal
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace trustsim
