// tools/sim/: cbtrade-sim, a loopback exchange simulator. This header is its command line.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cbtrade::sim {

// Thrown for a bad command line; what() names the option and the value at fault.
class UsageError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

enum class TimestampSource { market, wall };

struct SimOptions {
    // Listening (always 127.0.0.1) and TLS.
    std::uint16_t port = 0;  // 0: the kernel picks a free port
    bool plain = false;      // ws:// instead of wss://
    std::string cert_file;   // PEM chain; with key_file replaces the generated test CA
    std::string key_file;
    std::string ca_out;     // where to write the CA certificate PEM clients should trust
    std::string cert_host;  // issue the server certificate for this name instead of 127.0.0.1/localhost

    // Market data.
    std::string csv_file;  // replay these candles; empty: synthetic random walk
    bool loop = false;     // restart the CSV when it ends instead of closing and exiting
    std::uint64_t seed = 1;
    double start_price = 42000.0;
    std::int64_t step_sec = 60;                // synthetic candle length
    std::optional<std::int64_t> start_time_s;  // synthetic market start (default: now, whole minute)
    double pace_factor = 1.0;                  // 1 = real time; ignored when pace_max
    bool pace_max = false;                     // as fast as the client reads
    TimestampSource timestamps = TimestampSource::market;
    bool heartbeat_counter_as_string = false;

    // Limits.
    std::optional<std::uint64_t> max_ticks;  // --messages: stop after this many ticker objects in all
    std::optional<double> exit_after_sec;
    double subscribe_timeout_sec = 5.0;  // 0: never

    // Faults. Counts "after M" are ticker messages on that connection (timing-independent).
    std::vector<std::uint64_t> drop_after;  // the i-th WebSocket connection is dropped after drop_after[i]
    std::uint64_t skip_seq_every = 0;       // every N messages the sequence number skips one
    std::optional<std::uint64_t> stall_after;
    double stall_sec = 0;
    std::optional<std::uint64_t> bad_frame_after;
    std::optional<std::uint64_t> bad_json_after;
    std::optional<std::uint64_t> bad_price_after;  // one ticker message of absurd prices (1e300, 1e-300, 60 digits)
    bool fault_once = false;                       // stall/bad frame/bad JSON on the first connection only
    bool refuse_upgrade = false;

    // REST (/api/v3/brokerage).
    std::vector<std::pair<std::string, std::string>> api_keys;  // --api-key NAME=FILE (public key PEM)
    std::int64_t clock_offset_sec = 0;                          // the exchange clock minus ours
    double usd_balance = 100000;
    double base_balance = 1;
    std::uint64_t extra_accounts = 0;
    double fee_bps = 60;
    bool trading_disabled = false;
    bool cancel_only = false;     // products say cancel_only: true and new orders are refused
    bool no_trade_scope = false;  // keys may view but not trade: 403 on orders, can_trade false
    bool rate_limit = true;       // 10 public / 30 private requests per second, as coinbase-api.md 3.9
    struct RestFault {
        std::string route;  // any time accounts product candles orders order fills
        std::string kind;   // 401 403 429 500 503 timeout drop insufficient
        std::uint64_t count = 1;
    };
    // CSV: the WebSocket starts replaying at the first candle at or after this time (REST serves
    // every row): REST history before it, live trades after it (warm-up tests).
    std::optional<std::int64_t> feed_from_s;
    std::vector<RestFault> rest_faults;
    // A WebSocket fault added at run time (POST /sim/fault?spec=ws:KIND[:N]): the next market step of
    // a live session applies it, whichever session gets there first (campaigns drive a schedule from
    // outside this way; the start-up options above fire at fixed message counts).
    struct WsFault {
        enum class Kind : std::uint8_t { drop, gap, stall, bad_frame, bad_json, bad_price, tls_error };
        Kind kind = Kind::drop;
        double stall_sec = 0;  // stall only
    };

    bool quiet = false;
};

// Parses argv; throws UsageError. Returns nullopt after printing help for --help.
[[nodiscard]] std::optional<SimOptions> parse_sim_options(int argc, char** argv);
// One --rest-fault value (also POST /sim/fault?spec=); throws UsageError naming what is wrong.
[[nodiscard]] SimOptions::RestFault parse_rest_fault(std::string_view spec);
// "ws:KIND[:N]" (POST /sim/fault): drop gap bad_frame bad_json bad_price tls_error, N times (default
// 1, at most 1000), or stall:SEC (SEC > 0, at most 600); throws UsageError naming what is wrong.
[[nodiscard]] std::vector<SimOptions::WsFault> parse_ws_fault(std::string_view spec);
[[nodiscard]] std::string_view ws_fault_name(SimOptions::WsFault::Kind kind) noexcept;

[[nodiscard]] std::string sim_usage();

}  // namespace cbtrade::sim
