#include "tools/config_check.hpp"

#include <cerrno>
#include <string>

#include "core/error.hpp"
#include "exec/bridge_client.hpp"
#include "exec/rest_session.hpp"
#include "feeds/coinbase_feed.hpp"
#include "io/tls_client.hpp"
#include "io/tls_info.hpp"
#include "pipeline/notifier.hpp"

namespace cbtrade {

void check_live_configuration(const Config& c, std::string_view history_key) {
    (void)feed_options_from(c);  // COINBASE_WS_URL
    (void)rest::rest_base_url(c);
    if (!c.bridge_url.empty()) (void)rest::bridge_client_options(c);
    if (!c.slack_webhook.empty()) check_webhook_url(c);
    // The TLS settings every connection uses, as wolfSSL takes them: a cipher list it does not know or
    // a CA file it cannot load is found now, not at the first connection (which may be an order's).
    io::TlsContext tls;
    std::string error;
    const int rc = tls.init_client({c.tls_ca_file, resolve_cipher_list(c.tls_ciphers, tls_info())}, error);
    if (rc == -EINVAL || (rc == -ENOENT && !c.tls_ca_file.empty())) throw ConfigError(error);
    check_live_paths(c, history_key);
}

}  // namespace cbtrade
