// SPDX-License-Identifier: MIT
// moa validate | presets | models
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/terminal.h"
#include "engine/engine.h"
#include "providers/model_list.h"
#include "util/resources.h"
#include "util/text.h"

namespace moa::cli {

std::string config_path_or_preset(const std::string& what) {
    std::error_code ec;
    if (!std::filesystem::exists(what, ec)) {
        std::string preset = resources::preset_path(what);
        if (!preset.empty()) return preset;
    }
    return what;
}

std::optional<config::Config> load_config_or_preset(const std::string& what, const config::LoadOptions& options) {
    auto r = config::load_config_file(config_path_or_preset(what), options);
    for (const auto& i : r.issues) std::cerr << i.str() << "\n";
    if (!r.ok()) return std::nullopt;
    return r.config;
}

int cmd_validate(const std::vector<std::string>& args) {
    Args a(args, {"quiet", "allow-outside-files"}, {});
    if (!a.ok() || a.positional().empty()) {
        std::cerr << "moa validate: " << (a.ok() ? "name a file: moa validate FILE.moa.json" : a.error()) << "\n";
        return kUsage;
    }
    config::LoadOptions options;
    options.allow_outside_files = a.flag("allow-outside-files");
    int rc = kOk;
    for (const auto& f : a.positional()) {
        auto r = config::load_config_file(config_path_or_preset(f), options);
        for (const auto& i : r.issues) std::cerr << i.str() << "\n";
        if (!r.ok()) {
            int errors = 0;
            for (const auto& i : r.issues) errors += i.severity == config::Issue::Severity::Error;
            std::cerr << f << ": " << errors << " error" << (errors == 1 ? "" : "s") << "\n";
            rc = kUsage;
        } else if (!a.flag("quiet")) {
            const auto& c = *r.config;
            // The name as the file has it could be anything: its start, escaped, filtered for the terminal.
            std::cout << for_fd(1, f) << ": ok: \"" << for_fd(1, text::quote_start(c.name, 120)) << "\", " << c.layers.size() << " layer"
                      << (c.layers.size() == 1 ? "" : "s") << ", " << c.agent_count() << " agent"
                      << (c.agent_count() == 1 ? "" : "s") << "\n";
        }
    }
    return rc;
}

int cmd_presets(const std::vector<std::string>& args) {
    Args a(args, {}, {});
    if (!a.ok() || a.positional().size() > 1) {
        std::cerr << "moa presets: usage: moa presets [NAME]\n";
        return kUsage;
    }
    if (a.positional().empty()) {
        for (const auto& n : resources::preset_names()) {
            auto r = config::load_config_file(resources::preset_path(n));
            std::cout << n;
            if (r.config) {
                const auto layers = r.config->layers.size();
                const auto agents = r.config->agent_count();
                std::cout << "\t" << layers << (layers == 1 ? " layer, " : " layers, ") << agents << (agents == 1 ? " agent" : " agents");
                if (!r.config->description.empty()) std::cout << "\t" << r.config->description;
            }
            std::cout << "\n";
        }
        return kOk;
    }
    std::string p = resources::preset_path(a.positional()[0]);
    if (p.empty()) {
        std::cerr << "moa presets: no preset named \"" << a.positional()[0] << "\" (moa presets lists them)\n";
        return kUsage;
    }
    std::string text;
    text::read_file(p, text);
    std::cout << text;
    if (!text.empty() && text.back() != '\n') std::cout << "\n";
    return kOk;
}

int cmd_models(const std::vector<std::string>& args) {
    Args a(args, {"json"}, {"config", "provider"});
    if (!a.ok() || !a.get("config") || !a.get("provider")) {
        std::cerr << "moa models: " << (a.ok() ? "usage: moa models --config FILE --provider NAME [--json]" : a.error())
                  << "\n";
        return kUsage;
    }
    auto c = load_config_or_preset(*a.get("config"));
    if (!c) return kUsage;
    const auto* p = c->provider(*a.get("provider"));
    if (!p) {
        std::cerr << "moa models: the configuration has no provider \"" << *a.get("provider") << "\"\n";
        return kUsage;
    }
    auto r = providers::list_models(net::Transport::shared(), *p, engine::key_from_environment(*p));
    if (!r) {
        std::cerr << "moa models: " << r.error() << "\n";
        return kRunFailed;
    }
    if (a.flag("json")) {
        std::cout << nlohmann::json(*r).dump(2) << "\n";
    } else {
        for (const auto& id : *r) std::cout << id << "\n";
    }
    return kOk;
}

} // namespace moa::cli
