// The feed stage (DESIGN.md section 2): Coinbase Advanced Trade market data over
// io_uring -> TLS -> WebSocket -> simdjson, as one non-blocking poll() object on the feed thread.
//
// It connects through io::Connection (DNS resolved once, in start(), before the loop; connect and TLS
// handshake with deadlines; capped backoff with jitter between attempts), upgrades to WebSocket,
// subscribes to `heartbeats`, `ticker` and `market_trades` for the configured products on that one
// connection right after the upgrade (Coinbase drops clients that have not subscribed within 5 s),
// decodes ticks and trades into the caller's spans (FeedOutput), counts sequence gaps, declares the
// feed stale after stale_sec without any message (heartbeats count), and reconnects. After any
// disconnect the feed is not fresh until a new ticker snapshot, and a market_trades snapshot,
// arrived on the new connection (DESIGN.md section 5: no entry on a feed that has just reconnected).
//
// Trades: one market_trades message can carry hundreds (a snapshot, a cascade). They are decoded
// into a staging area inside the feed (coinbase_max_trades_per_message) and handed out as the
// caller's span allows; what does not fit stays staged and comes out first on the next poll, and no
// further message is read while any is staged: a trade is never dropped for lack of room.
//
// Hot path (poll): no allocation, no locks, no exceptions, no logging; only a reconnect allocates
// (the wolfSSL session and the upgrade request). Counters are relaxed atomics for the ops thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/coinbase_decoder.hpp"
#include "feeds/sequence_tracker.hpp"
#include "core/random.hpp"
#include "core/records.hpp"
#include "feeds/ws_session.hpp"
#include "io/connection.hpp"
#include "io/uring_loop.hpp"
#include "io/url.hpp"

namespace cbtrade {

// The seam for authenticated subscriptions: when set, every subscribe message carries
// "jwt": ws_jwt() (a fresh token per message, coinbase-api.md 1.2). Called once per subscribe
// message, i.e. per connection; an empty string means "send without a jwt".
class WsJwtSource {
public:
    virtual ~WsJwtSource() = default;
    [[nodiscard]] virtual std::string ws_jwt() = 0;
};

struct FeedOptions {
    std::string url = "wss://advanced-trade-ws.coinbase.com";  // COINBASE_WS_URL
    std::vector<std::string> products;                         // COINBASE_WS_PRODUCTS
    std::string ca_file;                                       // TLS_CA_FILE (empty: system bundle)
    std::string ciphers;                                       // TLS_CIPHERS
    std::int64_t stale_sec = 10;                               // COINBASE_WS_STALE_SEC
    std::uint32_t connect_timeout_ms = 5000;
    std::uint32_t handshake_timeout_ms = 10000;  // TLS, and then the upgrade, each
    std::uint32_t backoff_initial_ms = 100;
    std::uint32_t backoff_max_ms = 15000;
    bool trades = true;                 // subscribe to market_trades (live candles are built from it)
    WsJwtSource* jwt_source = nullptr;  // optional, not owned
};

// What one poll() hands over: the caller owns both spans (give ticks room for at least 64; trades
// any size, staged trades wait for room), poll() fills the counts.
struct FeedOutput {
    std::span<Tick> ticks;        // caller's storage
    std::span<Trade> trades;      // caller's storage
    std::size_t tick_count = 0;   // filled by poll
    std::size_t trade_count = 0;  // filled by poll
};

// Builds FeedOptions from the configuration keys above. Throws ConfigError (exit 2) naming
// COINBASE_WS_URL when the URL does not parse (io/url.hpp).
struct Config;
[[nodiscard]] FeedOptions feed_options_from(const Config& config);

// Written by the feed thread only; read by the ops thread (relaxed: independent values, readers need
// only an untorn recent value, see ws::RelaxedCounter).
struct FeedCounters {
    ws::RelaxedCounter ticks;             // Ticks written to the output
    ws::RelaxedCounter trades;            // Trades written to the output
    ws::RelaxedCounter trades_discarded;  // Trades thrown away by the ticks-only poll()
    ws::RelaxedCounter gaps;              // sequence_num jumps
    ws::RelaxedCounter messages_missed;   // numbers skipped by those jumps
    ws::RelaxedCounter reconnects;        // WebSocket sessions opened after the first
    ws::RelaxedCounter stale_events;      // connections dropped for silence longer than stale_sec
    ws::RelaxedCounter bytes;             // decrypted bytes received
    ws::RelaxedCounter wire_bytes;        // TCP bytes received (TLS records)
    ws::RelaxedCounter frames;            // WebSocket data messages
    ws::RelaxedCounter decode_errors;     // messages the decoder refused (malformed, missing field...)
    ws::RelaxedCounter heartbeats;
    ws::RelaxedCounter error_messages;  // {"type":"error"} from the server
    // Connections that never reached an open WebSocket: TCP, TLS or upgrade failures, and a server
    // that hangs up before answering the upgrade.
    ws::RelaxedCounter connect_failures;
    ws::RelaxedCounter output_full;  // ticks dropped because the caller's span was full
};

class CoinbaseFeed {
public:
    enum class Phase : std::uint8_t { idle, backoff, connecting, tls, upgrading, live, closing, failed };

