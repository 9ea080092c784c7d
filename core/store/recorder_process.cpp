// SPDX-License-Identifier: MIT
#include "store/recorder_process.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace moa::store {
namespace {

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return {};
    return buf;
}

// Field 22 of /proc/PID/stat (clock ticks after boot), or empty where there is no /proc or the
// process has ended and waits to be reaped (state Z). The command name (field 2) is in
// parentheses and may hold spaces: fields are counted after its ')'.
std::string start_time(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream fields(stat.substr(close + 1));
    std::string f;
    for (int i = 3; i <= 22 && fields >> f; ++i) {
        if (i == 3 && (f == "Z" || f == "X")) return {};
        if (i == 22) return f;
    }
    return {};
}

} // namespace

const std::string& recorder_identity() {
    static const std::string kId = [] {
        const long pid = static_cast<long>(getpid());
        return nlohmann::json{{"host", host_name()},
                              {"boot", first_line("/proc/sys/kernel/random/boot_id")},
                              {"pid", pid},
                              {"start", start_time(pid)}}
            .dump();
    }();
    return kId;
}

Recorder recorder_state(const std::string& identity) {
    const auto j = nlohmann::json::parse(identity, nullptr, false);
    if (!j.is_object()) return Recorder::Unknown;
    const auto str = [&j](const char* k) {
        auto it = j.find(k);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto pid_it = j.find("pid");
    if (pid_it == j.end() || !pid_it->is_number_integer()) return Recorder::Unknown;
    const long pid = pid_it->get<long>();
    if (pid <= 0 || str("host") != host_name()) return Recorder::Unknown;
    const std::string boot = first_line("/proc/sys/kernel/random/boot_id");
    if (!boot.empty() && str("boot") != boot) return Recorder::Gone; // rebooted since
    const std::string start = str("start");
    if (!start.empty()) {
        const std::string now = start_time(pid);
        return now == start ? Recorder::Alive : Recorder::Gone; // no process, or another one with the pid
    }
    // No /proc (not Linux): whether any process has the pid.
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) return Recorder::Alive;
    return Recorder::Gone;
}

} // namespace moa::store
