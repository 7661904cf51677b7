// The conventional baseline of issue 10 item 11: the feed's job built the way it usually is. A
// Boost.Beast WebSocket client over Asio SSL (OpenSSL), blocking reads on its own thread, every
// message parsed into a DOM by a general JSON parser (Boost.JSON), the numbers read with strtod.
// bench_tick_to_decision adds the usual hand-over (a mutex + condition-variable queue to a consumer
// thread) and the decision. Nothing here is tuned; that is the point of a baseline.
//
// Beast and Boost.JSON stay inside beast_baseline_client.cpp (their headers take minutes to compile).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cbtrade::bench {

// One market_trades trade, parsed the usual way (DOM, strtod, the RFC 3339 time to ns).
struct BaselineTrade {
    double price = 0;
    double size = 0;
    std::int64_t exchange_time_ns = 0;
    std::uint64_t trade_id = 0;
    std::uint64_t sequence_num = 0;
    std::uint64_t receive_tsc = 0;  // read_tsc() when the socket read that brought its bytes returned
};

class BeastBaselineFeed {
public:
    // Connects to host:port (blocking), TLS 1.3 with TLS_AES_128_GCM_SHA256 verifying the server
    // against ca_file and host, then the WebSocket upgrade. Throws std::runtime_error on failure.
    BeastBaselineFeed(const std::string& host, std::uint16_t port, const std::string& ca_file);
    ~BeastBaselineFeed();
    BeastBaselineFeed(const BeastBaselineFeed&) = delete;
    BeastBaselineFeed& operator=(const BeastBaselineFeed&) = delete;

    // Blocks for the next message and returns its market_trades trades (none for other messages).
    // Throws std::runtime_error when the connection fails.
    [[nodiscard]] std::vector<BaselineTrade> read_trades();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace cbtrade::bench
