// io_uring loop and TCP stream. See uring_loop.hpp for the contract.
#include "io/uring_loop.hpp"

#include <liburing.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace cbtrade::io {

namespace {

// TcpStream's operation tags (uring_user_data: the owner's address | tag).
enum Tag : unsigned {
    tag_connect = 1,
    tag_connect_timeout = 2,
    tag_recv = 3,
    tag_send = 4,
    tag_cancel = 5,
    tag_close = 6,
};
static_assert(alignof(UringHandler) > uring_tag_mask);

std::uint64_t make_user_data(TcpStream* s, Tag t) noexcept {
    return uring_user_data(s, t);
}

// An SQE, submitting first if the submission queue is full. Null only if the ring is broken.
io_uring_sqe* get_sqe(io_uring* ring) noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (sqe == nullptr) {
        (void)io_uring_submit(ring);
        sqe = io_uring_get_sqe(ring);
    }
    return sqe;
}

}  // namespace

int resolve_tcp(std::string_view host, std::uint16_t port, ResolvedAddress& out, std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    addrinfo* result = nullptr;
    const std::string host_text(host);
    const std::string port_text = std::to_string(port);
    const int rc = ::getaddrinfo(host_text.c_str(), port_text.c_str(), &hints, &result);
    if (rc != 0) {
        error = "cannot resolve " + host_text + ": " + ::gai_strerror(rc);
        return rc == EAI_SYSTEM && errno != 0 ? -errno : -EHOSTUNREACH;
    }
    // Prefer IPv4 (what the exchange and loopback tests use); otherwise the first answer.
    const addrinfo* pick = result;
    for (const addrinfo* a = result; a != nullptr; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    }
    std::memcpy(&out.addr, pick->ai_addr, pick->ai_addrlen);
    out.len = pick->ai_addrlen;
    ::freeaddrinfo(result);
    return 0;
}

std::string uring_unavailable_message(int err) {
    std::string m = "io_uring unavailable: io_uring_queue_init failed: ";
    m += std::strerror(-err);
    m += " (errno " + std::to_string(-err) + ")";
    if (err == -EPERM || err == -EACCES)
        m += "; the kernel (sysctl kernel.io_uring_disabled) or a seccomp/container policy forbids it";
    else if (err == -ENOSYS) m += "; this kernel was built without io_uring";
    else if (err == -ENOMEM) m += "; raise RLIMIT_MEMLOCK (ulimit -l)";
    return m;
}

// ---------------------------------------------------------------------------------------------
// UringLoop

UringLoop::~UringLoop() {
    if (ring_ != nullptr) {
        io_uring_queue_exit(ring_);
        delete ring_;
    }
}

int UringLoop::init(unsigned sq_entries) noexcept {
    if (ring_ != nullptr) return 0;
    auto* ring = new (std::nothrow) io_uring{};
    if (ring == nullptr) return -ENOMEM;
    // Cooperative task running: the kernel does not interrupt this thread to post completions; it
    // raises IORING_SQ_TASKRUN in the shared ring instead, and poll() enters the kernel only then.
    // Without it, completions would wait for the next interrupt of a spinning thread (up to a
    // timer tick). Kernels before 5.19 refuse the flags: plain set-up, where they are not needed.
    int rc = io_uring_queue_init(sq_entries, ring, IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
    if (rc == -EINVAL) rc = io_uring_queue_init(sq_entries, ring, 0);
    if (rc < 0) {
        delete ring;
        return rc;
    }
    ring_ = ring;
    // Provided-buffer rings arrived in 5.19 and multishot receive in 6.0; a stream that finds the
    // kernel refusing either falls back to plain receive and clears this.
    multishot_receive_ = true;
    return 0;
}

void UringLoop::mark_dirty(TcpStream* s) noexcept {
    if (dirty_count_ < max_dirty) {
        dirty_[dirty_count_++] = s;
    } else {
        s->flush();  // more dirty streams than slots: prepare the send now
    }
}

void UringLoop::forget(TcpStream* s) noexcept {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < dirty_count_; ++i)
        if (dirty_[i] != s) dirty_[kept++] = dirty_[i];
    dirty_count_ = kept;
}

