// io/append_file: an append-only file written and synced through a thread's io_uring, so a hot
// thread can make bytes durable without a blocking write(2) or fdatasync(2) (the order journal,
// exec/journal.hpp: an order's intent must be on disk before the order is sent, DESIGN.md section 5).
//
// append() copies bytes into a staging ring (no syscall); the loop's poll() writes them at their
// offsets and, once sync() was asked for, runs fdatasync linked after the write (IOSQE_IO_LINK), so
// durable_offset() moves only when every byte below it is written and synced. The caller polls
// durable_offset() instead of waiting. One write or write+sync chain is in flight at a time: the
// journal writes a few hundred bytes per order, and fewer operations in flight keep the failure
// cases plain. A failed or short write is retried from where it stopped; an error the kernel
// reports (EIO, ENOSPC) makes the file failed() for good: nothing more is durable, and the owner
// stops sending orders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "io/uring_loop.hpp"

namespace cbtrade::io {

class AppendFile final : public UringHandler {
public:
    // `staging_bytes`: the most that may be appended and not yet written (power of two).
    explicit AppendFile(UringLoop& loop, std::size_t staging_bytes = 1 << 20);
    ~AppendFile();
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;

    // Cold: takes `fd` (opened for writing; the caller has positioned nothing: writes go at
    // `start_offset` and after). The file owns and closes the fd.
    void adopt(int fd, std::uint64_t start_offset) noexcept;
    [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
    [[nodiscard]] int fd() const noexcept { return fd_; }

    // Hot: copies `bytes` to the end of the staging ring. false (nothing copied) when they do not
    // fit or the file has failed.
    [[nodiscard]] bool append(std::span<const std::byte> bytes) noexcept;
    // Hot: asks that everything appended so far become durable. Returns the offset that
    // durable_offset() will reach when it has.
    std::uint64_t sync() noexcept;

    // Offsets in the file: every byte below durable_offset() is written and synced.
    [[nodiscard]] std::uint64_t appended_offset() const noexcept { return appended_; }
    [[nodiscard]] std::uint64_t written_offset() const noexcept { return written_; }
    [[nodiscard]] std::uint64_t durable_offset() const noexcept { return durable_; }
    // 0, or the negative errno that failed the file (no further byte will become durable).
    [[nodiscard]] int failed() const noexcept { return error_; }
    // No operation in flight and nothing left to write or sync.
    [[nodiscard]] bool idle() const noexcept {
        return inflight_ == 0 && written_ == appended_ && durable_ >= sync_target_;
    }

    // Queues the next write (and sync) if none is in flight; the loop's poll() submits it. Call it
    // after append()/sync() and from the owner's poll; cheap when there is nothing to do.
    void pump() noexcept;

    // Cold: waits (in io_uring) until idle() or failed(), at most `timeout_ns`. true when idle.
    [[nodiscard]] bool drain(std::int64_t timeout_ns) noexcept;
    // Cold: drains, then closes the fd. Returns the file's error (0 when everything became durable).
    int close(std::int64_t timeout_ns = 5'000'000'000) noexcept;

    void on_completion(unsigned tag, const io_uring_cqe& cqe) noexcept override;

private:
    UringLoop& loop_;
    std::unique_ptr<std::byte[]> staging_;
    std::size_t staging_mask_;
    int fd_ = -1;
    int error_ = 0;
    unsigned inflight_ = 0;       // SQEs whose completions have not arrived (0, 1 or 2)
    std::uint64_t appended_ = 0;  // file offsets; byte o is staged at staging_[o & staging_mask_]
    std::uint64_t written_ = 0;
    std::uint64_t write_end_ = 0;    // end of the write in flight
    std::uint64_t sync_target_ = 0;  // durable_ should reach this
    std::uint64_t sync_end_ = 0;     // what the sync in flight covers
    std::uint64_t durable_ = 0;
};

}  // namespace cbtrade::io
