// SPDX-License-Identifier: MIT
#pragma once
#include <string>
#include <vector>

namespace moa::resources {
// The folder holding presets/, catalog/ and templates/: $MOA_RESOURCES_DIR, else
// <exe>/../share/moa-workbench (installed), else the source tree's resources/ (development).
std::string dir();
std::string catalog_path();
std::string presets_dir();
// Preset names (file stems of presets/*.moa.json), sorted.
std::vector<std::string> preset_names();
// The path of a preset, empty when there is no such preset.
std::string preset_path(const std::string& name);
} // namespace moa::resources