    // Throws std::invalid_argument for an empty or duplicate product list (cold).
    CoinbaseFeed(io::UringLoop& loop, FeedOptions options);
    ~CoinbaseFeed();
    CoinbaseFeed(const CoinbaseFeed&) = delete;
    CoinbaseFeed& operator=(const CoinbaseFeed&) = delete;

    // Cold: parses the URL, resolves the host (blocking getaddrinfo), loads the CA and ciphers,
    // allocates buffers. The first connect starts on the first poll(). 0, or a negative errno with
    // a one-line reason in `error` (the host does not resolve, no memory). Throws ConfigError
    // (exit 2) for a URL, CA file or cipher list that cannot be used.
    [[nodiscard]] int start(std::string& error);

    // Does all pending work without blocking. Fills `out` with what arrived since the last call:
    // ticks to out.ticks[0, out.tick_count), trades to out.trades[0, out.trade_count), oldest first.
    // Trades that do not fit stay staged inside the feed and come out on the next poll (never
    // dropped). Returns tick_count + trade_count. now_ns: a monotonic clock (steady_clock).
    [[nodiscard]] std::size_t poll(std::int64_t now_ns, FeedOutput& out) noexcept;
    // Ticks only, for callers that built the feed with FeedOptions::trades = false: any trade that
    // arrives anyway is discarded and counted (trades_discarded). Returns the number of ticks.
    [[nodiscard]] std::size_t poll(std::int64_t now_ns, std::span<Tick> ticks) noexcept;
    // Trades decoded but not yet handed out (waiting for room in a FeedOutput).
    [[nodiscard]] std::size_t staged_trades() const noexcept { return staged_end_ - staged_begin_; }

    // Sends a WebSocket close and shuts the connection (cold; poll() a little more to let it leave).
    void stop() noexcept;

    [[nodiscard]] Phase phase() const noexcept { return phase_.load(std::memory_order_relaxed); }
    // True once a ticker snapshot (and, when subscribed, a market_trades snapshot) arrived on the
    // current connection; false after any disconnect or staleness until the next snapshots.
    [[nodiscard]] bool fresh() const noexcept { return fresh_.load(std::memory_order_relaxed); }
    // Monotonic ns of the last message of any kind (0 before the first).
    [[nodiscard]] std::int64_t last_message_ns() const noexcept {
        return last_message_ns_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] const FeedCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] const DecoderCounters& decoder_counters() const noexcept { return decoder_.counters(); }
    [[nodiscard]] const CoinbaseDecoder& decoder() const noexcept { return decoder_; }
    // The most recent failure (connect, TLS, upgrade, server error), for the CLI; feed thread only.
    [[nodiscard]] const char* last_error() const noexcept { return last_error_; }
    // Failed for good (a certificate was refused: retrying cannot help). last_error() says why.
    [[nodiscard]] bool failed() const noexcept { return phase() == Phase::failed; }
    [[nodiscard]] const io::Url& url() const noexcept { return url_; }

private:
    void advance_connection(std::int64_t now_ns) noexcept;
    void begin_upgrade(std::int64_t now_ns) noexcept;
    void lose_connection(std::int64_t now_ns, bool count_failure) noexcept;
    void step(std::int64_t now_ns, FeedOutput& out) noexcept;
    void pump_input(std::int64_t now_ns, FeedOutput& out) noexcept;
    void handle_text(std::int64_t now_ns, const ws::SessionEvent& ev, FeedOutput& out) noexcept;
    void drain_staged_trades(FeedOutput& out) noexcept;
    void update_freshness() noexcept;
    void pump_output() noexcept;
    void send_subscriptions(std::int64_t now_ns);
    void set_phase(Phase p) noexcept { phase_.store(p, std::memory_order_relaxed); }

    io::UringLoop& loop_;
    FeedOptions options_;
    io::Url url_;
    std::optional<io::Connection> conn_;  // made by start(), from the URL
    ws::WsSession ws_;
    CoinbaseDecoder decoder_;
    SequenceTracker sequence_;

    // Decrypted bytes not yet given to the WebSocket session.
    std::unique_ptr<std::byte[]> rx_buf_;
    std::size_t rx_pos_ = 0;
    std::size_t rx_len_ = 0;
    std::uint64_t rx_tsc_ = 0;
    std::uint64_t wire_bytes_seen_ = 0;

    std::int64_t upgrade_deadline_ns_ = 0;
    SplitMix64 random_;  // WebSocket key nonces

    // Trades decoded from the last market_trades message and not yet handed out: [begin, end).
    std::unique_ptr<Trade[]> staged_trades_;
    std::size_t staged_begin_ = 0;
    std::size_t staged_end_ = 0;

    // Snapshots seen on the current connection (fresh needs both; reset on every connect).
    bool ticker_snapshot_seen_ = false;
    bool trades_snapshot_seen_ = false;
    std::uint64_t sessions_opened_ = 0;
    bool started_ = false;

    // Feed thread writes; ops thread reads (relaxed: each is an independent status value).
    std::atomic<Phase> phase_{Phase::idle};
    std::atomic<bool> fresh_{false};
    std::atomic<std::int64_t> last_message_ns_{0};
    FeedCounters counters_;
    char last_error_[768] = {};
};

[[nodiscard]] std::string_view to_string(CoinbaseFeed::Phase phase) noexcept;

}  // namespace cbtrade
