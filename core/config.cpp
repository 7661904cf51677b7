#include "core/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_read.hpp"
#include "core/numbers.hpp"
#include "core/text.hpp"

namespace cbtrade {

namespace {

constexpr std::array granularity_names{
    std::string_view{"ONE_MINUTE"},    std::string_view{"FIVE_MINUTE"}, std::string_view{"FIFTEEN_MINUTE"},
    std::string_view{"THIRTY_MINUTE"}, std::string_view{"ONE_HOUR"},    std::string_view{"TWO_HOUR"},
    std::string_view{"SIX_HOUR"},      std::string_view{"ONE_DAY"},
};
constexpr std::array<std::int64_t, 8> granularity_secs{60, 300, 900, 1800, 3600, 7200, 21600, 86400};

// Thrown by value parsers; carries what the key accepts. Rethrown as ConfigError with context.
struct Invalid {
    std::string accepted;
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool parse_bool(std::string_view v) {
    const std::string l = lower(v);
    if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
    if (l == "false" || l == "0" || l == "no" || l == "off") return false;
    throw Invalid{"true or false"};
}

double parse_number(std::string_view v, double min, double max, bool min_exclusive, std::string_view accepted) {
    const std::optional<double> x = parse_number_in(v, min, max, min_exclusive);
    if (!x) throw Invalid{std::string(accepted)};
    return *x;
}

std::int64_t parse_int(std::string_view v, std::int64_t min, std::int64_t max, std::string_view accepted) {
    const std::optional<std::int64_t> x = parse_int_in(v, min, max);
    if (!x) throw Invalid{std::string(accepted)};
    return *x;
}

double pct(std::string_view v) {
    return parse_number(v, 0.0, 100.0, false, "a percentage from 0 to 100");
}
double pct_positive(std::string_view v) {
    return parse_number(v, 0.0, 100.0, true, "a percentage above 0 and at most 100");
}
double probability(std::string_view v) {
    return parse_number(v, 0.0, 1.0, false, "a probability from 0 to 1");
}
double usd(std::string_view v) {
    return parse_number(v, 0.0, 1e12, false, "a USD amount >= 0");
}
double bps(std::string_view v) {
    return parse_number(v, 0.0, 10000.0, false, "basis points from 0 to 10000");
}

// A CPU_* value: auto, none, or a core number (whether the process may use it is checked when the
// placement is planned: the allowed set is a property of the running process, not of the text).
int cpu_choice(std::string_view v) {
    if (v == "auto") return cpu_auto;
    if (v == "none") return cpu_none;
    return static_cast<int>(parse_int(v, 0, max_cpu_index, "auto, none or a core number from 0 to 1023"));
}
std::string fmt_cpu(int c) {
    return c == cpu_auto ? "auto" : c == cpu_none ? "none" : std::to_string(c);
}

// A path the daemon writes or watches: not empty-with-spaces, no control characters (it is printed).
std::string path_value(std::string_view v) {
    if (std::any_of(v.begin(), v.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20; }) ||
        (!v.empty() && v.find_first_not_of(" \t") == std::string_view::npos))
        throw Invalid{"a file path without control characters, or empty for none"};
    return std::string(v);
}

// The journal keeps the product id in a fixed field of 32 bytes (exec/journal.hpp SegmentStart).
constexpr std::size_t max_product_id_bytes = 32;
// COINBASE_WS_PRODUCTS: one WebSocket subscription; far more than anyone watches in one process.
constexpr std::size_t max_ws_products = 256;

// METRICS_ADDR, BRIDGE_LISTEN: the address a server binds. A host name would be looked up at bind time
// and fail there, after start-up has begun; an address is known good (or not) now.
std::string listen_address(std::string_view v) {
    const std::string text(v);
    unsigned char buf[16];
    if (text != "localhost" && ::inet_pton(AF_INET, text.c_str(), buf) != 1 &&
        ::inet_pton(AF_INET6, text.c_str(), buf) != 1)
        throw Invalid{"an IP address such as 127.0.0.1, 0.0.0.0 or ::1 (or localhost)"};
    return text;
}

// COINBASE_API_KEY_NAME goes into every JWT's header (exec/jwt.cpp checks the same of a name read from
// the key JSON); refused here so that the error names this key.
std::string key_name(std::string_view v) {
    constexpr std::size_t max_key_name = 256;
    if (v.size() > max_key_name || std::any_of(v.begin(), v.end(), [](char ch) { return ch <= 0x20 || ch >= 0x7f; }))
        throw Invalid{
            "a key name such as organizations/<org>/apiKeys/<id> (printable, no spaces, at most 256 characters)"};
    return std::string(v);
}

bool valid_product(std::string_view v) {
    if (v.size() > max_product_id_bytes) return false;
    const auto dash = v.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == v.size()) return false;
    if (v.find('-', dash + 1) != std::string_view::npos) return false;
    return std::all_of(v.begin(), v.end(), [](char c) {
        return c == '-' || std::isdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c));
    });
}

