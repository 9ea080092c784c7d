// SPDX-License-Identifier: MIT
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/terminal.h"

namespace {
std::string usage() {
    return "moa — Mixture-of-Agents from the command line (MoA Workbench " MOA_VERSION ")\n\n" + moa::cli::synopses() +
           "  moa --version\n"
           "\n"
           "moa COMMAND --help (or moa help COMMAND) explains one command.\n"
           "FILE may also name a built-in preset (moa presets lists them).\n"
           "Runs are recorded in $MOA_HISTORY_DB or $XDG_DATA_HOME/moa-workbench/history.sqlite.\n"
           "Experiments and their response cache: $MOA_EXPERIMENT_DB or .../moa-workbench/experiments.sqlite.\n"
           "Exit status: 0 done, 2 bad usage or configuration, 3 the run failed, 4 stopped at the budget.\n";
}
}

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    moa::cli::guard_terminal_output(); // what others wrote is shown on a terminal, never obeyed
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || (args[0] == "help" && args.size() == 1)) {
        std::cout << usage();
        return args.empty() ? moa::cli::kUsage : moa::cli::kOk;
    }
    if (args[0] == "--version" || args[0] == "version") {
        std::cout << "moa " << MOA_VERSION << "\n";
        return 0;
    }
    std::string cmd = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    // `moa COMMAND --help` and `moa help COMMAND`: the command's usage on stdout, exit 0.
    if (cmd == "help" || (moa::cli::command_usage(cmd) && moa::cli::wants_help(rest))) {
        const std::string about = cmd == "help" ? rest[0] : cmd;
        if (auto u = moa::cli::command_usage(about)) {
            std::cout << *u;
            return moa::cli::kOk;
        }
        std::cerr << "moa: unknown command \"" << about << "\"\n\n" << usage();
        return moa::cli::kUsage;
    }
    if (cmd == "run") return moa::cli::cmd_run(rest);
    if (cmd == "validate") return moa::cli::cmd_validate(rest);
    if (cmd == "presets") return moa::cli::cmd_presets(rest);
    if (cmd == "models") return moa::cli::cmd_models(rest);
    if (cmd == "history") return moa::cli::cmd_history(rest);
    if (cmd == "serve") return moa::cli::cmd_serve(rest);
    if (cmd == "stats") return moa::cli::cmd_stats(rest);
    if (cmd == "eval") return moa::cli::cmd_eval(rest);
    if (cmd == "chart") return moa::cli::cmd_chart(rest);
    if (cmd == "sweep") return moa::cli::cmd_sweep(rest);
    std::cerr << "moa: unknown command \"" << cmd << "\"\n\n" << usage();
    return moa::cli::kUsage;
}
