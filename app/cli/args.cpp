// SPDX-License-Identifier: MIT
#include <algorithm>

#include "cli/cli.h"

namespace moa::cli {

Args::Args(const std::vector<std::string>& args, std::vector<std::string> flags, std::vector<std::string> options) {
    auto has = [](const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.rfind("--", 0) != 0 || a == "--") {
            positional_.push_back(a);
            continue;
        }
        std::string name = a.substr(2), value;
        bool inline_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inline_value = true;
        }
        if (has(flags, name)) {
            if (inline_value) {
                error_ = "--" + name + " takes no value";
                return;
            }
            flags_set_.push_back(name);
        } else if (has(options, name)) {
            if (!inline_value) {
                if (i + 1 >= args.size()) {
                    error_ = "--" + name + " needs a value";
                    return;
                }
                value = args[++i];
            }
            values_.emplace_back(name, value);
        } else {
            error_ = "unknown option --" + name;
            return;
        }
    }
}

bool Args::flag(const std::string& name) const {
    return std::find(flags_set_.begin(), flags_set_.end(), name) != flags_set_.end();
}

std::optional<std::string> Args::get(const std::string& name) const {
    std::optional<std::string> v;
    for (const auto& [k, val] : values_)
        if (k == name) v = val;
    return v;
}

std::vector<std::string> Args::all(const std::string& name) const {
    std::vector<std::string> v;
    for (const auto& [k, val] : values_)
        if (k == name) v.push_back(val);
    return v;
}

} // namespace moa::cli
