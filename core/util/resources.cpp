// SPDX-License-Identifier: MIT
#include "util/resources.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace moa::resources {

std::string dir() {
    if (const char* env = std::getenv("MOA_RESOURCES_DIR"); env && *env) return env;
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        fs::path installed = exe.parent_path().parent_path() / "share" / "moa-workbench";
        if (fs::exists(installed / "catalog", ec)) return installed.string();
    }
    return MOA_SOURCE_RESOURCES;
}

std::string catalog_path() { return dir() + "/catalog/models.json"; }
std::string presets_dir() { return dir() + "/presets"; }

std::vector<std::string> preset_names() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(presets_dir(), ec)) {
        std::string f = e.path().filename().string();
        const std::string ext = ".moa.json";
        if (f.size() > ext.size() && f.compare(f.size() - ext.size(), ext.size(), ext) == 0)
            names.push_back(f.substr(0, f.size() - ext.size()));
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string preset_path(const std::string& name) {
    for (const auto& n : preset_names())
        if (n == name) return presets_dir() + "/" + n + ".moa.json";
    return {};
}

std::string data_path(const char* env_override, const std::string& file) {
    if (const char* p = std::getenv(env_override); p && *p) return p;
    std::string base;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) base = x;
    else if (const char* h = std::getenv("HOME"); h && *h) base = std::string(h) + "/.local/share";
    else base = ".";
    return base + "/moa-workbench/" + file;
}

} // namespace moa::resources
