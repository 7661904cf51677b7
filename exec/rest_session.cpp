// The REST client wired from the configuration. See rest_session.hpp.
#include "exec/rest_session.hpp"

#include <vector>

#include "core/error.hpp"
#include "exec/api_key.hpp"
#include "io/tls_info.hpp"

namespace cbtrade::rest {

TransportResult IoHttpTransport::exchange(const TransportRequest& request) {
    std::vector<io::HttpHeaderView> headers;
    headers.reserve(request.headers.size());
    for (const auto& h : request.headers) headers.push_back(io::HttpHeaderView{h.name, h.value});
    io::HttpClientRequest r;
    r.method = request.method;
    r.target = request.target;
    r.headers = headers;
    r.body = request.body;
    r.timeout_ms = static_cast<std::uint32_t>(request.timeout_ms > 0 ? request.timeout_ms : 1);
    io::HttpResult result = client_.request(r);
    TransportResult out;
    switch (result.failure) {
        case io::HttpFailure::none:
            if (result.response) {
                TransportResponse response;
                response.status = static_cast<int>(result.response->status);
                response.content_type = std::move(result.response->content_type);
                response.body = std::move(result.response->body);
                response.retry_after = std::move(result.response->retry_after);
                out.response = std::move(response);
                return out;
            }
            out.failure = TransportFailure::bad_response;
            break;
        case io::HttpFailure::not_sent:
            out.failure = TransportFailure::not_sent;
            break;
        case io::HttpFailure::no_answer:
            out.failure = TransportFailure::no_answer;
            break;
        case io::HttpFailure::timeout:
            out.failure = TransportFailure::timeout;
            break;
        case io::HttpFailure::bad_response:
            out.failure = TransportFailure::bad_response;
            break;
    }
    out.message = std::move(result.error);
    return out;
}

io::Url rest_base_url(const Config& config) {
    io::Url url = io::parse_config_url("COINBASE_API_BASE", config.coinbase_api_base, io::UrlKind::http);
    // The base path is COINBASE_API_BASE's path ("/api/v3/brokerage"); a query there makes no sense.
    if (url.target.find('?') != std::string::npos)
        throw ConfigError("COINBASE_API_BASE: the base URL must not have a query string");
    return url;
}

RestSession::RestSession(const Config& config, bool use_credentials, RestClientOptions options)
    : url_(rest_base_url(config)) {
    if (use_credentials) signer_ = jwt_signer_from(config);
    if (const int rc = loop_.init(64); rc < 0) throw RunError(io::uring_unavailable_message(rc));
    io::HttpClientOptions ho;
    ho.ca_file = config.tls_ca_file;
    ho.ciphers = resolve_cipher_list(config.tls_ciphers, tls_info());
    ho.request_timeout_ms = static_cast<std::uint32_t>(options.timeout_ms);
    ho.user_agent = options.user_agent;
    http_ = std::make_unique<io::HttpClient>(loop_, url_, std::move(ho));
    std::string error;
    if (http_->init(error) < 0) throw RunError("COINBASE_API_BASE: " + error);
    transport_ = std::make_unique<IoHttpTransport>(*http_);
    // The JWT uri claim names the host as a request's Host header does (an IPv6 literal bracketed).
    options.host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    const std::string& target = url_.target;
    options.base_path = target == "/" ? std::string() : target;
    while (!options.base_path.empty() && options.base_path.back() == '/') options.base_path.pop_back();
    client_ = std::make_unique<RestClient>(*transport_, signer_ ? &*signer_ : nullptr, std::move(options));
}

RestSession::~RestSession() = default;

}  // namespace cbtrade::rest
