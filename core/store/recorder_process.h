// SPDX-License-Identifier: MIT
#pragma once
// Which process is recording a run, kept in the run's row, so that a run still marked "running"
// whose process has ended (killed, crashed, power cut) reads "interrupted" instead of "running"
// for ever.
//
// Why a process identity and not a lock or a heartbeat: a heartbeat needs a write every few
// seconds from every recording process (and a guess at how late is dead on a loaded machine);
// POSIX record locks are dropped when the same process closes any descriptor of the file, so a
// GUI that lists the history while it records would lose its own locks. The identity is written
// once, and read without writing: the host name, the boot id (a reboot ends every process), the
// pid and the process's start time (a later process reusing the pid has another start time).
#include <string>

namespace moa::store {

// This process's identity, as stored ({"host","boot","pid","start"} as JSON).
const std::string& recorder_identity();

enum class Recorder { Alive, Gone, Unknown };
// Whether the process a stored identity names is still running on this machine. Unknown: no
// identity (rows from before schema 6) or one from another host (a history on a shared disk).
Recorder recorder_state(const std::string& identity);

} // namespace moa::store