void UringLoop::flush_dirty() noexcept {
    for (std::size_t i = 0; i < dirty_count_; ++i) dirty_[i]->flush();
    dirty_count_ = 0;
}

int UringLoop::reap() noexcept {
    unsigned head = 0;
    unsigned count = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(ring_, head, cqe) {
        const std::uint64_t ud = cqe->user_data;
        auto* owner = reinterpret_cast<UringHandler*>(ud & ~uring_tag_mask);
        if (owner != nullptr) owner->on_completion(static_cast<unsigned>(ud & uring_tag_mask), *cqe);
        ++count;
    }
    io_uring_cq_advance(ring_, count);
    return static_cast<int>(count);
}

// Enters the kernel only when there is something to submit, task work to run (completions the
// kernel holds for us) or overflowed completions to flush; otherwise poll() makes no syscall.
int UringLoop::submit_if_needed() noexcept {
    const unsigned kernel_flags = IO_URING_READ_ONCE(*ring_->sq.kflags);
    const bool must_enter = (kernel_flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0;
    if (io_uring_sq_ready(ring_) == 0 && !must_enter) return 0;
    last_submit_tsc_ = read_tsc();
    const int rc = must_enter ? io_uring_submit_and_get_events(ring_) : io_uring_submit(ring_);
    return rc < 0 && rc != -EBUSY && rc != -EAGAIN && rc != -EINTR ? rc : 0;
}

int UringLoop::poll() noexcept {
    if (ring_ == nullptr) return -EBADF;
    flush_dirty();
    if (const int rc = submit_if_needed(); rc < 0) return rc;
    int handled = 0;
    // Handlers may queue new work (re-armed receives, follow-up sends); submit it in the same turn.
    for (int round = 0; round < 4; ++round) {
        const int n = reap();
        handled += n;
        flush_dirty();
        (void)submit_if_needed();
        if (n == 0) break;
    }
    return handled;
}

int UringLoop::wait(std::int64_t timeout_ns) noexcept {
    if (ring_ == nullptr) return -EBADF;
    flush_dirty();
    if (io_uring_cq_ready(ring_) == 0) {
        __kernel_timespec ts{};
        ts.tv_sec = timeout_ns / 1'000'000'000;
        ts.tv_nsec = timeout_ns % 1'000'000'000;
        io_uring_cqe* cqe = nullptr;
        const int rc = io_uring_submit_and_wait_timeout(ring_, &cqe, 1, &ts, nullptr);
        if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) return rc;
    }
    return poll();
}

// ---------------------------------------------------------------------------------------------
// TcpStream

TcpStream::TcpStream(UringLoop& loop, TcpStreamOptions options) : loop_(loop), opt_(options) {}

TcpStream::~TcpStream() {
    if (loop_.ring() != nullptr && (fd_ >= 0 || inflight_ > 0)) {
        close();
        // Bounded drain: the kernel must let go of our buffers before they are freed.
        for (int i = 0; i < 200 && !idle(); ++i) (void)loop_.wait(5'000'000);
    }
    if (fd_ >= 0) ::close(fd_);
    loop_.forget(this);
    free_buffers();
}

