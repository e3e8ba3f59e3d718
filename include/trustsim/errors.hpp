#pragma once
// Two kinds of error, kept apart: a UserError is the user's to fix (bad scenario, missing file, bad value)
// and carries where it came from; an InternalError is a bug in TrustSim.
#include <stdexcept>
#include <string>

namespace trustsim {

// Where a user error came from. Line and column are 1-based; 0 means unknown.
struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;
    std::string key_path;  // e.g. "firms[0].control_customers"
};

class UserError : public std::runtime_error {
public:
    UserError(SourceLocation where, const std::string& what_is_wrong, const std::string& how_to_fix = {});
    const SourceLocation& where() const noexcept { return where_; }
    const std::string& problem() const noexcept { return problem_; }
    const std::string& fix() const noexcept { return fix_; }

private:
    SourceLocation where_;
    std::string problem_;
    std::string fix_;
};

class InternalError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

}  // namespace trustsim
