// exec/rest_session: the REST client as the commands use it, wired from the configuration:
// COINBASE_API_BASE (io/url), TLS_CA_FILE and TLS_CIPHERS, the API key (exec/api_key.hpp) when one
// is set, and io/http_client (io_uring + TLS, one keep-alive connection) as the transport.
// Blocking; cold commands (check, backfill) and the ops thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "exec/jwt.hpp"
#include "exec/rest_client.hpp"
#include "io/http_client.hpp"
#include "io/uring_loop.hpp"

namespace cbtrade::rest {

// rest::HttpTransport over io::HttpClient::request (blocking).
class IoHttpTransport final : public HttpTransport {
public:
    explicit IoHttpTransport(io::HttpClient& client) noexcept : client_(client) {}
    [[nodiscard]] TransportResult exchange(const TransportRequest& request) override;

private:
    io::HttpClient& client_;
};

// COINBASE_API_BASE parsed as RestSession uses it; ConfigError naming the key when it cannot be used.
[[nodiscard]] io::Url rest_base_url(const Config& config);

class RestSession {
public:
    // Throws ConfigError for a bad COINBASE_API_BASE, key, TLS_CA_FILE or TLS_CIPHERS, and RunError
    // when io_uring is unavailable or the API host cannot be resolved. `use_credentials` false: the
    // key is not loaded (public endpoints only, even when one is configured).
    explicit RestSession(const Config& config, bool use_credentials = true, RestClientOptions options = {});
    ~RestSession();
    RestSession(const RestSession&) = delete;
    RestSession& operator=(const RestSession&) = delete;

    [[nodiscard]] RestClient& client() noexcept { return *client_; }
    [[nodiscard]] const JwtSigner* signer() const noexcept { return signer_ ? &*signer_ : nullptr; }
    [[nodiscard]] const io::Url& url() const noexcept { return url_; }
    // The HTTP client under the REST client, with its io_uring loop: the exec thread sends its
    // orders on a session's warm connection (exec/live_orders.hpp), one thread at a time.
    [[nodiscard]] io::HttpClient& http() noexcept { return *http_; }

private:
    io::Url url_;
    io::UringLoop loop_;
    std::unique_ptr<io::HttpClient> http_;
    std::unique_ptr<IoHttpTransport> transport_;
    std::optional<JwtSigner> signer_;
    std::unique_ptr<RestClient> client_;
};

}  // namespace cbtrade::rest