int TcpStream::init() noexcept {
    if (buffers_ready_) return 0;
    io_uring* ring = loop_.ring();
    if (ring == nullptr) return -EBADF;
    std::uint32_t count = opt_.recv_buffer_count;
    if (count == 0 || (count & (count - 1)) != 0 || count > 32768) return -EINVAL;
    const std::size_t area = static_cast<std::size_t>(count) * opt_.recv_buffer_bytes;
    recv_area_ = static_cast<std::byte*>(std::aligned_alloc(4096, (area + 4095) / 4096 * 4096));
    sending_ = static_cast<std::byte*>(std::malloc(opt_.send_buffer_bytes));
    pending_ = static_cast<std::byte*>(std::malloc(opt_.send_buffer_bytes));
    seg_cap_ = count + 1;
    segments_ = static_cast<Segment*>(std::calloc(seg_cap_, sizeof(Segment)));
    if (recv_area_ == nullptr || sending_ == nullptr || pending_ == nullptr || segments_ == nullptr) {
        free_buffers();
        return -ENOMEM;
    }
    buffers_ready_ = true;

    multishot_ = false;
    if (!opt_.force_plain_recv && loop_.multishot_receive()) {
        buf_ring_bytes_ = (sizeof(io_uring_buf) * count + 4095) / 4096 * 4096;
        void* mem = ::mmap(nullptr, buf_ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        if (mem != MAP_FAILED) {
            buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
            io_uring_buf_reg reg{};
            reg.ring_addr = reinterpret_cast<std::uint64_t>(mem);
            reg.ring_entries = count;
            bgid_ = loop_.next_buffer_group();
            reg.bgid = bgid_;
            if (io_uring_register_buf_ring(ring, &reg, 0) == 0) {
                io_uring_buf_ring_init(buf_ring_);
                const int mask = io_uring_buf_ring_mask(count);
                for (std::uint32_t i = 0; i < count; ++i)
                    io_uring_buf_ring_add(buf_ring_, recv_area_ + static_cast<std::size_t>(i) * opt_.recv_buffer_bytes,
                                          opt_.recv_buffer_bytes, static_cast<unsigned short>(i), mask,
                                          static_cast<int>(i));
                io_uring_buf_ring_advance(buf_ring_, static_cast<int>(count));
                multishot_ = true;
            } else {
                ::munmap(mem, buf_ring_bytes_);
                buf_ring_ = nullptr;
                loop_.disable_multishot_receive();  // kernel before 5.19: no provided-buffer rings
            }
        }
    }
    return 0;
}

void TcpStream::free_buffers() noexcept {
    if (buf_ring_ != nullptr) {
        if (loop_.ring() != nullptr) (void)io_uring_unregister_buf_ring(loop_.ring(), bgid_);
        ::munmap(buf_ring_, buf_ring_bytes_);
        buf_ring_ = nullptr;
    }
    std::free(recv_area_);
    std::free(sending_);
    std::free(pending_);
    std::free(segments_);
    recv_area_ = nullptr;
    sending_ = pending_ = nullptr;
    segments_ = nullptr;
    buffers_ready_ = false;
}

int TcpStream::start_connect(const ResolvedAddress& peer, std::uint32_t timeout_ms) noexcept {
    if (!buffers_ready_) {
        if (const int rc = init(); rc < 0) return rc;
    }
    if (state_ != State::closed || inflight_ != 0) return -EBUSY;
    const int fd = ::socket(peer.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    const int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fd_ = fd;
    peer_ = peer;
    connect_result_ = 0;
    rx_status_ = 0;
    seg_head_ = seg_count_ = 0;
    sending_len_ = send_off_ = pending_len_ = 0;
    send_inflight_ = false;
    recv_armed_ = false;

    io_uring* ring = loop_.ring();
    io_uring_sqe* sqe = get_sqe(ring);
    if (sqe == nullptr) return -EBUSY;
    io_uring_prep_connect(sqe, fd_, reinterpret_cast<const sockaddr*>(&peer_.addr), peer_.len);
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(sqe, make_user_data(this, tag_connect));
    io_uring_sqe* tsqe = get_sqe(ring);
    if (tsqe == nullptr) return -EBUSY;  // cannot happen after get_sqe submitted
    timeout_ts_[0] = timeout_ms / 1000;
    timeout_ts_[1] = static_cast<std::int64_t>(timeout_ms % 1000) * 1'000'000;
    static_assert(sizeof(timeout_ts_) == sizeof(__kernel_timespec));
    io_uring_prep_link_timeout(tsqe, reinterpret_cast<__kernel_timespec*>(timeout_ts_), 0);
    io_uring_sqe_set_data64(tsqe, make_user_data(this, tag_connect_timeout));
    inflight_ += 2;
    state_ = State::connecting;
    return 0;
}

void TcpStream::close() noexcept {
    if (state_ == State::closed || state_ == State::closing) return;
    state_ = State::closing;
    if (rx_status_ == 0) rx_status_ = -ECONNABORTED;
    if (inflight_ > 0) {
        if (io_uring_sqe* sqe = get_sqe(loop_.ring()); sqe != nullptr) {
            io_uring_prep_cancel_fd(sqe, fd_, IORING_ASYNC_CANCEL_ALL);
            io_uring_sqe_set_data64(sqe, make_user_data(this, tag_cancel));
            ++inflight_;
        }
    }
    finish_close_if_idle();
}

void TcpStream::finish_close_if_idle() noexcept {
    if (state_ != State::closing || inflight_ != 0) return;
    // Give unread buffers back to the ring: the next connection starts clean.
    while (seg_count_ > 0) {
        const Segment& s = segments_[seg_head_];
        const std::uint16_t bid = s.bid;
        seg_head_ = (seg_head_ + 1) % seg_cap_;
        --seg_count_;
        if (bid != plain_bid) release_buffer(bid);
    }
    if (fd_ >= 0) {
        if (io_uring_sqe* sqe = get_sqe(loop_.ring()); sqe != nullptr) {
            io_uring_prep_close(sqe, fd_);
            io_uring_sqe_set_data64(sqe, make_user_data(this, tag_close));
            ++inflight_;
            fd_ = -1;
            return;
        }
        ::close(fd_);
        fd_ = -1;
    }
    state_ = State::closed;
}

void TcpStream::on_completion(unsigned tag, const io_uring_cqe& cqe) noexcept {
    switch (tag) {
        case tag_connect:
            --inflight_;
            on_connect(cqe.res);
            break;
        case tag_connect_timeout:
            --inflight_;
            break;
        case tag_recv:
            on_recv(cqe.res, cqe.flags);
            break;
        case tag_send:
            --inflight_;
            on_send(cqe.res);
            break;
        case tag_cancel:
            --inflight_;
            break;
        case tag_close:
            --inflight_;
            if (inflight_ == 0) state_ = State::closed;
            return;
        default:
            break;
    }
    finish_close_if_idle();
}

void TcpStream::on_connect(int res) noexcept {
    if (state_ != State::connecting) return;  // closed meanwhile
    if (res == 0) {
        state_ = State::open;
        arm_recv();
        flush();
        return;
    }
    connect_result_ = res == -ECANCELED ? -ETIMEDOUT : res;
    rx_status_ = connect_result_;
    state_ = State::closing;
    finish_close_if_idle();
}

void TcpStream::arm_recv() noexcept {
    if (recv_armed_ || state_ != State::open || rx_status_ != 0) return;
    if (!multishot_ && seg_count_ > 0) return;  // plain mode: the single buffer is still being read
    io_uring_sqe* sqe = get_sqe(loop_.ring());
    if (sqe == nullptr) return;
    if (multishot_) {
        io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = bgid_;
    } else {
        io_uring_prep_recv(sqe, fd_, recv_area_, opt_.recv_buffer_bytes, 0);
    }
    io_uring_sqe_set_data64(sqe, make_user_data(this, tag_recv));
    ++inflight_;
    recv_armed_ = true;
}

void TcpStream::fail_rx(int err) noexcept {
    if (rx_status_ == 0) rx_status_ = err;
}

void TcpStream::on_recv(int res, unsigned flags) noexcept {
    const bool more = multishot_ && (flags & IORING_CQE_F_MORE) != 0;
    if (!more) {
        --inflight_;
        recv_armed_ = false;
    }
    if (res > 0) {
        const std::uint64_t tsc = read_tsc();
        last_rx_tsc_ = tsc;
        ++recv_completions_;
        bytes_received_ += static_cast<std::uint64_t>(res);
        std::uint16_t bid = plain_bid;
        const std::byte* data = recv_area_;
        if (multishot_) {
            bid = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
            data = recv_area_ + static_cast<std::size_t>(bid) * opt_.recv_buffer_bytes;
        }
        if (state_ == State::open && seg_count_ < seg_cap_) {
            Segment& s = segments_[(seg_head_ + seg_count_) % seg_cap_];
            s = Segment{data, static_cast<std::uint32_t>(res), 0, tsc, bid};
            ++seg_count_;
        } else if (bid != plain_bid) {
            release_buffer(bid);
        }
    } else if (res == 0) {
        fail_rx(-ECONNRESET);
    } else if (res == -ENOBUFS) {
        // All provided buffers are unread; the receive re-arms when one is returned.
    } else if (res == -EINVAL && multishot_ && recv_completions_ == 0) {
        // The kernel refuses multishot receive (before 6.0): fall back to one plain receive at a time.
        multishot_ = false;
        loop_.disable_multishot_receive();
        if (buf_ring_ != nullptr) {
            (void)io_uring_unregister_buf_ring(loop_.ring(), bgid_);
            ::munmap(buf_ring_, buf_ring_bytes_);
            buf_ring_ = nullptr;
        }
    } else if (res != -ECANCELED) {
        fail_rx(res);
    }
    if (!recv_armed_ && state_ == State::open && rx_status_ == 0) {
        // Multishot: re-arm while a provided buffer is free (else release_buffer re-arms).
        // Plain: re-arm once the single buffer has been read (else rx_consume re-arms).
        if (multishot_ ? seg_count_ < opt_.recv_buffer_count : seg_count_ == 0) arm_recv();
    }
}

void TcpStream::release_buffer(std::uint16_t bid) noexcept {
    if (buf_ring_ == nullptr) return;
    const int mask = io_uring_buf_ring_mask(opt_.recv_buffer_count);
    io_uring_buf_ring_add(buf_ring_, recv_area_ + static_cast<std::size_t>(bid) * opt_.recv_buffer_bytes,
                          opt_.recv_buffer_bytes, bid, mask, 0);
    io_uring_buf_ring_advance(buf_ring_, 1);
    if (!recv_armed_ && state_ == State::open && rx_status_ == 0) arm_recv();
}

std::span<const std::byte> TcpStream::rx_peek() noexcept {
    if (seg_count_ == 0) return {};
    const Segment& s = segments_[seg_head_];
    return {s.data + s.offset, s.len - s.offset};
}

std::uint64_t TcpStream::rx_front_tsc() const noexcept {
    return seg_count_ == 0 ? 0 : segments_[seg_head_].tsc;
}

void TcpStream::rx_consume(std::size_t n) noexcept {
    while (n > 0 && seg_count_ > 0) {
        Segment& s = segments_[seg_head_];
        const std::size_t left = s.len - s.offset;
        const std::size_t take = n < left ? n : left;
        s.offset += static_cast<std::uint32_t>(take);
        n -= take;
        if (s.offset == s.len) {
            const std::uint16_t bid = s.bid;
            seg_head_ = (seg_head_ + 1) % seg_cap_;
            --seg_count_;
            if (bid != plain_bid) {
                release_buffer(bid);
            } else if (seg_count_ == 0) {
                arm_recv();
            }
        }
    }
}

int TcpStream::tx_append(std::span<const std::byte> bytes) noexcept {
    if (state_ != State::open && state_ != State::connecting) return rx_status_ != 0 ? rx_status_ : -ENOTCONN;
    if (rx_status_ != 0) return rx_status_;
    if (bytes.size() > opt_.send_buffer_bytes - pending_len_) return -ENOBUFS;
    std::memcpy(pending_ + pending_len_, bytes.data(), bytes.size());
    pending_len_ += static_cast<std::uint32_t>(bytes.size());
    if (!dirty_) {
        dirty_ = true;
        loop_.mark_dirty(this);
    }
    return 0;
}

void TcpStream::flush() noexcept {
    dirty_ = false;
    if (state_ != State::open || send_inflight_ || pending_len_ == 0) return;
    std::swap(sending_, pending_);
    sending_len_ = pending_len_;
    pending_len_ = 0;
    send_off_ = 0;
    submit_send();
}

void TcpStream::submit_send() noexcept {
    io_uring_sqe* sqe = get_sqe(loop_.ring());
    if (sqe == nullptr) return;
    io_uring_prep_send(sqe, fd_, sending_ + send_off_, sending_len_ - send_off_, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, make_user_data(this, tag_send));
    ++inflight_;
    send_inflight_ = true;
}

void TcpStream::on_send(int res) noexcept {
    send_inflight_ = false;
    if (res < 0) {
        if (res != -ECANCELED) fail_rx(res);
        return;
    }
    bytes_sent_ += static_cast<std::uint64_t>(res);
    send_off_ += static_cast<std::uint32_t>(res);
    if (state_ != State::open) return;
    if (send_off_ < sending_len_) {
        submit_send();
    } else {
        flush();
    }
}

}  // namespace cbtrade::io