std::string product(std::string_view v) {
    if (!valid_product(v)) throw Invalid{"a product id such as BTC-USD (upper-case BASE-QUOTE, at most 32 characters)"};
    return std::string(v);
}

std::vector<std::string> product_list(std::string_view v) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= v.size()) {
        std::size_t comma = v.find(',', start);
        if (comma == std::string_view::npos) comma = v.size();
        std::string_view item = v.substr(start, comma - start);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!valid_product(item) || std::find(out.begin(), out.end(), item) != out.end() ||
            out.size() == max_ws_products)
            throw Invalid{"comma-separated product ids such as BTC-USD,ETH-USD, each once, at most 256"};
        out.emplace_back(item);
        start = comma + 1;
    }
    return out;
}

bool has_space_or_control(std::string_view v) {
    return std::any_of(v.begin(), v.end(), [](char ch) { return static_cast<unsigned char>(ch) <= 0x20; });
}

// The scheme only: the whole URL (host, port, user information, query) is parsed by io/url where it is
// used, and `cbtrade live` does that before it starts (tools/config_check.hpp).
std::string url(std::string_view v, std::initializer_list<std::string_view> schemes, std::string_view accepted) {
    if (has_space_or_control(v)) throw Invalid{std::string(accepted) + " without spaces or control characters"};
    for (std::string_view s : schemes) {
        if (v.size() > s.size() && v.substr(0, s.size()) == s) return std::string(v);
    }
    throw Invalid{std::string(accepted)};
}

// COINBASE_API_BASE: the earlier stack's bridge.env gives the bare host (https://api.coinbase.com),
// which the earlier bridge completed with the Advanced Trade path; so does this.
std::string api_base(std::string_view v) {
    std::string out = url(v, {"https://", "http://"}, "an https:// URL");
    const std::size_t host = out.find("://") + 3;
    const std::size_t path = out.find_first_of("/?", host);
    if (path == std::string::npos) out += "/api/v3/brokerage";
    else if (out.compare(path, std::string::npos, "/") == 0) out += "api/v3/brokerage";
    return out;
}

// Checked when the configuration is read, not at the first connection: a CA file that cannot be
// used is a configuration error (exit 2) naming the key, like any other bad value.
std::string ca_file(std::string_view v) {
    if (v.empty()) return {};
    std::string path(v);
    const FileContents f = read_whole_file(path, max_ca_file_bytes, "TLS CA file");
    // The message already quotes the value (cut); the reason does not repeat the path, which escaped
    // could be four times its length (a fuzzer found a 1 KB line from a 160-byte path).
    if (!f.ok()) {
        const std::string named = escape_for_message(path) + ": ";
        throw Invalid{"a readable PEM file of CA certificates, but " +
                      (f.error.starts_with(named) ? f.error.substr(named.size()) : f.error)};
    }
    if (f.contents.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        throw Invalid{"a readable PEM file of CA certificates, but it holds no -----BEGIN CERTIFICATE----- block"};
    return path;
}

std::string fmt_number(double x) {
    char buf[64];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, x);
    return ec == std::errc{} ? std::string(buf, ptr) : std::string("?");
}
std::string fmt_bool(bool b) {
    return b ? "true" : "false";
}
std::string fmt_secret(const std::string& s) {
    return s.empty() ? "<unset>" : "<set>";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += ',';
        out += s;
    }
    return out;
}

struct KeySpec {
    KeyInfo info;
    void (*apply)(Config&, std::string_view);
    std::string (*show)(const Config&);
};

#define CB_KEY(name, def, meaning, secret, apply_body, show_body)                               \
    KeySpec {                                                                                   \
        KeyInfo{name, def, meaning, secret}, [](Config& c, std::string_view v) { apply_body; }, \
            [](const Config& c) -> std::string { return show_body; }                            \
    }

