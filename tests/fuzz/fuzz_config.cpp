// SPDX-License-Identifier: MIT
// libFuzzer target: the configuration loader and validator on arbitrary text. Must never crash,
// and a document it accepts must save and load again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto r = moa::config::load_config_text(text, "fuzz.moa.json", "/nonexistent");
    for (const auto& i : r.issues) (void)i.str();
    if (r.ok()) {
        auto again = moa::config::load_config_text(moa::config::to_json(*r.config).dump(), "again.moa.json", "/nonexistent");
        if (!again.ok()) std::abort(); // what we save must load
    }
    return 0;
}
