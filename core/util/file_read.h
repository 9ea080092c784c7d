// SPDX-License-Identifier: MIT
#pragma once
// Reading a file someone else may have named (a configuration, a template it points at, a
// prompt file, a data set): regular files only, and only up to a size. A directory, a FIFO
// (opened without blocking, so it cannot hang us), a device such as /dev/zero, or a file past
// the limit is refused with a message saying which.
#include <cstddef>
#include <string>

#include "util/result.h"

namespace moa::files {

inline constexpr std::size_t kMaxConfigBytes = 16u << 20;   // a configuration or experiment file
inline constexpr std::size_t kMaxTemplateBytes = 1u << 20;  // a prompt template
inline constexpr std::size_t kMaxPromptBytes = 16u << 20;   // --prompt-file
inline constexpr std::size_t kMaxDataBytes = 1u << 30;      // data sets, annotations, catalogs

// The whole file, or "<path>: <why>" (cannot read: no such file, is a directory, is a FIFO, is a
// device, is larger than N MiB, or the system's reason).
Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes);

// "1 MiB", "16 MiB", "1234 bytes": a limit as people read it.
std::string size_text(std::size_t bytes);

} // namespace moa::files