// The table. Defaults here must match the member initialisers of Config (a test checks).
const std::array key_table{
    CB_KEY("PRODUCT_ID", "BTC-USD", "product traded", false, c.product_id = product(v), c.product_id),
    CB_KEY(
        "GRANULARITY", "ONE_MINUTE", "candle size: ONE_MINUTE .. ONE_DAY", false,
        {
            const auto it = std::find(granularity_names.begin(), granularity_names.end(), v);
            if (it == granularity_names.end())
                throw Invalid{
                    "ONE_MINUTE, FIVE_MINUTE, FIFTEEN_MINUTE, THIRTY_MINUTE, ONE_HOUR, TWO_HOUR, "
                    "SIX_HOUR or ONE_DAY"};
            c.granularity = static_cast<Granularity>(it - granularity_names.begin());
        },
        std::string(granularity_name(c.granularity))),
    CB_KEY("DRY_RUN", "true", "paper trading; false sends real orders (needs credentials)", false,
           c.dry_run = parse_bool(v), fmt_bool(c.dry_run)),
    CB_KEY("LONG_ONLY", "true", "never open a short position", false, c.long_only = parse_bool(v),
           fmt_bool(c.long_only)),
    CB_KEY("ORDER_MIN_USD", "5", "entries smaller than this are skipped (counted)", false, c.order_min_usd = usd(v),
           fmt_number(c.order_min_usd)),
    CB_KEY("MAX_DAILY_LOSS_PCT", "1", "circuit breaker: loss from the UTC day's starting equity", false,
           c.max_daily_loss_pct = pct_positive(v), fmt_number(c.max_daily_loss_pct)),
    CB_KEY("RISK_PER_TRADE_PCT", "1", "entry size as a percentage of equity (times the vol factor)", false,
           c.risk_per_trade_pct = pct_positive(v), fmt_number(c.risk_per_trade_pct)),
    CB_KEY("USD_EQUITY", "1000", "starting equity in USD (paper, backtest, and live fallback)", false,
           c.usd_equity = parse_number(v, 0.0, 1e12, true, "a USD amount above 0"), fmt_number(c.usd_equity)),
    CB_KEY("TAKE_PROFIT_PCT", "0.2", "exit when price moves this far in favour; 0 disables", false,
           c.take_profit_pct = pct(v), fmt_number(c.take_profit_pct)),
    CB_KEY("STOP_LOSS_PCT", "0.2", "exit when price moves this far against; 0 disables", false,
           c.stop_loss_pct = pct(v), fmt_number(c.stop_loss_pct)),
    CB_KEY("FEE_BPS", "60", "paper/backtest fee per fill, basis points of notional", false, c.fee_bps = bps(v),
           fmt_number(c.fee_bps)),
    CB_KEY("SLIPPAGE_BPS", "2", "paper/backtest price slippage against each fill, basis points", false,
           c.slippage_bps = bps(v), fmt_number(c.slippage_bps)),
    CB_KEY("MAX_PRICE_JUMP_PCT", "5",
           "price sanity gate: a price this far from the last accepted one waits for 2 confirming prices", false,
           c.max_price_jump_pct = parse_number(v, 0.1, 100.0, false, "a percentage from 0.1 to 100"),
           fmt_number(c.max_price_jump_pct)),
    CB_KEY("BUY_THRESHOLD", "0.47", "pUp must be >= this (and > SELL_THRESHOLD) to buy", false,
           c.buy_threshold = probability(v), fmt_number(c.buy_threshold)),
    CB_KEY("SELL_THRESHOLD", "0.5", "pUp must be <= this (and < BUY_THRESHOLD) to sell", false,
           c.sell_threshold = probability(v), fmt_number(c.sell_threshold)),
    CB_KEY("USE_MA_FILTER", "false", "buy only above the long (50-candle) moving average", false,
           c.use_ma_filter = parse_bool(v), fmt_bool(c.use_ma_filter)),
    CB_KEY("BACKTEST_SLEEP_MS", "0", "pause per backtest candle in ms; 0 = full speed", false,
           c.backtest_sleep_ms = parse_int(v, 0, 60000, "an integer number of milliseconds from 0 to 60000"),
           std::to_string(c.backtest_sleep_ms)),
    CB_KEY("PORT", "8080", "metrics/health HTTP port", false,
           c.port = parse_int(v, 1, 65535, "a TCP port from 1 to 65535"), std::to_string(c.port)),
    CB_KEY(
        "METRICS_ADDR", "127.0.0.1", "metrics/health listen address", false,
        c.metrics_addr = listen_address(v),
        c.metrics_addr),
    CB_KEY("BRIDGE_URL", "", "earlier stack's REST bridge (optional)", false,
           c.bridge_url = v.empty() ? std::string() : url(v, {"http://", "https://"}, "an http:// or https:// URL"),
           c.bridge_url),
    CB_KEY(
        "BRIDGE_LISTEN", "127.0.0.1", "cbtrade bridge: listen address (the bridge has no authentication)", false,
        c.bridge_listen = listen_address(v),
        c.bridge_listen),
    CB_KEY("USE_LIVE_EQUITY", "false", "size from the exchange balance instead of USD_EQUITY (live)", false,
           c.use_live_equity = parse_bool(v), fmt_bool(c.use_live_equity)),
    CB_KEY("LIVE_EQUITY_REFRESH_SEC", "5", "live equity: seconds between account balance reads (1..3600)", false,
           c.live_equity_refresh_sec = parse_int(v, 1, 3600, "seconds from 1 to 3600"),
           std::to_string(c.live_equity_refresh_sec)),
    CB_KEY(
        "MODEL_MODE", "baseline", "baseline (4 features) or extended (9 features)", false,
        {
            if (v == "baseline") c.model_mode = ModelMode::baseline;
            else if (v == "extended") c.model_mode = ModelMode::extended;
            else throw Invalid{"baseline or extended"};
        },
        std::string(model_mode_name(c.model_mode))),
    CB_KEY("WALK_FORWARD_MIN", "0", "extended mode: refit every this many minutes of data; 0 disables", false,
           c.walk_forward_min = parse_int(v, 0, 525600, "minutes from 0 to 525600"),
           std::to_string(c.walk_forward_min)),
    CB_KEY("WALK_FORWARD_WINDOW", "1440", "candles of past data each walk-forward refit uses", false,
           c.walk_forward_window = parse_int(v, 200, 10000000, "a candle count from 200 to 10000000"),
           std::to_string(c.walk_forward_window)),
    CB_KEY("VOL_RISK_ADJUST", "false", "shrink entry size when volatility is above the training level", false,
           c.vol_risk_adjust = parse_bool(v), fmt_bool(c.vol_risk_adjust)),
    CB_KEY("SLACK_WEBHOOK", "", "Slack incoming-webhook URL for trade notices (secret)", true,
           c.slack_webhook = v.empty() ? std::string() : url(v, {"https://", "http://"}, "an https:// URL"),
           fmt_secret(c.slack_webhook)),
    CB_KEY("USE_TICK_PRICE", "false", "evaluate the signal on every tick, not only at candle close", false,
           c.use_tick_price = parse_bool(v), fmt_bool(c.use_tick_price)),
    CB_KEY("COINBASE_API_KEY_NAME", "", "CDP API key name or id", false, c.coinbase_api_key_name = key_name(v),
           c.coinbase_api_key_name.empty() ? std::string("<unset>") : c.coinbase_api_key_name),
    CB_KEY("COINBASE_API_PRIVATE_KEY", "", "CDP private key, PEM or base64 Ed25519 (secret)", true,
           c.coinbase_api_private_key = std::string(v), fmt_secret(c.coinbase_api_private_key)),
    CB_KEY(
        "COINBASE_API_SECRET", "", "alias of COINBASE_API_PRIVATE_KEY (secret)", true,
        {
            if (c.coinbase_api_private_key.empty()) {
                c.coinbase_api_private_key = std::string(v);
                c.coinbase_api_private_key_from = "COINBASE_API_SECRET";
            }
        },
        fmt_secret(c.coinbase_api_private_key)),
    CB_KEY("COINBASE_API_PRIVATE_KEY_FILE", "",
           "file with the CDP private key or the key JSON ({name or id, privateKey}); instead of the key itself", false,
           c.coinbase_api_private_key_file = path_value(v), c.coinbase_api_private_key_file),
    CB_KEY("COINBASE_API_BASE", "https://api.coinbase.com/api/v3/brokerage",
           "REST base URL; a bare host means https://HOST/api/v3/brokerage", false,
           c.coinbase_api_base = api_base(v), c.coinbase_api_base),
    CB_KEY("COINBASE_WS_URL", "wss://advanced-trade-ws.coinbase.com", "market-data WebSocket URL", false,
           c.coinbase_ws_url = url(v, {"wss://", "ws://"}, "a wss:// URL"), c.coinbase_ws_url),
    CB_KEY("COINBASE_WS_PRODUCTS", "", "ticker subscriptions; empty means PRODUCT_ID", false,
           c.coinbase_ws_products = v.empty() ? std::vector<std::string>{} : product_list(v),
           join(c.coinbase_ws_products)),
    CB_KEY("COINBASE_WS_STALE_SEC", "10", "feed is stale after this many seconds without a message", false,
           c.coinbase_ws_stale_sec = parse_int(v, 1, 3600, "seconds from 1 to 3600"),
           std::to_string(c.coinbase_ws_stale_sec)),
    CB_KEY("TLS_CA_FILE", "", "PEM file of trusted CAs; empty means the system bundle", false,
           c.tls_ca_file = ca_file(v), c.tls_ca_file),
    CB_KEY("CPU_FEED", "auto", "core of the feed stage: a core number, none (not pinned) or auto", false,
           c.cpu_feed = cpu_choice(v), fmt_cpu(c.cpu_feed)),
    CB_KEY("CPU_SIGNAL", "auto", "core of the signal stage (same core as another stage: they share a thread)",
           false, c.cpu_signal = cpu_choice(v), fmt_cpu(c.cpu_signal)),
    CB_KEY("CPU_EXEC", "auto", "core of the exec stage", false, c.cpu_exec = cpu_choice(v), fmt_cpu(c.cpu_exec)),
    CB_KEY("CPU_OPS", "auto", "core of the ops thread (metrics, refits, files); auto = none, at low priority", false,
           c.cpu_ops = cpu_choice(v), fmt_cpu(c.cpu_ops)),
    CB_KEY(
        "IDLE_POLICY", "spin", "what a pipeline thread does with no work: spin, yield or sleep (laptops, demos)",
        false,
        {
            if (v == "spin") c.idle_policy = IdlePolicy::spin;
            else if (v == "yield") c.idle_policy = IdlePolicy::yield;
            else if (v == "sleep") c.idle_policy = IdlePolicy::sleep;
            else throw Invalid{"spin, yield or sleep"};
        },
        std::string(idle_policy_name(c.idle_policy))),
    CB_KEY("RT_PRIORITY", "0", "SCHED_FIFO priority of the hot threads where permitted; 0 = normal", false,
           c.rt_priority = static_cast<int>(parse_int(v, 0, 99, "0 (off) or a priority from 1 to 99")),
           std::to_string(c.rt_priority)),
    CB_KEY("HISTORY_FILE", "", "live: candle CSV to warm up and fit on (--history wins)", false,
           c.history_file = path_value(v), c.history_file),
    CB_KEY("HISTORY_MAX_GAP_CANDLES", "2",
           "live: candles history may miss before the first live trade (filled flat); more = no trading", false,
           c.history_max_gap_candles = parse_int(v, 0, 1000, "a candle count from 0 to 1000"),
           std::to_string(c.history_max_gap_candles)),
    CB_KEY("RECORD_TICKS", "", "live: record the market data the signal stage consumed to this file", false,
           c.record_ticks = path_value(v), c.record_ticks),
    CB_KEY("DECISION_LOG", "", "live and replay: write every decision and fill to this file", false,
           c.decision_log = path_value(v), c.decision_log),
    CB_KEY("JOURNAL_DIR", "journal",
           "live: directory of the order journal (restart recovery); created if missing; never empty", false,
           {
               if (v.empty()) throw Invalid{"a directory path (the journal cannot be turned off)"};
               c.journal_dir = path_value(v);
           },
           c.journal_dir),
    CB_KEY("HALT_FILE", "", "live: while this file exists no new entries are taken (exits still are)", false,
           c.halt_file = path_value(v), c.halt_file),
    CB_KEY("STATUS_INTERVAL_SEC", "5", "live: seconds between status lines on stderr; 0 = none", false,
           c.status_interval_sec = parse_int(v, 0, 86400, "seconds from 0 to 86400"),
           std::to_string(c.status_interval_sec)),
    CB_KEY(
        "TLS_CIPHERS", "auto",
        "wolfSSL cipher list, most preferred first; auto = AES-GCM first with AES-NI, ChaCha20 without", false,
        {
            // Which names the linked wolfSSL knows is checked by `cbtrade live` before it starts.
            if (v.empty() || !std::all_of(v.begin(), v.end(), [](char ch) {
                    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == ':' ||
                           ch == '+' || ch == '.';
                }))
                throw Invalid{"auto or a wolfSSL cipher list such as TLS13-AES128-GCM-SHA256:TLS13-CHACHA20-POLY1305-SHA256"};
            c.tls_ciphers = std::string(v);
        },
        c.tls_ciphers),
};
#undef CB_KEY

