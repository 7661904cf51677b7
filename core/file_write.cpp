#include "core/file_write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/text.hpp"

namespace cbtrade {

namespace {

[[noreturn]] void fail(const std::string& path, std::string_view what, std::string_view step, int err) {
    throw RunError(escape_for_message(path) + ": " + std::string(what) + " " + std::string(step) + ": " +
                   std::strerror(err));
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content, std::string_view what) {
    // /dev/stdout, /dev/null and other non-regular targets cannot be renamed over: write in place.
    struct stat st {};
    const bool special = ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    const std::string tmp = special ? path : path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) fail(path, what, "cannot be written", errno);
    auto abandon = [&](std::string_view step, int err) {
        ::close(fd);
        if (!special) ::unlink(tmp.c_str());
        fail(path, what, step, err);
    };
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) abandon("write failed", n < 0 ? errno : EIO);
        done += static_cast<std::size_t>(n);
    }
    // Delayed allocation errors (ENOSPC, EDQUOT, EIO) show up at fsync/close, not at write().
    if (!special && ::fsync(fd) != 0) abandon("write failed", errno);
    if (::close(fd) != 0) {
        const int err = errno;
        if (!special) ::unlink(tmp.c_str());
        fail(path, what, "write failed", err);
    }
    if (!special && ::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        fail(path, what, "cannot be renamed into place", err);
    }
}

void flush_or_throw(std::FILE* stream, std::string_view name) {
    errno = 0;
    const bool flushed = std::fflush(stream) == 0;
    if (!flushed || std::ferror(stream)) {
        const int err = errno != 0 ? errno : EIO;
        std::clearerr(stream);
        throw RunError(std::string(name) + ": write failed: " + std::strerror(err));
    }
}

}  // namespace cbtrade
