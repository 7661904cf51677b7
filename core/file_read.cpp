#include "core/file_read.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

FileContents read_whole_file(const std::string& path, std::size_t max_bytes, std::string_view what) {
    FileContents out;
    const std::string where = escape_for_message(path) + ": " + std::string(what) + " ";
    auto fail = [&](const std::string& problem) {
        out.contents.clear();
        out.error = where + problem;
        return std::move(out);
    };
    // Refuse by type before opening: opening a FIFO blocks until a writer appears, and opening some
    // devices has side effects. The descriptor is checked again below (the path may be swapped).
    struct stat before {};
    if (::stat(path.c_str(), &before) != 0) return fail(std::string("cannot be read: ") + std::strerror(errno));
    if (!S_ISREG(before.st_mode)) return fail("is " + std::string(kind_of(before.st_mode)) + ", not a regular file");

    Fd f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f.fd < 0) return fail(std::string("cannot be opened: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return fail(std::string("cannot be read: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail("is " + std::string(kind_of(st.st_mode)) + ", not a regular file");
    const auto size = static_cast<std::size_t>(st.st_size);
    if (st.st_size < 0 || size > max_bytes)
        return fail("is " + std::to_string(st.st_size) + " bytes, over the " + describe_byte_limit(max_bytes) +
                    " limit");

    // One read(2) loop into memory: a file cut short underneath shows as an early end of file,
    // never as a fault (a mapped file would raise SIGBUS).
    reserve_prefaulted(out.contents, size);
    out.contents.resize(size);
    std::size_t got = 0;
    while (got < size) {
        const ssize_t n = ::read(f.fd, out.contents.data() + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(std::string("read failed: ") + std::strerror(errno));
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    const auto changed = [&](const std::string& how) {
        return fail("changed while it was read (" + how + "); read it again once nothing is writing it");
    };
    if (got < size) return changed("it shrank from " + std::to_string(size) + " to " + std::to_string(got) + " bytes");
    char extra = 0;
    ssize_t n = 0;
    do n = ::read(f.fd, &extra, 1);
    while (n < 0 && errno == EINTR);
    if (n > 0) return changed("it grew past " + std::to_string(size) + " bytes");
    struct stat after {};
    if (::fstat(f.fd, &after) != 0) return fail(std::string("cannot be read: ") + std::strerror(errno));
    if (!same_version(st, after)) return changed("its size or modification time moved");
    return out;
}

}  // namespace cbtrade
