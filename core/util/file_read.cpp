// SPDX-License-Identifier: MIT
#include "util/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace moa::files {

namespace {
const char* kind_of(mode_t m) {
    if (S_ISDIR(m)) return "is a directory, not a file";
    if (S_ISFIFO(m)) return "is a FIFO (named pipe), not a regular file";
    if (S_ISCHR(m)) return "is a character device, not a regular file";
    if (S_ISBLK(m)) return "is a block device, not a regular file";
    if (S_ISSOCK(m)) return "is a socket, not a regular file";
    return "is not a regular file";
}
} // namespace

std::string size_text(std::size_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " bytes";
}

Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        const int e = errno;
        if (e == ENOENT || e == ENOTDIR) return Error{path + ": cannot read: no such file"};
        return Error{path + ": cannot read the file: " + std::strerror(e)};
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return Error{path + ": cannot read the file: " + std::strerror(errno)};
    if (!S_ISREG(st.st_mode)) return Error{path + ": " + kind_of(st.st_mode)};
    const auto too_big = [&] {
        return Error{path + ": is larger than " + size_text(max_bytes) + " (the limit for this kind of file)"};
    };
    if (static_cast<std::size_t>(st.st_size) > max_bytes) return too_big();
    std::string out;
    out.reserve(static_cast<std::size_t>(st.st_size));
    char buf[64 * 1024];
    // Files under /proc report size 0 and can grow while read: the limit holds while reading too.
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error{path + ": cannot read the file: " + std::strerror(errno)};
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes) return too_big();
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

} // namespace moa::files
