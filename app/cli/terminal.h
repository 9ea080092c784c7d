// SPDX-License-Identifier: MIT
#pragma once
// Model text, provider errors and configuration names come from others. Written raw to a
// terminal, their control sequences are obeyed: a window title, a cleared screen, an OSC 52
// write to the clipboard. On a terminal they are shown instead: C0 controls other than newline
// and tab, ESC, DEL and C1 become visible pictures, and Unicode's bidirectional controls (which
// make text read in another order than it is) are named, "⟨U+202E⟩", as --html and --markdown name them. Human-readable output going to a
// pipe or a file is filtered too (`moa run ... | tee log` would replay the escapes later, in
// whatever terminal shows the log); JSON output (escaped already) and --raw are left exact.
#include <string>
#include <string_view>

namespace moa::cli {

// `s` with every control character but \n and \t replaced by a visible stand-in (U+2400's
// control pictures for C0 and DEL, U+FFFD for C1 and stray UTF-8 continuation bytes, and the
// name "⟨U+202E⟩" for the bidirectional controls U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069).
std::string terminal_safe(std::string_view s);

// Puts the filter in front of std::cout and std::cerr where they are terminals. Once, at start.
void guard_terminal_output();

// Puts the filter in front of std::cout (`out`) and std::cerr (`err`) whatever they are, for
// human-readable output; a stream filtered already stays as it is.
void guard_pipe_output(bool out, bool err);

// `s` made safe when the file descriptor `fd` is a terminal, else unchanged (for printf).
std::string for_fd(int fd, std::string_view s);

} // namespace moa::cli
