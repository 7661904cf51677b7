// Configuration: the earlier stack's keys (DESIGN.md section 6), read from KEY=VALUE env files
// and the process environment (which wins). Every key lives in one table (config.cpp) that drives
// parsing, validation, the unknown-key warning and `cbtrade config --keys`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace cbtrade {

enum class Granularity : std::uint8_t {
    one_minute,
    five_minute,
    fifteen_minute,
    thirty_minute,
    one_hour,
    two_hour,
    six_hour,
    one_day,
};
[[nodiscard]] std::int64_t granularity_seconds(Granularity g) noexcept;
[[nodiscard]] std::string_view granularity_name(Granularity g) noexcept;

enum class ModelMode : std::uint8_t { baseline, extended };
[[nodiscard]] std::string_view model_mode_name(ModelMode m) noexcept;

// CPU_FEED / CPU_SIGNAL / CPU_EXEC / CPU_OPS: a core number, or one of these.
inline constexpr int cpu_auto = -2;  // the default placement (core/placement.hpp)
inline constexpr int cpu_none = -1;  // not pinned
inline constexpr int max_cpu_index = 1023;

// IDLE_POLICY: what a pipeline thread does after a round in which no stage had work.
//   spin   pause instruction and poll again: lowest latency, one busy core per thread
//   yield  sched_yield(): lets other threads of the machine run, still ~100% CPU
//   sleep  block in the stage that can wait (the feed, in io_uring) or sleep 50 us: laptops, demos
enum class IdlePolicy : std::uint8_t { spin, yield, sleep };
[[nodiscard]] std::string_view idle_policy_name(IdlePolicy p) noexcept;

struct Config {
    // target
    std::string product_id = "BTC-USD";
    Granularity granularity = Granularity::one_minute;
    // safety
    bool dry_run = true;
    bool long_only = true;
    double order_min_usd = 5.0;
    double max_daily_loss_pct = 1.0;
    double risk_per_trade_pct = 1.0;
    double usd_equity = 1000.0;
    double take_profit_pct = 0.20;
    double stop_loss_pct = 0.20;
    double fee_bps = 60.0;
    double slippage_bps = 2.0;
    // Price sanity gate (core/price_gate.hpp): a trade price further than this from the last accepted
    // price is held until following prices confirm it.
    double max_price_jump_pct = 5.0;
    // strategy
    double buy_threshold = 0.47;
    double sell_threshold = 0.50;
    bool use_ma_filter = false;
    std::int64_t backtest_sleep_ms = 0;
    // ops
    std::int64_t port = 8080;
    std::string metrics_addr = "127.0.0.1";
    std::string bridge_url;
    std::string bridge_listen = "127.0.0.1";  // cbtrade bridge's listen address
    bool use_live_equity = false;
    std::int64_t live_equity_refresh_sec = 5;  // USE_LIVE_EQUITY: seconds between account reads
    // model
    ModelMode model_mode = ModelMode::baseline;
    std::int64_t walk_forward_min = 0;
    std::int64_t walk_forward_window = 1440;
    bool vol_risk_adjust = false;
    std::string slack_webhook;  // secret
    bool use_tick_price = false;
    // exchange
    std::string coinbase_api_key_name;
    std::string coinbase_api_private_key;  // secret (COINBASE_API_PRIVATE_KEY or COINBASE_API_SECRET)
    // Which of the two keys gave it: errors about the key name the one the operator set.
    std::string_view coinbase_api_private_key_from = "COINBASE_API_PRIVATE_KEY";
    // A file holding the key (PEM, base64 Ed25519) or Coinbase's key JSON; exec/api_key.hpp reads it.
    std::string coinbase_api_private_key_file;
    std::string coinbase_api_base = "https://api.coinbase.com/api/v3/brokerage";
    std::string coinbase_ws_url = "wss://advanced-trade-ws.coinbase.com";
    std::vector<std::string> coinbase_ws_products;  // empty in the table means {product_id}
    std::int64_t coinbase_ws_stale_sec = 10;
    std::string tls_ca_file;
    // live daemon: placement (core/placement.hpp), files, kill switch
    int cpu_feed = cpu_auto;
    int cpu_signal = cpu_auto;
    int cpu_exec = cpu_auto;
    int cpu_ops = cpu_auto;
    IdlePolicy idle_policy = IdlePolicy::spin;
    int rt_priority = 0;                       // SCHED_FIFO priority for the hot threads; 0: normal scheduling
    std::string history_file;                  // candle CSV the live daemon warms up and fits on (--history wins)
    std::int64_t history_max_gap_candles = 2;  // missing candles between history and the first live trade
    std::string record_ticks;                  // path: record what the signal stage consumed, for `cbtrade replay`
    std::string decision_log;                  // path: one line per decision and fill, for `cbtrade replay --compare`
    std::string journal_dir = "journal";   // the order journal (exec/journal.hpp); relative: to the working directory
    std::string halt_file;                 // path: while it exists, no new entries (exits still allowed)
    std::int64_t status_interval_sec = 5;  // status line on stderr; 0: none
    // wolfSSL cipher-suite list, most preferred first; "auto" lets io/ order it by the measured
    // record-decryption cost of the linked wolfSSL (docs/wolfssl.md): AES-128-GCM first with AES-NI,
    // ChaCha20-Poly1305 first without.
    std::string tls_ciphers = "auto";
};

