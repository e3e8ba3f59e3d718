#include "trustsim/errors.hpp"

namespace trustsim {

UserError::UserError(SourceLocation where, const std::string& what_is_wrong, const std::string& how_to_fix)
    : std::runtime_error(what_is_wrong), where_(std::move(where)), problem_(what_is_wrong), fix_(how_to_fix) {}

}  // namespace trustsim
