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
// A file in the user's data folder: $<env_override> when set, else
// $XDG_DATA_HOME/moa-workbench/<file> (~/.local/share/moa-workbench/<file>).
std::string data_path(const char* env_override, const std::string& file);
} // namespace moa::resources