const KeySpec* find_key(std::string_view name) noexcept {
    for (const auto& k : key_table)
        if (k.info.name == name) return &k;
    return nullptr;
}

// The edit (Levenshtein) distance of a and b when it is at most `limit`, else limit + 1. Only the
// cells within `limit` of the diagonal can lead to such a distance (Ukkonen's band), so the cost is
// O(length * limit), not O(length^2): the suggestion search scores every known key against each
// unknown name in an env file, whatever its length.
std::size_t edit_distance_within(std::string_view a, std::string_view b, std::size_t limit) {
    const std::size_t over = limit + 1;
    if (a.size() > b.size()) std::swap(a, b);
    if (b.size() - a.size() > limit) return over;
    // Row i of the table over b; cells outside row i's band [i - limit, i + limit] hold `over`
    // wherever the next row reads them.
    std::vector<std::size_t> prev(b.size() + 1, over), cur(b.size() + 1, over);
    for (std::size_t j = 0; j <= std::min(b.size(), limit); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        const std::size_t lo = i > limit ? i - limit : 1;
        const std::size_t hi = std::min(b.size(), i + limit);
        cur[lo - 1] = lo == 1 ? std::min(i, over) : over;
        std::size_t row_min = cur[lo - 1];
        for (std::size_t j = lo; j <= hi; ++j) {
            const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub, over});
            row_min = std::min(row_min, cur[j]);
        }
        if (hi < b.size()) cur[hi + 1] = over;
        if (row_min == over) return over;  // every path through this row is already too long
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string origin_of(std::string_view name, std::size_t line) {
    return escape_for_message(name) + ":" + std::to_string(line);
}

