// exec/live_start: the checks `cbtrade live` makes before it may send real orders (DRY_RUN=false;
// issue 12 item 2), and what it states about them. Cold, blocking, on the main thread, through the
// REST client (exec/rest_client.hpp).
//
// Refused (ConfigError, exit 2), each with one line saying what to do:
//   - LONG_ONLY=false: spot orders cannot open a short (the daemon would sell base it does not hold);
//   - the exchange clock is more than 30 s from this machine's: order JWTs are signed ahead of time
//     and sent up to 60 s later, inside their 120 s window only while the clocks agree;
//   - the key is refused (401), lacks a permission (403), or /key_permissions says it cannot trade;
//   - the product is unknown, or cannot take market orders now (not online, trading disabled,
//     cancel-only, limit-only, post-only, auction mode).
// The exchange unreachable is a RunError (exit 1): nothing can be checked.
//
// Sizes come from the product: the trader floors quantities to base_increment and skips entries
// below the larger of ORDER_MIN_USD and quote_min_size; the broker floors quote sizes to
// quote_increment and checks every minimum and maximum again before it sends.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "exec/bridge_client.hpp"
#include "exec/rest_client.hpp"
#include "exec/trader.hpp"

namespace cbtrade {

inline constexpr std::int64_t live_max_clock_skew_ms = 30'000;

struct LiveStart {
    rest::Product product;
    TraderParams trader;             // the configuration's, with the product's increment and minimum
    std::int64_t clock_skew_ms = 0;  // the exchange's clock minus this machine's
    std::vector<std::string> lines;  // the start-up statement, one line each (no key material)
};

// `key_name`, `key_kind`: the signer's name and description, for the statement. `api_base`: the
// REST base URL as configured.
[[nodiscard]] LiveStart check_live_start(rest::RestClient& client, const Config& config, const std::string& key_name,
                                         const std::string& key_kind);

// The same for orders through the earlier stack's bridge (BRIDGE_URL, no key; issue 12 item 5):
// LONG_ONLY=false, a failing /health, and a product that is unknown or cannot take market orders are
// refused (ConfigError, exit 2); the sizes and the statement as above, through the bridge.
[[nodiscard]] LiveStart check_bridge_live_start(rest::BridgeClient& bridge, const Config& config);

}  // namespace cbtrade