// Every configuration problem throws ConfigError (core/error.hpp): one line naming key, value, origin.

// One KEY=VALUE as read, with where it came from ("bot.env:12" or "environment").
struct ConfigEntry {
    std::string value;
    std::string origin;
};
using ConfigEntries = std::map<std::string, ConfigEntry, std::less<>>;

// Parses env-file text: blank lines, `#` comments (whole-line, or after a value following
// whitespace), optional `export ` prefix, optional single or double quotes, `\n` escapes outside
// single quotes. Later lines win. Throws ConfigError naming name:line on malformed lines.
// An env file holds a few dozen short lines (a PEM key is under 1 KiB); anything larger is a mistake.
inline constexpr std::size_t max_env_file_bytes = 1u << 20;
// TLS_CA_FILE: the Debian bundle of every public CA is about 200 KiB.
inline constexpr std::size_t max_ca_file_bytes = 4u << 20;
[[nodiscard]] ConfigEntries parse_env_text(std::string_view text, std::string_view name);
[[nodiscard]] ConfigEntries parse_env_file(const std::string& path);

struct LoadedConfig {
    Config config;
    std::vector<std::string> warnings;  // unknown keys (with "did you mean"), duplicates
};

// Files in order (later wins), then `environment` (a null-terminated KEY=VALUE array such as
// environ) over them. Only keys the table knows are taken from the environment.
[[nodiscard]] LoadedConfig load_config(std::span<const std::string> env_files, const char* const* environment);

// Applies already-merged entries; throws ConfigError on the first invalid value.
[[nodiscard]] LoadedConfig apply_entries(const ConfigEntries& entries);

// What `cbtrade live` needs of the file system, checked before it starts (ConfigError naming the key):
// the history file (named `history_key`: HISTORY_FILE or --history) is a readable regular file;
// RECORD_TICKS and DECISION_LOG are files (not directories) in existing writable directories;
// HALT_FILE's directory exists (else the kill switch could never be used); JOURNAL_DIR is a writable
// directory or can be made in an existing writable one. Nothing is created.
void check_live_paths(const Config& c, std::string_view history_key);

struct KeyInfo {
    std::string_view name;
    std::string_view default_text;
    std::string_view meaning;
    bool secret;
};
[[nodiscard]] std::span<const KeyInfo> config_keys() noexcept;

// The closest known key within a small edit distance, or empty.
[[nodiscard]] std::string_view nearest_key(std::string_view unknown) noexcept;

// The effective configuration as KEY=VALUE lines, secrets shown as <set>/<unset>.
[[nodiscard]] std::string describe_config(const Config& c);

}  // namespace cbtrade
