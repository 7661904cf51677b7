// TLS (wolfSSL) over a ByteTransport: the ciphertext moves through io_uring buffers (TcpStream) or
// an in-memory pipe (tests/io/memory_pipe.hpp), never through wolfSSL's own sockets.
//
// A client always verifies the certificate chain (against the system CA bundle or the PEM file the
// user names, TLS_CA_FILE) and the host name; there is deliberately no way to turn that off.
// wolfSSL headers stay in io/*.cpp: this header forward-declares its types.
//
// Allocation: our side allocates nothing after start(). wolfSSL itself, built without
// LARGE_STATIC_BUFFERS (Debian's flags), grows its input buffer with malloc for every record larger
// than its small static buffer and frees it afterwards: one malloc/free per received record
// (measured). The accelerated build (scripts/wolfssl-accelerated.sh) defines LARGE_STATIC_BUFFERS,
// which removes it: tests/feeds/test_feed_allocations.cpp counts zero mallocs over 10,000 messages.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "io/uring_loop.hpp"

struct WOLFSSL_CTX;
struct WOLFSSL;

namespace cbtrade::io {

inline constexpr const char* system_ca_bundle = "/etc/ssl/certs/ca-certificates.crt";

struct TlsClientOptions {
    std::string ca_file;  // PEM bundle; empty: system_ca_bundle
    std::string ciphers;  // wolfSSL cipher list (Config::tls_ciphers); empty: wolfSSL's default
};

// Shared settings for many sessions (cold set-up). One per thread, or shared read-only.
class TlsContext {
public:
    TlsContext() = default;
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // TLS 1.3 preferred, 1.2 accepted; peer verification on. 0, or a negative errno with a one-line
    // reason in `error` (unreadable CA file, no usable cipher suite).
    [[nodiscard]] int init_client(const TlsClientOptions& options, std::string& error);
    // A server end for tests and benchmarks: certificate chain and key as PEM files.
    [[nodiscard]] int init_server(const std::string& cert_chain_pem_file, const std::string& key_pem_file,
                                  std::string& error);

    [[nodiscard]] WOLFSSL_CTX* native() const noexcept { return ctx_; }
    [[nodiscard]] bool is_server() const noexcept { return server_; }
    [[nodiscard]] const std::string& ca_file() const noexcept { return ca_file_; }

private:
    WOLFSSL_CTX* ctx_ = nullptr;
    bool server_ = false;
    std::string ca_file_;
};

// One TLS connection. start() is cold (it allocates the wolfSSL session); handshake(), read() and
// write() are the non-blocking hot calls, returning -EAGAIN when they need more transport I/O.
//
// Failure codes: -EKEYREJECTED the peer's certificate was refused (untrusted, wrong host name,
// expired), -ECONNRESET the peer closed, -EPROTO any other TLS failure; error() says which, naming
// the host.
class TlsSession {
public:
    enum class State : std::uint8_t { idle, handshaking, open, closed, failed };

    TlsSession() = default;
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    // Client: SNI and host-name verification for `host`. Server (context from init_server): host unused.
    [[nodiscard]] int start(const TlsContext& context, ByteTransport& transport, std::string_view host) noexcept;
    // 0 once the handshake is done, -EAGAIN while it needs I/O, other negative on failure.
    [[nodiscard]] int handshake() noexcept;
    // Decrypted bytes (>0), -EAGAIN when none is ready, or a negative failure code.
    [[nodiscard]] long read(std::span<std::byte> out) noexcept;
    // Encrypts all of `data` into the transport: data.size(), -EAGAIN (retry with the same bytes),
    // or a negative failure code.
    [[nodiscard]] long write(std::span<const std::byte> data) noexcept;
    // Bytes wolfSSL already holds decrypted (read() will return them without transport input).
    [[nodiscard]] int pending() const noexcept;
    // Sends close_notify if open (best effort) and frees the session (cold).
    void reset() noexcept;

    [[nodiscard]] State state() const noexcept { return state_; }
    [[nodiscard]] const char* error() const noexcept { return error_; }
    [[nodiscard]] const char* protocol_version() const noexcept;  // "TLSv1.3"
    [[nodiscard]] const char* cipher() const noexcept;

private:
    int fail(int wolf_error, const char* during) noexcept;

    WOLFSSL* ssl_ = nullptr;
    ByteTransport* transport_ = nullptr;
    State state_ = State::idle;
    bool server_ = false;
    char host_[256] = {};
    char ca_file_[256] = {};
    char error_[1024] = {};
};

}  // namespace cbtrade::io