// Env-file syntax errors name the file, line and (when there is one) the key, never the text of
// the line: any line may be part of a secret (a PEM key pasted over several lines, a webhook URL
// with junk after it), so the text stays out of every message (issue 9 item 4).
[[noreturn]] void fail_at(std::string_view name, std::size_t line, std::string_view what) {
    throw ConfigError(origin_of(name, line) + ": " + std::string(what));
}

// The value part after '='. Returns the decoded value.
std::string parse_value(std::string_view raw, std::string_view key, std::string_view name, std::size_t line) {
    std::string_view v = trim(raw);
    std::string out;
    if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
        const char quote = v.front();
        std::size_t i = 1;
        bool closed = false;
        for (; i < v.size(); ++i) {
            const char c = v[i];
            if (c == quote) {
                closed = true;
                ++i;
                break;
            }
            if (c == '\\' && quote == '"' && i + 1 < v.size()) {
                const char n = v[++i];
                switch (n) {
                    case 'n':
                        out += '\n';
                        break;
                    case 't':
                        out += '\t';
                        break;
                    case 'r':
                        out += '\r';
                        break;
                    case '"':
                        out += '"';
                        break;
                    case '\\':
                        out += '\\';
                        break;
                    default:
                        out += '\\';
                        out += n;
                        break;
                }
                continue;
            }
            out += c;
        }
        if (!closed)
            fail_at(name, line,
                    std::string(key) + ": unterminated " + quote +
                        " quote (a value must be on one line; write line breaks as \\n inside double quotes)");
        std::string_view rest = trim(v.substr(i));
        if (!rest.empty() && rest.front() != '#')
            fail_at(name, line,
                    std::string(key) +
                        ": unexpected text after the closing quote (not shown: it may be part of a "
                        "secret); only a # comment may follow");
        return out;
    }
    // Unquoted: a '#' starts a comment when it begins the value or follows whitespace.
    std::size_t end = v.size();
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '#' && (i == 0 || is_space(v[i - 1]))) {
            end = i;
            break;
        }
    }
    v = trim(v.substr(0, end));
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size() && v[i + 1] == 'n') {
            out += '\n';
            ++i;
        } else {
            out += v[i];
        }
    }
    return out;
}

