// Real-shaped Coinbase ticker and market_trades messages and the server's unmasked WebSocket text
// frames carrying them, for tests and benchmarks that drive the receive path.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "feeds/ws_frame.hpp"

namespace cbtrade::testing {

// A ~445-byte ticker message for BTC-USD in the shape of coinbase-api.md section 1.4.
inline std::string ticker_json(std::uint64_t seq, bool snapshot, double price) {
    char buf[1024];
    const int n = std::snprintf(
        buf, sizeof buf,
        R"({"channel":"ticker","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z","sequence_num":%llu,)"
        R"("events":[{"type":"%s","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"%.2f",)"
        R"("volume_24_h":"8123.4471","low_24_h":"95110","high_24_h":"97890.01","low_52_w":"38501.02",)"
        R"("high_52_w":"108268.45","price_percent_chg_24_h":"1.23451","best_bid":"%.2f",)"
        R"("best_bid_quantity":"0.41","best_ask":"%.2f","best_ask_quantity":"0.0203"}]}]})",
        static_cast<unsigned long long>(seq), snapshot ? "snapshot" : "update", price, price - 0.01, price);
    return {buf, static_cast<std::size_t>(n)};
}

// A market_trades update for BTC-USD with `count` trades (ids first_id.., newest first as on the
// wire), in the shape of coinbase-api.md section 1.4.
inline std::string market_trades_json(std::uint64_t seq, std::uint64_t first_id, int count, double price) {
    std::string out =
        R"({"channel":"market_trades","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z","sequence_num":)" +
        std::to_string(seq) + R"(,"events":[{"type":"update","trades":[)";
    for (int i = count - 1; i >= 0; --i) {
        char buf[256];
        const int n = std::snprintf(buf, sizeof buf,
                                    R"({"trade_id":"%llu","product_id":"BTC-USD","price":"%.2f","size":"0.0%d1",)"
                                    R"("side":"%s","time":"2025-01-15T14:03:07.%06dZ"})",
                                    static_cast<unsigned long long>(first_id) + static_cast<unsigned>(i),
                                    price + 0.01 * i, i % 10, i % 2 == 0 ? "BUY" : "SELL", 100000 + i);
        if (i != count - 1) out += ',';
        out.append(buf, static_cast<std::size_t>(n));
    }
    out += "]}]}";
    return out;
}

// An unmasked text frame, as a server sends it.
inline std::string server_frame(std::string_view payload) {
    std::string out(ws::frame_size(payload.size(), false), '\0');
    ws::FrameSpec spec;
    spec.opcode = ws::Opcode::text;
    spec.masked = false;
    out.resize(ws::encode_frame({out.data(), out.size()}, spec, {payload.data(), payload.size()}));
    return out;
}

}  // namespace cbtrade::testing
