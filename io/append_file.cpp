// Append-only file over io_uring. See append_file.hpp for the contract.
#include "io/append_file.hpp"

#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "core/cpu.hpp"

namespace cbtrade::io {

namespace {

enum Tag : unsigned { tag_write = 1, tag_sync = 2 };

// Room for `n` SQEs that must go to the kernel in one submission (a link chain must not be split
// across two: the kernel would end the chain at the batch's end and run the sync unlinked).
bool reserve_sqes(io_uring* ring, unsigned n) noexcept {
    if (io_uring_sq_space_left(ring) < n) (void)io_uring_submit(ring);
    return io_uring_sq_space_left(ring) >= n;
}

}  // namespace

AppendFile::AppendFile(UringLoop& loop, std::size_t staging_bytes)
    : loop_(loop),
      staging_(new std::byte[std::bit_ceil(staging_bytes)]),
      staging_mask_(std::bit_ceil(staging_bytes) - 1) {}

AppendFile::~AppendFile() {
    (void)close(1'000'000'000);
}

void AppendFile::adopt(int fd, std::uint64_t start_offset) noexcept {
    fd_ = fd;
    error_ = 0;
    appended_ = written_ = write_end_ = sync_target_ = sync_end_ = durable_ = start_offset;
}

bool AppendFile::append(std::span<const std::byte> bytes) noexcept {
    if (error_ != 0 || fd_ < 0) return false;
    const std::size_t capacity = staging_mask_ + 1;
    if (appended_ - written_ + bytes.size() > capacity) return false;
    const std::size_t at = appended_ & staging_mask_;
    const std::size_t first = std::min(bytes.size(), capacity - at);
    std::memcpy(staging_.get() + at, bytes.data(), first);
    std::memcpy(staging_.get(), bytes.data() + first, bytes.size() - first);
    appended_ += bytes.size();
    return true;
}

std::uint64_t AppendFile::sync() noexcept {
    sync_target_ = appended_;
    return sync_target_;
}

void AppendFile::pump() noexcept {
    if (inflight_ != 0 || fd_ < 0 || error_ != 0) return;
    io_uring* ring = loop_.ring();
    if (ring == nullptr) return;
    const bool want_sync = durable_ < sync_target_;
    if (written_ < appended_) {
        // One contiguous piece of the staging ring: up to its end, the rest in the next write.
        const std::size_t at = written_ & staging_mask_;
        const std::size_t len =
            static_cast<std::size_t>(std::min<std::uint64_t>(appended_ - written_, staging_mask_ + 1 - at));
        write_end_ = written_ + len;
        const bool link_sync = want_sync && write_end_ >= sync_target_;
        if (!reserve_sqes(ring, link_sync ? 2 : 1)) return;
        io_uring_sqe* w = io_uring_get_sqe(ring);
        io_uring_prep_write(w, fd_, staging_.get() + at, static_cast<unsigned>(len), written_);
        io_uring_sqe_set_data64(w, uring_user_data(this, tag_write));
        ++inflight_;
        if (link_sync) {
            // The sync runs only if the write completed in full (a short write breaks the chain and
            // the sync completes with -ECANCELED): what it makes durable is exactly [.., write_end_).
            w->flags |= IOSQE_IO_LINK;
            io_uring_sqe* s = io_uring_get_sqe(ring);
            io_uring_prep_fsync(s, fd_, IORING_FSYNC_DATASYNC);
            io_uring_sqe_set_data64(s, uring_user_data(this, tag_sync));
            sync_end_ = write_end_;
            ++inflight_;
        }
        return;
    }
    if (want_sync) {
        if (!reserve_sqes(ring, 1)) return;
        io_uring_sqe* s = io_uring_get_sqe(ring);
        io_uring_prep_fsync(s, fd_, IORING_FSYNC_DATASYNC);
        io_uring_sqe_set_data64(s, uring_user_data(this, tag_sync));
        sync_end_ = written_;
        ++inflight_;
    }
}

void AppendFile::on_completion(unsigned tag, const io_uring_cqe& cqe) noexcept {
    --inflight_;
    const int res = cqe.res;
    if (tag == tag_write) {
        if (res >= 0) {
            written_ += static_cast<std::uint64_t>(res);  // a short write: the rest goes next
        } else if (res != -EINTR && res != -EAGAIN) {
            error_ = res;
        }
    } else if (tag == tag_sync) {
        if (res == 0) {
            durable_ = std::max(durable_, sync_end_);
        } else if (res != -ECANCELED && res != -EINTR && res != -EAGAIN) {
            // An fdatasync error means the kernel may have dropped dirty pages: nothing written
            // since the last good sync can be trusted, and a retry could report success falsely.
            error_ = res;
        }
    }
    if (inflight_ == 0) pump();
}

bool AppendFile::drain(std::int64_t timeout_ns) noexcept {
    const std::int64_t deadline = now_ns() + timeout_ns;
    while (error_ == 0 && fd_ >= 0 && !idle()) {
        pump();
        const std::int64_t left = deadline - now_ns();
        if (left <= 0) return false;
        if (loop_.wait(std::min<std::int64_t>(left, 100'000'000)) < 0) return false;
    }
    return error_ == 0 && idle();
}

int AppendFile::close(std::int64_t timeout_ns) noexcept {
    if (fd_ < 0) return error_;
    if (!drain(timeout_ns) && error_ == 0) error_ = -ETIMEDOUT;
    // Operations still in flight point into staging_: wait for them before letting go of the fd.
    const std::int64_t deadline = now_ns() + 1'000'000'000;
    while (inflight_ != 0 && now_ns() < deadline) (void)loop_.wait(10'000'000);
    ::close(fd_);
    fd_ = -1;
    return error_;
}

}  // namespace cbtrade::io