// Every key the table knows is shorter; an unknown key longer than this is not echoed.
constexpr std::size_t max_shown_unknown_key = 40;

bool valid_key_name(std::string_view k) {
    if (k.empty() || std::isdigit(static_cast<unsigned char>(k.front()))) return false;
    return std::all_of(k.begin(), k.end(),
                       [](char c) { return c == '_' || std::isalnum(static_cast<unsigned char>(c)); });
}

// Two keys naming one file: the daemon would overwrite its own history, key or CA bundle with a
// recording, or halt whenever the history exists. Compared as written (lexically normalised): two
// spellings of one file through a link are not caught, a plain repeat is.
void check_distinct_paths(const Config& c, const ConfigEntries& entries) {
    const std::array<std::pair<std::string_view, const std::string*>, 7> paths{{
        {"HISTORY_FILE", &c.history_file},
        {"RECORD_TICKS", &c.record_ticks},
        {"DECISION_LOG", &c.decision_log},
        {"JOURNAL_DIR", &c.journal_dir},
        {"HALT_FILE", &c.halt_file},
        {"TLS_CA_FILE", &c.tls_ca_file},
        {"COINBASE_API_PRIVATE_KEY_FILE", &c.coinbase_api_private_key_file},
    }};
    const auto normal = [](const std::string& p) {
        std::string n = std::filesystem::path(p).lexically_normal().string();
        while (n.size() > 1 && n.back() == '/') n.pop_back();
        return n;
    };
    const auto origin = [&](std::string_view key) {
        const auto it = entries.find(key);
        return it == entries.end() ? std::string("default") : it->second.origin;
    };
    for (std::size_t i = 0; i < paths.size(); ++i) {
        if (paths[i].second->empty()) continue;
        for (std::size_t j = i + 1; j < paths.size(); ++j) {
            if (paths[j].second->empty() || normal(*paths[i].second) != normal(*paths[j].second)) continue;
            throw ConfigError(origin(paths[j].first) + ": " + std::string(paths[j].first) + "=" +
                              quote_for_message(*paths[j].second) + " is invalid: expected a path other than " +
                              std::string(paths[i].first) + "'s (" + origin(paths[i].first) +
                              "): each of HISTORY_FILE, RECORD_TICKS, DECISION_LOG, JOURNAL_DIR, HALT_FILE, "
                              "TLS_CA_FILE and COINBASE_API_PRIVATE_KEY_FILE names a file of its own");
        }
    }
}

}  // namespace

