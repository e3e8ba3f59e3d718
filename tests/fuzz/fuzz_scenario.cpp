// libFuzzer target: any bytes given to the scenario loader either load or raise a UserError; anything else
// (a crash, another exception, a sanitizer report, a hang) is a bug. Run with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trustsim/io/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        trustsim::io::load_scenario_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    } catch (const trustsim::UserError&) {
    }
    return 0;
}
