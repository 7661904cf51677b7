// TLS over a ByteTransport with wolfSSL's custom I/O callbacks. See tls_client.hpp.
#include <wolfssl/options.h>  // first, always: it carries the library's build configuration
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "io/tls_client.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/text.hpp"

namespace cbtrade::io {

namespace {

void init_library_once() {
    static std::once_flag once;
    std::call_once(once, [] { (void)wolfSSL_Init(); });
}

// wolfSSL asks for `sz` bytes of ciphertext: copy what the transport has, across its buffers.
int recv_callback(WOLFSSL* /*ssl*/, char* buf, int sz, void* ctx) {
    auto* transport = static_cast<ByteTransport*>(ctx);
    int copied = 0;
    while (copied < sz) {
        const std::span<const std::byte> have = transport->rx_peek();
        if (have.empty()) break;
        const std::size_t want = static_cast<std::size_t>(sz - copied);
        const std::size_t n = have.size() < want ? have.size() : want;
        std::memcpy(buf + copied, have.data(), n);
        transport->rx_consume(n);
        copied += static_cast<int>(n);
    }
    if (copied > 0) return copied;
    const int status = transport->rx_status();
    if (status == 0) return WOLFSSL_CBIO_ERR_WANT_READ;
    return status == -ECONNRESET ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_CONN_RST;
}

int send_callback(WOLFSSL* /*ssl*/, char* buf, int sz, void* ctx) {
    auto* transport = static_cast<ByteTransport*>(ctx);
    const int rc = transport->tx_append({reinterpret_cast<const std::byte*>(buf), static_cast<std::size_t>(sz)});
    if (rc == 0) return sz;
    if (rc == -ENOBUFS) return WOLFSSL_CBIO_ERR_WANT_WRITE;
    return WOLFSSL_CBIO_ERR_CONN_CLOSE;
}

bool is_ip_literal(const char* host) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, host, buf) == 1 || ::inet_pton(AF_INET6, host, buf) == 1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TlsContext

TlsContext::~TlsContext() {
    if (ctx_ != nullptr) wolfSSL_CTX_free(ctx_);
}

int TlsContext::init_client(const TlsClientOptions& options, std::string& error) {
    init_library_once();
    if (ctx_ != nullptr) {
        wolfSSL_CTX_free(ctx_);
        ctx_ = nullptr;
    }
    server_ = false;
    ca_file_ = options.ca_file.empty() ? std::string(system_ca_bundle) : options.ca_file;
    ctx_ = wolfSSL_CTX_new(wolfTLS_client_method());  // highest common version: 1.3, else 1.2
    if (ctx_ == nullptr) {
        error = "TLS: cannot create a wolfSSL context";
        return -ENOMEM;
    }
    if (wolfSSL_CTX_SetMinVersion(ctx_, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
        error = "TLS: cannot set the minimum protocol version to TLS 1.2";
        return -EPROTO;
    }
    // Verification is always on: there is no option that reaches this line with anything else.
    wolfSSL_CTX_set_verify(ctx_, WOLFSSL_VERIFY_PEER, nullptr);
    if (wolfSSL_CTX_load_verify_locations(ctx_, ca_file_.c_str(), nullptr) != WOLFSSL_SUCCESS) {
        error = "TLS: cannot load CA certificates from " + ca_file_ +
                (options.ca_file.empty() ? " (system bundle; set TLS_CA_FILE to name a PEM file)"
                                         : " (TLS_CA_FILE: not a readable PEM certificate file)");
        return -ENOENT;
    }
    if (!options.ciphers.empty() && wolfSSL_CTX_set_cipher_list(ctx_, options.ciphers.c_str()) != WOLFSSL_SUCCESS) {
        error = "TLS_CIPHERS=" + quote_for_message(options.ciphers) +
                " is invalid: expected a list of suites this wolfSSL supports, such as "
                "TLS13-AES128-GCM-SHA256:TLS13-CHACHA20-POLY1305-SHA256 (or auto)";
        return -EINVAL;
    }
    wolfSSL_CTX_SetIORecv(ctx_, recv_callback);
    wolfSSL_CTX_SetIOSend(ctx_, send_callback);
    return 0;
}

int TlsContext::init_server(const std::string& cert_chain_pem_file, const std::string& key_pem_file,
                            std::string& error) {
    init_library_once();
    if (ctx_ != nullptr) {
        wolfSSL_CTX_free(ctx_);
        ctx_ = nullptr;
    }
    server_ = true;
    ctx_ = wolfSSL_CTX_new(wolfTLS_server_method());
    if (ctx_ == nullptr) {
        error = "TLS: cannot create a wolfSSL server context";
        return -ENOMEM;
    }
    if (wolfSSL_CTX_use_certificate_chain_file(ctx_, cert_chain_pem_file.c_str()) != WOLFSSL_SUCCESS) {
        error = "TLS: cannot load the certificate chain " + cert_chain_pem_file;
        return -ENOENT;
    }
    if (wolfSSL_CTX_use_PrivateKey_file(ctx_, key_pem_file.c_str(), WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
        error = "TLS: cannot load the private key " + key_pem_file;
        return -ENOENT;
    }
    wolfSSL_CTX_set_verify(ctx_, WOLFSSL_VERIFY_NONE, nullptr);  // a server without client certificates
    wolfSSL_CTX_SetIORecv(ctx_, recv_callback);
    wolfSSL_CTX_SetIOSend(ctx_, send_callback);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// TlsSession

TlsSession::~TlsSession() {
    reset();
}

void TlsSession::reset() noexcept {
    if (ssl_ != nullptr) {
        if (state_ == State::open) (void)wolfSSL_shutdown(ssl_);
        wolfSSL_free(ssl_);
        ssl_ = nullptr;
    }
    transport_ = nullptr;
    state_ = State::idle;
}

int TlsSession::start(const TlsContext& context, ByteTransport& transport, std::string_view host) noexcept {
    reset();
    error_[0] = '\0';
    server_ = context.is_server();
    const std::size_t n = host.size() < sizeof host_ - 1 ? host.size() : sizeof host_ - 1;
    std::memcpy(host_, host.data(), n);
    host_[n] = '\0';
    std::snprintf(ca_file_, sizeof ca_file_, "%s", context.ca_file().c_str());
    if (context.native() == nullptr) {
        std::snprintf(error_, sizeof error_, "TLS to %s: context not initialised", host_);
        state_ = State::failed;
        return -EINVAL;
    }
    ssl_ = wolfSSL_new(context.native());
    if (ssl_ == nullptr) {
        std::snprintf(error_, sizeof error_, "TLS to %s: cannot create a session", host_);
        state_ = State::failed;
        return -ENOMEM;
    }
    transport_ = &transport;
    wolfSSL_SetIOReadCtx(ssl_, transport_);
    wolfSSL_SetIOWriteCtx(ssl_, transport_);
    if (!server_) {
        if (host_[0] == '\0') {
            std::snprintf(error_, sizeof error_, "TLS: no host name to verify the certificate against");
            state_ = State::failed;
            return -EINVAL;
        }
        if (!is_ip_literal(host_) &&
            wolfSSL_UseSNI(ssl_, WOLFSSL_SNI_HOST_NAME, host_, static_cast<unsigned short>(n)) != WOLFSSL_SUCCESS) {
            std::snprintf(error_, sizeof error_, "TLS to %s: cannot set SNI", host_);
            state_ = State::failed;
            return -EPROTO;
        }
        if (wolfSSL_check_domain_name(ssl_, host_) != WOLFSSL_SUCCESS) {
            std::snprintf(error_, sizeof error_, "TLS to %s: cannot enable host name verification", host_);
            state_ = State::failed;
            return -EPROTO;
        }
    }
    state_ = State::handshaking;
    return 0;
}

int TlsSession::fail(int wolf_error, const char* during) noexcept {
    state_ = State::failed;
    const char* peer = server_ ? "TLS server" : "TLS to";
    const char* host = server_ ? "" : host_;
    int code = -EPROTO;
    switch (wolf_error) {
        case DOMAIN_NAME_MISMATCH:
        case IPADDR_MISMATCH:
            std::snprintf(error_, sizeof error_, "%s %s: certificate refused: it is not issued for host name '%s'",
                          peer, host, host_);
            code = -EKEYREJECTED;
            break;
        case ASN_NO_SIGNER_E:
        case ASN_SELF_SIGNED_E:
            std::snprintf(error_, sizeof error_,
                          "%s %s: certificate refused: not signed by a trusted CA (trust store %s)", peer, host,
                          ca_file_);
            code = -EKEYREJECTED;
            break;
        case ASN_AFTER_DATE_E:
            std::snprintf(error_, sizeof error_, "%s %s: certificate refused: it has expired", peer, host);
            code = -EKEYREJECTED;
            break;
        case ASN_BEFORE_DATE_E:
            std::snprintf(error_, sizeof error_, "%s %s: certificate refused: it is not valid yet (check the clock)",
                          peer, host);
            code = -EKEYREJECTED;
            break;
        case ASN_SIG_CONFIRM_E:
        case VERIFY_CERT_ERROR:
            std::snprintf(error_, sizeof error_, "%s %s: certificate refused: chain verification failed (%d)", peer,
                          host, wolf_error);
            code = -EKEYREJECTED;
            break;
        case SOCKET_PEER_CLOSED_E:
        case SOCKET_ERROR_E:
        case WOLFSSL_ERROR_ZERO_RETURN:
            std::snprintf(error_, sizeof error_, "%s %s: connection closed by the peer during %s", peer, host, during);
            code = -ECONNRESET;
            state_ = State::closed;
            break;
        default: {
            char reason[160];
            wolfSSL_ERR_error_string_n(static_cast<unsigned long>(wolf_error), reason, sizeof reason);
            std::snprintf(error_, sizeof error_, "%s %s: %s failed: %s (wolfSSL %d)", peer, host, during, reason,
                          wolf_error);
            break;
        }
    }
    return code;
}

int TlsSession::handshake() noexcept {
    if (state_ == State::open) return 0;
    if (state_ != State::handshaking || ssl_ == nullptr) return state_ == State::closed ? -ECONNRESET : -EPROTO;
    const int ret = server_ ? wolfSSL_accept(ssl_) : wolfSSL_connect(ssl_);
    if (ret == WOLFSSL_SUCCESS) {
        state_ = State::open;
        return 0;
    }
    const int err = wolfSSL_get_error(ssl_, ret);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) return -EAGAIN;
    return fail(err, "handshake");
}

long TlsSession::read(std::span<std::byte> out) noexcept {
    if (state_ != State::open) return state_ == State::closed ? -ECONNRESET : -EPROTO;
    const int ret = wolfSSL_read(ssl_, out.data(), static_cast<int>(out.size()));
    if (ret > 0) return ret;
    const int err = wolfSSL_get_error(ssl_, ret);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) return -EAGAIN;
    return fail(err, "read");
}

long TlsSession::write(std::span<const std::byte> data) noexcept {
    if (state_ != State::open) return state_ == State::closed ? -ECONNRESET : -EPROTO;
    const int ret = wolfSSL_write(ssl_, data.data(), static_cast<int>(data.size()));
    if (ret > 0) return ret;
    const int err = wolfSSL_get_error(ssl_, ret);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) return -EAGAIN;
    return fail(err, "write");
}

int TlsSession::pending() const noexcept {
    return ssl_ == nullptr ? 0 : wolfSSL_pending(ssl_);
}

const char* TlsSession::protocol_version() const noexcept {
    return ssl_ == nullptr ? "" : wolfSSL_get_version(ssl_);
}

const char* TlsSession::cipher() const noexcept {
    return ssl_ == nullptr ? "" : wolfSSL_get_cipher_name(ssl_);
}

}  // namespace cbtrade::io