std::int64_t granularity_seconds(Granularity g) noexcept {
    return granularity_secs[static_cast<std::size_t>(g)];
}
std::string_view granularity_name(Granularity g) noexcept {
    return granularity_names[static_cast<std::size_t>(g)];
}
std::string_view idle_policy_name(IdlePolicy p) noexcept {
    switch (p) {
        case IdlePolicy::spin:
            return "spin";
        case IdlePolicy::yield:
            return "yield";
        case IdlePolicy::sleep:
            return "sleep";
    }
    return "?";
}
std::string_view model_mode_name(ModelMode m) noexcept {
    return m == ModelMode::baseline ? "baseline" : "extended";
}

ConfigEntries parse_env_text(std::string_view text, std::string_view name) {
    ConfigEntries out;
    std::string previous_key;  // the last key read, to name in an error about a line without one
    std::size_t previous_line = 0;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = trim(text.substr(pos, nl - pos));
        pos = nl + 1;
        ++line_no;
        if (line.empty() || line.front() == '#') continue;
        if (line.substr(0, 7) == "export " || line.substr(0, 7) == "export\t") line = trim(line.substr(7));
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            std::string what = "expected KEY=VALUE (line not shown: it may be part of a secret)";
            if (!previous_key.empty())
                what += "; if it continues " + previous_key + " from line " + std::to_string(previous_line) +
                        ", write the value on one line with \\n for line breaks, in double quotes";
            fail_at(name, line_no, what);
        }
        const std::string_view key = trim(line.substr(0, eq));
        if (!valid_key_name(key))
            fail_at(name, line_no,
                    "invalid key name (not shown: it may be part of a secret); a key is letters, digits and _, "
                    "not starting with a digit");
        std::string value = parse_value(line.substr(eq + 1), key, name, line_no);
        previous_key = std::string(key);
        previous_line = line_no;
        out[std::string(key)] = ConfigEntry{std::move(value), origin_of(name, line_no)};
    }
    return out;
}

ConfigEntries parse_env_file(const std::string& path) {
    const FileContents f = read_whole_file(path, max_env_file_bytes, "env file");
    if (!f.ok()) throw ConfigError(f.error);
    return parse_env_text(f.contents, path);
}

LoadedConfig apply_entries(const ConfigEntries& entries) {
    LoadedConfig out;
    // COINBASE_API_PRIVATE_KEY wins over its alias whatever the map order: apply it first.
    std::vector<const std::pair<const std::string, ConfigEntry>*> ordered;
    for (const auto& e : entries) ordered.push_back(&e);
    std::stable_partition(ordered.begin(), ordered.end(),
                          [](const auto* e) { return e->first == "COINBASE_API_PRIVATE_KEY"; });
    for (const auto* e : ordered) {
        const auto& [key, entry] = *e;
        const KeySpec* spec = find_key(key);
        if (!spec) {
            // A long "key" is more likely a line of a pasted secret than a typo: not shown.
            std::string w =
                entry.origin + ": unknown key " +
                (key.size() <= max_shown_unknown_key ? key
                                                     : "of " + std::to_string(key.size()) + " characters (not shown)") +
                " (ignored)";
            if (auto near = nearest_key(key); !near.empty()) w += "; did you mean " + std::string(near) + "?";
            out.warnings.push_back(std::move(w));
            continue;
        }
        try {
            spec->apply(out.config, entry.value);
        } catch (const Invalid& bad) {
            std::string message = entry.origin;
            message.append(": ").append(key).append("=");
            message.append(spec->info.secret ? std::string("<redacted>") : quote_for_message(entry.value));
            throw ConfigError(message.append(" is invalid: expected ").append(bad.accepted));
        }
    }
    if (out.config.coinbase_ws_products.empty()) out.config.coinbase_ws_products.push_back(out.config.product_id);
    check_distinct_paths(out.config, entries);
    return out;
}

