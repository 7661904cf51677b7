// tools/sim/: the Coinbase Advanced Trade market-data messages the simulator sends (envelope of
// section 1.3: channel, client_id, timestamp, sequence_num, events) and the small subset of client
// messages it reads (subscribe/unsubscribe of section 1.2).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_writer.hpp"
#include "core/rfc3339.hpp"

#include "tools/sim/market_feed.hpp"

namespace cbtrade::sim {

struct ProductQuote {
    std::string_view product_id;
    TickerQuote quote;
};

// channel "ticker", one event of type "snapshot" or "update" holding one ticker object per quote.
[[nodiscard]] std::string ticker_message(std::uint64_t sequence_num, std::int64_t timestamp_us, bool snapshot,
                                         std::span<const ProductQuote> quotes);

struct ProductTrade {
    std::string_view product_id;
    TradePrint trade;
};

// channel "market_trades", one event of type "snapshot" or "update" holding the trades newest first,
// as the wire sends them (coinbase-api.md 1.4): `trades` is given oldest first and written reversed.
[[nodiscard]] std::string market_trades_message(std::uint64_t sequence_num, std::int64_t timestamp_us, bool snapshot,
                                                std::span<const ProductTrade> trades);

[[nodiscard]] std::string heartbeat_message(std::uint64_t sequence_num, std::int64_t now_us, std::uint64_t counter,
                                            bool counter_as_string, double uptime_s);

// channel "subscriptions": {"ticker":[...ids],"market_trades":[...ids],"heartbeats":[]} for the
// channels subscribed.
[[nodiscard]] std::string subscriptions_message(std::uint64_t sequence_num, std::int64_t now_us,
                                                const std::vector<std::string>& ticker_products,
                                                const std::vector<std::string>& trade_products, bool heartbeats);

// {"type":"error","message":"..."} (section 1.7).
[[nodiscard]] std::string error_message(std::string_view text);

struct ClientRequest {
    std::string type;  // "subscribe" | "unsubscribe" | anything else the client sent
    std::string channel;
    std::vector<std::string> product_ids;
    bool has_jwt = false;
    std::string jwt;
};

// The fields above from one JSON object; other members are skipped. nullopt for malformed JSON or
// a wrongly typed known field.
[[nodiscard]] std::optional<ClientRequest> parse_client_request(std::string_view json);

}  // namespace cbtrade::sim
