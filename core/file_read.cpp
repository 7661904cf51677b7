#include "core/file_read.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/text.hpp"

namespace cbtrade {

namespace {

std::string_view kind_of(mode_t mode) noexcept {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

bool same_version(const struct stat& a, const struct stat& b) noexcept {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
           a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
           a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// A large file would otherwise be paged in one fault at a time by resize()'s zero fill: measured
// here, page faults made a 70 MB CSV read twice as slow as the mapped read it replaced. One
// MADV_POPULATE_WRITE call faults the whole buffer in with one kernel entry (best effort: older
// kernels refuse it and the faults simply happen on first touch).
void reserve_prefaulted(std::string& s, std::size_t size) {
    s.reserve(size);
    constexpr std::size_t worth_it = std::size_t{1} << 20;
    if (size < worth_it) return;
    const long page = ::sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    const auto first = reinterpret_cast<std::uintptr_t>(s.data());
    const auto begin = (first + static_cast<std::uintptr_t>(page) - 1) & ~(static_cast<std::uintptr_t>(page) - 1);
    const auto end = (first + size) & ~(static_cast<std::uintptr_t>(page) - 1);
    if (end > begin) (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

}  // namespace

std::string describe_byte_limit(std::size_t bytes) {
    constexpr std::size_t kib = 1024;
    if (bytes >= kib * kib * kib && bytes % (kib * kib * kib) == 0)
        return std::to_string(bytes / (kib * kib * kib)) + " GiB";
    if (bytes >= kib * kib && bytes % (kib * kib) == 0) return std::to_string(bytes / (kib * kib)) + " MiB";
    if (bytes >= kib && bytes % kib == 0) return std::to_string(bytes / kib) + " KiB";
    return std::to_string(bytes) + " bytes";
}

namespace {

// Opens `path` for reading after refusing anything but a regular file within `max_bytes`; fills `fd`
// and `st` (the version read, to compare after reading). Returns "" or the problem.
std::string open_regular(const std::string& path, std::size_t max_bytes, Fd& fd, struct stat& st) {
    // Refuse by type before opening: opening a FIFO blocks until a writer appears, and opening some
    // devices has side effects. The descriptor is checked again below (the path may be swapped).
    struct stat before {};
    if (::stat(path.c_str(), &before) != 0) return std::string("cannot be read: ") + std::strerror(errno);
    if (!S_ISREG(before.st_mode)) return "is " + std::string(kind_of(before.st_mode)) + ", not a regular file";
    fd.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd.fd < 0) return std::string("cannot be opened: ") + std::strerror(errno);
    if (::fstat(fd.fd, &st) != 0) return std::string("cannot be read: ") + std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "is " + std::string(kind_of(st.st_mode)) + ", not a regular file";
    if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > max_bytes)
        return "is " + std::to_string(st.st_size) + " bytes, over the " + describe_byte_limit(max_bytes) + " limit";
    return {};
}

// Reads up to `want` bytes at the descriptor's position, retrying on EINTR and short reads; returns
// the count read (less only at end of file) or -1 with errno set.
ssize_t read_fully(int fd, char* to, std::size_t want) noexcept {
    std::size_t got = 0;
    while (got < want) {
        const ssize_t n = ::read(fd, to + got, want - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(got);
}

// After `got` bytes of a file whose size was `size` at open: the file must be exactly as it was.
// Returns "" or the problem.
std::string check_unchanged(int fd, const struct stat& st, std::size_t got) {
    const auto size = static_cast<std::size_t>(st.st_size);
    const auto changed = [](const std::string& how) {
        return "changed while it was read (" + how + "); read it again once nothing is writing it";
    };
    if (got < size)
        return changed("it shrank: end of file after " + std::to_string(got) + " of its " + std::to_string(size) +
                       " bytes");
    char extra = 0;
    if (got > size || read_fully(fd, &extra, 1) > 0) return changed("it grew past " + std::to_string(size) + " bytes");
    struct stat after {};
    if (::fstat(fd, &after) != 0) return std::string("cannot be read: ") + std::strerror(errno);
    if (!same_version(st, after)) return changed("its size or modification time moved");
    return {};
}

}  // namespace

FileContents read_whole_file(const std::string& path, std::size_t max_bytes, std::string_view what) {
    FileContents out;
    const auto fail = [&](const std::string& problem) {
        out.contents.clear();
        out.error = escape_for_message(path) + ": " + std::string(what) + " " + problem;
        return std::move(out);
    };
    Fd f;
    struct stat st {};
    if (std::string problem = open_regular(path, max_bytes, f, st); !problem.empty()) return fail(problem);
    const auto size = static_cast<std::size_t>(st.st_size);
    // One read(2) loop into memory: a file cut short underneath shows as an early end of file,
    // never as a fault (a mapped file would raise SIGBUS).
    reserve_prefaulted(out.contents, size);
    out.contents.resize(size);
    const ssize_t got = read_fully(f.fd, out.contents.data(), size);
    if (got < 0) return fail(std::string("read failed: ") + std::strerror(errno));
    if (std::string problem = check_unchanged(f.fd, st, static_cast<std::size_t>(got)); !problem.empty())
        return fail(problem);
    return out;
}

std::FILE* open_regular_file(const std::string& path, std::size_t max_bytes, std::string_view what,
                             std::string& error) {
    Fd f;
    struct stat st {};
    if (std::string problem = open_regular(path, max_bytes, f, st); !problem.empty()) {
        error = escape_for_message(path) + ": " + std::string(what) + " " + problem;
        return nullptr;
    }
    // Opened non-blocking so a FIFO swapped in could not block the open; a regular file ignores it.
    std::FILE* stream = ::fdopen(f.fd, "r");
    if (stream == nullptr) {
        error = escape_for_message(path) + ": " + std::string(what) + " cannot be opened: " + std::strerror(errno);
        return nullptr;
    }
    f.fd = -1;  // the stream owns it now
    return stream;
}

std::string read_file_lines(const std::string& path, std::size_t max_bytes, std::string_view what,
                            std::size_t block_bytes, const LineBlockSink& on_lines) {
    const auto fail = [&](const std::string& problem) {
        return escape_for_message(path) + ": " + std::string(what) + " " + problem;
    };
    Fd f;
    struct stat st {};
    if (std::string problem = open_regular(path, max_bytes, f, st); !problem.empty()) return fail(problem);
    const auto size = static_cast<std::size_t>(st.st_size);
    if (block_bytes == 0) block_bytes = 1;
    // A small file needs no more than itself (plus one byte, to see that it did not grow).
    std::string buffer(std::min(block_bytes, size + 1), '\0');
    std::size_t carried = 0;  // bytes of an unfinished line kept at the buffer's start
    std::size_t total = 0;
    for (;;) {
        const ssize_t n = read_fully(f.fd, buffer.data() + carried, buffer.size() - carried);
        if (n < 0) return fail(std::string("read failed: ") + std::strerror(errno));
        total += static_cast<std::size_t>(n);
        if (total > size) break;  // grew while read: check_unchanged says so
        const std::size_t filled = carried + static_cast<std::size_t>(n);
        if (n == 0) {  // end of file: the last line without a newline, if any
            // Cut short underneath, the tail is a fragment of a line: check_unchanged reports the
            // shrink instead of the caller a malformed last line.
            if (carried > 0 && total == size) on_lines(std::string_view(buffer.data(), carried), size);
            break;
        }
        const std::string_view view(buffer.data(), filled);
        const std::size_t last_newline = view.rfind('\n');
        if (last_newline == std::string_view::npos) {
            if (filled == buffer.size())
                return fail("has a line longer than " + describe_byte_limit(buffer.size()) + " near byte " +
                            std::to_string(total - filled));
            carried = filled;  // a short read without a newline: keep reading
            continue;
        }
        on_lines(view.substr(0, last_newline + 1), size);
        carried = filled - (last_newline + 1);
        std::memmove(buffer.data(), buffer.data() + last_newline + 1, carried);
    }
    if (std::string problem = check_unchanged(f.fd, st, total); !problem.empty()) return fail(problem);
    return {};
}

}  // namespace cbtrade