LoadedConfig load_config(std::span<const std::string> env_files, const char* const* environment) {
    ConfigEntries merged;
    for (const auto& f : env_files) {
        for (auto& [k, e] : parse_env_file(f)) merged[k] = std::move(e);
    }
    std::vector<std::string> env_warnings;
    for (const char* const* p = environment; p && *p; ++p) {
        const std::string_view kv(*p);
        const std::size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view key = kv.substr(0, eq);
        if (find_key(key)) {
            merged[std::string(key)] = ConfigEntry{std::string(kv.substr(eq + 1)), "environment"};
        } else if (auto near = nearest_key(key); !near.empty() && edit_distance_within(key, near, 1) <= 1) {
            // Only near misses: the environment holds many unrelated variables.
            env_warnings.push_back("environment: unknown key " + std::string(key) + " (ignored); did you mean " +
                                   std::string(near) + "?");
        }
    }
    LoadedConfig out = apply_entries(merged);
    out.warnings.insert(out.warnings.end(), env_warnings.begin(), env_warnings.end());
    return out;
}

std::span<const KeyInfo> config_keys() noexcept {
    static const auto infos = [] {
        std::array<KeyInfo, key_table.size()> a{};
        for (std::size_t i = 0; i < key_table.size(); ++i) a[i] = key_table[i].info;
        return a;
    }();
    return infos;
}

std::string_view nearest_key(std::string_view unknown) noexcept {
    std::string_view best;
    std::size_t best_d = 3;  // at most two edits
    std::string upper(unknown);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const auto& k : key_table) {
        // Scored only as far as it could still beat the best so far (at most two edits).
        const std::size_t d = upper == k.info.name ? 0 : edit_distance_within(upper, k.info.name, best_d - 1);
        if (d < best_d) {
            best_d = d;
            best = k.info.name;
            if (d == 0) break;
        }
    }
    return best;
}

namespace {

[[noreturn]] void path_refused(std::string_view key, const std::string& value, const std::string& accepted) {
    throw ConfigError(std::string(key) + "=" + quote_for_message(value) + " is invalid: expected " + accepted);
}

// The directory a path is in ("." for a bare name).
std::string parent_of(const std::string& path) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();  // "dir/" is dir, its parent the one above
    std::string parent = std::filesystem::path(p).lexically_normal().parent_path().string();
    return parent.empty() ? std::string(".") : parent;
}

// Empty when `dir` is a directory this process may create files in, else why not.
std::string writable_dir_problem(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return escape_for_message(dir) + ": " + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return escape_for_message(dir) + " is not a directory";
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return escape_for_message(dir) + ": cannot create files there: " + std::strerror(errno);
    return {};
}

// An output file: a regular file (or none yet) in a directory it can be made in.
void check_output_file(std::string_view key, const std::string& path) {
    if (path.empty()) return;
    const std::string accepted = "a file in an existing writable directory";
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        path_refused(key, path, accepted + ", but it is not a regular file");
    if (const std::string why = writable_dir_problem(parent_of(path)); !why.empty())
        path_refused(key, path, accepted + ", but " + why);
}

}  // namespace

void check_live_paths(const Config& c, std::string_view history_key) {
    if (!c.history_file.empty()) {
        struct stat st {};
        const std::string accepted = "a readable candle CSV file";
        if (::stat(c.history_file.c_str(), &st) != 0)
            path_refused(history_key, c.history_file, accepted + ", but it cannot be read: " + std::strerror(errno));
        if (!S_ISREG(st.st_mode))
            path_refused(history_key, c.history_file, accepted + ", but it is not a regular file");
        if (::access(c.history_file.c_str(), R_OK) != 0)
            path_refused(history_key, c.history_file, accepted + ", but it cannot be read: " + std::strerror(errno));
    }
    check_output_file("RECORD_TICKS", c.record_ticks);
    check_output_file("DECISION_LOG", c.decision_log);
    if (!c.halt_file.empty()) {
        const std::string dir = parent_of(c.halt_file);
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            path_refused("HALT_FILE", c.halt_file,
                         "a path in an existing directory (else the halt could never be set), but " +
                             escape_for_message(dir) + " is not one");
    }
    struct stat st {};
    const std::string accepted = "a writable directory, or one that can be made in an existing writable directory";
    if (::stat(c.journal_dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) path_refused("JOURNAL_DIR", c.journal_dir, accepted + ", but it is not a directory");
        if (const std::string why = writable_dir_problem(c.journal_dir); !why.empty())
            path_refused("JOURNAL_DIR", c.journal_dir, accepted + ", but " + why);
    } else if (const std::string why = writable_dir_problem(parent_of(c.journal_dir)); !why.empty()) {
        path_refused("JOURNAL_DIR", c.journal_dir, accepted + ", but " + why);
    }
}

std::string describe_config(const Config& c) {
    std::string out;
    for (const auto& k : key_table) {
        if (k.info.name == "COINBASE_API_SECRET") continue;  // shown once, as COINBASE_API_PRIVATE_KEY
        out += k.info.name;
        out += '=';
        out += k.show(c);
        out += '\n';
    }
    return out;
}

}  // namespace cbtrade
