// SPDX-License-Identifier: MIT
#pragma once
// The `moa` command: the same engine as the GUI, driven from a terminal or a script.
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace moa::cli {

enum Exit { kOk = 0, kUsage = 2, kRunFailed = 3, kStopped = 4 };

int cmd_run(const std::vector<std::string>& args);
int cmd_validate(const std::vector<std::string>& args);
int cmd_presets(const std::vector<std::string>& args);
int cmd_models(const std::vector<std::string>& args);
int cmd_history(const std::vector<std::string>& args);
int cmd_serve(const std::vector<std::string>& args);
int cmd_stats(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_chart(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args);

// The usage of a subcommand (synopsis and options), empty for an unknown command.
std::optional<std::string> command_usage(const std::string& command);
// Every command's synopsis, as `moa --help` lists them (made from the same text as command_usage).
std::string synopses();
// True when the arguments ask for help (--help or -h before a "--").
bool wants_help(const std::vector<std::string>& args);

// Loads a configuration from a path, or a built-in preset by name; prints every issue to
// stderr. Empty when it has errors.
std::optional<config::Config> load_config_or_preset(const std::string& what, const config::LoadOptions& options = {});
// `what` itself when it exists, else the path of the preset so named (when there is one).
std::string config_path_or_preset(const std::string& what);

// A tiny option reader: --name value / --name=value / flags.
class Args {
public:
    Args(const std::vector<std::string>& args, std::vector<std::string> flags, std::vector<std::string> options);
    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    bool flag(const std::string& name) const;
    std::optional<std::string> get(const std::string& name) const;
    std::vector<std::string> all(const std::string& name) const;
    const std::vector<std::string>& positional() const { return positional_; }

private:
    std::vector<std::pair<std::string, std::string>> values_;
    std::vector<std::string> flags_set_;
    std::vector<std::string> positional_;
    std::string error_;
};

} // namespace moa::cli
