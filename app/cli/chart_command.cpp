// SPDX-License-Identifier: MIT
// moa chart --experiment FILE --out FILE.png|.svg|.csv [--x cost|tflops|ttft|wall] [--log-x] [--paper] [--db PATH]
// The chart is drawn by the same Qt Charts adapter as the window, so `moa` (which has no Qt)
// hands the work to the `moa-workbench` installed next to it, on the offscreen platform: no
// display is needed.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/cli.h"

namespace moa::cli {

int cmd_chart(const std::vector<std::string>& args) {
    Args a(args, {"log-x", "paper", "no-paper"}, {"experiment", "out", "x", "db"});
    if (!a.ok() || !a.get("experiment") || !a.get("out") || !a.positional().empty()) {
        std::cerr << "moa chart: "
                  << (a.ok() ? "usage: moa chart --experiment FILE --out FILE.png|.svg|.csv [--x cost|tflops|ttft|wall] [--log-x] [--paper] [--db PATH]"
                             : a.error())
                  << "\n";
        return kUsage;
    }
    const std::string x = a.get("x").value_or("cost");
    if (x != "cost" && x != "tflops" && x != "ttft" && x != "wall") {
        std::cerr << "moa chart: --x is cost or tflops (per instance), or ttft or wall (per-prompt medians of the time to "
                     "first token and of the wall time), not \""
                  << x << "\"\n";
        return kUsage;
    }
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto workbench = self.parent_path() / "moa-workbench";
    if (ec || !std::filesystem::exists(workbench)) {
        std::cerr << "moa chart: needs moa-workbench next to moa (" << workbench.string()
                  << " is missing); install the desktop application or build with MOA_BUILD_UI=ON\n";
        return kRunFailed;
    }
    std::vector<std::string> argv_s = {workbench.string(), "--experiment", *a.get("experiment"), "--render-chart", *a.get("out"),
                                       "--chart-x", x};
    if (a.flag("log-x")) argv_s.push_back("--log-x");
    // The paper's published LC lines are off unless asked for: they are not directly comparable.
    if (a.flag("paper") && !a.flag("no-paper")) argv_s.push_back("--paper");
    if (auto db = a.get("db")) argv_s.insert(argv_s.end(), {"--experiment-db", *db});
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
    execv(argv[0], argv.data());
    std::cerr << "moa chart: cannot start " << workbench.string() << "\n";
    return kRunFailed;
}

} // namespace moa::cli
